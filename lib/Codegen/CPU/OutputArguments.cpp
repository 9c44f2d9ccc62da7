//===- OutputArguments.cpp - Results computed into output arguments -------===//
//
// Kernels are called with caller-allocated output buffers. This is
// expressed on tensors, before bufferization: each result is computed into
// an output argument it is equivalent to, so bufferization writes straight
// into the caller's buffer. Unlike CUDA (vit-cuda-destination-abi), the
// kernel stays on tensors, and the tile loops that follow still need its
// results; see vitc/Codegen/Common/Destination.h.
//
//===----------------------------------------------------------------------===//

#include "vitc/Codegen/CPU/Passes.h"
#include "vitc/Codegen/Common/Destination.h"

#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"

namespace vitc::cpu {
#define GEN_PASS_DEF_CPUOUTPUTARGUMENTSPASS
#include "vitc/Codegen/CPU/Passes.h.inc"
} // namespace vitc::cpu

using namespace mlir;
using namespace vitc;
using namespace vitc::cpu;

/// Follows `result` back through the ops that write into a destination
/// (DPS ops, loops, reshapes of it, the insertion into a padded result of
/// vit-cpu-pad-rows) to the `tensor.empty` the chain starts from. Returns
/// that op and the reshapes and insertions passed, in the order met; null
/// if the chain starts elsewhere.
static tensor::EmptyOp
findEmptyDestination(Value result, SmallVectorImpl<Operation *> &views) {
  Value value = result;
  while (auto opResult = dyn_cast<OpResult>(value)) {
    Operation *op = opResult.getOwner();
    if (auto empty = dyn_cast<tensor::EmptyOp>(op))
      return empty;
    OpOperand *next = nullptr;
    if (isTensorReshape(op) || isPaddedRowsInsertion(op)) {
      views.push_back(op);
      next = &op->getOpOperand(0);
    } else if (auto dps = dyn_cast<DestinationStyleOpInterface>(op)) {
      next = dps.getTiedOpOperand(opResult);
    } else if (auto forall = dyn_cast<scf::ForallOp>(op)) {
      next = forall.getTiedOpOperand(opResult);
    } else if (auto forOp = dyn_cast<scf::ForOp>(op)) {
      next = forOp.getTiedLoopInit(opResult);
    }
    if (!next)
      return {};
    value = next->get();
  }
  return {};
}

/// A destination for the source of `view` (a reshape, or the insertion
/// into a padded result) from `dest`, a destination for its result. The
/// insertion writes into `dest` from then on: its source, computed in the
/// slice returned, is then already in place.
static Value viewDestinationAsSource(ImplicitLocOpBuilder &b, Operation *view,
                                     Value dest) {
  auto insert = dyn_cast<tensor::InsertSliceOp>(view);
  if (!insert)
    return reshapeDestinationToSource(b, b.getLoc(), view, dest);
  insert.getDestMutable().assign(dest);
  return tensor::ExtractSliceOp::create(
      b, insert.getSourceType(), dest, insert.getMixedOffsets(),
      insert.getMixedSizes(), insert.getMixedStrides());
}

namespace {

struct CpuOutputArgumentsPass
    : public vitc::cpu::impl::CpuOutputArgumentsPassBase<
          CpuOutputArgumentsPass> {
  void runOnOperation() override {
    func::FuncOp function = getOperation();
    if (!isKernelFunction(function))
      return;
    MLIRContext *ctx = &getContext();
    Block &entry = function.getBody().front();
    auto ret = cast<func::ReturnOp>(entry.getTerminator());
    unsigned numInputs = function.getNumArguments();
    for (unsigned i = 0; i < numInputs; ++i)
      function.setArgAttr(
          i, bufferization::BufferizationDialect::kWritableAttrName,
          BoolAttr::get(ctx, false));

    SmallVector<Type> outputTypes(function.getResultTypes());
    unsigned numOutputs = outputTypes.size();
    SmallVector<unsigned> positions(numOutputs, numInputs);
    SmallVector<DictionaryAttr> attrs(numOutputs);
    SmallVector<Location> locs(numOutputs, function.getLoc());
    if (failed(function.insertArguments(positions, outputTypes, attrs, locs)))
      return signalPassFailure();
    ValueRange outputs = entry.getArguments().slice(numInputs, numOutputs);

    IRRewriter rewriter(ctx);
    ImplicitLocOpBuilder b(function.getLoc(), rewriter);
    for (auto [index, output] : llvm::enumerate(outputs)) {
      OpOperand &operand = ret->getOpOperand(index);
      SmallVector<Operation *> views;
      // The output takes the place of the empty tensor the result's chain
      // of destinations starts from, in all its uses: should other ops
      // share that tensor, bufferization keeps their values apart.
      if (tensor::EmptyOp start = findEmptyDestination(operand.get(), views)) {
        b.setInsertionPoint(start);
        // The reshapes and insertions, met from the result backwards,
        // undone in that order give the output the type of the chain's
        // start.
        Value dest = output;
        for (Operation *view : views)
          dest = viewDestinationAsSource(b, view, dest);
        rewriter.replaceOp(start, dest);
        continue;
      }
      // The result is no computed chain (an input passed through): copy it.
      b.setInsertionPoint(ret);
      Value copied = bufferization::MaterializeInDestinationOp::create(
                         b, operand.get(), output)
                         .getResult();
      rewriter.modifyOpInPlace(ret, [&] { operand.set(copied); });
    }
    // Callers go through the entry points emitted after lowering; being
    // private lets bufferization drop the results equal to the outputs.
    function.setPrivate();
  }
};

} // namespace
