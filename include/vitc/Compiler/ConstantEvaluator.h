//===- ConstantEvaluator.h - Compile-time weight work on the host -*- C++ -*-//

#ifndef VITC_COMPILER_CONSTANTEVALUATOR_H
#define VITC_COMPILER_CONSTANTEVALUATOR_H

#include "vitc/Frontend/Weights.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <memory>
#include <vector>

namespace vitc {

/// Runs a constants function (see vit-externalize-constants) on the host:
/// its `vit.weight` ops read `weights`, and the reshapes, slices,
/// concatenations, transposes and additions between them are applied to the
/// data. Returns the function's results in order, or fails after reporting
/// on the op or weight that could not be evaluated.
///
/// A result that is a weight as it is (most of them) refers to the weight
/// set's tensor instead of copying it: `weights` must outlive the result.
class EvaluatedConstants {
public:
  size_t size() const { return values.size(); }
  const Tensor &operator[](size_t index) const { return *values[index]; }
  /// Copies of the values, e.g. to change them.
  std::vector<Tensor> copy() const;

private:
  friend class ConstantEvaluator;
  std::vector<const Tensor *> values;
  /// The computed values.
  std::vector<std::unique_ptr<Tensor>> owned;
};

mlir::FailureOr<EvaluatedConstants>
evaluateConstants(mlir::func::FuncOp constants, const WeightSet &weights);

} // namespace vitc

#endif // VITC_COMPILER_CONSTANTEVALUATOR_H
