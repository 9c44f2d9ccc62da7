//===- HoistTokenSlices.cpp - Compute only the tokens a slice keeps -------===//

#include "vitc/Dialect/ViT/IR/ViTOps.h"
#include "vitc/Dialect/ViT/Transforms/Passes.h"

#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace vitc::vit {
#define GEN_PASS_DEF_VITHOISTTOKENSLICESPASS
#include "vitc/Dialect/ViT/Transforms/Passes.h.inc"
} // namespace vitc::vit

using namespace mlir;
using namespace vitc::vit;

namespace {

/// Tokens [offset, offset + size) of a [B, T, D] activation.
struct TokenRange {
  int64_t offset;
  int64_t size;

  bool operator==(const TokenRange &other) const {
    return offset == other.offset && size == other.size;
  }
  bool operator!=(const TokenRange &other) const { return !(*this == other); }
};

/// The tokens `slice` keeps, if it keeps fewer than all tokens of a [B, T, D]
/// value and all of its other dimensions. The result may drop unit
/// dimensions (the classifier's [B, D] class token).
std::optional<TokenRange> keptTokens(tensor::ExtractSliceOp slice) {
  RankedTensorType source = slice.getSourceType();
  ArrayRef<int64_t> offsets = slice.getStaticOffsets();
  ArrayRef<int64_t> sizes = slice.getStaticSizes();
  if (source.getRank() != 3 || !slice.hasUnitStride() ||
      llvm::any_of(offsets, ShapedType::isDynamic) ||
      llvm::any_of(sizes, ShapedType::isDynamic))
    return std::nullopt;
  for (int64_t dim : {0, 2})
    if (offsets[dim] != 0 || sizes[dim] != source.getDimSize(dim))
      return std::nullopt;
  if (sizes[1] == source.getDimSize(1))
    return std::nullopt;
  return TokenRange{offsets[1], sizes[1]};
}

/// Ops computing each token of their result from the same token of some
/// operands (and from all of the others): the token-wise ops, and the
/// attention core, whose result tokens are its queries.
bool isTokenWise(Operation *op) {
  return isa<LayerNormOp, LinearOp, GeluOp, AddOp, AttentionCoreOp>(op);
}

/// Whether the result's tokens are `operand`'s, so that fewer result tokens
/// need fewer of it. Not so for a linear's weight (rank 2 or 3 but without
/// tokens) or the attention's keys and values (every query reads them all).
bool carriesResultTokens(OpOperand &operand) {
  Operation *owner = operand.getOwner();
  if (auto linear = dyn_cast<LinearOp>(owner))
    return &operand != &linear.getWeightMutable();
  if (auto attention = dyn_cast<AttentionCoreOp>(owner))
    return &operand == &attention.getQueryMutable();
  return true;
}

/// `value` restricted to `tokens`. Activations are [B, T, D]; an addend
/// broadcast over the leading dimensions (vit.add, a linear's residual) may
/// be a trailing [T, D], or a [D] with no tokens, returned unchanged.
Value sliceTokens(OpBuilder &builder, Location loc, Value value,
                  TokenRange tokens) {
  auto type = cast<RankedTensorType>(value.getType());
  int64_t tokenDim = type.getRank() - 2;
  if (tokenDim < 0)
    return value;
  SmallVector<OpFoldResult> offsets(type.getRank(), builder.getIndexAttr(0));
  SmallVector<OpFoldResult> strides(type.getRank(), builder.getIndexAttr(1));
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(builder, loc, value);
  offsets[tokenDim] = builder.getIndexAttr(tokens.offset);
  sizes[tokenDim] = builder.getIndexAttr(tokens.size);
  return tensor::ExtractSliceOp::create(builder, loc, value, offsets, sizes,
                                        strides);
}

/// slice(op(x, ...)) -> op(slice(x), ...) for a token-wise op all of whose
/// users keep the same tokens; the full-size op then has no user left.
struct HoistTokenSlice : OpRewritePattern<tensor::ExtractSliceOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tensor::ExtractSliceOp slice,
                                PatternRewriter &rewriter) const override {
    Operation *producer = slice.getSource().getDefiningOp();
    std::optional<TokenRange> tokens = keptTokens(slice);
    if (!producer || !isTokenWise(producer) || !tokens)
      return rewriter.notifyMatchFailure(slice,
                                         "not tokens of a token-wise op");
    SmallVector<tensor::ExtractSliceOp> users;
    for (Operation *user : producer->getUsers()) {
      auto other = dyn_cast<tensor::ExtractSliceOp>(user);
      if (!other || keptTokens(other) != tokens)
        return rewriter.notifyMatchFailure(slice, "other tokens are used");
      users.push_back(other);
    }

    rewriter.setInsertionPoint(producer);
    IRMapping narrowedOperands;
    for (OpOperand &operand : producer->getOpOperands())
      if (carriesResultTokens(operand))
        narrowedOperands.map(
            operand.get(),
            sliceTokens(rewriter, producer->getLoc(), operand.get(), *tokens));
    Operation *narrowed = rewriter.clone(*producer, narrowedOperands);
    auto fullType = cast<RankedTensorType>(producer->getResult(0).getType());
    SmallVector<int64_t> shape(fullType.getShape());
    shape[1] = tokens->size;
    auto narrowedType = fullType.clone(shape);
    rewriter.modifyOpInPlace(
        narrowed, [&] { narrowed->getResult(0).setType(narrowedType); });

    // A slice that dropped unit dimensions keeps doing so, on all tokens of
    // the narrowed value.
    for (tensor::ExtractSliceOp user : users) {
      Value replacement = narrowed->getResult(0);
      if (user.getType() != narrowedType) {
        rewriter.setInsertionPoint(user);
        replacement = tensor::createCanonicalRankReducingExtractSliceOp(
            rewriter, user.getLoc(), replacement, user.getType());
      }
      rewriter.replaceOp(user, replacement);
    }
    rewriter.eraseOp(producer);
    return success();
  }
};

struct ViTHoistTokenSlicesPass
    : public vitc::vit::impl::ViTHoistTokenSlicesPassBase<
          ViTHoistTokenSlicesPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<HoistTokenSlice>(&getContext());
    // The attention's query is a slice of the QKV projection; its token
    // slice becomes one slice of the projection, which vit-form-kernels
    // moves into the attention's kernel like the key and value slices.
    tensor::populateMergeConsecutiveInsertExtractSlicePatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
