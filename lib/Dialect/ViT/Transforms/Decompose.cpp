//===- Decompose.cpp - Graph ops to linears and attention cores -----------===//

#include "vitc/Dialect/ViT/IR/ViTOps.h"
#include "vitc/Dialect/ViT/Transforms/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace vitc::vit {
#define GEN_PASS_DEF_VITDECOMPOSEPASS
#include "vitc/Dialect/ViT/Transforms/Passes.h.inc"
} // namespace vitc::vit

using namespace mlir;
using namespace vitc::vit;

namespace {

/// `layer.part` when `loc` names a layer, so that decomposed ops (and the
/// kernels formed from them) keep telling where they come from.
Location partLoc(Location loc, StringRef part) {
  if (auto name = dyn_cast<NameLoc>(loc))
    return NameLoc::get(
        StringAttr::get(loc.getContext(), name.getName().str() + "." + part));
  return loc;
}

RankedTensorType withShape(Value like, ArrayRef<int64_t> shape) {
  return RankedTensorType::get(
      shape, cast<RankedTensorType>(like.getType()).getElementType());
}

ArrayRef<int64_t> shapeOf(Value value) {
  return cast<RankedTensorType>(value.getType()).getShape();
}

/// input * weight^T, then `bias` (if any) as a separate add for the epilogue
/// fusion pass to fold.
Value emitLinear(PatternRewriter &rewriter, Location loc, Value input,
                 Value weight, Value bias) {
  SmallVector<int64_t> shape(shapeOf(input));
  shape.back() = shapeOf(weight)[0];
  Value result = LinearOp::create(rewriter, loc, withShape(input, shape), input,
                                  weight, /*bias=*/Value(),
                                  /*residual=*/Value(), /*gelu=*/nullptr);
  if (bias)
    result = AddOp::create(rewriter, loc, result, bias);
  return result;
}

/// The static slice [offsets, offsets + sizes) of `source`, with the unit
/// dimensions not in `resultShape` dropped.
Value emitSlice(PatternRewriter &rewriter, Location loc, Value source,
                ArrayRef<int64_t> offsets, ArrayRef<int64_t> sizes,
                ArrayRef<int64_t> resultShape) {
  auto attrs = [&](ArrayRef<int64_t> values) {
    return getAsIndexOpFoldResult(rewriter.getContext(), values);
  };
  SmallVector<int64_t> strides(offsets.size(), 1);
  return tensor::ExtractSliceOp::create(
      rewriter, loc, withShape(source, resultShape), source, attrs(offsets),
      attrs(sizes), attrs(strides));
}

struct DecomposePatchEmbed : OpRewritePattern<PatchEmbedOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(PatchEmbedOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value kernel = op.getKernel();
    ArrayRef<int64_t> result = shapeOf(op.getResult());
    int64_t width = result[2];
    int64_t patchElements = ShapedType::getNumElements(shapeOf(kernel)) / width;
    Value patches = PatchifyOp::create(
        rewriter, partLoc(loc, "patchify"),
        withShape(kernel, {result[0], result[1], patchElements}), op.getImage(),
        op.getPatchSize(), op.getInputLayout(), op.getKernelLayout());

    // Compile-time weight work: the kernel as a [D, K] linear weight whose K
    // order is the patchify flatten order.
    Value weight;
    if (op.getKernelLayout() == KernelLayout::OIHW) {
      weight = tensor::CollapseShapeOp::create(
          rewriter, loc, kernel,
          ArrayRef<ReassociationIndices>{{0}, {1, 2, 3}});
    } else {
      Value flat = tensor::CollapseShapeOp::create(
          rewriter, loc, kernel,
          ArrayRef<ReassociationIndices>{{0, 1, 2}, {3}});
      Value init = tensor::EmptyOp::create(
          rewriter, loc, ArrayRef<int64_t>{width, patchElements},
          getElementTypeOrSelf(kernel));
      weight = linalg::TransposeOp::create(rewriter, loc, flat, init,
                                           ArrayRef<int64_t>{1, 0})
                   ->getResult(0);
    }
    rewriter.replaceOp(
        op, emitLinear(rewriter, loc, patches, weight, op.getBias()));
    return success();
  }
};

