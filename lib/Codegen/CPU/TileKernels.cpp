//===- TileKernels.cpp - Split kernels into independent output tiles ------===//
//
// The tiles made here are the unit of multi-threading: the runtime hands
// ranges of them to threads, so every tile must compute its part of the
// result from the kernel's inputs alone. Tiling the root and fusing all its
// producers into the tile gives exactly that.
//
//===----------------------------------------------------------------------===//

#include "vitc/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Interfaces/LoopLikeInterface.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace vitc::cpu {
#define GEN_PASS_DEF_CPUTILEKERNELSPASS
#include "vitc/Codegen/CPU/Passes.h.inc"
} // namespace vitc::cpu

using namespace mlir;
using namespace vitc;
using namespace vitc::cpu;

/// The linalg op computing the kernel's single result, looking through
/// reshapes and the insertion into a padded result (vit-cpu-pad-rows); null
/// when the kernel has no such root.
static linalg::LinalgOp findRoot(func::FuncOp function) {
  auto ret = cast<func::ReturnOp>(function.getBody().front().getTerminator());
  if (ret.getNumOperands() != 1)
    return {};
  Value value = ret.getOperand(0);
  while (Operation *def = value.getDefiningOp()) {
    if (!isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(def) &&
        !isPaddedRowsInsertion(def))
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

/// The patch grid [rows, columns] of a patch embedding: the linear's input
/// rows are a copy of the image rearranged into patches ([grid rows, grid
/// columns] collapsed); none in other kernels.
static std::optional<std::pair<int64_t, int64_t>>
findPatchGrid(func::FuncOp function) {
  std::optional<std::pair<int64_t, int64_t>> grid;
  function.walk([&](linalg::LinalgOp op) {
    if (op.getNumDpsInputs() != 2 || !linalg::isaContractionOpInterface(op))
      return;
    // The input's row index: its first index over a parallel loop.
    OpOperand *input = op.getDpsInputOperand(0);
    std::optional<unsigned> row;
    for (auto [position, result] :
         llvm::enumerate(op.getMatchingIndexingMap(input).getResults())) {
      auto dim = dyn_cast<AffineDimExpr>(result);
      if (dim && !row &&
          op.getIteratorTypesArray()[dim.getPosition()] ==
              utils::IteratorType::parallel)
        row = position;
    }
    Value rows = input->get();
    while (auto collapse = rows.getDefiningOp<tensor::CollapseShapeOp>()) {
      if (!row)
        return;
      ReassociationIndices group = collapse.getReassociationIndices()[*row];
      ArrayRef<int64_t> shape = collapse.getSrcType().getShape();
      if (group.size() == 2 &&
          collapse.getSrc().getDefiningOp<linalg::TransposeOp>()) {
        grid = {shape[group[0]], shape[group[1]]};
        return;
      }
      // Batch and rows collapsed: a tile's rows are rows of one image.
      row = group.back();
      rows = collapse.getSrc();
    }
  });
  return grid;
}

/// Rows per tile of a patch embedding: whole rows of the patch grid (as
/// many as divide its height and fit `limit`), or a divisor of a grid row
/// longer than `limit`, so that a tile's patches are a box of the grid and
/// the tile rearranges only its own patches.
static int64_t patchRowsPerTile(std::pair<int64_t, int64_t> grid,
                                int64_t limit) {
  auto [rows, columns] = grid;
  for (int64_t gridRows = std::min(rows, limit / columns); gridRows >= 1;
       --gridRows)
    if (rows % gridRows == 0)
      return gridRows * columns;
  for (int64_t size = std::min(columns, limit); size > 1; --size)
    if (columns % size == 0)
      return size;
  return 1;
}

/// Whether `value` is a multiple of `factor` for every value of the loop
/// indices it uses: a constant, the index of a loop whose lower bound and
/// step are multiples, or a linearization whose every term is.
static bool isMultipleOf(OpFoldResult value, int64_t factor) {
  if (factor == 1)
    return true;
  if (std::optional<int64_t> constant = getConstantIntValue(value))
    return *constant % factor == 0;
  auto index = dyn_cast<Value>(value);
  if (auto arg = dyn_cast_or_null<BlockArgument>(index)) {
    auto loop = dyn_cast<LoopLikeOpInterface>(arg.getOwner()->getParentOp());
    if (!loop)
      return false;
    std::optional<SmallVector<Value>> indices = loop.getLoopInductionVars();
    std::optional<SmallVector<OpFoldResult>> lbs = loop.getLoopLowerBounds();
    std::optional<SmallVector<OpFoldResult>> steps = loop.getLoopSteps();
    if (!indices || !lbs || !steps)
      return false;
    auto position = llvm::find(*indices, index) - indices->begin();
    return position < int64_t(indices->size()) &&
           isMultipleOf((*lbs)[position], factor) &&
           isMultipleOf((*steps)[position], factor);
  }
  auto linearize =
      index ? index.getDefiningOp<affine::AffineLinearizeIndexOp>() : nullptr;
  if (!linearize)
    return false;
  // sum_i index_i * (product of the basis after i)
  SmallVector<OpFoldResult> basis = linearize.getPaddedBasis();
  int64_t stride = 1;
  for (int64_t i = basis.size() - 1; i >= 0; --i) {
    if (stride % factor != 0 &&
        !isMultipleOf(linearize.getMultiIndex()[i], factor))
      return false;
    std::optional<int64_t> extent =
        i > 0 ? getConstantIntValue(basis[i]) : std::optional<int64_t>(1);
    if (!extent)
      return false;
    stride *= *extent;
  }
  return true;
}

namespace {

/// Moves a slice of a collapse_shape above it when, in each collapsed
/// group, the slice is a box of the group's dimensions: whole trailing
/// dimensions and, in the one before them, a run that its offset aligns
/// within the dimension. MLIR's own pattern proves the alignment only for
/// constant offsets; here an offset may be a tile index whose steps are
/// multiples of the run (a tile of whole rows of patches), so that the
/// rearrangement producing the collapsed value fuses into the tile.
struct SliceOfAlignedCollapse : OpRewritePattern<tensor::ExtractSliceOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tensor::ExtractSliceOp slice,
                                PatternRewriter &rewriter) const override {
    auto collapse = slice.getSource().getDefiningOp<tensor::CollapseShapeOp>();
    if (!collapse || !slice.hasUnitStride() ||
        slice.getResultType().getRank() != slice.getSourceType().getRank() ||
        !collapse.getSrcType().hasStaticShape())
      return failure();
    ArrayRef<int64_t> shape = collapse.getSrcType().getShape();
    Location loc = slice.getLoc();
    SmallVector<OpFoldResult> offsets, sizes;
    for (auto [group, offset, size] :
         llvm::zip_equal(collapse.getReassociationIndices(),
                         slice.getMixedOffsets(), slice.getMixedSizes())) {
      if (group.size() == 1) {
        offsets.push_back(offset);
        sizes.push_back(size);
        continue;
      }
      std::optional<int64_t> elements = getConstantIntValue(size);
      if (!elements)
        return failure();
      // Whole trailing dimensions from `split` on, a run of `run` indices in
      // the dimension before, single indices in the ones before that.
      int64_t whole = 1;
      size_t split = group.size();
      while (split > 0 && *elements % (whole * shape[group[split - 1]]) == 0)
        whole *= shape[group[--split]];
      int64_t run = *elements / whole;
      if (split > 0 && (shape[group[split - 1]] % run != 0 ||
                        !isMultipleOf(offset, *elements)))
        return failure();
      ValueRange coordinates;
      if (split > 0) {
        SmallVector<OpFoldResult> basis =
            llvm::map_to_vector(group, [&](int64_t dim) -> OpFoldResult {
              return rewriter.getIndexAttr(shape[dim]);
            });
        coordinates =
            affine::AffineDelinearizeIndexOp::create(
                rewriter, loc,
                getValueOrCreateConstantIndexOp(rewriter, loc, offset), basis)
                .getResults();
      }
      for (size_t position = 0; position < group.size(); ++position) {
        bool inRun = position + 1 == split;
        bool wholeDim = position >= split;
        offsets.push_back(wholeDim ? OpFoldResult(rewriter.getIndexAttr(0))
                                   : OpFoldResult(coordinates[position]));
        sizes.push_back(rewriter.getIndexAttr(wholeDim ? shape[group[position]]
                                              : inRun  ? run
                                                       : 1));
      }
    }
    SmallVector<OpFoldResult> strides(offsets.size(), rewriter.getIndexAttr(1));
    Value expanded = tensor::ExtractSliceOp::create(
        rewriter, loc, collapse.getSrc(), offsets, sizes, strides);
    rewriter.replaceOpWithNewOp<tensor::CollapseShapeOp>(
        slice, slice.getResultType(), expanded,
        collapse.getReassociationIndices());
    return success();
  }
};

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
    std::optional<std::pair<int64_t, int64_t>> grid =
        findPatchGrid(getOperation());
    if (innermostRow && grid &&
        ranges[*innermostRow] == grid->first * grid->second)
      sizes[*innermostRow] = patchRowsPerTile(*grid, rowsPerTile);
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
    cleanup.add<SliceOfAlignedCollapse>(ctx);
    // Delinearizing a linearized tile index gives back the loop indices,
    // whose steps prove a slice aligned.
    affine::AffineDelinearizeIndexOp::getCanonicalizationPatterns(cleanup, ctx);
    affine::AffineLinearizeIndexOp::getCanonicalizationPatterns(cleanup, ctx);
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
