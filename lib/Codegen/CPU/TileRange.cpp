//===- TileRange.cpp - Kernels computing a range of their tiles -----------===//
//
// Kernels are called with a range of tiles, so that the runtime can split
// a kernel's tiles among threads. This is expressed on tensors, before
// bufferization: the tile loop runs over [tile_begin, tile_end) only.
//
//===----------------------------------------------------------------------===//

#include "vitc/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/Matchers.h"

namespace vitc::cpu {
#define GEN_PASS_DEF_CPUTILERANGEPASS
#include "vitc/Codegen/CPU/Passes.h.inc"
} // namespace vitc::cpu

using namespace mlir;
using namespace vitc;
using namespace vitc::cpu;

namespace {

/// A box of tiles of a tile loop: along dimension d, the tiles numbered
/// [first[d], first[d] + counts[d]).
struct TileBox {
  SmallVector<int64_t> first, counts;
};

/// The static bounds of a tile loop.
struct TileGrid {
  SmallVector<int64_t> lbs, ubs, steps;

  /// The number of tiles along each dimension, the last one maybe partial.
  SmallVector<int64_t> counts() const {
    SmallVector<int64_t> counts;
    for (auto [lb, ub, step] : llvm::zip_equal(lbs, ubs, steps))
      counts.push_back(llvm::divideCeil(ub - lb, step));
    return counts;
  }
};

} // namespace

/// The tiles of `grid` as boxes in which every tile has the same shape: the
/// whole grid, split along each dimension whose last tile is partial into
/// the full tiles and the last one.
static SmallVector<TileBox> partitionTiles(const TileGrid &grid) {
  TileBox whole{SmallVector<int64_t>(grid.lbs.size(), 0), grid.counts()};
  SmallVector<TileBox> boxes{whole};
  for (unsigned dim = 0; dim < whole.counts.size(); ++dim) {
    int64_t full = (grid.ubs[dim] - grid.lbs[dim]) / grid.steps[dim];
    if (full == whole.counts[dim] || full == 0)
      continue;
    SmallVector<TileBox> split;
    for (TileBox box : boxes) {
      TileBox last = box;
      box.counts[dim] = full;
      last.first[dim] = full;
      last.counts[dim] = 1;
      split.append({box, last});
    }
    boxes = std::move(split);
  }
  return boxes;
}

/// Replaces every affine.min in `body` whose non-constant operands are all
/// `iv` by its value, if that value is the same at all `positions` of
/// `iv`: the sizes of tiles that are all full, or of the one partial tile.
static void foldTileSizes(RewriterBase &rewriter, Block *body, Value iv,
                          ArrayRef<int64_t> positions) {
  SmallVector<affine::AffineMinOp> mins;
  body->walk([&](affine::AffineMinOp min) { mins.push_back(min); });
  for (affine::AffineMinOp min : mins) {
    if (!llvm::is_contained(min.getOperands(), iv))
      continue;
    std::optional<int64_t> common;
    bool foldable = true;
    for (int64_t position : positions) {
      SmallVector<Attribute> operands;
      for (Value operand : min.getOperands()) {
        Attribute constant;
        if (operand == iv)
          constant = rewriter.getIndexAttr(position);
        else if (!matchPattern(operand, m_Constant(&constant)))
          foldable = false;
        operands.push_back(constant);
      }
      SmallVector<Attribute> results;
      if (!foldable || failed(min.getMap().constantFold(operands, results))) {
        foldable = false;
        break;
      }
      int64_t value = std::numeric_limits<int64_t>::max();
      for (Attribute result : results)
        value = std::min(value, cast<IntegerAttr>(result).getInt());
      foldable = !common || *common == value;
      if (!foldable)
        break;
      common = value;
    }
    if (foldable && common) {
      rewriter.setInsertionPoint(min);
      rewriter.replaceOpWithNewOp<arith::ConstantIndexOp>(min, *common);
    }
  }
}

