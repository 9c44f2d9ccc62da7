//===- FuseEpilogues.cpp - Fold element-wise ops into linears -------------===//

#include "vitc/Dialect/ViT/IR/ViTOps.h"
#include "vitc/Dialect/ViT/Transforms/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace vitc::vit {
#define GEN_PASS_DEF_VITFUSEEPILOGUESPASS
#include "vitc/Dialect/ViT/Transforms/Passes.h.inc"
} // namespace vitc::vit

using namespace mlir;
using namespace vitc::vit;

namespace {

/// The linear producing `value`, if its result has no other user and can
/// therefore absorb the consumer.
LinearOp singleUseLinear(Value value) {
  auto linear = value.getDefiningOp<LinearOp>();
  return linear && linear->hasOneUse() ? linear : LinearOp();
}

/// Replaces `consumer` with a copy of `linear` whose epilogue also does what
/// `consumer` did. The copy is built at the consumer, where every operand of
/// both ops is available.
void replaceWithLinear(PatternRewriter &rewriter, Operation *consumer,
                       LinearOp linear, Value bias, Value residual,
                       GeluApproximationAttr gelu) {
  auto fused = rewriter.replaceOpWithNewOp<LinearOp>(
      consumer, linear.getType(), linear.getInput(), linear.getWeight(), bias,
      residual, gelu);
  fused->setLoc(linear.getLoc());
  rewriter.eraseOp(linear);
}

struct FoldAddIntoLinear : OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AddOp add,
                                PatternRewriter &rewriter) const override {
    // A residual stream plus a linear's output: addition commutes when both
    // sides have the full shape, so either side may absorb the other.
    auto hasFreeEpilogue = [](LinearOp linear) {
      return linear && !linear.getResidual();
    };
    Value addend = add.getRhs();
    LinearOp linear = singleUseLinear(add.getLhs());
    if (!hasFreeEpilogue(linear) &&
        add.getLhs().getType() == add.getRhs().getType()) {
      linear = singleUseLinear(add.getRhs());
      addend = add.getLhs();
    }
    if (!hasFreeEpilogue(linear))
      return rewriter.notifyMatchFailure(add, "no linear with a free epilogue");

    // Before any GELU, a per-output-feature add is the linear's bias.
    auto addendType = cast<RankedTensorType>(addend.getType());
    int64_t outFeatures = linear.getWeight().getType().getDimSize(0);
    bool isBias = !linear.getBias() && !linear.getGelu() &&
                  addendType.getShape() == ArrayRef<int64_t>{outFeatures};
    replaceWithLinear(rewriter, add, linear, isBias ? addend : linear.getBias(),
                      isBias ? Value() : addend, linear.getGeluAttr());
    return success();
  }
};

struct FoldGeluIntoLinear : OpRewritePattern<GeluOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(GeluOp gelu,
                                PatternRewriter &rewriter) const override {
    LinearOp linear = singleUseLinear(gelu.getInput());
    // GELU comes before the residual in the epilogue, so a linear that already
    // adds one cannot take it.
    if (!linear || linear.getGelu() || linear.getResidual())
      return rewriter.notifyMatchFailure(gelu, "no linear to absorb the GELU");
    replaceWithLinear(rewriter, gelu, linear, linear.getBias(), Value(),
                      gelu.getApproximationAttr());
    return success();
  }
};

struct ViTFuseEpiloguesPass
    : public vitc::vit::impl::ViTFuseEpiloguesPassBase<ViTFuseEpiloguesPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldAddIntoLinear, FoldGeluIntoLinear>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
