//===- Report.h - Printing the emulator's counters and estimates ----------===//

#ifndef VITC_CUDAEMULATOR_REPORT_H
#define VITC_CUDAEMULATOR_REPORT_H

#include "vitc/CudaEmulator/Executor.h"

#include <cstdio>
#include <map>
#include <string>

namespace vitc::emulator {

/// Peak figures of one GPU, from its vendor's datasheet.
struct PeakFigures {
  const char *name;
  double fp32Flops;        ///< FLOP/s, non-tensor FMA counted as 2
  double tensor16Flops;    ///< dense f16/bf16 tensor-core FLOP/s, MAC as 2
  double tensorTf32Flops;  ///< dense tf32 tensor-core FLOP/s, MAC as 2
  double dramBytes;        ///< HBM bytes/s
  double sharedBytes;      ///< shared-memory bytes/s, all SMs
  double specialFunctions; ///< SFU results/s, all SMs
};

/// The GPUs the roofline estimate is given for (docs/cuda-emulator.md).
extern const PeakFigures kRooflineGpus[2];

/// Prints one row per kernel, per launch on average: instruction classes,
/// memory requests, sectors and bank conflicts, barriers, and a roofline
/// lower-bound time on each of kRooflineGpus (an estimate, not a
/// measurement); then, per kernel that multiplies and adds, the share of
/// its MACs done on tensor cores ("MACs on tensor cores: X of Y (P%)"),
/// with its mma.sync, ldmatrix and cp.async counts.
void printCounters(std::FILE *out,
                   const std::map<std::string, KernelCounters> &counters,
                   const DeviceProperties &device);

} // namespace vitc::emulator

#endif // VITC_CUDAEMULATOR_REPORT_H
