//===- Compiler.h - Fused IR plus weights to a .vitb artifact ---*- C++ -*-===//

#ifndef VITC_TARGET_COMPILER_H
#define VITC_TARGET_COMPILER_H

#include "vitc/Frontend/ModelConfig.h"
#include "vitc/Frontend/Weights.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/Timing.h"

#include <functional>
#include <optional>
#include <string>

namespace vitc {

struct TargetOptions {
  enum class Kind { Cpu, Cuda };
  Kind kind = Kind::Cpu;
  /// CUDA compute capability times ten (80 for sm_80).
  int64_t sm = 80;
  /// CPU: LLVM CPU name ("host" for this machine, "x86-64" portable).
  std::string cpu = "host";
};

/// Parses "cpu" or "cuda:sm_NN".
std::optional<TargetOptions> parseTarget(const std::string &text);

/// What the compile report shows.
struct CompileReport {
  int64_t kernels = 0;
  int64_t constants = 0;
  int64_t constantBytes = 0;
  int64_t arenaBytes = 0;
  int64_t arenaBytesWithoutReuse = 0;
  int64_t moduleBytes = 0;
  int64_t artifactBytes = 0;
  /// CUDA: `ptxas -v` per kernel, for sm_80 and sm_90.
  std::string ptxasReport;
};

/// Everything the artifact's metadata records.
struct ArtifactDescription {
  std::string model;
  std::optional<ModelConfig> config;
  std::string compileOptions;
};

/// Compiles a module after the fusion pipeline with `weights` for `target`
/// and writes the artifact to `path`. `progress` is told the name of each
/// long step as it starts; `timer` collects per-step times. `module` is
/// modified.
bool compileArtifact(mlir::ModuleOp module, const WeightSet &weights,
                     const TargetOptions &target,
                     const ArtifactDescription &description,
                     const std::string &path, mlir::TimingScope &timer,
                     const std::function<void(const std::string &)> &progress,
                     CompileReport &report, std::string &error);

} // namespace vitc

#endif // VITC_TARGET_COMPILER_H
