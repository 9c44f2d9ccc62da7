//===- Vectorize.cpp - Static tiles of every linalg op, vectorized --------===//
//
// Inside a kernel tile most extents are static, but the number of rows may
// not be (the last tile of a ragged dimension). Every op is therefore tiled
// so that its tiles are static: one element along every dimension except
// the one that is contiguous in memory for all operands using it (the
// vector dimension) and, for contractions, a small register block of a
// dimension one input does not depend on. Such tiles vectorize without
// masks. Reductions along the vector dimension are split first, so that
// their inner loop accumulates whole vectors.
//
//===----------------------------------------------------------------------===//

#include "vitc/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace vitc::cpu {
#define GEN_PASS_DEF_CPUVECTORIZEPASS
#include "vitc/Codegen/CPU/Passes.h.inc"
} // namespace vitc::cpu

using namespace mlir;
using namespace vitc::cpu;

/// Longest vector tile taken from an extent with a suitable divisor, and
/// longest whole extent vectorized otherwise (a prime number of tokens).
static constexpr int64_t kMaxVectorTile = 64;
static constexpr int64_t kMaxWholeVector = 256;
/// Register block of a contraction's reuse dimension.
static constexpr int64_t kRegisterBlock = 8;

static bool isParallel(linalg::LinalgOp op, unsigned dim) {
  return op.getIteratorTypesArray()[dim] == utils::IteratorType::parallel;
}

/// Whether every operand that reads or writes along `dim` has it as its
/// innermost index, so a tile along `dim` is one contiguous vector.
static bool isContiguousDim(linalg::LinalgOp op, unsigned dim) {
  return llvm::all_of(op.getIndexingMapsArray(), [&](AffineMap map) {
    if (!map.isFunctionOfDim(dim))
      return true;
    auto last = dyn_cast<AffineDimExpr>(map.getResults().back());
    return last && last.getPosition() == dim;
  });
}

/// The largest divisor of `extent` in [minimum, limit], if any.
static std::optional<int64_t> largestDivisor(int64_t extent, int64_t limit,
                                             int64_t minimum) {
  for (int64_t size = std::min(extent, limit); size >= minimum; --size)
    if (extent % size == 0)
      return size;
  return std::nullopt;
}

/// The dimension to vectorize along: static, longer than 1, contiguous in
/// every operand using it; parallel if possible, innermost otherwise.
static std::optional<unsigned> findVectorDim(linalg::LinalgOp op) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  std::optional<unsigned> result;
  for (unsigned dim = 0; dim < ranges.size(); ++dim) {
    if (ShapedType::isDynamic(ranges[dim]) || ranges[dim] == 1 ||
        !isContiguousDim(op, dim))
      continue;
    if (!result || isParallel(op, dim) || !isParallel(op, *result))
      result = dim;
  }
  return result;
}

/// In a contraction, the innermost static parallel dimension other than
/// `vectorDim` that some input does not read: blocking it reuses that
/// input's vector from a register.
static std::optional<unsigned> findReuseDim(linalg::LinalgOp op,
                                            unsigned vectorDim) {
  if (op.getNumReductionLoops() == 0)
    return std::nullopt;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  for (unsigned dim = ranges.size(); dim-- > 0;) {
    if (dim == vectorDim || !isParallel(op, dim) ||
        ShapedType::isDynamic(ranges[dim]))
      continue;
    if (llvm::any_of(op.getDpsInputOperands(), [&](OpOperand *input) {
          return !op.getMatchingIndexingMap(input).isFunctionOfDim(dim);
        }))
      return dim;
  }
  return std::nullopt;
}

namespace {

/// How one op is tiled: sizes (0 = whole dimension) and loop order.
struct TilePlan {
  SmallVector<int64_t> sizes;
  SmallVector<int64_t> interchange;
};

/// Tile sizes 1 except for `vectorDim` (`vectorSize`) and the reuse
/// dimension, if any; the reuse loop outermost, so the block of the input
/// indexed by it stays in cache while the other dimensions vary, and
/// reduction loops innermost, so accumulators stay in registers.
TilePlan planTiles(linalg::LinalgOp op, unsigned vectorDim,
                   int64_t vectorSize) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  TilePlan plan;
  plan.sizes.assign(ranges.size(), 1);
  plan.sizes[vectorDim] = vectorSize;
  std::optional<unsigned> reuseDim = findReuseDim(op, vectorDim);
  if (reuseDim) {
    plan.sizes[*reuseDim] =
        largestDivisor(ranges[*reuseDim], kRegisterBlock, 1).value_or(1);
    plan.interchange.push_back(*reuseDim);
  }
  for (auto [size, range] : llvm::zip_equal(plan.sizes, ranges))
    if (size == range)
      size = 0;
  for (bool parallel : {true, false})
    for (unsigned dim = 0; dim < ranges.size(); ++dim)
      if (isParallel(op, dim) == parallel && dim != reuseDim)
        plan.interchange.push_back(dim);
  return plan;
}