struct DecomposeClassPosEmbed : OpRewritePattern<ClassPosEmbedOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ClassPosEmbedOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    ArrayRef<int64_t> patches = shapeOf(op.getPatches());
    int64_t numPatches = patches[1], width = patches[2];
    Value position = op.getPosition();
    Value patchPositions =
        emitSlice(rewriter, loc, position, {0, 1, 0}, {1, numPatches, width},
                  {numPatches, width});
    Value tokens = AddOp::create(rewriter, partLoc(loc, "position"),
                                 op.getPatches(), patchPositions);
    // The class token's row is weights only: computed once at compile time.
    Value classRow = tensor::CollapseShapeOp::create(
        rewriter, loc, op.getClassToken(),
        ArrayRef<ReassociationIndices>{{0, 1, 2}});
    Value firstPosition =
        emitSlice(rewriter, loc, position, {0, 0, 0}, {1, 1, width}, {width});
    Value row = arith::AddFOp::create(rewriter, loc, classRow, firstPosition);
    rewriter.replaceOpWithNewOp<PrependTokenOp>(op, op.getType(), tokens, row);
    return success();
  }
};

struct DecomposeAttention : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    // Separate q/k/v projections are packed into one [3D, D] projection.
    auto packed = [&](ValueRange parts) -> Value {
      if (parts.size() != 3)
        return parts.empty() ? Value() : parts.front();
      return tensor::ConcatOp::create(rewriter, loc, /*dim=*/0, parts);
    };
    Value weight = packed(op.getQkvWeights());
    Value bias = packed(op.getQkvBiases());
    Value qkv =
        emitLinear(rewriter, partLoc(loc, "qkv"), op.getInput(), weight, bias);

    ArrayRef<int64_t> input = shapeOf(op.getInput());
    SmallVector<Value, 3> qkvParts;
    for (int64_t part = 0; part < 3; ++part)
      qkvParts.push_back(emitSlice(rewriter, partLoc(loc, "core"), qkv,
                                   {0, 0, part * input[2]}, input, input));
    Value core = AttentionCoreOp::create(rewriter, partLoc(loc, "core"),
                                         op.getType(), qkvParts[0], qkvParts[1],
                                         qkvParts[2], op.getNumHeads());
    rewriter.replaceOp(op, emitLinear(rewriter, partLoc(loc, "proj"), core,
                                      op.getProjWeight(), op.getProjBias()));
    return success();
  }
};

struct DecomposeMlp : OpRewritePattern<MlpOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MlpOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value hidden = emitLinear(rewriter, partLoc(loc, "fc1"), op.getInput(),
                              op.getFc1Weight(), op.getFc1Bias());
    hidden =
        GeluOp::create(rewriter, partLoc(loc, "gelu"), hidden, op.getGelu());
    rewriter.replaceOp(op, emitLinear(rewriter, partLoc(loc, "fc2"), hidden,
                                      op.getFc2Weight(), op.getFc2Bias()));
    return success();
  }
};

struct DecomposeClassifierHead : OpRewritePattern<ClassifierHeadOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ClassifierHeadOp op,
                                PatternRewriter &rewriter) const override {
    ArrayRef<int64_t> input = shapeOf(op.getInput());
    Value classTokens =
        emitSlice(rewriter, op.getLoc(), op.getInput(), {0, 0, 0},
                  {input[0], 1, input[2]}, {input[0], input[2]});
    rewriter.replaceOp(op, emitLinear(rewriter, op.getLoc(), classTokens,
                                      op.getWeight(), op.getBias()));
    return success();
  }
};

struct DecomposeResidualAdd : OpRewritePattern<ResidualAddOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ResidualAddOp op,
                                PatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<AddOp>(op, op.getResidual(), op.getUpdate());
    return success();
  }
};

struct ViTDecomposePass
    : public vitc::vit::impl::ViTDecomposePassBase<ViTDecomposePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns
        .add<DecomposePatchEmbed, DecomposeClassPosEmbed, DecomposeAttention,
             DecomposeMlp, DecomposeClassifierHead, DecomposeResidualAdd>(
            &getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
