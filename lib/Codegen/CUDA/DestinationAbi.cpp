//===- DestinationAbi.cpp - Kernel functions with output arguments --------===//
//
// A GPU kernel returns nothing: it writes its results into buffers the
// runtime allocated. Giving kernel functions that signature before tiling
// lets the op computing a result write its tiles straight into the output
// (after empty-tensor elimination), instead of into a temporary that would
// need a copy launched after the kernel. Unlike the CPU's output arguments
// (vit-cpu-output-arguments), the kernel moves to memrefs here; see
// vitc/Codegen/Common/Destination.h for what the two share.
//
//===----------------------------------------------------------------------===//

#include "vitc/Codegen/CUDA/Passes.h"
#include "vitc/Codegen/Common/Destination.h"

#include "mlir/IR/SymbolTable.h"

namespace vitc::cuda {
#define GEN_PASS_DEF_CUDADESTINATIONABIPASS
#include "vitc/Codegen/CUDA/Passes.h.inc"
} // namespace vitc::cuda

using namespace mlir;
using namespace vitc;
using namespace vitc::cuda;

/// The buffer type of a kernel argument: the tensor's shape, dense.
static MemRefType bufferTypeOf(Type type) {
  auto tensor = cast<RankedTensorType>(type);
  return MemRefType::get(tensor.getShape(), tensor.getElementType());
}

/// Writes `value` into `dest`. Reshapes of a computed value move to the
/// destination instead (a view of a dense buffer reshapes for free), so that
/// the op computing the value is the one writing the output. Returns the
/// reshapes moved, outermost first.
static SmallVector<Operation *> materializeInto(OpBuilder &b, Location loc,
                                                Value value, Value dest) {
  SmallVector<Operation *> moved;
  while (value.hasOneUse()) {
    Operation *reshape = value.getDefiningOp();
    if (!isTensorReshape(reshape))
      break;
    dest = reshapeDestinationToSource(b, loc, reshape, dest);
    value = reshape->getOperand(0);
    moved.push_back(reshape);
  }
  bufferization::MaterializeInDestinationOp::create(
      b, loc, /*result=*/Type(), value, dest, /*restrict=*/true,
      /*writable=*/true);
  return moved;
}

static LogicalResult convertKernel(func::FuncOp kernel) {
  FunctionType type = kernel.getFunctionType();
  auto isStaticTensor = [](Type type) {
    auto tensor = dyn_cast<RankedTensorType>(type);
    return tensor && tensor.hasStaticShape();
  };
  if (!llvm::all_of(type.getInputs(), isStaticTensor) ||
      !llvm::all_of(type.getResults(), isStaticTensor))
    return kernel.emitError(
        "kernel functions must take and return statically shaped tensors");
  if (!kernel.getBody().hasOneBlock())
    return kernel.emitError("kernel functions must have a single block");

  Block &body = kernel.front();
  OpBuilder b = OpBuilder::atBlockBegin(&body);
  for (BlockArgument argument : body.getArguments()) {
    Type tensorType = argument.getType();
    argument.setType(bufferTypeOf(tensorType));
    // Inputs are never written: `restrict` lets bufferization read them in
    // place.
    auto tensor = bufferization::ToTensorOp::create(
        b, argument.getLoc(), tensorType, argument, /*restrict=*/true);
    argument.replaceAllUsesExcept(tensor, tensor);
  }

  auto ret = cast<func::ReturnOp>(body.getTerminator());
  b.setInsertionPoint(ret);
  SmallVector<Operation *> moved;
  for (Value result : ret.getOperands()) {
    BlockArgument output =
        body.addArgument(bufferTypeOf(result.getType()), result.getLoc());
    llvm::append_range(moved, materializeInto(b, ret.getLoc(), result, output));
  }
  ret->setOperands({});
  for (Operation *reshape : moved)
    reshape->erase();
  kernel.setFunctionType(
      b.getFunctionType(body.getArgumentTypes(), TypeRange{}));
  return success();
}

/// `results = call @kernel(inputs)` becomes a call passing buffers of the
/// inputs and of freshly allocated outputs, which are then the results.
static void convertCall(func::CallOp call) {
  OpBuilder b(call);
  Location loc = call.getLoc();
  SmallVector<Value> buffers;
  for (Value input : call.getOperands())
    buffers.push_back(bufferization::ToBufferOp::create(
        b, loc, bufferTypeOf(input.getType()), input, /*read_only=*/true));
  SmallVector<Value> outputs;
  for (Type type : call.getResultTypes()) {
    outputs.push_back(memref::AllocOp::create(b, loc, bufferTypeOf(type)));
    buffers.push_back(outputs.back());
  }
  func::CallOp::create(b, loc, call.getCallee(), TypeRange{}, buffers);
  SmallVector<Value> results;
  for (auto [type, output] : llvm::zip(call.getResultTypes(), outputs))
    results.push_back(bufferization::ToTensorOp::create(
        b, loc, type, output, /*restrict=*/true, /*writable=*/true));
  call.replaceAllUsesWith(results);
  call.erase();
}

namespace {

struct CudaDestinationAbiPass
    : vitc::cuda::impl::CudaDestinationAbiPassBase<CudaDestinationAbiPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (auto kernel : module.getOps<func::FuncOp>()) {
      if (!isKernelFunction(kernel))
        continue;
      // Calls first, while their types still match the kernel's.
      SmallVector<func::CallOp> calls;
      if (std::optional<SymbolTable::UseRange> uses =
              SymbolTable::getSymbolUses(kernel, module))
        for (const SymbolTable::SymbolUse &use : *uses)
          if (auto call = dyn_cast<func::CallOp>(use.getUser()))
            calls.push_back(call);
      for (func::CallOp call : calls)
        convertCall(call);
      if (failed(convertKernel(kernel)))
        return signalPassFailure();
    }
  }
};

} // namespace