struct CpuVectorizePass
    : public vitc::cpu::impl::CpuVectorizePassBase<CpuVectorizePass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp function = getOperation();
    if (!isKernelFunction(function))
      return;
    if (vectorWidth < 1) {
      function.emitError("vector width must be positive");
      return signalPassFailure();
    }
    IRRewriter rewriter(&getContext());
    SmallVector<linalg::LinalgOp> ops;
    function.walk([&](linalg::LinalgOp op) { ops.push_back(op); });
    for (linalg::LinalgOp op : ops) {
      std::optional<unsigned> splitDim = findSplitDim(op);
      if (failed(splitDim ? splitAndVectorize(rewriter, op, *splitDim)
                          : tileAndVectorize(rewriter, op)))
        return signalPassFailure();
    }

    // Fold the tiles' slices into the transfers and transfers of what was
    // just written into the written vectors: split partial sums then never
    // reach memory, and the accumulators of reduction loops become
    // loop-invariant subsets that loop-invariant-subset-hoisting keeps in
    // registers.
    RewritePatternSet patterns(&getContext());
    tensor::populateFoldTensorSubsetIntoVectorTransferPatterns(patterns);
    vector::populateVectorTransferDropUnitDimsPatterns(patterns);
    linalg::populateLinalgTilingCanonicalizationPatterns(patterns);
    if (failed(applyPatternsGreedily(function, std::move(patterns))))
      return signalPassFailure();
  }

  /// The reduction dimension of `op` to split into vector-wide partial
  /// sums: its only one, contiguous, a multiple of the vector width.
  std::optional<unsigned> findSplitDim(linalg::LinalgOp op) {
    SmallVector<unsigned> reductions;
    op.getReductionDims(reductions);
    if (reductions.size() != 1 || op.getNumDpsInits() != 1)
      return std::nullopt;
    unsigned dim = reductions.front();
    int64_t extent = op.getStaticLoopRanges()[dim];
    if (ShapedType::isDynamic(extent) || extent % vectorWidth != 0 ||
        extent == vectorWidth || !isContiguousDim(op, dim))
      return std::nullopt;
    return dim;
  }

  /// Tiles `op` per `plan` (if any dimension is tiled); returns the tile.
  FailureOr<linalg::LinalgOp> tile(RewriterBase &rewriter, linalg::LinalgOp op,
                                   const TilePlan &plan) {
    if (llvm::all_of(plan.sizes, [](int64_t size) { return size == 0; }))
      return op;
    scf::SCFTilingOptions options;
    options.setTileSizes(getAsIndexOpFoldResult(&getContext(), plan.sizes));
    options.setInterchange(plan.interchange);
    rewriter.setInsertionPoint(op);
    FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
        rewriter, cast<TilingInterface>(op.getOperation()), options);
    if (failed(tiled))
      return op.emitError("failed to tile for vectorization");
    rewriter.replaceOp(op, tiled->replacements);
    return cast<linalg::LinalgOp>(tiled->tiledOps.back());
  }

  /// Vectorizes `op` if its shape is static; leaves it otherwise.
  void vectorize(RewriterBase &rewriter, linalg::LinalgOp op) {
    if (op.hasDynamicShape())
      return;
    rewriter.setInsertionPoint(op);
    FailureOr<linalg::VectorizationResult> vectorized =
        linalg::vectorize(rewriter, op);
    if (succeeded(vectorized))
      rewriter.replaceOp(op, vectorized->replacements);
  }

  LogicalResult tileAndVectorize(RewriterBase &rewriter, linalg::LinalgOp op) {
    std::optional<unsigned> vectorDim = findVectorDim(op);
    if (!vectorDim)
      return success();
    int64_t extent = op.getStaticLoopRanges()[*vectorDim];
    std::optional<int64_t> vectorSize =
        extent <= kMaxVectorTile ? extent
                                 : largestDivisor(extent, kMaxVectorTile, 8);
    if (!vectorSize && extent <= kMaxWholeVector)
      vectorSize = extent;
    if (!vectorSize)
      return success();
    FailureOr<linalg::LinalgOp> tiled =
        tile(rewriter, op, planTiles(op, *vectorDim, *vectorSize));
    if (failed(tiled))
      return failure();
    vectorize(rewriter, *tiled);
    return success();
  }

  /// Tiles `op` to static tiles holding the whole reduction `dim`, splits
  /// each into partial sums (fill, accumulate, combine) and vectorizes the
  /// three parts; the accumulation loops over the reduction in vector steps.
  LogicalResult splitAndVectorize(RewriterBase &rewriter, linalg::LinalgOp op,
                                  unsigned dim) {
    FailureOr<linalg::LinalgOp> tiled =
        tile(rewriter, op, planTiles(op, dim, /*vectorSize=*/0));
    if (failed(tiled))
      return failure();
    unsigned outputRank = tiled->getMatchingIndexingMap(
                                    tiled->getDpsInitOperand(0))
                              .getNumResults();
    rewriter.setInsertionPoint(*tiled);
    FailureOr<linalg::SplitReductionResult> split = linalg::splitReduction(
        rewriter, *tiled, [&](linalg::LinalgOp) {
          return linalg::SplitReductionOptions{vectorWidth, outputRank,
                                               /*innerParallel=*/true};
        });
    // Reductions whose combiner is not recognised stay whole.
    if (failed(split))
      return tileAndVectorize(rewriter, *tiled);
    vectorize(rewriter, split->fillOp);
    vectorize(rewriter, split->resultCombiningLinalgOp);
    return tileAndVectorize(rewriter, split->splitLinalgOp);
  }
};

} // namespace
