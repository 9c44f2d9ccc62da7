//===- Compiler.h - A model and its weights to a .vitb artifact -*- C++ -*-===//

#ifndef VITC_COMPILER_COMPILER_H
#define VITC_COMPILER_COMPILER_H

#include "vitc/Compiler/Pipeline.h"
#include "vitc/Frontend/ModelConfig.h"
#include "vitc/Frontend/Weights.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/Timing.h"

#include <optional>
#include <string>
#include <vector>

namespace vitc {

/// What the compile report shows.
/// One CUDA kernel as compiled: its schedule, ptxas's figures and the
/// occupancy they allow on the target.
struct CudaKernelReport {
  std::string symbol;
  int64_t dispatches = 0;
  /// vit.cuda.kernel_kind: linear, attention, row_reduction, elementwise
  /// (SIMT fp32), mma_linear, flash_attention (tensor cores).
  std::string kind;
  /// fp32, or the tensor-core precision of its products.
  std::string precision;
  std::vector<int64_t> blockTile;
  int64_t pipelineStages = 1;
  int64_t threads = 0, blocks = 0;
  /// -1 without ptxas.
  int64_t registers = -1;
  int64_t sharedMemoryBytes = 0;
  /// Blocks per multiprocessor (0 without ptxas) and the share of the
  /// multiprocessor's warp slots they fill.
  int64_t residentBlocks = 0;
  double occupancy = 0;
};

struct CompileReport {
  /// Distinct kernels compiled, and how many times the plan calls them.
  int64_t kernels = 0;
  int64_t dispatches = 0;
  int64_t constants = 0;
  int64_t constantBytes = 0;
  int64_t arenaBytes = 0;
  int64_t arenaBytesWithoutReuse = 0;
  int64_t moduleBytes = 0;
  int64_t artifactBytes = 0;
  /// CUDA: `ptxas -v` per kernel, and each kernel's schedule and occupancy.
  std::string ptxasReport;
  std::vector<CudaKernelReport> cudaKernels;
};

/// Everything the artifact's metadata records.
struct ArtifactDescription {
  std::string model;
  std::optional<ModelConfig> config;
  std::string compileOptions;
};

/// How one compilation runs and reports.
struct CompileSession {
  /// Sets up the pass manager that runs the pipeline (command-line
  /// options, instrumentation); may fail.
  std::function<mlir::LogicalResult(mlir::PassManager &)> configure;
  /// Told the name of each long step as it starts.
  std::function<void(llvm::StringRef)> progress;
  /// Collects the time of each step (and pass, with the pipeline's timing
  /// enabled by `configure`).
  mlir::TimingScope *timer = nullptr;
};

/// Runs the whole pipeline (vitc/Compiler/Pipeline.h) on `module`, a model in
/// the vit dialect, for `target`, evaluating its constants on `weights`;
/// serializes the kernels (object code and link, or PTX and ptxas) and
/// writes the artifact to `path`. Errors are reported as diagnostics, on
/// the module where no op is to blame. `module` is modified.
mlir::LogicalResult
compileArtifact(mlir::ModuleOp module, const WeightSet &weights,
                const TargetOptions &target,
                const ArtifactDescription &description, llvm::StringRef path,
                const CompileSession &session, CompileReport &report);

} // namespace vitc

#endif // VITC_COMPILER_COMPILER_H
