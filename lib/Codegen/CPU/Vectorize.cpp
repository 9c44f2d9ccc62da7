//===- Vectorize.cpp - Static tiles of every linalg op, vectorized --------===//
//
// Kernel tiles have static shapes (see vit-cpu-tile-range) but are
// far bigger than vector registers. Every op is tiled again, to one element
// along every dimension except the one that is contiguous in memory for all
// operands using it (the vector dimension) and, for contractions, small
// register blocks of dimensions one input does not depend on (rows that no
// block divides are split off first). Reductions along the vector dimension
// are split first, so that their inner loop accumulates whole vectors.
//
//===----------------------------------------------------------------------===//

#include "vitc/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Math/IR/Math.h"
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
using namespace vitc;
using namespace vitc::cpu;

/// Longest vector tile taken from an extent with a suitable divisor, and
/// longest whole extent vectorized otherwise (a prime number of tokens).
static constexpr int64_t kMaxVectorTile = 64;
static constexpr int64_t kMaxWholeVector = 256;
/// Register blocks of a contraction's outer and innermost reuse dimensions.
static constexpr int64_t kOuterBlock = 4;
static constexpr int64_t kInnerBlock = 8;

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

/// In a contraction, the static parallel dimensions other than `vectorDim`
/// that some input does not read, outermost first: blocking one of them
/// reuses that input's vectors from registers across the block.
static SmallVector<unsigned> findReuseDims(linalg::LinalgOp op,
                                           unsigned vectorDim) {
  SmallVector<unsigned> dims;
  if (op.getNumReductionLoops() == 0)
    return dims;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  for (unsigned dim = 0; dim < ranges.size(); ++dim) {
    if (dim == vectorDim || !isParallel(op, dim) ||
        ShapedType::isDynamic(ranges[dim]))
      continue;
    if (llvm::any_of(op.getDpsInputOperands(), [&](OpOperand *input) {
          return !op.getMatchingIndexingMap(input).isFunctionOfDim(dim);
        }))
      dims.push_back(dim);
  }
  return dims;
}

/// For a read that spreads its source's contiguous dimension over a row
/// dimension of the vector and broadcasts each element along a later one
/// (the broadcast operand of an outer product whose rows are contiguous in
/// memory: attention's key-major probabilities), the shape to unroll it to,
/// one row per read. Whole, it lowers to a transposition that LLVM builds
/// element by element; one row at a time, each row is a scalar load and a
/// broadcast, as when rows are not contiguous (a linear's input).
static std::optional<SmallVector<int64_t>>
rowsOfBroadcastContiguousRead(Operation *op) {
  auto read = dyn_cast<vector::TransferReadOp>(op);
  if (!read)
    return std::nullopt;
  AffineMap map = read.getPermutationMap();
  ArrayRef<int64_t> shape = read.getVectorType().getShape();
  unsigned sourceRank = read.getShapedType().getRank();
  std::optional<unsigned> rowDim, broadcastDim;
  for (auto [position, result] : llvm::enumerate(map.getResults())) {
    if (auto dim = dyn_cast<AffineDimExpr>(result)) {
      if (dim.getPosition() == sourceRank - 1 && shape[position] > 1)
        rowDim = position;
    } else if (shape[position] > 1) {
      broadcastDim = position;
    }
  }
  if (!rowDim || !broadcastDim || *broadcastDim < *rowDim)
    return std::nullopt;
  SmallVector<int64_t> rows(shape);
  rows[*rowDim] = 1;
  return rows;
}

