//===- TileKernels.cpp - Split kernels into independent output tiles ------===//
//
// The tiles made here are the unit of multi-threading: the runtime hands
// ranges of them to threads, so every tile must compute its part of the
// result from the kernel's inputs alone. Tiling the root and fusing all its
// producers into the tile gives exactly that.
//
//===----------------------------------------------------------------------===//

#include "vitc/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace vitc::cpu {
#define GEN_PASS_DEF_CPUTILEKERNELSPASS
#include "vitc/Codegen/CPU/Passes.h.inc"
} // namespace vitc::cpu

using namespace mlir;
using namespace vitc;
using namespace vitc::cpu;

/// The linalg op computing the kernel's single result, looking through
/// reshapes; null when the kernel has no such root.
static linalg::LinalgOp findRoot(func::FuncOp function) {
  auto ret = cast<func::ReturnOp>(function.getBody().front().getTerminator());
  if (ret.getNumOperands() != 1)
    return {};
  Value value = ret.getOperand(0);
  while (Operation *def = value.getDefiningOp()) {
    if (!isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(def))
      return dyn_cast<linalg::LinalgOp>(def);
    value = def->getOperand(0);
  }
  return {};
}

/// The width R of the panels [P, K, R] the kernel's linear reads its weight
/// in (vit-pack-linear-weights), if it has one: its product is then
/// computed as [M, P, R], and so is its epilogue.
static std::optional<int64_t> findPanelWidth(func::FuncOp function) {
  std::optional<int64_t> width;
  function.walk([&](linalg::GenericOp generic) {
    if (generic.getNumDpsInputs() != 2 ||
        !linalg::isaContractionOpInterface(generic))
      return;
    auto weight = cast<ShapedType>(generic.getDpsInputs()[1].getType());
    if (weight.getRank() == 3)
      width = weight.getShape().back();
  });
  return width;
}

/// The largest divisor of `extent` that is a multiple of 8 and at most
/// `limit`, or `extent` when there is none: column tiles are then all full
/// and their width a multiple of the register tile.
static int64_t columnTileSize(int64_t extent, int64_t limit) {
  for (int64_t size = std::min(extent, limit) / 8 * 8; size >= 8; size -= 8)
    if (extent % size == 0)
      return size;
  return extent;
}

