//===- ViTToLinalg.cpp - Lower the decomposed vit ops to linalg -----------===//
//
// Every decomposed vit op becomes linalg ops on tensors (plus tensor reshapes
// and arith/math scalar code) that compute exactly the op's semantics, with
// accumulation in the element type. Nothing here fuses or tiles: that is left
// to the passes that run on the linalg form.
//
//===----------------------------------------------------------------------===//

#include "vitc/Conversion/ViTToLinalg/ViTToLinalg.h"

#include "vitc/Conversion/Passes.h"
#include "vitc/Dialect/ViT/IR/ViTOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/Transforms/DialectConversion.h"
#include "llvm/Support/MathExtras.h"

#include <cmath>
#include <limits>

namespace vitc {
#define GEN_PASS_DEF_CONVERTVITTOLINALGPASS
#include "vitc/Conversion/Passes.h.inc"
} // namespace vitc

using namespace mlir;
using namespace vitc;
using namespace vitc::vit;

//===----------------------------------------------------------------------===//
// Builders shared by the patterns
//===----------------------------------------------------------------------===//

/// Computes the scalar a linalg.generic yields from its block arguments
/// (the input elements, then the output element).
using BodyBuilder = function_ref<Value(ImplicitLocOpBuilder &, ValueRange)>;

static RankedTensorType tensorTypeOf(Value value) {
  return cast<RankedTensorType>(value.getType());
}

static Value floatConstant(ImplicitLocOpBuilder &b, Type type, double value) {
  return arith::ConstantOp::create(b, b.getFloatAttr(type, value));
}

/// A tensor of `shape` filled with `value`: the init of a reduction.
static Value filledTensor(ImplicitLocOpBuilder &b, ArrayRef<int64_t> shape,
                          Type elementType, double value) {
  Value empty = tensor::EmptyOp::create(b, shape, elementType);
  Value fill = floatConstant(b, elementType, value);
  return linalg::FillOp::create(b, fill, empty).getResult(0);
}

/// Reads the last `count` of `rank` loop dimensions: an operand broadcast
/// over the leading dimensions (bias, residual, layer norm scale).
static AffineMap trailingDimsMap(MLIRContext *ctx, unsigned rank,
                                 unsigned count) {
  return AffineMap::getMinorIdentityMap(rank, count, ctx);
}

/// Reads the first `count` of `rank` loop dimensions: a per-row statistic
/// broadcast along the reduced trailing dimensions.
static AffineMap leadingDimsMap(MLIRContext *ctx, unsigned rank,
                                unsigned count) {
  // getMajorSubMap would return a null map for count == 0 (rank-1 input).
  return AffineMap::getMultiDimIdentityMap(rank, ctx).getSliceMap(0, count);
}

/// A linalg.generic writing into `init`; `maps` lists the inputs' maps, then
/// the output's.
static Value buildGeneric(ImplicitLocOpBuilder &b, ValueRange inputs,
                          Value init, ArrayRef<AffineMap> maps,
                          ArrayRef<utils::IteratorType> iterators,
                          BodyBuilder body) {
  auto generic = linalg::GenericOp::create(
      b, init.getType(), inputs, init, maps, iterators,
      [&](OpBuilder &nested, Location loc, ValueRange args) {
        ImplicitLocOpBuilder nb(loc, nested);
        linalg::YieldOp::create(nb, body(nb, args));
      });
  return generic.getResult(0);
}

/// An element-wise linalg.generic producing a new tensor of `type`, reading
/// each input through its map in `inputMaps`.
static Value buildElementwise(ImplicitLocOpBuilder &b, RankedTensorType type,
                              ValueRange inputs, ArrayRef<AffineMap> inputMaps,
                              BodyBuilder body) {
  SmallVector<AffineMap> maps(inputMaps);
  maps.push_back(b.getMultiDimIdentityMap(type.getRank()));
  SmallVector<utils::IteratorType> iterators(type.getRank(),
                                             utils::IteratorType::parallel);
  Value init =
      tensor::EmptyOp::create(b, type.getShape(), type.getElementType());
  return buildGeneric(b, inputs, init, maps, iterators, body);
}

