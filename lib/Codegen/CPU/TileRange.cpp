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

  int64_t size() const {
    int64_t size = 1;
    for (int64_t count : counts)
      size *= count;
    return size;
  }
};

/// The static bounds of a tile loop.
struct TileGrid {
  SmallVector<int64_t> lbs, ubs, steps;
};

} // namespace

/// The tiles of `grid` as boxes in which every tile has the same shape: the
/// whole grid, split along each dimension whose last tile is partial into
/// the full tiles and the last one.
static SmallVector<TileBox> partitionTiles(const TileGrid &grid) {
  TileBox whole;
  for (auto [lb, ub, step] : llvm::zip_equal(grid.lbs, grid.ubs, grid.steps)) {
    whole.first.push_back(0);
    whole.counts.push_back(llvm::divideCeil(ub - lb, step));
  }
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

/// Emits an scf.for over the tiles of `box` that fall in [begin, end), the
/// box's tiles being numbered from `firstTile` in row-major order, with a
/// copy of the body of `forall` carrying `inits` as its destinations.
static scf::ForOp emitTileLoop(RewriterBase &rewriter, scf::ForallOp forall,
                               const TileGrid &grid, const TileBox &box,
                               Value begin, Value end, int64_t firstTile,
                               ValueRange inits) {
  ImplicitLocOpBuilder b(forall.getLoc(), rewriter);
  b.setInsertionPoint(forall);
  Value first = arith::ConstantIndexOp::create(b, firstTile);
  Value last = arith::ConstantIndexOp::create(b, firstTile + box.size());
  Value lower = arith::MaxSIOp::create(b, begin, first);
  Value upper = arith::MinSIOp::create(b, end, last);
  Value one = arith::ConstantIndexOp::create(b, 1);
  auto loop = scf::ForOp::create(b, lower, upper, one, inits);
  Block *body = loop.getBody();
  if (!body->empty())
    rewriter.eraseOp(body->getTerminator());
  b.setInsertionPointToStart(body);

  Value index = arith::SubIOp::create(b, loop.getInductionVar(), first);
  auto tile = affine::AffineDelinearizeIndexOp::create(b, index, box.counts,
                                                       /*hasOuterBound=*/true);
  IRMapping mapping;
  AffineExpr position;
  bindDims(b.getContext(), position);
  SmallVector<SmallVector<int64_t>> positions;
  for (unsigned dim = 0; dim < box.counts.size(); ++dim) {
    int64_t lb = grid.lbs[dim] + box.first[dim] * grid.steps[dim];
    AffineMap offset = AffineMap::get(1, 0, position * grid.steps[dim] + lb);
    mapping.map(forall.getInductionVar(dim),
                affine::AffineApplyOp::create(b, offset, tile.getResult(dim)));
    positions.emplace_back();
    for (int64_t i = 0; i < box.counts[dim]; ++i)
      positions.back().push_back(lb + i * grid.steps[dim]);
  }
  mapping.map(forall.getRegionIterArgs(), loop.getRegionIterArgs());
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
  SmallVector<Value> current(loop.getRegionIterArgs());
  for (Operation &op : forall.getTerminator().getYieldingOps()) {
    auto insert = cast<tensor::ParallelInsertSliceOp>(op);
    unsigned result =
        cast<BlockArgument>(insert.getDest()).getArgNumber() - forall.getRank();
    current[result] = tensor::InsertSliceOp::create(
        b, mapping.lookup(insert.getSource()), current[result],
        remap(insert.getMixedOffsets()), remap(insert.getMixedSizes()),
        remap(insert.getMixedStrides()));
  }
  scf::YieldOp::create(b, current);
  for (unsigned dim = 0; dim < box.counts.size(); ++dim)
    foldTileSizes(rewriter, body, mapping.lookup(forall.getInductionVar(dim)),
                  positions[dim]);
  return loop;
}

/// Replaces the tile `forall`, whose tiles are numbered from `firstTile`,
/// by scf.for loops over those of its tiles that fall in [begin, end): one
/// per box of equally shaped tiles, so that tile shapes are static in each.
/// Returns the number of tiles of the forall.
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
  SmallVector<Value> results(forall.getOutputs());
  int64_t numTiles = 0;
  for (const TileBox &box : partitionTiles(grid)) {
    scf::ForOp loop = emitTileLoop(rewriter, forall, grid, box, begin, end,
                                   firstTile + numTiles, results);
    results.assign(loop.getResults().begin(), loop.getResults().end());
    numTiles += box.size();
  }
  rewriter.replaceOp(forall, results);
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
