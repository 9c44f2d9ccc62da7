//===- HoistTokenSlices.cpp - Compute only the tokens a slice keeps -------===//

#include "vitc/Dialect/ViT/IR/ViTOps.h"
#include "vitc/Dialect/ViT/Transforms/Passes.h"

#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/Support/FormatVariadic.h"

namespace vitc::vit {
#define GEN_PASS_DEF_VITHOISTTOKENSLICESPASS
#include "vitc/Dialect/ViT/Transforms/Passes.h.inc"
} // namespace vitc::vit

using namespace mlir;
using namespace vitc::vit;

namespace {

/// Indices [offset, offset + size) of one dimension.
struct Range {
  int64_t offset;
  int64_t size;

  int64_t end() const { return offset + size; }
  bool operator==(const Range &other) const {
    return offset == other.offset && size == other.size;
  }
  bool operator!=(const Range &other) const { return !(*this == other); }
};

/// The tokens and channels of a [B, T, N] value that a slice keeps, with
/// every image.
struct Box {
  Range tokens;
  Range channels;
};

/// What `slice` keeps of a [B, T, N] value, if it keeps every image and
/// a static box of the rest, with unit strides. The result may drop unit
/// dimensions (the classifier's [B, D] class token).
std::optional<Box> keptBox(tensor::ExtractSliceOp slice) {
  RankedTensorType source = slice.getSourceType();
  ArrayRef<int64_t> offsets = slice.getStaticOffsets();
  ArrayRef<int64_t> sizes = slice.getStaticSizes();
  if (source.getRank() != 3 || !slice.hasUnitStride() ||
      llvm::any_of(offsets, ShapedType::isDynamic) ||
      llvm::any_of(sizes, ShapedType::isDynamic) || offsets[0] != 0 ||
      sizes[0] != source.getDimSize(0))
    return std::nullopt;
  return Box{{offsets[1], sizes[1]}, {offsets[2], sizes[2]}};
}

/// The tokens `slice` keeps, if it keeps fewer than all tokens of a [B, T, D]
/// value and all of its other dimensions.
std::optional<Range> keptTokens(tensor::ExtractSliceOp slice) {
  std::optional<Box> box = keptBox(slice);
  RankedTensorType source = slice.getSourceType();
  if (!box || box->channels.size != source.getDimSize(2) ||
      box->tokens.size == source.getDimSize(1))
    return std::nullopt;
  return box->tokens;
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
Value sliceTokens(OpBuilder &builder, Location loc, Value value, Range tokens) {
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
    std::optional<Range> tokens = keptTokens(slice);
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

/// Whether each output channel of `op` needs only its own weight row, bias
/// element or addend channel: a linear with an unpacked [N, K] weight and no
/// residual, or an add of a [N] bias to a [B, T, N] value. Fewer output
/// channels then need fewer weights and less work.
bool isChannelWise(Operation *op) {
  auto rank = [](Value value) {
    return cast<RankedTensorType>(value.getType()).getRank();
  };
  if (auto linear = dyn_cast<LinearOp>(op))
    return rank(linear.getResult()) == 3 && rank(linear.getWeight()) == 2 &&
           !linear.getResidual();
  if (auto add = dyn_cast<AddOp>(op))
    return rank(add.getLhs()) == 3 && rank(add.getRhs()) == 1;
  return false;
}

/// The box of every slice using `op`, or nothing if another op uses it.
std::optional<SmallVector<std::pair<tensor::ExtractSliceOp, Box>>>
slicesOf(Operation *op) {
  SmallVector<std::pair<tensor::ExtractSliceOp, Box>> slices;
  for (Operation *user : op->getUsers()) {
    auto slice = dyn_cast<tensor::ExtractSliceOp>(user);
    std::optional<Box> box = slice ? keptBox(slice) : std::nullopt;
    if (!box)
      return std::nullopt;
    slices.push_back({slice, *box});
  }
  return slices;
}

Value sliceOf(OpBuilder &builder, Location loc, Value value,
              ArrayRef<int64_t> offsets, ArrayRef<int64_t> sizes) {
  SmallVector<int64_t> strides(offsets.size(), 1);
  return tensor::ExtractSliceOp::create(
      builder, loc, value,
      getAsIndexOpFoldResult(builder.getContext(), offsets),
      getAsIndexOpFoldResult(builder.getContext(), sizes),
      getAsIndexOpFoldResult(builder.getContext(), strides));
}

/// A copy of the channel-wise `op` that computes `box` of its result, named
/// after `op` and the channels it keeps ("blocks.11.attn.qkv[0:768]").
Value computeBox(OpBuilder &builder, Operation *op, Box box) {
  Location loc = op->getLoc();
  auto type = cast<RankedTensorType>(op->getResult(0).getType());
  int64_t batch = type.getDimSize(0);
  auto boxType = type.clone({batch, box.tokens.size, box.channels.size});
  Location named = loc;
  if (auto name = dyn_cast<NameLoc>(loc);
      name && box.channels.size != type.getDimSize(2))
    named = NameLoc::get(builder.getStringAttr(
        llvm::formatv("{0}[{1}:{2}]", name.getName().getValue(),
                      box.channels.offset, box.channels.end())
            .str()));
  int64_t channels[] = {box.channels.offset}, width[] = {box.channels.size};
  if (auto linear = dyn_cast<LinearOp>(op)) {
    Value input = linear.getInput();
    if (box.tokens.size != type.getDimSize(1))
      input = sliceTokens(builder, loc, input, box.tokens);
    int64_t depth =
        cast<RankedTensorType>(linear.getWeight().getType()).getDimSize(1);
    Value weight =
        sliceOf(builder, loc, linear.getWeight(), {box.channels.offset, 0},
                {box.channels.size, depth});
    Value bias = linear.getBias()
                     ? sliceOf(builder, loc, linear.getBias(), channels, width)
                     : Value();
    return LinearOp::create(builder, named, boxType, input, weight, bias,
                            /*residual=*/Value(), linear.getGeluAttr());
  }
  auto add = cast<AddOp>(op);
  Value lhs = sliceOf(builder, loc, add.getLhs(),
                      {0, box.tokens.offset, box.channels.offset},
                      {batch, box.tokens.size, box.channels.size});
  Value rhs = sliceOf(builder, loc, add.getRhs(), channels, width);
  return AddOp::create(builder, named, boxType, lhs, rhs);
}

/// A slice keeping fewer tokens and its own channels of a channel-wise op
/// that others read in other channels (the class token's query from the
/// last block's QKV projection, whose keys and values every token needs)
/// gets its own copy of the op, computing that box alone.
struct SplitOffTokenBox : OpRewritePattern<tensor::ExtractSliceOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tensor::ExtractSliceOp slice,
                                PatternRewriter &rewriter) const override {
    Operation *producer = slice.getSource().getDefiningOp();
    std::optional<Box> box = keptBox(slice);
    if (!producer || !isChannelWise(producer) || !box ||
        box->tokens.size == slice.getSourceType().getDimSize(1))
      return rewriter.notifyMatchFailure(slice, "not fewer tokens");
    auto others = slicesOf(producer);
    if (!others)
      return rewriter.notifyMatchFailure(slice, "read whole elsewhere");
    for (auto [other, otherBox] : *others)
      if (other != slice && otherBox.channels.offset < box->channels.end() &&
          box->channels.offset < otherBox.channels.end())
        return rewriter.notifyMatchFailure(slice, "channels read elsewhere");
    rewriter.setInsertionPoint(producer);
    Value part = computeBox(rewriter, producer, *box);
    if (part.getType() != slice.getType()) {
      rewriter.setInsertionPoint(slice);
      part = tensor::createCanonicalRankReducingExtractSliceOp(
          rewriter, slice.getLoc(), part, slice.getType());
    }
    rewriter.replaceOp(slice, part);
    return success();
  }
};

/// A channel-wise op whose slices together read only some of its channels
/// computes those alone; the slices move to the narrowed result.
struct NarrowChannels : RewritePattern {
  NarrowChannels(MLIRContext *context)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, context) {}

  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    auto slices = isChannelWise(op) ? slicesOf(op) : std::nullopt;
    if (!slices || slices->empty())
      return rewriter.notifyMatchFailure(op, "not sliced channel-wise");
    auto type = cast<RankedTensorType>(op->getResult(0).getType());
    int64_t low = type.getDimSize(2), high = 0;
    for (const auto &[slice, box] : *slices) {
      low = std::min(low, box.channels.offset);
      high = std::max(high, box.channels.end());
    }
    if (low == 0 && high == type.getDimSize(2))
      return rewriter.notifyMatchFailure(op, "every channel is read");
    rewriter.setInsertionPoint(op);
    Value narrowed = computeBox(
        rewriter, op, Box{{0, type.getDimSize(1)}, {low, high - low}});
    for (auto &entry : *slices) {
      tensor::ExtractSliceOp slice = entry.first;
      SmallVector<int64_t> offsets(slice.getStaticOffsets());
      offsets[2] = entry.second.channels.offset - low;
      rewriter.modifyOpInPlace(slice, [&] {
        slice.getSourceMutable().assign(narrowed);
        slice.setStaticOffsets(offsets);
      });
    }
    rewriter.eraseOp(op);
    return success();
  }
};

struct ViTHoistTokenSlicesPass
    : public vitc::vit::impl::ViTHoistTokenSlicesPassBase<
          ViTHoistTokenSlicesPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<HoistTokenSlice, SplitOffTokenBox, NarrowChannels>(
        &getContext());
    // The attention's query is a slice of the QKV projection's channels;
    // its token slice merges with it into one slice of the projection,
    // which SplitOffTokenBox then computes on its own.
    tensor::populateMergeConsecutiveInsertExtractSlicePatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