/// Reduces the last dimension of `input` [..., K] to a [...] tensor that
/// starts at `initValue`; `rows` are [...] tensors read alongside it.
static Value reduceLastDim(ImplicitLocOpBuilder &b, Value input,
                           ValueRange rows, double initValue,
                           BodyBuilder body) {
  RankedTensorType type = tensorTypeOf(input);
  unsigned rank = type.getRank();
  AffineMap rowMap = leadingDimsMap(b.getContext(), rank, rank - 1);
  SmallVector<AffineMap> maps{b.getMultiDimIdentityMap(rank)};
  maps.append(rows.size() + 1, rowMap);
  SmallVector<utils::IteratorType> iterators(rank - 1,
                                             utils::IteratorType::parallel);
  iterators.push_back(utils::IteratorType::reduction);
  SmallVector<Value> inputs{input};
  llvm::append_range(inputs, rows);
  Value init = filledTensor(b, type.getShape().drop_back(),
                            type.getElementType(), initValue);
  return buildGeneric(b, inputs, init, maps, iterators, body);
}

/// Scalar GELU: 0.5 x (1 + erf(x / sqrt(2))) or its tanh approximation
/// 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))).
static Value buildGelu(ImplicitLocOpBuilder &b, Value x,
                       GeluApproximation approximation) {
  Type type = x.getType();
  Value inner;
  if (approximation == GeluApproximation::Exact) {
    Value scaled = arith::MulFOp::create(
        b, x, floatConstant(b, type, llvm::numbers::inv_sqrt2));
    inner = math::ErfOp::create(b, scaled);
  } else {
    Value cube = arith::MulFOp::create(b, arith::MulFOp::create(b, x, x), x);
    Value poly = arith::AddFOp::create(
        b, x, arith::MulFOp::create(b, floatConstant(b, type, 0.044715), cube));
    double sqrt2OverPi = llvm::numbers::sqrt2 * llvm::numbers::inv_sqrtpi;
    inner = math::TanhOp::create(
        b, arith::MulFOp::create(b, floatConstant(b, type, sqrt2OverPi), poly));
  }
  Value half = arith::MulFOp::create(b, floatConstant(b, type, 0.5), x);
  return arith::MulFOp::create(
      b, half, arith::AddFOp::create(b, floatConstant(b, type, 1.0), inner));
}

/// Views [..., D] as [..., outer, D / outer]: the per-head view of
/// attention operands.
static Value splitLastDim(ImplicitLocOpBuilder &b, Value value, int64_t outer) {
  RankedTensorType type = tensorTypeOf(value);
  SmallVector<int64_t> shape(type.getShape().drop_back());
  shape.append({outer, type.getShape().back() / outer});
  SmallVector<ReassociationIndices> reassociation;
  for (int64_t dim = 0, e = type.getRank() - 1; dim < e; ++dim)
    reassociation.push_back({dim});
  reassociation.push_back({type.getRank() - 1, type.getRank()});
  return tensor::ExpandShapeOp::create(
      b, RankedTensorType::get(shape, type.getElementType()), value,
      reassociation);
}

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

