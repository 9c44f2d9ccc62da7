//===- Pipeline.h - The one compiler pipeline, by phase ---------*- C++ -*-===//
//
// vitc compiles a model with one pass pipeline, built here and nowhere else:
//
//   vit         the graph-level vit dialect (the pipeline's input)
//   fused       decomposed ops with fused epilogues in vit.kernel regions;
//               weight-only work separated into @vit_constants
//   linalg      constants handed to the constants hook; kernels outlined
//               into functions, one per distinct kernel, in linalg on tensors
//   tiled       dispatch list handed to the dispatch hook; the kernels alone,
//               tiled (CPU: and vectorized) for the target, on tensors
//   bufferized  the same on buffers
//   llvm | ptx  CPU: the LLVM dialect with one exported entry point per
//               kernel; CUDA: a gpu.binary holding the kernels' PTX
//
// `vitc --emit=<phase>` stops this pipeline after a phase; `vitc -o` runs it
// to the end and then only serializes (object code and linking, ptxas, the
// .vitb file). So what --emit shows is what -o compiles, and the pass
// manager's flags (IR printing, timing, crash reproducers) see every pass.
//
// The two hooks are where the driver takes over data that does not belong
// in the IR, as IREE's pipeline hooks do: the constants function (evaluated
// on the weights) and the dispatch list (turned into the execution plan).
//
//===----------------------------------------------------------------------===//

#ifndef VITC_COMPILER_PIPELINE_H
#define VITC_COMPILER_PIPELINE_H

#include "vitc/Codegen/CPU/Serialize.h"
#include "vitc/Codegen/CUDA/CudaCodegen.h"
#include "vitc/Compiler/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "llvm/Support/Error.h"

#include <string>

namespace vitc {

/// The phases of the pipeline, in order.
enum class Phase { Vit, Fused, Linalg, Tiled, Bufferized, Llvm, Ptx };

/// What to compile for, fully resolved: the pipeline and the serializer read
/// the same values (e.g. the CPU's vector width).
struct TargetOptions {
  enum class Kind { Cpu, Cuda };
  Kind kind = Kind::Cpu;
  cpu::CpuTarget cpu;
  cuda::CudaOptions cuda;

  bool isCuda() const { return kind == Kind::Cuda; }
  /// The last phase of the pipeline for this target (llvm or ptx).
  Phase finalPhase() const { return isCuda() ? Phase::Ptx : Phase::Llvm; }
  /// "znver3 (AVX2, 8 f32 lanes)" or "cuda sm_90".
  std::string describe() const;
};

/// Parses "cpu", "cpu:NAME" or "cuda:sm_NN". The CPU is an LLVM CPU name
/// ("host" for the machine running the compiler, "x86-64-v3", ...) whose
/// features decide the vector width: NAME, or `cpuName` for plain "cpu".
llvm::Expected<TargetOptions> parseTarget(llvm::StringRef text,
                                          llvm::StringRef cpuName = "host");

struct PipelineOptions {
  TargetOptions target;
  /// The phase the input IR is in, and the phase to stop after.
  Phase first = Phase::Vit;
  Phase last = Phase::Llvm;
  /// Given the constants function before it leaves the module.
  ConstantsHook constantsHook;
  /// Given the entry function (the dispatch list) before it leaves the
  /// module.
  DispatchesHook dispatchesHook;
};

/// Adds the passes taking IR in phase `options.first` to phase
/// `options.last` for `options.target`. A phase of the other target (llvm
/// for CUDA, ptx for the CPU) stops after bufferized.
void buildCompilerPipeline(mlir::OpPassManager &pm,
                           const PipelineOptions &options);

} // namespace vitc

#endif // VITC_COMPILER_PIPELINE_H
