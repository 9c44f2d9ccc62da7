//===- ExecutionPlan.cpp - Dispatch order, bindings and memory plan -------===//

#include "vitc/Plan/ExecutionPlan.h"

#include "vitc/Support/KernelContract.h"

#include "mlir/IR/SymbolTable.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/MathExtras.h"

#include <map>

using namespace mlir;

namespace vitc {

namespace {

int64_t byteSize(Type type) {
  auto tensor = cast<RankedTensorType>(type);
  return tensor.getNumElements() * tensor.getElementTypeBitWidth() / 8;
}

/// First-fit allocation of byte ranges in a growing arena.
class ArenaAllocator {
public:
  int64_t allocate(int64_t size) {
    size = llvm::alignTo(size, kArenaAlignment);
    for (auto it = freeRanges.begin(); it != freeRanges.end(); ++it) {
      auto [offset, freeSize] = *it;
      if (freeSize < size)
        continue;
      freeRanges.erase(it);
      if (freeSize > size)
        freeRanges[offset + size] = freeSize - size;
      return offset;
    }
    int64_t offset = end;
    end += size;
    return offset;
  }

  void release(int64_t offset, int64_t size) {
    size = llvm::alignTo(size, kArenaAlignment);
    auto inserted = freeRanges.emplace(offset, size).first;
    // Merge with the following and the preceding free range.
    auto next = std::next(inserted);
    if (next != freeRanges.end() && offset + size == next->first) {
      inserted->second += next->second;
      freeRanges.erase(next);
    }
    if (inserted != freeRanges.begin()) {
      auto previous = std::prev(inserted);
      if (previous->first + previous->second == inserted->first) {
        previous->second += inserted->second;
        freeRanges.erase(inserted);
      }
    }
  }

  int64_t peak() const { return end; }

private:
  /// Offset -> size of the free ranges below `end`.
  std::map<int64_t, int64_t> freeRanges;
  int64_t end = 0;
};

} // namespace

FailureOr<ExecutionPlan> planExecution(func::FuncOp entry) {
  Block &body = entry.getBody().front();
  auto ret = cast<func::ReturnOp>(body.getTerminator());

  // Index of the last dispatch reading each intermediate tensor.
  llvm::DenseMap<Value, int64_t> lastUse;
  int64_t numDispatches = 0;
  for (Operation &op : body.without_terminator()) {
    if (!isa<func::CallOp>(op) || op.getNumResults() != 1)
      return op.emitError("cannot plan '")
             << op.getName()
             << "': the entry function must only call single-result kernels";
    for (Value operand : op.getOperands())
      lastUse[operand] = numDispatches;
    ++numDispatches;
  }

  ExecutionPlan plan;
  ArenaAllocator arena;
  llvm::DenseMap<Value, PlannedBinding> placed;
  int64_t numInputs = 0;
  for (BlockArgument argument : body.getArguments()) {
    PlannedBinding binding{PlannedBinding::Kind::Input, numInputs, 0,
                           byteSize(argument.getType())};
    if (auto constant = entry.getArgAttrOfType<IntegerAttr>(
            argument.getArgNumber(), kConstantAttr))
      binding = {PlannedBinding::Kind::Constant, constant.getInt(), 0,
                 binding.size};
    else
      ++numInputs;
    placed[argument] = binding;
  }
  for (auto [index, value] : llvm::enumerate(ret.getOperands()))
    placed[value] = {PlannedBinding::Kind::Output, int64_t(index), 0,
                     byteSize(value.getType())};

  llvm::StringMap<size_t> kernelIndex;
  int64_t dispatchIndex = 0;
  for (Operation &op : body.without_terminator()) {
    auto call = cast<func::CallOp>(op);
    auto [kernel, added] =
        kernelIndex.try_emplace(call.getCallee(), plan.kernels.size());
    if (added) {
      auto callee = SymbolTable::lookupNearestSymbolFrom<func::FuncOp>(
          call, call.getCalleeAttr());
      if (!callee)
        return call.emitError("cannot plan a call of '")
               << call.getCallee() << "': no such function";
      PlannedKernel described;
      described.symbol = call.getCallee().str();
      if (auto name = callee->getAttrOfType<StringAttr>(kKernelNameAttr))
        described.name = name.str();
      if (auto macs =
              callee->getAttrOfType<IntegerAttr>(kMultiplyAccumulatesAttr))
        described.multiplyAccumulates = macs.getInt();
      FunctionType type = callee.getFunctionType();
      for (Type argument :
           llvm::concat<const Type>(type.getInputs(), type.getResults()))
        described.bindingBytes.push_back(byteSize(argument));
      plan.kernels.push_back(std::move(described));
    }
    ++plan.kernels[kernel->second].dispatches;
    Value result = call.getResult(0);
    if (!placed.count(result)) {
      int64_t size = byteSize(result.getType());
      placed[result] = {PlannedBinding::Kind::Arena, 0, arena.allocate(size),
                        size};
      plan.unplannedBytes += llvm::alignTo(size, kArenaAlignment);
    }
    PlannedDispatch dispatch{call.getCallee().str(), {}};
    for (Value operand : call.getOperands())
      dispatch.bindings.push_back(placed.at(operand));
    dispatch.bindings.push_back(placed.at(result));
    plan.dispatches.push_back(std::move(dispatch));

    // Ranges whose last reader just ran are free for later results; the
    // result of this dispatch never shares a range with its own operands.
    for (Value operand : llvm::SetVector<Value>(call.getOperands().begin(),
                                                call.getOperands().end())) {
      const PlannedBinding &binding = placed.at(operand);
      if (binding.kind == PlannedBinding::Kind::Arena &&
          lastUse.at(operand) == dispatchIndex)
        arena.release(binding.offset, binding.size);
    }
    ++dispatchIndex;
  }
  plan.arenaBytes = arena.peak();
  return plan;
}

} // namespace vitc
