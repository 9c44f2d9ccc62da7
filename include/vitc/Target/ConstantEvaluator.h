//===- ConstantEvaluator.h - Compile-time weight work on the host -*- C++ -*-//

#ifndef VITC_TARGET_CONSTANTEVALUATOR_H
#define VITC_TARGET_CONSTANTEVALUATOR_H

#include "vitc/Frontend/Weights.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <optional>
#include <string>
#include <vector>

namespace vitc {

/// Runs a constants function (see vit-externalize-constants) on the host:
/// its `vit.weight` ops read `weights`, and the reshapes, slices,
/// concatenations, transposes and additions between them are applied to the
/// data. Returns the function's results in order, or std::nullopt with a
/// one-line `error` naming the op or weight that could not be evaluated.
std::optional<std::vector<Tensor>>
evaluateConstants(mlir::func::FuncOp constants, const WeightSet &weights,
                  std::string &error);

} // namespace vitc

#endif // VITC_TARGET_CONSTANTEVALUATOR_H