namespace {

/// result = epilogue(collapse(input) * weight^T): one transposed-B
/// linalg.matmul on [M, K] (a plain one for a single K-major panel, a
/// generic over [M, P, K, R] for panels), then one element-wise generic
/// applying bias, GELU and residual in that order.
struct LinearLowering : OpConversionPattern<LinearOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(LinearOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    RankedTensorType resultType = tensorTypeOf(op.getResult());
    Type elementType = resultType.getElementType();
    int64_t rank = resultType.getRank();

    // A 2-d matmul keeps the GEMM recognisable to later passes; the leading
    // dimensions fold into M.
    Value input = adaptor.getInput();
    SmallVector<ReassociationIndices> rowsAndColumns{
        llvm::to_vector(llvm::seq<int64_t>(0, rank - 1)), {rank - 1}};
    if (rank > 2)
      input = tensor::CollapseShapeOp::create(b, input, rowsAndColumns);
    int64_t rows = tensorTypeOf(input).getShape()[0];
    // A weight stored narrower sets the product's precision: the input is
    // rounded to it too, and the matmul accumulates the exact products in
    // the result's type (what a tensor-core MMA computes).
    Type weightElement = tensorTypeOf(adaptor.getWeight()).getElementType();
    if (weightElement != elementType) {
      RankedTensorType inputType = tensorTypeOf(input);
      input = buildElementwise(
          b, RankedTensorType::get(inputType.getShape(), weightElement), input,
          b.getMultiDimIdentityMap(2),
          [&](ImplicitLocOpBuilder &nb, ValueRange args) -> Value {
            return arith::TruncFOp::create(nb, weightElement, args[0]);
          });
    }
    int64_t outFeatures = resultType.getShape().back();
    Value weight = adaptor.getWeight();
    ArrayRef<int64_t> weightShape = tensorTypeOf(weight).getShape();
    // The shape the product and the epilogue are computed in: the result's,
    // or with panels [P, K, R] its features split into [P, R], so that
    // each panel's outputs stay a dimension of their own up to the final
    // reshape.
    RankedTensorType computedType = resultType;
    Value result;
    if (weightShape.size() == 2) {
      Value init = filledTensor(b, {rows, outFeatures}, elementType, 0.0);
      result = linalg::MatmulTransposeBOp::create(
                   b, b.getLoc(), ValueRange{input, weight}, init)
                   .getResult(0);
    } else if (weightShape[0] == 1) {
      // One K-major panel: a plain [M, K] x [K, N] matmul.
      weight = tensor::CollapseShapeOp::create(
          b, weight, SmallVector<ReassociationIndices>{{0, 1}, {2}});
      Value init = filledTensor(b, {rows, outFeatures}, elementType, 0.0);
      result = linalg::MatmulOp::create(b, b.getLoc(),
                                        ValueRange{input, weight}, init)
                   .getResult(0);
    } else {
      // out[m, p, r] = sum_k input[m, k] weight[p, k, r], the loops ordered
      // (m, p, k, r) so that R is the innermost dimension of every tile.
      MLIRContext *ctx = b.getContext();
      AffineExpr m, p, k, r;
      bindDims(ctx, m, p, k, r);
      int64_t panels = weightShape[0], width = weightShape[2];
      Value init = filledTensor(b, {rows, panels, width}, elementType, 0.0);
      result = linalg::GenericOp::create(
                   b, init.getType(), ValueRange{input, weight}, init,
                   ArrayRef<AffineMap>{AffineMap::get(4, 0, {m, k}, ctx),
                                       AffineMap::get(4, 0, {p, k, r}, ctx),
                                       AffineMap::get(4, 0, {m, p, r}, ctx)},
                   ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                                 utils::IteratorType::parallel,
                                                 utils::IteratorType::reduction,
                                                 utils::IteratorType::parallel},
                   [](OpBuilder &nb, Location loc, ValueRange args) {
                     Value product =
                         arith::MulFOp::create(nb, loc, args[0], args[1]);
                     linalg::YieldOp::create(nb, loc,
                                             ValueRange{arith::AddFOp::create(
                                                 nb, loc, args[2], product)});
                   })
                   .getResult(0);
      SmallVector<int64_t> shape(resultType.getShape().drop_back());
      shape.append({panels, width});
      computedType = RankedTensorType::get(shape, elementType);
    }
    int64_t computedRank = computedType.getRank();
    // The leading dimensions of the result were folded into M.
    SmallVector<ReassociationIndices> splitRows{
        llvm::to_vector(llvm::seq<int64_t>(0, rank - 1))};
    for (int64_t dim = rank - 1; dim < computedRank; ++dim)
      splitRows.push_back({dim});
    if (rank > 2)
      result =
          tensor::ExpandShapeOp::create(b, computedType, result, splitRows);
    // Features split into panels are joined again at the end.
    auto joinFeatures = [&](Value value) -> Value {
      if (computedType == resultType)
        return value;
      SmallVector<ReassociationIndices> join;
      for (int64_t dim = 0; dim < rank - 1; ++dim)
        join.push_back({dim});
      join.push_back({rank - 1, rank});
      return tensor::CollapseShapeOp::create(b, value, join);
    };
    // ... and the bias and residual split like them.
    auto splitFeatures = [&](Value value) -> Value {
      if (computedType == resultType)
        return value;
      RankedTensorType type = tensorTypeOf(value);
      SmallVector<int64_t> shape(type.getShape().drop_back());
      shape.append(computedType.getShape().take_back(2).begin(),
                   computedType.getShape().take_back(2).end());
      SmallVector<ReassociationIndices> split;
      for (int64_t dim = 0; dim + 1 < type.getRank(); ++dim)
        split.push_back({dim});
      split.push_back({type.getRank() - 1, type.getRank()});
      return tensor::ExpandShapeOp::create(
          b, RankedTensorType::get(shape, elementType), value, split);
    };