/// Emits into `b` the body of `forall` for the tiles of `box`, at the tile
/// loop's position `ivs` (the forall's induction variables), carrying
/// `inits` as its destinations; returns the updated destinations. Tile
/// sizes that are the same for every tile of the box fold to constants.
static SmallVector<Value> emitTileBody(RewriterBase &rewriter,
                                       ImplicitLocOpBuilder &b,
                                       scf::ForallOp forall,
                                       const TileGrid &grid, const TileBox &box,
                                       ValueRange ivs, ValueRange inits) {
  IRMapping mapping;
  mapping.map(forall.getInductionVars(), ivs);
  mapping.map(forall.getRegionIterArgs(), inits);
  Block *block = b.getInsertionBlock();
  for (Operation &op : forall.getBody()->without_terminator())
    b.clone(op, mapping);

  // Each parallel_insert_slice becomes an insert_slice into the running
  // value of its destination.
  auto remap = [&](SmallVector<OpFoldResult> values) {
    for (OpFoldResult &value : values)
      if (auto ssa = dyn_cast<Value>(value))
        value = mapping.lookupOrDefault(ssa);
    return values;
  };
  SmallVector<Value> current(inits);
  for (Operation &op : forall.getTerminator().getYieldingOps()) {
    auto insert = cast<tensor::ParallelInsertSliceOp>(op);
    unsigned result =
        cast<BlockArgument>(insert.getDest()).getArgNumber() - forall.getRank();
    current[result] = tensor::InsertSliceOp::create(
        b, mapping.lookup(insert.getSource()), current[result],
        remap(insert.getMixedOffsets()), remap(insert.getMixedSizes()),
        remap(insert.getMixedStrides()));
  }
  for (unsigned dim = 0; dim < box.counts.size(); ++dim) {
    SmallVector<int64_t> positions;
    for (int64_t i = 0; i < box.counts[dim]; ++i)
      positions.push_back(grid.lbs[dim] +
                          (box.first[dim] + i) * grid.steps[dim]);
    foldTileSizes(rewriter, block, ivs[dim], positions);
  }
  return current;
}

/// Emits the bodies of `boxes` as a chain of scf.if on which box the tile
/// at grid coordinates `tile` is in (the last box needs no test), `counts`
/// being the grid's tiles per dimension.
static SmallVector<Value>
emitBoxChain(RewriterBase &rewriter, ImplicitLocOpBuilder &b,
             scf::ForallOp forall, const TileGrid &grid,
             ArrayRef<TileBox> boxes, ArrayRef<int64_t> counts, ValueRange tile,
             ValueRange ivs, ValueRange inits) {
  const TileBox &box = boxes.front();
  if (boxes.size() == 1)
    return emitTileBody(rewriter, b, forall, grid, box, ivs, inits);
  // A split dimension has the full tiles [0, full) and the last one.
  Value inBox;
  for (unsigned dim = 0; dim < box.counts.size(); ++dim) {
    if (box.counts[dim] == counts[dim])
      continue;
    Value inDim = box.first[dim] == 0
                      ? arith::CmpIOp::create(
                            b, arith::CmpIPredicate::slt, tile[dim],
                            arith::ConstantIndexOp::create(b, box.counts[dim]))
                      : arith::CmpIOp::create(
                            b, arith::CmpIPredicate::sge, tile[dim],
                            arith::ConstantIndexOp::create(b, box.first[dim]));
    inBox = inBox ? arith::AndIOp::create(b, inBox, inDim) : inDim;
  }
  auto choice = scf::IfOp::create(b, ValueRange(inits).getTypes(), inBox,
                                  /*withElseRegion=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(choice.thenBlock());
  scf::YieldOp::create(
      b, emitTileBody(rewriter, b, forall, grid, box, ivs, inits));
  b.setInsertionPointToStart(choice.elseBlock());
  scf::YieldOp::create(b, emitBoxChain(rewriter, b, forall, grid,
                                       boxes.drop_front(), counts, tile, ivs,
                                       inits));
  return SmallVector<Value>(choice.getResults());
}

/// Replaces the tile `forall`, whose tiles are numbered from `firstTile` in
/// row-major order of its grid, by an scf.for over those of its tiles that
/// fall in [begin, end). Tiles of different shapes (the full ones and the
/// partial last one of a dimension) get their own copy of the body, chosen
/// by an scf.if, so that tile shapes are static in each; numbering them all
/// in grid order keeps a partial tile next to the full tiles that share its
/// data (a linear's last rows right after the other rows of its columns,
/// whose weights are then still in cache). Returns the number of tiles.
static FailureOr<int64_t> iterateTileRange(RewriterBase &rewriter,
                                           scf::ForallOp forall, Value begin,
                                           Value end, int64_t firstTile) {
  std::optional<SmallVector<int64_t>> lbs =
      getConstantIntValues(forall.getMixedLowerBound());
  std::optional<SmallVector<int64_t>> ubs =
      getConstantIntValues(forall.getMixedUpperBound());
  std::optional<SmallVector<int64_t>> steps =
      getConstantIntValues(forall.getMixedStep());
  if (!lbs || !ubs || !steps)
    return forall.emitError("tile loop with dynamic bounds");
  TileGrid grid{*lbs, *ubs, *steps};
  SmallVector<int64_t> counts = grid.counts();
  int64_t numTiles = 1;
  for (int64_t count : counts)
    numTiles *= count;

  ImplicitLocOpBuilder b(forall.getLoc(), rewriter);
  b.setInsertionPoint(forall);
  Value first = arith::ConstantIndexOp::create(b, firstTile);
  Value last = arith::ConstantIndexOp::create(b, firstTile + numTiles);
  Value lower = arith::MaxSIOp::create(b, begin, first);
  Value upper = arith::MinSIOp::create(b, end, last);
  Value one = arith::ConstantIndexOp::create(b, 1);
  auto loop = scf::ForOp::create(b, lower, upper, one, forall.getOutputs());
  Block *body = loop.getBody();
  if (!body->empty())
    rewriter.eraseOp(body->getTerminator());
  b.setInsertionPointToStart(body);

  Value index = arith::SubIOp::create(b, loop.getInductionVar(), first);
  auto tile = affine::AffineDelinearizeIndexOp::create(b, index, counts,
                                                       /*hasOuterBound=*/true);
  AffineExpr position;
  bindDims(b.getContext(), position);
  SmallVector<Value> ivs;
  for (unsigned dim = 0; dim < counts.size(); ++dim) {
    AffineMap offset =
        AffineMap::get(1, 0, position * grid.steps[dim] + grid.lbs[dim]);
    ivs.push_back(
        affine::AffineApplyOp::create(b, offset, tile.getResult(dim)));
  }
  scf::YieldOp::create(
      b, emitBoxChain(rewriter, b, forall, grid, partitionTiles(grid), counts,
                      tile.getResults(), ivs, loop.getRegionIterArgs()));
  rewriter.replaceOp(forall, loop.getResults());
  return numTiles;
}

