//===- Lowering.h - From fused IR to kernels, plan and constants -*- C++ -*-//

#ifndef VITC_TARGET_LOWERING_H
#define VITC_TARGET_LOWERING_H

#include "vitc/Frontend/Weights.h"
#include "vitc/Target/ExecutionPlan.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <optional>
#include <string>
#include <vector>

namespace vitc {

/// The target-independent result of compilation.
struct LoweredModel {
  /// Kernel functions only (tensors in, tensor out, in linalg form), ready
  /// for a target's code generator.
  mlir::OwningOpRef<mlir::ModuleOp> kernels;
  ExecutionPlan plan;
  /// The values of the constants the plan binds, in compiled layout.
  std::vector<Tensor> constants;
  std::vector<std::string> constantNames;
  /// Multiply-accumulates of each kernel function, by symbol.
  std::vector<std::pair<std::string, int64_t>> kernelMacs;
};

/// Takes a module after the fusion pipeline (see buildViTFusionPipeline):
/// evaluates its constants function on `weights`, outlines the kernels,
/// lowers them to linalg and plans their execution. `module` is modified.
std::optional<LoweredModel> lowerModel(mlir::ModuleOp module,
                                       const WeightSet &weights,
                                       std::string &error);

/// Outlines the kernels of a fused module and lowers them to linalg: the
/// IR of the `linalg` phase. `module` is modified.
mlir::LogicalResult lowerKernelsToLinalg(mlir::ModuleOp module);

} // namespace vitc

#endif // VITC_TARGET_LOWERING_H