    std::optional<GeluApproximation> gelu = op.getGelu();
    Value bias = adaptor.getBias();
    Value residual = adaptor.getResidual();
    if (!bias && !gelu && !residual) {
      rewriter.replaceOp(op, joinFeatures(result));
      return success();
    }

    SmallVector<Value> inputs{result};
    SmallVector<AffineMap> maps{b.getMultiDimIdentityMap(computedRank)};
    for (Value operand : {bias, residual}) {
      if (!operand)
        continue;
      inputs.push_back(splitFeatures(operand));
      maps.push_back(trailingDimsMap(b.getContext(), computedRank,
                                     tensorTypeOf(inputs.back()).getRank()));
    }
    Value epilogue = buildElementwise(
        b, computedType, inputs, maps,
        [&](ImplicitLocOpBuilder &nb, ValueRange args) {
          Value value = args[0];
          unsigned next = 1;
          if (bias)
            value = arith::AddFOp::create(nb, value, args[next++]);
          if (gelu)
            value = buildGelu(nb, value, *gelu);
          if (residual)
            value = arith::AddFOp::create(nb, value, args[next++]);
          return value;
        });
    rewriter.replaceOp(op, joinFeatures(epilogue));
    return success();
  }
};

struct AddLowering : OpConversionPattern<AddOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(AddOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    RankedTensorType type = tensorTypeOf(op.getResult());
    AffineMap rhsMap =
        trailingDimsMap(b.getContext(), type.getRank(),
                        tensorTypeOf(adaptor.getRhs()).getRank());
    Value sum =
        buildElementwise(b, type, {adaptor.getLhs(), adaptor.getRhs()},
                         {b.getMultiDimIdentityMap(type.getRank()), rhsMap},
                         [](ImplicitLocOpBuilder &nb, ValueRange args) {
                           return arith::AddFOp::create(nb, args[0], args[1]);
                         });
    rewriter.replaceOp(op, sum);
    return success();
  }
};

