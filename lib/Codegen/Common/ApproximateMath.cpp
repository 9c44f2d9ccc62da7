//===- ApproximateMath.cpp - Math functions as plain arithmetic -----------===//
//
// Kernels must not depend on libm (a CPU shared object may only need libc)
// or libdevice, vectorized math must stay vectorized (a libm call per lane
// would scalarize it), and the GPU and its CPU emulation must evaluate the
// same formulas. MLIR's polynomial approximations give all three; the
// targets differ only in which functions they keep as instructions.
//
//===----------------------------------------------------------------------===//

#include "vitc/Codegen/Common/Passes.h"
#include "vitc/Support/KernelContract.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace vitc {
#define GEN_PASS_DEF_APPROXIMATEMATHPASS
#include "vitc/Codegen/Common/Passes.h.inc"
} // namespace vitc

using namespace mlir;

namespace {

struct ApproximateMathPass
    : public vitc::impl::ApproximateMathPassBase<ApproximateMathPass> {
  using ApproximateMathPassBase::ApproximateMathPassBase;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    // An empty list would select every expansion.
    if (!expand.empty()) {
      SmallVector<StringRef> names(expand.begin(), expand.end());
      math::populateExpansionPatterns(patterns, names);
    }
    if (functions.empty()) {
      populateMathPolynomialApproximationPatterns(patterns);
    } else {
      populateMathPolynomialApproximationPatterns(
          patterns, [&](StringRef name) {
            name.consume_front("math.");
            return llvm::is_contained(functions, name);
          });
    }
    FrozenRewritePatternSet frozen(std::move(patterns));

    SmallVector<Operation *> roots;
    if (kernelsOnly) {
      getOperation()->walk([&](func::FuncOp function) {
        if (vitc::isKernelFunction(function))
          roots.push_back(function);
      });
    } else {
      roots.push_back(getOperation());
    }
    for (Operation *root : roots)
      if (failed(applyPatternsGreedily(root, frozen)))
        return signalPassFailure();
  }
};

} // namespace