namespace {

struct CpuTileKernelsPass
    : public vitc::cpu::impl::CpuTileKernelsPassBase<CpuTileKernelsPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp function = getOperation();
    if (!isKernelFunction(function))
      return;
    if (rowsPerTile < 1 || columnsPerTile < 1 || queryRowsPerTile < 1) {
      function.emitError("tile sizes must be positive");
      return signalPassFailure();
    }
    foldReshapesIntoEpilogues();
    linalg::LinalgOp root = findRoot(function);
    if (root && failed(tileRoot(root)))
      return signalPassFailure();
  }

  /// Folds `expand_shape(matmul)` into the element-wise epilogue reading it
  /// by collapsing the epilogue's leading dimensions, so the epilogue and
  /// the matmul share the [M, N] iteration space and fuse without reshapes.
  void foldReshapesIntoEpilogues() {
    RewritePatternSet patterns(&getContext());
    linalg::populateFoldReshapeOpsByCollapsingPatterns(
        patterns, [](OpOperand *operand) {
          auto expand = operand->get().getDefiningOp<tensor::ExpandShapeOp>();
          auto producer =
              expand ? expand.getSrc().getDefiningOp<linalg::LinalgOp>()
                     : linalg::LinalgOp();
          return producer && linalg::isaContractionOpInterface(producer);
        });
    (void)applyPatternsGreedily(getOperation(), std::move(patterns));
  }

  /// Whether the kernel has a contraction: with no linear among its ops
  /// (no matmul, no product on panels), it is attention, contracting
  /// activations with activations, and its tile rows are the vectors of its
  /// key-major scores.
  bool hasContraction() {
    bool found = false;
    getOperation().walk([&](linalg::LinalgOp op) {
      found |= linalg::isaContractionOpInterface(op);
    });
    return found;
  }

  /// Tiles `root` and fuses its producers. Its row dimensions (parallel
  /// dimensions other than the output's innermost) get tile size 1 except
  /// the innermost, which gets rowsPerTile (queryRowsPerTile in attention);
  /// the output's innermost (feature) dimension is tiled only in linear
  /// kernels, where each column tile needs only its slice of the weight.
  /// Reduction dimensions stay whole.
  LogicalResult tileRoot(linalg::LinalgOp root) {
    SmallVector<int64_t> ranges = root.getStaticLoopRanges();
    AffineMap output = root.getMatchingIndexingMap(root.getDpsInitOperand(0));
    auto outputDim = [&](unsigned fromBack) {
      return cast<AffineDimExpr>(
                 output.getResult(output.getNumResults() - 1 - fromBack))
          .getPosition();
    };
    unsigned feature = outputDim(0);
    // With panels the features are two dimensions, [P, R]: whole panels of
    // R features, as many as fit a column tile.
    std::optional<int64_t> panelWidth = findPanelWidth(getOperation());
    std::optional<unsigned> panel;
    if (panelWidth && output.getNumResults() >= 2 &&
        ranges[feature] == *panelWidth)
      panel = outputDim(1);
    SmallVector<int64_t> sizes(ranges.size(), 0);
    std::optional<unsigned> innermostRow;
    for (unsigned dim = 0; dim < ranges.size(); ++dim) {
      if (dim == feature || dim == panel ||
          root.getIteratorTypesArray()[dim] != utils::IteratorType::parallel)
        continue;
      sizes[dim] = 1;
      innermostRow = dim;
    }
    bool hasMatmul = !getOperation().getOps<linalg::MatmulOp>().empty();
    bool attention = !panelWidth && !hasMatmul && hasContraction();
    if (innermostRow)
      sizes[*innermostRow] = std::min<int64_t>(
          attention ? queryRowsPerTile : rowsPerTile, ranges[*innermostRow]);
    std::optional<unsigned> columns;
    if (panel) {
      int64_t panels = std::max<int64_t>(columnsPerTile / *panelWidth, 1);
      while (ranges[*panel] % panels != 0)
        --panels;
      sizes[*panel] = panels;
      columns = panel;
    } else if (hasMatmul) {
      sizes[feature] = columnTileSize(ranges[feature], columnsPerTile);
      columns = feature;
    }
    // Tiles are numbered with the last loop fastest: column tiles go
    // outermost, so consecutive tiles (and each thread's range) share one
    // block of the weight while the rows, which are far smaller at small
    // batches, go by; the weight is then read from memory once per kernel.
    SmallVector<int64_t> interchange;
    if (columns)
      interchange.push_back(*columns);
    for (unsigned dim = 0; dim < ranges.size(); ++dim)
      if (dim != columns)
        interchange.push_back(dim);
    return tileAndFuse(cast<TilingInterface>(root.getOperation()), sizes,
                       interchange);
  }

  LogicalResult tileAndFuse(TilingInterface root, ArrayRef<int64_t> sizes,
                            ArrayRef<int64_t> interchange) {
    MLIRContext *ctx = &getContext();
    scf::SCFTilingOptions tiling;
    tiling.setTileSizes(getAsIndexOpFoldResult(ctx, sizes));
    tiling.setInterchange(interchange);
    tiling.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
    scf::SCFTileAndFuseOptions options;
    options.setTilingOptions(tiling);
    // Slices of reshaped or sliced values move above the reshape or slice,
    // so producers behind them (the matmul under a patch embedding's
    // epilogue) still fuse.
    RewritePatternSet cleanup(ctx);
    tensor::populateBubbleUpExtractSliceOpPatterns(cleanup);
    tensor::populateMergeConsecutiveInsertExtractSlicePatterns(cleanup);
    options.cleanupPatterns = FrozenRewritePatternSet(std::move(cleanup));

    IRRewriter rewriter(ctx);
    rewriter.setInsertionPoint(root);
    FailureOr<scf::SCFTileAndFuseResult> result =
        scf::tileConsumerAndFuseProducersUsingSCF(rewriter, root, options);
    if (failed(result))
      return root.emitError("failed to tile the kernel's root op");
    for (OpResult value : root->getResults())
      rewriter.replaceAllUsesWith(value, result->replacements.lookup(value));

    // The untiled producers are dead now, and slices of tensor.empty become
    // tile-sized temporaries instead of slices of a whole-kernel buffer.
    RewritePatternSet patterns(ctx);
    linalg::populateLinalgTilingCanonicalizationPatterns(patterns);
    tensor::populateFoldTensorEmptyPatterns(patterns);
    return applyPatternsGreedily(getOperation(), std::move(patterns));
  }
};

} // namespace
