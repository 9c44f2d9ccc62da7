//===- KernelInterface.cpp - Output arguments and the tile range ----------===//
//
// Kernels are called with caller-allocated output buffers and a range of
// tiles. Both are expressed on tensors, before bufferization: the result
// is computed into an output argument it is equivalent to, and the tile
// loop runs over [tile_begin, tile_end) only.
//
//===----------------------------------------------------------------------===//

#include "vitc/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"

namespace vitc::cpu {
#define GEN_PASS_DEF_CPUKERNELINTERFACEPASS
#include "vitc/Codegen/CPU/Passes.h.inc"
} // namespace vitc::cpu

using namespace mlir;
using namespace vitc::cpu;

/// Follows `result` back through the ops that write into a destination
/// (DPS ops, scf.forall, reshapes of it) to the `tensor.empty` the chain
/// starts from. Returns the operand holding that empty and, innermost
/// first, the reshapes passed; null if the chain starts elsewhere.
static OpOperand *findEmptyDestination(Value result,
                                       SmallVectorImpl<Operation *> &reshapes) {
  Value value = result;
  while (auto opResult = dyn_cast<OpResult>(value)) {
    Operation *op = opResult.getOwner();
    OpOperand *next = nullptr;
    if (isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(op)) {
      reshapes.push_back(op);
      next = &op->getOpOperand(0);
    } else if (auto dps = dyn_cast<DestinationStyleOpInterface>(op)) {
      next = dps.getTiedOpOperand(opResult);
    } else if (auto forall = dyn_cast<scf::ForallOp>(op)) {
      next = forall.getTiedOpOperand(opResult);
    } else if (auto forOp = dyn_cast<scf::ForOp>(op)) {
      next = forOp.getTiedLoopInit(opResult);
    }
    if (!next)
      return nullptr;
    if (next->get().getDefiningOp<tensor::EmptyOp>())
      return next;
    value = next->get();
  }
  return nullptr;
}

/// Views `output` with the type the start of its destination chain has,
/// undoing `reshapes` (innermost last) in reverse order.
static Value reshapeLikeChainStart(ImplicitLocOpBuilder &b, Value output,
                                   ArrayRef<Operation *> reshapes) {
  for (Operation *reshape : reshapes) {
    if (auto expand = dyn_cast<tensor::ExpandShapeOp>(reshape)) {
      output = tensor::CollapseShapeOp::create(
          b, expand.getSrcType(), output, expand.getReassociationIndices());
    } else {
      auto collapse = cast<tensor::CollapseShapeOp>(reshape);
      output = tensor::ExpandShapeOp::create(
          b, collapse.getSrcType(), output,
          collapse.getReassociationIndices());
    }
  }
  return output;
}

