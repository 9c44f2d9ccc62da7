//===- Report.cpp - Printing the emulator's counters and estimates --------===//

#include "vitc/CudaEmulator/Report.h"

#include <algorithm>
#include <utility>

namespace vitc::emulator {

// NVIDIA H100 SXM5 and H200 SXM datasheets: 67 TFLOP/s FP32 (non-tensor),
// 3.35 and 4.8 TB/s HBM; tensor cores 1,979 TFLOP/s FP16/BF16 and 989
// TFLOP/s TF32 with sparsity, half that dense (989.4 and 494.7 TFLOP/s, the
// dense figures of NVIDIA's H100 architecture whitepaper). Shared memory: 32
// banks x 4 bytes per clock per SM at the 1.98 GHz boost clock on 132 SMs;
// special functions: 16 per clock per SM (CUDA C++ Programming Guide,
// arithmetic instruction throughput).
const PeakFigures kRooflineGpus[2] = {
    {"H100 SXM", 67e12, 989.4e12, 494.7e12, 3.35e12, 132 * 128 * 1.98e9,
     132 * 16 * 1.98e9},
    {"H200 SXM", 67e12, 989.4e12, 494.7e12, 4.8e12, 132 * 128 * 1.98e9,
     132 * 16 * 1.98e9},
};

namespace {

/// Lower bound in microseconds: the slowest of the five resources, each
/// used at its peak.
double boundMicroseconds(const KernelCounters &c, double launches,
                         const PeakFigures &gpu, const char **limiter) {
  double flops = double(c.fp32Flops) / launches;
  double tensor16 = 2.0 *
                    double(c.mmaMacs[size_t(TensorInput::F16)] +
                           c.mmaMacs[size_t(TensorInput::BF16)]) /
                    launches;
  double tensorTf32 =
      2.0 * double(c.mmaMacs[size_t(TensorInput::TF32)]) / launches;
  double dram = double(c.uniqueGlobalBytes) / launches;
  double shared = double(c.sharedWavefronts) * 128 / launches;
  double sfu =
      double(c.threadInstructions[size_t(InstructionClass::SpecialFunction)]) /
      launches;
  double times[5] = {flops / gpu.fp32Flops,
                     tensor16 / gpu.tensor16Flops +
                         tensorTf32 / gpu.tensorTf32Flops,
                     dram / gpu.dramBytes, shared / gpu.sharedBytes,
                     sfu / gpu.specialFunctions};
  const char *names[5] = {"fp32", "tensor", "dram", "shared", "sfu"};
  size_t worst = size_t(std::max_element(times, times + 5) - times);
  *limiter = names[worst];
  return times[worst] * 1e6;
}

/// Per kernel that multiplies and adds or uses ldmatrix or cp.async: its
/// MACs on tensor cores against all its MACs (tensor plus fp32 FMA), and
/// its tensor-core instruction counts, per launch.
void printTensorCoreUse(std::FILE *out,
                        const std::map<std::string, KernelCounters> &counters) {
  bool header = false;
  for (const auto &[name, c] : counters) {
    uint64_t all = c.tensorMacs() + c.fp32Macs();
    if (!all && !c.ldmatrixRequests && !c.asyncCopyRequests)
      continue;
    if (!header)
      std::fprintf(out, "tensor cores (per launch):\n");
    header = true;
    double launches = double(std::max<uint64_t>(1, c.launches));
    auto per = [&](uint64_t value) { return double(value) / launches; };
    std::fprintf(out, "  %s:", name.c_str());
    const char *separator = " ";
    auto next = [&] { return std::exchange(separator, "; "); };
    if (all) {
      std::fprintf(out, "%sMACs on tensor cores: %.6g of %.6g (%.1f%%)", next(),
                   per(c.tensorMacs()), per(all),
                   100.0 * double(c.tensorMacs()) / double(all));
      const char *inputs[] = {"f16", "bf16", "tf32"};
      for (size_t i = 0; i < size_t(TensorInput::Count); ++i)
        if (c.mmaInstructions[i])
          std::fprintf(out, "%smma.sync %s: %.6g", next(), inputs[i],
                       per(c.mmaInstructions[i]));
    }
    if (c.ldmatrixRequests)
      std::fprintf(out,
                   "%sldmatrix: %.6g requests, %.6g wavefronts for %.6g "
                   "matrices (%.6g bank conflicts)",
                   next(), per(c.ldmatrixRequests), per(c.ldmatrixWavefronts),
                   per(c.ldmatrixMatrices), per(c.ldmatrixBankConflicts()));
    if (c.asyncCopyRequests)
      std::fprintf(out,
                   "%scp.async: %.6g requests, %.6g bytes, %.2f "
                   "sectors/request",
                   next(), per(c.asyncCopyRequests), per(c.asyncCopyBytes),
                   double(c.asyncCopySectors) / double(c.asyncCopyRequests));
    std::fprintf(out, "\n");
  }
}

} // namespace

void printCounters(std::FILE *out,
                   const std::map<std::string, KernelCounters> &counters,
                   const DeviceProperties &device) {
  std::fprintf(out,
               "cuda-emulator counters (emulated sm_%d; per launch, averaged "
               "over launches)\n",
               device.computeCapability);
  std::fprintf(out,
               "%-28s %6s %10s %10s %9s %9s %9s %9s %9s %9s %8s %8s %8s %8s "
               "%6s %9s %16s %16s\n",
               "kernel", "runs", "thread-ins", "fp32-fma", "fp32-alu", "tensor",
               "sfu", "integer", "convert", "memory", "control", "gld-req",
               "sect/req", "shm-req", "wf/req", "uniq-MB", "H100 est. us",
               "H200 est. us");
  for (const auto &entry : counters) {
    const std::string &name = entry.first;
    const KernelCounters &c = entry.second;
    double launches = double(std::max<uint64_t>(1, c.launches));
    auto per = [&](uint64_t value) { return double(value) / launches; };
    double total = 0;
    for (uint64_t count : c.threadInstructions)
      total += double(count);
    uint64_t globalRequests = c.globalLoadRequests + c.globalStoreRequests;
    uint64_t globalSectors = c.globalLoadSectors + c.globalStoreSectors;
    const char *limits[2];
    double bounds[2];
    for (int g = 0; g < 2; ++g)
      bounds[g] = boundMicroseconds(c, launches, kRooflineGpus[g], &limits[g]);
    auto ins = [&](InstructionClass k) {
      return per(c.threadInstructions[size_t(k)]);
    };
    std::fprintf(
        out,
        "%-28.28s %6llu %10.3g %10.3g %9.3g %9.3g %9.3g %9.3g %9.3g %9.3g "
        "%8.3g %8.3g %8.2f %8.3g %6.2f %9.2f %9.2f %-6s %9.2f %-6s\n",
        name.c_str(), (unsigned long long)c.launches, total / launches,
        ins(InstructionClass::Fp32Fma), ins(InstructionClass::Fp32Alu),
        ins(InstructionClass::TensorCore),
        ins(InstructionClass::SpecialFunction), ins(InstructionClass::Integer),
        ins(InstructionClass::Conversion), ins(InstructionClass::Memory),
        ins(InstructionClass::Control), per(globalRequests),
        globalRequests ? double(globalSectors) / double(globalRequests) : 0.0,
        per(c.sharedRequests),
        c.sharedRequests ? double(c.sharedWavefronts) / double(c.sharedRequests)
                         : 0.0,
        per(c.uniqueGlobalBytes) / 1e6, bounds[0], limits[0], bounds[1],
        limits[1]);
  }
  printTensorCoreUse(out, counters);
  std::fprintf(out, "est. us: a roofline lower bound from the counts and the "
                    "GPUs' peak figures (an estimate, never a measurement); "
                    "sect/req: 32-byte sectors per global request (4 is "
                    "coalesced fp32); wf/req: shared wavefronts per request (1 "
                    "is conflict-free); tensor: mma.sync thread-instructions, "
                    "timed at the dense tensor-core peaks\n");
}

} // namespace vitc::emulator
