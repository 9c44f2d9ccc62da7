//===- ApproximateMath.cpp - Math functions as plain arithmetic -----------===//
//
// Kernels must not depend on libm (the shared object may only need libc),
// and vectorized math must stay vectorized: a libm call per lane would
// scalarize it. MLIR's polynomial approximations give both.
//
//===----------------------------------------------------------------------===//

#include "vitc/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace vitc::cpu {
#define GEN_PASS_DEF_CPUAPPROXIMATEMATHPASS
#include "vitc/Codegen/CPU/Passes.h.inc"
} // namespace vitc::cpu

using namespace mlir;

namespace {

struct CpuApproximateMathPass
    : public vitc::cpu::impl::CpuApproximateMathPassBase<
          CpuApproximateMathPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    // rsqrt becomes 1 / sqrt; sqrt itself is an instruction.
    math::populateExpansionPatterns(patterns, {"rsqrt"});
    populateMathPolynomialApproximationPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