/// Moves everything the function computes into an scf.if on begin < end, so
/// an empty tile range of an untiled kernel computes nothing.
static void guardSingleTile(RewriterBase &rewriter, func::FuncOp function,
                            ValueRange outputs, Value begin, Value end) {
  Block &entry = function.getBody().front();
  auto ret = cast<func::ReturnOp>(entry.getTerminator());
  ImplicitLocOpBuilder b(function.getLoc(), rewriter);
  b.setInsertionPoint(ret);
  Value nonEmpty =
      arith::CmpIOp::create(b, arith::CmpIPredicate::slt, begin, end);
  auto guard = scf::IfOp::create(b, ret.getOperandTypes(), nonEmpty,
                                 /*withElseRegion=*/true);
  Block *thenBlock = guard.thenBlock();
  for (Operation &op : llvm::make_early_inc_range(entry)) {
    if (&op == guard.getOperation())
      break;
    if (&op != nonEmpty.getDefiningOp())
      rewriter.moveOpBefore(&op, thenBlock, thenBlock->end());
  }
  b.setInsertionPointToEnd(thenBlock);
  scf::YieldOp::create(b, ret.getOperands());
  b.setInsertionPointToEnd(guard.elseBlock());
  scf::YieldOp::create(b, outputs);
  rewriter.modifyOpInPlace(ret, [&] { ret->setOperands(guard.getResults()); });
}

namespace {

struct CpuTileRangePass
    : public vitc::cpu::impl::CpuTileRangePassBase<CpuTileRangePass> {
  void runOnOperation() override {
    func::FuncOp function = getOperation();
    if (!isKernelFunction(function))
      return;
    MLIRContext *ctx = &getContext();
    Block &entry = function.getBody().front();
    // vit-cpu-output-arguments made the last arguments the outputs, which
    // the results are equivalent to.
    unsigned numArgs = function.getNumArguments();
    unsigned numOutputs = function.getNumResults();
    if (numArgs < numOutputs || function.getArgumentTypes().take_back(
                                    numOutputs) != function.getResultTypes()) {
      function.emitError("kernel function without output arguments; run "
                         "vit-cpu-output-arguments first");
      return signalPassFailure();
    }

    SmallVector<Type> rangeTypes(2, IndexType::get(ctx));
    SmallVector<unsigned> positions(2, numArgs);
    SmallVector<DictionaryAttr> attrs(2);
    SmallVector<Location> locs(2, function.getLoc());
    if (failed(function.insertArguments(positions, rangeTypes, attrs, locs)))
      return signalPassFailure();
    ValueRange outputs =
        entry.getArguments().slice(numArgs - numOutputs, numOutputs);
    Value begin = entry.getArgument(numArgs);
    Value end = entry.getArgument(numArgs + 1);

    // The tiles of successive tile loops are numbered one after the other.
    IRRewriter rewriter(ctx);
    int64_t numTiles = 0;
    for (auto forall :
         llvm::make_early_inc_range(entry.getOps<scf::ForallOp>())) {
      FailureOr<int64_t> count =
          iterateTileRange(rewriter, forall, begin, end, numTiles);
      if (failed(count))
        return signalPassFailure();
      numTiles += *count;
    }
    if (numTiles == 0) {
      guardSingleTile(rewriter, function, outputs, begin, end);
      numTiles = 1;
    }
    function->setAttr(kNumTilesAttr,
                      IntegerAttr::get(IntegerType::get(ctx, 64), numTiles));
  }
};

} // namespace
