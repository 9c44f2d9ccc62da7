//===- FuseMultiplyAdd.cpp - Multiply-adds into FMA -----------------------===//

#include "vitc/Codegen/CUDA/Passes.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace vitc::cuda {
#define GEN_PASS_DEF_CUDAFUSEMULTIPLYADDPASS
#include "vitc/Codegen/CUDA/Passes.h.inc"
} // namespace vitc::cuda

using namespace mlir;
using namespace vitc::cuda;

namespace {

struct MultiplyAddFusion : OpRewritePattern<arith::AddFOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(arith::AddFOp add,
                                PatternRewriter &rewriter) const override {
    if (!add.getType().isF32())
      return failure();
    for (auto [product, addend] : {std::pair(add.getLhs(), add.getRhs()),
                                   std::pair(add.getRhs(), add.getLhs())}) {
      auto multiply = product.getDefiningOp<arith::MulFOp>();
      if (!multiply || !multiply->hasOneUse())
        continue;
      rewriter.replaceOpWithNewOp<math::FmaOp>(add, multiply.getLhs(),
                                               multiply.getRhs(), addend);
      rewriter.eraseOp(multiply);
      return success();
    }
    return failure();
  }
};

struct CudaFuseMultiplyAddPass
    : vitc::cuda::impl::CudaFuseMultiplyAddPassBase<CudaFuseMultiplyAddPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<MultiplyAddFusion>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