struct GeluLowering : OpConversionPattern<GeluOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(GeluOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    RankedTensorType type = tensorTypeOf(op.getResult());
    GeluApproximation approximation = op.getApproximation();
    Value result = buildElementwise(
        b, type, adaptor.getInput(), b.getMultiDimIdentityMap(type.getRank()),
        [&](ImplicitLocOpBuilder &nb, ValueRange args) {
          return buildGelu(nb, args[0], approximation);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// mean and biased variance over the last dimension as reductions, then
/// (x - mean) * rsqrt(variance + epsilon) * scale + shift.
struct LayerNormLowering : OpConversionPattern<LayerNormOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(LayerNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    MLIRContext *ctx = b.getContext();
    RankedTensorType type = tensorTypeOf(op.getResult());
    Type elementType = type.getElementType();
    unsigned rank = type.getRank();
    RankedTensorType rowType =
        RankedTensorType::get(type.getShape().drop_back(), elementType);
    AffineMap rowIdentity = b.getMultiDimIdentityMap(rank - 1);
    Value input = adaptor.getInput();
    double width = type.getShape().back();
    double epsilon = op.getEpsilon().convertToDouble();

    Value sum = reduceLastDim(
        b, input, {}, 0.0, [](ImplicitLocOpBuilder &nb, ValueRange args) {
          return arith::AddFOp::create(nb, args[1], args[0]);
        });
    Value mean = buildElementwise(
        b, rowType, sum, rowIdentity,
        [&](ImplicitLocOpBuilder &nb, ValueRange args) {
          return arith::DivFOp::create(nb, args[0],
                                       floatConstant(nb, elementType, width));
        });
    Value squares = reduceLastDim(
        b, input, mean, 0.0, [](ImplicitLocOpBuilder &nb, ValueRange args) {
          Value centered = arith::SubFOp::create(nb, args[0], args[1]);
          Value square = arith::MulFOp::create(nb, centered, centered);
          return arith::AddFOp::create(nb, args[2], square);
        });
    Value invStdDev = buildElementwise(
        b, rowType, squares, rowIdentity,
        [&](ImplicitLocOpBuilder &nb, ValueRange args) {
          Value variance = arith::DivFOp::create(
              nb, args[0], floatConstant(nb, elementType, width));
          return math::RsqrtOp::create(
              nb, arith::AddFOp::create(
                      nb, variance, floatConstant(nb, elementType, epsilon)));
        });

    AffineMap rowMap = leadingDimsMap(ctx, rank, rank - 1);
    AffineMap channelMap = trailingDimsMap(ctx, rank, 1);
    Value result = buildElementwise(
        b, type,
        {input, mean, invStdDev, adaptor.getScale(), adaptor.getShift()},
        {b.getMultiDimIdentityMap(rank), rowMap, rowMap, channelMap,
         channelMap},
        [](ImplicitLocOpBuilder &nb, ValueRange args) {
          Value centered = arith::SubFOp::create(nb, args[0], args[1]);
          Value normalized = arith::MulFOp::create(nb, centered, args[2]);
          Value scaled = arith::MulFOp::create(nb, normalized, args[3]);
          return arith::AddFOp::create(nb, scaled, args[4]);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// With q viewed as [B, Tq, H, dh] and k, v as [B, Tk, H, dh]:
/// scores[b, h, i, j] = q . k, a max-subtracted softmax over j of scores *
/// scale, then out[b, i, h, d] = sum_j p[b, h, i, j] v[b, j, h, d],
/// collapsed back to [B, Tq, D].
///
/// With key-major scores (the CPU's), the scores of a head are [keys,
/// queries] instead, computed from the queries transposed to [B, H, dh, Tq]
/// and scaled once per element: both contractions are then outer products
/// (along contiguous queries for the scores, along contiguous channels for
/// the output), the softmax reduces over rows whole vectors at a time, and
/// the division by the row sums is applied to the [T, dh] output.
struct AttentionCoreLowering : OpConversionPattern<AttentionCoreOp> {
  AttentionCoreLowering(MLIRContext *ctx, bool keyMajorScores)
      : OpConversionPattern(ctx), keyMajorScores(keyMajorScores) {}

  LogicalResult
  matchAndRewrite(AttentionCoreOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    RankedTensorType type = tensorTypeOf(op.getResult());
    int64_t heads = op.getNumHeads();
    Heads operands(splitLastDim(b, adaptor.getQuery(), heads),
                   splitLastDim(b, adaptor.getKey(), heads),
                   splitLastDim(b, adaptor.getValue(), heads));
    Value out = keyMajorScores ? lowerKeyMajor(b, operands)
                               : lowerQueryMajor(b, operands);
    rewriter.replaceOpWithNewOp<tensor::CollapseShapeOp>(
        op, type, out, SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}});
    return success();
  }

private:
  /// q viewed as [B, Tq, H, dh], k and v as [B, Tk, H, dh], and the sizes
  /// and scale that follow from their types.
  struct Heads {
    Heads(Value query, Value key, Value value)
        : query(query), key(key), value(value),
          elementType(tensorTypeOf(query).getElementType()),
          batch(tensorTypeOf(query).getShape()[0]),
          queries(tensorTypeOf(query).getShape()[1]),
          keys(tensorTypeOf(key).getShape()[1]),
          heads(tensorTypeOf(query).getShape()[2]),
          headWidth(tensorTypeOf(query).getShape()[3]),
          scale(1.0 / std::sqrt(static_cast<double>(headWidth))) {}

    Value query, key, value;
    Type elementType;
    int64_t batch, queries, keys, heads, headWidth;
    double scale;
  };

  static Value multiplyAdd(ImplicitLocOpBuilder &b, ValueRange args) {
    Value product = arith::MulFOp::create(b, args[0], args[1]);
    return arith::AddFOp::create(b, args[2], product);
  }

  /// Scores [B, H, Tq, Tk] by query; returns [B, Tq, H, dh].
  static Value lowerQueryMajor(ImplicitLocOpBuilder &b, const Heads &a) {
    MLIRContext *ctx = b.getContext();
    // Both contractions iterate (b, h, i, x, y) with y reduced.
    AffineExpr bd, hd, id, xd, yd;
    bindDims(ctx, bd, hd, id, xd, yd);
    auto map = [&](ArrayRef<AffineExpr> results) {
      return AffineMap::get(5, 0, results, ctx);
    };
    SmallVector<utils::IteratorType> contraction(4,
                                                 utils::IteratorType::parallel);
    contraction.push_back(utils::IteratorType::reduction);

    // scores[b, h, i, j] = sum_d q[b, i, h, d] k[b, j, h, d]: x = j, y = d.
    Value scores = buildGeneric(
        b, {a.query, a.key},
        filledTensor(b, {a.batch, a.heads, a.queries, a.keys}, a.elementType,
                     0.0),
        {map({bd, id, hd, yd}), map({bd, xd, hd, yd}), map({bd, hd, id, xd})},
        contraction, multiplyAdd);
    // Scaling by a positive constant is monotonic, also after rounding, so
    // max_j(s * scale) == max_j(s) * scale and the scaled scores need not
    // be materialised.
    Value rowMax =
        reduceLastDim(b, scores, {}, -std::numeric_limits<double>::infinity(),
                      [](ImplicitLocOpBuilder &nb, ValueRange args) {
                        return arith::MaximumFOp::create(nb, args[1], args[0]);
                      });
    RankedTensorType scoresType = tensorTypeOf(scores);
    AffineMap rowMap = leadingDimsMap(ctx, 4, 3);
    AffineMap identity = b.getMultiDimIdentityMap(4);
    Value exps = buildElementwise(
        b, scoresType, {scores, rowMax}, {identity, rowMap},
        [&](ImplicitLocOpBuilder &nb, ValueRange args) {
          Value scaleValue = floatConstant(nb, a.elementType, a.scale);
          Value scaled = arith::MulFOp::create(nb, args[0], scaleValue);
          Value scaledMax = arith::MulFOp::create(nb, args[1], scaleValue);
          return math::ExpOp::create(
              nb, arith::SubFOp::create(nb, scaled, scaledMax));
        });
    Value sums = reduceLastDim(
        b, exps, {}, 0.0, [](ImplicitLocOpBuilder &nb, ValueRange args) {
          return arith::AddFOp::create(nb, args[1], args[0]);
        });
    Value probs =
        buildElementwise(b, scoresType, {exps, sums}, {identity, rowMap},
                         [](ImplicitLocOpBuilder &nb, ValueRange args) {
                           return arith::DivFOp::create(nb, args[0], args[1]);
                         });
    // out[b, i, h, d] = sum_j p[b, h, i, j] v[b, j, h, d]: x = d, y = j.
    return buildGeneric(
        b, {probs, a.value},
        filledTensor(b, {a.batch, a.queries, a.heads, a.headWidth},
                     a.elementType, 0.0),
        {map({bd, hd, id, yd}), map({bd, yd, hd, xd}), map({bd, id, hd, xd})},
        contraction, multiplyAdd);
  }

  /// Scores [B, H, Tk, Tq]; returns [B, Tq, H, dh]. Each
  /// contraction has its reduction before its contiguous dimension, the
  /// vector one, so that its vectors have no trailing unit dimension.
  static Value lowerKeyMajor(ImplicitLocOpBuilder &b, const Heads &a) {
    MLIRContext *ctx = b.getContext();
    auto parallel = utils::IteratorType::parallel;
    auto reduction = utils::IteratorType::reduction;
    AffineExpr d0, d1, d2, d3, d4;
    bindDims(ctx, d0, d1, d2, d3, d4);
    auto map4 = [&](ArrayRef<AffineExpr> results) {
      return AffineMap::get(4, 0, results, ctx);
    };
    auto map5 = [&](ArrayRef<AffineExpr> results) {
      return AffineMap::get(5, 0, results, ctx);
    };

    // qT[b, h, d, i] = q[b, i, h, d] * scale: loops (b, h, d, i).
    Value queryT = buildGeneric(
        b, {a.query},
        tensor::EmptyOp::create(b, {a.batch, a.heads, a.headWidth, a.queries},
                                a.elementType),
        {map4({d0, d3, d1, d2}), map4({d0, d1, d2, d3})},
        {parallel, parallel, parallel, parallel},
        [&](ImplicitLocOpBuilder &nb, ValueRange args) {
          return arith::MulFOp::create(
              nb, args[0], floatConstant(nb, a.elementType, a.scale));
        });
    // scores[b, h, j, i] = sum_d k[b, j, h, d] qT[b, h, d, i]:
    // loops (b, h, j, d, i).
    Value scores = buildGeneric(
        b, {a.key, queryT},
        filledTensor(b, {a.batch, a.heads, a.keys, a.queries}, a.elementType,
                     0.0),
        {map5({d0, d2, d1, d3}), map5({d0, d1, d3, d4}),
         map5({d0, d1, d2, d4})},
        {parallel, parallel, parallel, reduction, parallel}, multiplyAdd);
    // Per query, reductions over the keys: loops (b, h, j, i).
    auto reduceKeys = [&](Value input, double initValue, BodyBuilder body) {
      return buildGeneric(b, {input},
                          filledTensor(b, {a.batch, a.heads, a.queries},
                                       a.elementType, initValue),
                          {map4({d0, d1, d2, d3}), map4({d0, d1, d3})},
                          {parallel, parallel, reduction, parallel}, body);
    };
    // The maximum only shifts the exponentials into range, so it need not
    // propagate NaN (a NaN score makes the row's sum, and so every output of
    // the row, NaN whatever is subtracted): `maxnumf` rather than
    // `maximumf`, whose NaN and signed-zero rules cost x86 a compare and
    // three blends per vector (`maxnumf` one of each; with `nnan`, which
    // scalar code keeps but linalg's vectorizer drops when it rebuilds the
    // combiner, none). CUDA's lowering, above, keeps `maximumf`: NVVM
    // would call libdevice for `maxnumf`.
    Value rowMax =
        reduceKeys(scores, -std::numeric_limits<double>::infinity(),
                   [](ImplicitLocOpBuilder &nb, ValueRange args) {
                     return arith::MaxNumFOp::create(
                         nb, args[1], args[0], arith::FastMathFlags::nnan);
                   });
    Value exps =
        buildElementwise(b, tensorTypeOf(scores), {scores, rowMax},
                         {b.getMultiDimIdentityMap(4), map4({d0, d1, d3})},
                         [](ImplicitLocOpBuilder &nb, ValueRange args) {
                           return math::ExpOp::create(
                               nb, arith::SubFOp::create(nb, args[0], args[1]));
                         });
    Value sums =
        reduceKeys(exps, 0.0, [](ImplicitLocOpBuilder &nb, ValueRange args) {
          return arith::AddFOp::create(nb, args[1], args[0]);
        });
    // products[b, h, i, d] = sum_j e[b, h, j, i] v[b, j, h, d]:
    // loops (b, h, i, j, d). They go to [B, H, Tq, dh], in their loops'
    // order, so that a register block's accumulators are one contiguous
    // subset that stays in registers over the reduction; dividing by the
    // row sums then moves them to [B, Tq, H, dh].
    Value products = buildGeneric(
        b, {exps, a.value},
        filledTensor(b, {a.batch, a.heads, a.queries, a.headWidth},
                     a.elementType, 0.0),
        {map5({d0, d1, d3, d2}), map5({d0, d3, d1, d4}),
         map5({d0, d1, d2, d4})},
        {parallel, parallel, parallel, reduction, parallel}, multiplyAdd);
    return buildGeneric(
        b, {products, sums},
        tensor::EmptyOp::create(b, {a.batch, a.queries, a.heads, a.headWidth},
                                a.elementType),
        {map4({d0, d1, d2, d3}), map4({d0, d1, d2}), map4({d0, d2, d1, d3})},
        {parallel, parallel, parallel, parallel},
        [](ImplicitLocOpBuilder &nb, ValueRange args) {
          return arith::DivFOp::create(nb, args[0], args[1]);
        });
  }

  bool keyMajorScores;
};

/// Splits H and W into (grid, patch) dimensions, moves the two grid
/// dimensions next to the batch and the patch contents behind them in the
/// kernel layout's order, then flattens grid and contents.
struct PatchifyLowering : OpConversionPattern<PatchifyOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(PatchifyOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    RankedTensorType imageType = tensorTypeOf(adaptor.getImage());
    Type elementType = imageType.getElementType();
    ArrayRef<int64_t> image = imageType.getShape();
    int64_t patch = op.getPatchSize();

    // Positions of batch, channel, grid row, patch row, grid column and
    // patch column in the expanded image.
    int64_t batch = 0, channel, gridRow, row, gridCol, col;
    SmallVector<int64_t> expanded;
    SmallVector<ReassociationIndices> split;
    if (op.getInputLayout() == InputLayout::NCHW) {
      std::tie(channel, gridRow, row, gridCol, col) =
          std::make_tuple(1, 2, 3, 4, 5);
      expanded = {image[0], image[1],         image[2] / patch,
                  patch,    image[3] / patch, patch};
      split = {{0}, {1}, {2, 3}, {4, 5}};
    } else {
      std::tie(gridRow, row, gridCol, col, channel) =
          std::make_tuple(1, 2, 3, 4, 5);
      expanded = {image[0], image[1] / patch, patch, image[2] / patch,
                  patch,    image[3]};
      split = {{0}, {1, 2}, {3, 4}, {5}};
    }
    SmallVector<int64_t> permutation{batch, gridRow, gridCol};
    if (op.getKernelLayout() == KernelLayout::OIHW)
      permutation.append({channel, row, col});
    else
      permutation.append({row, col, channel});

    Value patches = tensor::ExpandShapeOp::create(
        b, RankedTensorType::get(expanded, elementType), adaptor.getImage(),
        split);
    SmallVector<int64_t> transposed = llvm::map_to_vector(
        permutation, [&](int64_t dim) { return expanded[dim]; });
    Value init = tensor::EmptyOp::create(b, transposed, elementType);
    Value grouped = linalg::TransposeOp::create(b, patches, init, permutation)
                        .getResult()[0];
    rewriter.replaceOpWithNewOp<tensor::CollapseShapeOp>(
        op, op.getResult().getType(), grouped,
        SmallVector<ReassociationIndices>{{0}, {1, 2}, {3, 4, 5}});
    return success();
  }
};

/// Broadcasts the token to a [B, 1, D] row and writes it and the tokens into
/// the [B, N + 1, D] result.
struct PrependTokenLowering : OpConversionPattern<PrependTokenOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(PrependTokenOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    MLIRContext *ctx = b.getContext();
    RankedTensorType type = tensorTypeOf(op.getResult());
    Type elementType = type.getElementType();
    int64_t batch = type.getShape()[0], width = type.getShape()[2];
    int64_t tokens = type.getShape()[1] - 1;

    Value rowInit = tensor::EmptyOp::create(b, {batch, 1, width}, elementType);
    Value row = linalg::BroadcastOp::create(b, adaptor.getToken(), rowInit,
                                            ArrayRef<int64_t>{0, 1})
                    .getResult()[0];
    SmallVector<OpFoldResult> unitStrides =
        getAsIndexOpFoldResult(ctx, {1, 1, 1});
    Value result = tensor::EmptyOp::create(b, type.getShape(), elementType);
    result = tensor::InsertSliceOp::create(
        b, row, result, getAsIndexOpFoldResult(ctx, {0, 0, 0}),
        getAsIndexOpFoldResult(ctx, {batch, 1, width}), unitStrides);
    rewriter.replaceOpWithNewOp<tensor::InsertSliceOp>(
        op, adaptor.getTokens(), result, getAsIndexOpFoldResult(ctx, {0, 1, 0}),
        getAsIndexOpFoldResult(ctx, {batch, tokens, width}), unitStrides);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Pass
//===----------------------------------------------------------------------===//

struct ConvertViTToLinalgPass
    : vitc::impl::ConvertViTToLinalgPassBase<ConvertViTToLinalgPass> {
  using Base::Base;

  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    ConversionTarget target(*ctx);
    // Kernels, weights and the graph-level ops stay; the latter are
    // decomposed by vit-decompose before this pass runs.
    target
        .addLegalDialect<ViTDialect, arith::ArithDialect, linalg::LinalgDialect,
                         math::MathDialect, tensor::TensorDialect>();
    target.addIllegalOp<LinearOp, AddOp, GeluOp, LayerNormOp, AttentionCoreOp,
                        PatchifyOp, PrependTokenOp>();
    RewritePatternSet patterns(ctx);
    populateViTToLinalgPatterns(patterns, keyMajorScores);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void vitc::populateViTToLinalgPatterns(RewritePatternSet &patterns,
                                       bool keyMajorScores) {
  patterns.add<LinearLowering, AddLowering, GeluLowering, LayerNormLowering,
               PatchifyLowering, PrependTokenLowering>(patterns.getContext());
  patterns.add<AttentionCoreLowering>(patterns.getContext(), keyMajorScores);
}