/// Replaces the tile `forall` by an scf.for over the linear tile indices
/// [begin, end), delinearized in row-major order of the forall's dimensions.
/// Returns the number of tiles.
static FailureOr<int64_t> iterateTileRange(RewriterBase &rewriter,
                                           scf::ForallOp forall, Value begin,
                                           Value end) {
  std::optional<SmallVector<int64_t>> lbs =
      getConstantIntValues(forall.getMixedLowerBound());
  std::optional<SmallVector<int64_t>> ubs =
      getConstantIntValues(forall.getMixedUpperBound());
  std::optional<SmallVector<int64_t>> steps =
      getConstantIntValues(forall.getMixedStep());
  if (!lbs || !ubs || !steps)
    return forall.emitError("tile loop with dynamic bounds");
  SmallVector<int64_t> counts;
  int64_t numTiles = 1;
  for (auto [lb, ub, step] : llvm::zip_equal(*lbs, *ubs, *steps)) {
    counts.push_back(llvm::divideCeil(ub - lb, step));
    numTiles *= counts.back();
  }

  ImplicitLocOpBuilder b(forall.getLoc(), rewriter);
  b.setInsertionPoint(forall);
  Value one = arith::ConstantIndexOp::create(b, 1);
  auto loop = scf::ForOp::create(b, begin, end, one, forall.getOutputs());
  Block *body = loop.getBody();
  if (!body->empty())
    rewriter.eraseOp(body->getTerminator());
  b.setInsertionPointToStart(body);
  SmallVector<Value> replacements;
  auto tile = affine::AffineDelinearizeIndexOp::create(
      b, loop.getInductionVar(), counts, /*hasOuterBound=*/true);
  AffineExpr index;
  bindDims(b.getContext(), index);
  for (auto [dim, lb, step] : llvm::enumerate(*lbs, *steps)) {
    AffineMap offset = AffineMap::get(1, 0, index * step + lb);
    replacements.push_back(
        affine::AffineApplyOp::create(b, offset, tile.getResult(dim)));
  }
  llvm::append_range(replacements, loop.getRegionIterArgs());
  scf::InParallelOp terminator = forall.getTerminator();
  rewriter.mergeBlocks(forall.getBody(), body, replacements);

  // Each parallel_insert_slice becomes an insert_slice into the running
  // value of its destination.
  SmallVector<Value> current(loop.getRegionIterArgs());
  b.setInsertionPoint(terminator);
  for (Operation &op : terminator.getYieldingOps()) {
    auto insert = cast<tensor::ParallelInsertSliceOp>(op);
    unsigned index = cast<BlockArgument>(insert.getDest()).getArgNumber() -
                     loop.getNumInductionVars();
    current[index] = tensor::InsertSliceOp::create(
        b, insert.getSource(), current[index], insert.getMixedOffsets(),
        insert.getMixedSizes(), insert.getMixedStrides());
  }
  scf::YieldOp::create(b, current);
  rewriter.eraseOp(terminator);
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

struct CpuKernelInterfacePass
    : public vitc::cpu::impl::CpuKernelInterfacePassBase<
          CpuKernelInterfacePass> {
  void runOnOperation() override {
    func::FuncOp function = getOperation();
    if (!isKernelFunction(function))
      return;
    MLIRContext *ctx = &getContext();
    Block &entry = function.getBody().front();
    auto ret = cast<func::ReturnOp>(entry.getTerminator());
    unsigned numInputs = function.getNumArguments();
    for (unsigned i = 0; i < numInputs; ++i)
      function.setArgAttr(i, bufferization::BufferizationDialect::kWritableAttrName,
                          BoolAttr::get(ctx, false));

    // Arguments: inputs, outputs, tile_begin, tile_end.
    SmallVector<Type> newTypes(function.getResultTypes());
    unsigned numOutputs = newTypes.size();
    newTypes.append(2, IndexType::get(ctx));
    SmallVector<unsigned> positions(newTypes.size(), numInputs);
    SmallVector<DictionaryAttr> attrs(newTypes.size());
    SmallVector<Location> locs(newTypes.size(), function.getLoc());
    if (failed(function.insertArguments(positions, newTypes, attrs, locs)))
      return signalPassFailure();
    ValueRange outputs = entry.getArguments().slice(numInputs, numOutputs);
    Value begin = entry.getArgument(numInputs + numOutputs);
    Value end = entry.getArgument(numInputs + numOutputs + 1);
    Location loc = function.getLoc();

    IRRewriter rewriter(ctx);
    ImplicitLocOpBuilder b(loc, rewriter);
    for (auto [index, output] : llvm::enumerate(outputs)) {
      OpOperand &operand = ret->getOpOperand(index);
      SmallVector<Operation *> reshapes;
      if (OpOperand *start = findEmptyDestination(operand.get(), reshapes)) {
        b.setInsertionPoint(start->getOwner());
        Value destination = reshapeLikeChainStart(b, output, reshapes);
        rewriter.modifyOpInPlace(start->getOwner(),
                                 [&] { start->set(destination); });
        continue;
      }
      // The result is no computed chain (an input passed through): copy it.
      b.setInsertionPoint(ret);
      Value copied = bufferization::MaterializeInDestinationOp::create(
                         b, operand.get(), output)
                         .getResult();
      rewriter.modifyOpInPlace(ret, [&] { operand.set(copied); });
    }

    auto loops = llvm::to_vector(entry.getOps<scf::ForallOp>());
    int64_t numTiles = 1;
    if (loops.size() == 1) {
      FailureOr<int64_t> count =
          iterateTileRange(rewriter, loops.front(), begin, end);
      if (failed(count))
        return signalPassFailure();
      numTiles = *count;
    } else {
      guardSingleTile(rewriter, function, outputs, begin, end);
    }
    // Callers go through the entry points emitted after lowering; being
    // private lets bufferization drop the results equal to the outputs.
    function.setPrivate();
    function->setAttr(kNumTilesAttr,
                      IntegerAttr::get(IntegerType::get(ctx, 64), numTiles));
  }
};

} // namespace