namespace {

/// How one op is tiled: sizes (0 = whole dimension) and loop order.
struct TilePlan {
  SmallVector<int64_t> sizes;
  SmallVector<int64_t> interchange;
};

/// Tile sizes 1 except for `vectorDim` (`vectorSize`, 0 for all of it)
/// and the register blocks of the reuse dimensions: up to 4 on outer ones
/// and 8 on the innermost, as long as the accumulators (one vector per
/// block element and `vectorsPerElement` vectors each) fit in
/// `accumulators`, which leaves registers for the operands. The reuse
/// loops are outermost, innermost reuse dimension first: in a matmul the
/// weight rows of a column block stay in cache while the rows of the input
/// go by. Reduction loops are innermost, so accumulators stay in registers.
TilePlan planTiles(linalg::LinalgOp op, unsigned vectorDim, int64_t vectorSize,
                   int64_t vectorsPerElement, int64_t accumulators,
                   bool outerProduct) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  TilePlan plan;
  plan.sizes.assign(ranges.size(), 1);
  plan.sizes[vectorDim] = vectorSize;
  SmallVector<unsigned> reuseDims = findReuseDims(op, vectorDim);
  int64_t budget = std::max<int64_t>(accumulators / vectorsPerElement, 1);
  for (auto [index, dim] : llvm::enumerate(reuseDims)) {
    // An outer product's first reuse dimension (the rows of a linear)
    // takes the whole budget.
    int64_t limit = outerProduct && index == 0      ? budget
                    : index + 1 == reuseDims.size() ? kInnerBlock
                                                    : kOuterBlock;
    int64_t block =
        largestDivisor(ranges[dim], std::min(limit, budget), 1).value_or(1);
    plan.sizes[dim] = block;
    budget /= block;
  }
  for (auto [size, range] : llvm::zip_equal(plan.sizes, ranges))
    if (size == range)
      size = 0;
  plan.interchange.assign(reuseDims.rbegin(), reuseDims.rend());
  for (bool parallel : {true, false})
    for (unsigned dim = 0; dim < ranges.size(); ++dim)
      if (isParallel(op, dim) == parallel &&
          !llvm::is_contained(reuseDims, dim))
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
    SmallVector<Epilogue> epilogues;
    function.walk([&](linalg::GenericOp op) {
      if (std::optional<Epilogue> epilogue = matchEpilogue(op))
        epilogues.push_back(*epilogue);
    });
    for (Epilogue &epilogue : epilogues)
      if (failed(fuseIntoRegisterBlocks(rewriter, epilogue)))
        return signalPassFailure();

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
    vector::populateVectorUnrollPatterns(
        patterns,
        vector::UnrollVectorOptions()
            .setNativeShapeFn(rowsOfBroadcastContiguousRead)
            .setFilterConstraint([](Operation *op) {
              return success(rowsOfBroadcastContiguousRead(op).has_value());
            }));
    tensor::populateFoldTensorSubsetIntoVectorTransferPatterns(patterns);
    vector::populateVectorTransferDropUnitDimsPatterns(patterns);
    linalg::populateLinalgTilingCanonicalizationPatterns(patterns);
    if (failed(applyPatternsGreedily(function, std::move(patterns))))
      return signalPassFailure();
  }

  /// Vector registers given to accumulators: half of AVX-512's 32, or of
  /// the 16 of narrower vector extensions.
  int64_t accumulators() const { return vectorWidth >= 16 ? 16 : 8; }

  /// Vector registers given to an outer product's accumulators: all but
  /// the two weight vectors, the broadcast input and one spare (12 of 16,
  /// 24 of AVX-512's 32).
  int64_t outerProductAccumulators() const {
    return vectorWidth >= 16 ? 24 : 12;
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

  /// How `op` is vectorized: along which dimension, how wide, and as an
  /// outer product or not; none without a suitable vector dimension.
  struct VectorPlan {
    unsigned vectorDim;
    int64_t vectorSize;
    bool outerProduct;
    /// An outer product's rows (dimension `dim`) that no register block
    /// near the budget divides (197 keys, a prime): the `count` that whole
    /// blocks take, split off before tiling.
    struct BlockedRows {
      unsigned dim;
      int64_t count;
    };
    std::optional<BlockedRows> blockedRows;
    TilePlan tiles;
  };

  std::optional<VectorPlan> planVectorization(linalg::LinalgOp op) {
    std::optional<unsigned> vectorDim = findVectorDim(op);
    if (!vectorDim)
      return std::nullopt;
    int64_t extent = op.getStaticLoopRanges()[*vectorDim];
    // An outer-product contraction (the vector dimension parallel, some
    // input broadcast along it: a linear with packed weights, P V) keeps
    // two vectors per row and as many rows as the accumulator registers
    // allow: each k then loads two vectors of the weight and broadcasts one
    // input element per row (4 x 16 or 6 x 16 with AVX2, 8 x 32 or 12 x 32
    // with AVX-512, as the rows divide).
    SmallVector<unsigned> reuseDims = findReuseDims(op, *vectorDim);
    bool outerProduct = op.getNumReductionLoops() != 0 &&
                        isParallel(op, *vectorDim) && !reuseDims.empty();
    // Whole registers only: a vector of 24 or 12 lanes is legalized lane by
    // lane.
    std::optional<int64_t> vectorSize;
    if (outerProduct)
      for (int64_t size : {int64_t(2 * vectorWidth), int64_t(vectorWidth)})
        if (!vectorSize && extent % size == 0)
          vectorSize = size;
    if (!vectorSize)
      vectorSize = extent <= kMaxVectorTile
                       ? extent
                       : largestDivisor(extent, kMaxVectorTile, 8);
    if (!vectorSize && extent <= kMaxWholeVector)
      vectorSize = extent;
    if (!vectorSize)
      return std::nullopt;
    int64_t vectorsPerElement = llvm::divideCeil(*vectorSize, vectorWidth);
    VectorPlan plan{
        *vectorDim, *vectorSize, outerProduct, std::nullopt,
        planTiles(op, *vectorDim, *vectorSize, vectorsPerElement,
                  outerProduct ? outerProductAccumulators() : accumulators(),
                  outerProduct)};
    if (outerProduct) {
      unsigned rows = reuseDims.front();
      int64_t rowCount = op.getStaticLoopRanges()[rows];
      int64_t budget = outerProductAccumulators() / vectorsPerElement;
      if (budget > 1 && rowCount > budget &&
          2 * *largestDivisor(rowCount, budget, 1) <= budget)
        plan.blockedRows =
            VectorPlan::BlockedRows{rows, rowCount / budget * budget};
    }
    return plan;
  }

  LogicalResult tileAndVectorize(RewriterBase &rewriter, linalg::LinalgOp op) {
    std::optional<VectorPlan> plan = planVectorization(op);
    if (!plan)
      return success();
    if (plan->blockedRows) {
      // Whole blocks and the remainder, each vectorized on its own, instead
      // of one row at a time.
      rewriter.setInsertionPoint(op);
      auto [head, tail] =
          linalg::splitOp(rewriter, cast<TilingInterface>(op.getOperation()),
                          plan->blockedRows->dim,
                          rewriter.getIndexAttr(plan->blockedRows->count));
      if (!head || !tail)
        return op.emitError("failed to split rows for register blocks");
      if (failed(tileAndVectorize(rewriter, cast<linalg::LinalgOp>(*head))) ||
          failed(tileAndVectorize(rewriter, cast<linalg::LinalgOp>(*tail))))
        return failure();
      return success();
    }
    FailureOr<linalg::LinalgOp> tiled = tile(rewriter, op, plan->tiles);
    if (failed(tiled))
      return failure();
    vectorize(rewriter, *tiled);
    return success();
  }

  /// An element-wise op reading, element for element, the result of an
  /// outer product that starts from a zero fill: a linear's bias and
  /// residual, attention's division by the row sums (whose result is
  /// written transposed).
  struct Epilogue {
    linalg::GenericOp op;
    linalg::LinalgOp contraction;
    linalg::FillOp fill;
    VectorPlan plan;
  };

  std::optional<Epilogue> matchEpilogue(linalg::GenericOp op) {
    if (op.getNumDpsInits() != 1 || op.getNumReductionLoops() != 0 ||
        !op.getMatchingIndexingMap(op.getDpsInitOperand(0)).isPermutation())
      return std::nullopt;
    // A polynomial (GELU's erf or tanh) evaluated on a whole register block
    // at once needs more registers than the accumulators leave: measured on
    // fc1 with AVX-512, 381 spills and reloads per block. Such epilogues keep
    // their own pass over the tile.
    bool hasMath = false;
    op.getBody()->walk([&](Operation *inner) {
      hasMath |= isa<math::MathDialect>(inner->getDialect());
    });
    if (hasMath)
      return std::nullopt;
    for (OpOperand *input : op.getDpsInputOperands()) {
      auto contraction = input->get().getDefiningOp<linalg::LinalgOp>();
      if (!contraction || !contraction->hasOneUse() ||
          contraction.getNumDpsInits() != 1 ||
          !op.getMatchingIndexingMap(input).isIdentity())
        continue;
      auto fill = contraction.getDpsInitOperand(0)
                      ->get()
                      .getDefiningOp<linalg::FillOp>();
      std::optional<VectorPlan> plan = planVectorization(contraction);
      if (fill && fill->hasOneUse() && plan && plan->outerProduct &&
          !plan->blockedRows)
        return Epilogue{op, contraction, fill, *plan};
    }
    return std::nullopt;
  }

  /// Tiles `epilogue.op` by its outer product's register block and fuses the
  /// outer product and its fill into each block, then vectorizes the three:
  /// a block's accumulators start as zeros, get the epilogue applied in
  /// registers and are stored once, to the output, instead of going through
  /// a temporary that the epilogue reads back.
  LogicalResult fuseIntoRegisterBlocks(RewriterBase &rewriter,
                                       Epilogue epilogue) {
    // The epilogue's loops are the outer product's result dimensions: they
    // take the outer product's tile sizes, in its loop order.
    AffineMap result = epilogue.contraction.getMatchingIndexingMap(
        epilogue.contraction.getDpsInitOperand(0));
    const TilePlan &block = epilogue.plan.tiles;
    auto loopOrder = [&](int64_t dim) -> int64_t {
      return llvm::find(block.interchange,
                        int64_t(result.getDimPosition(dim))) -
             block.interchange.begin();
    };
    // A whole dimension is tiled by its extent all the same: a block that is
    // the whole op still gets a loop (of one trip) to fuse into.
    SmallVector<int64_t> ranges = epilogue.op.getStaticLoopRanges();
    SmallVector<int64_t> sizes, interchange;
    for (unsigned dim = 0; dim < result.getNumResults(); ++dim) {
      int64_t size = block.sizes[result.getDimPosition(dim)];
      sizes.push_back(size == 0 ? ranges[dim] : size);
      interchange.push_back(dim);
    }
    llvm::sort(interchange, [&](int64_t a, int64_t b) {
      return loopOrder(a) < loopOrder(b);
    });

    scf::SCFTilingOptions tiling;
    tiling.setTileSizes(getAsIndexOpFoldResult(&getContext(), sizes));
    tiling.setInterchange(interchange);
    scf::SCFTileAndFuseOptions options;
    options.setTilingOptions(tiling);
    Operation *contraction = epilogue.contraction;
    Operation *fill = epilogue.fill;
    options.setFusionControlFn(
        [&](tensor::ExtractSliceOp, OpResult producer, bool)
            -> std::optional<scf::SCFTileAndFuseOptions::ControlFnResult> {
          if (producer.getOwner() == contraction || producer.getOwner() == fill)
            return scf::SCFTileAndFuseOptions::ControlFnResult{};
          return std::nullopt;
        });
    rewriter.setInsertionPoint(epilogue.op);
    FailureOr<scf::SCFTileAndFuseResult> fused =
        scf::tileConsumerAndFuseProducersUsingSCF(
            rewriter, cast<TilingInterface>(epilogue.op.getOperation()),
            options);
    if (failed(fused))
      return epilogue.op.emitError("failed to fuse an epilogue into the "
                                   "register blocks of its outer product");
    for (OpResult value : epilogue.op->getResults())
      rewriter.replaceAllUsesWith(value, fused->replacements.lookup(value));
    // The whole ops are dead now, but for the slices that fusion took of
    // them and left unused.
    for (Operation *op : {epilogue.op.getOperation(), contraction, fill}) {
      for (Operation *user : llvm::make_early_inc_range(op->getUsers()))
        if (isa<tensor::ExtractSliceOp>(user) && user->use_empty())
          rewriter.eraseOp(user);
      if (!op->use_empty())
        return op->emitError("still used after fusion into register blocks");
      rewriter.eraseOp(op);
    }

    for (Operation *op : fused->tiledAndFusedOps) {
      auto tiled = cast<linalg::LinalgOp>(op);
      if (tiled.getNumReductionLoops() != 0) {
        if (failed(tileAndVectorize(rewriter, tiled)))
          return failure();
      } else {
        vectorize(rewriter, tiled);
      }
    }
    return success();
  }

  /// Tiles `op` to static tiles holding the whole reduction `dim`, splits
  /// each into partial sums (fill, accumulate, combine) and vectorizes the
  /// three parts; the accumulation loops over the reduction in vector steps.
  LogicalResult splitAndVectorize(RewriterBase &rewriter, linalg::LinalgOp op,
                                  unsigned dim) {
    FailureOr<linalg::LinalgOp> tiled =
        tile(rewriter, op,
             planTiles(op, dim, /*vectorSize=*/0, /*vectorsPerElement=*/1,
                       accumulators(), /*outerProduct=*/false));
    if (failed(tiled))
      return failure();
    unsigned outputRank =
        tiled->getMatchingIndexingMap(tiled->getDpsInitOperand(0))
            .getNumResults();
    rewriter.setInsertionPoint(*tiled);
    FailureOr<linalg::SplitReductionResult> split =
        linalg::splitReduction(rewriter, *tiled, [&](linalg::LinalgOp) {
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
