//===- LinearWeights.h - Re-storing the constants linears read --*- C++ -*-===//
//
// What vit-narrow-linear-weights and vit-pack-linear-weights share: finding
// the constants of the entry function that only linears read as their
// weight, and changing how the constants function returns them (rounded,
// packed) together with the type every kernel receives them in.
//
//===----------------------------------------------------------------------===//

#ifndef VITC_DIALECT_VIT_TRANSFORMS_LINEARWEIGHTS_H
#define VITC_DIALECT_VIT_TRANSFORMS_LINEARWEIGHTS_H

#include "vitc/Dialect/ViT/IR/ViTOps.h"

#include "mlir/IR/BuiltinOps.h"

namespace vitc::vit {

/// For every constant argument of the entry function `entryPoint` whose
/// uses (through the kernels it is passed into) are all the weight operand
/// of a `vit.linear` for which `accepts(weight type)` holds, replaces what
/// the constants function returns for it with `rewrite(builder, location,
/// value)` and gives the argument and the kernels' block arguments the new
/// type. Fails after reporting when there is no such entry or constants
/// function.
mlir::LogicalResult rewriteLinearWeights(
    mlir::ModuleOp module, llvm::StringRef entryPoint,
    llvm::function_ref<bool(mlir::RankedTensorType weight)> accepts,
    llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location,
                                   mlir::Value)>
        rewrite);

} // namespace vitc::vit

#endif // VITC_DIALECT_VIT_TRANSFORMS_LINEARWEIGHTS_H
