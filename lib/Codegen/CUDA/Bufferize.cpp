//===- Bufferize.cpp - Tiled kernels to the target-neutral GPU form -------===//

#include "vitc/Codegen/CUDA/Passes.h"

#include "mlir/Dialect/Bufferization/Transforms/OneShotAnalysis.h"
#include "mlir/Dialect/Bufferization/Transforms/Transforms.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

namespace vitc::cuda {
#define GEN_PASS_DEF_CUDABUFFERIZEPASS
#include "vitc/Codegen/CUDA/Passes.h.inc"
} // namespace vitc::cuda

using namespace mlir;
using namespace vitc;
using namespace vitc::cuda;

static bool isWorkgroupMemory(MemRefType type) {
  auto space = dyn_cast_or_null<gpu::AddressSpaceAttr>(type.getMemorySpace());
  return space && space.getValue() == gpu::AddressSpace::Workgroup;
}

/// A launch runs the block loop and nothing else, and a block can only
/// allocate workgroup memory.
static LogicalResult verifySchedule(func::FuncOp kernel) {
  scf::ForallOp block;
  for (Operation &op : kernel.front()) {
    if (auto forall = dyn_cast<scf::ForallOp>(op)) {
      if (block)
        return forall.emitError("kernel has more than one block loop");
      block = forall;
      continue;
    }
    if (!isPure(&op) && !isa<func::ReturnOp>(op))
      return op.emitError("kernel code outside the block loop");
  }
  if (!block)
    return kernel.emitError("kernel has no block loop");
  // Every thread of a block runs what is not in a thread loop.
  WalkResult unmapped =
      block.getBody()->walk<WalkOrder::PreOrder>([](Operation *op) {
        if (isa<scf::ForallOp>(op))
          return WalkResult::skip();
        // K loops run the same steps in every thread.
        if (isPure(op) ||
            isa<memref::AllocOp, scf::InParallelOp, scf::ForOp, scf::YieldOp>(
                op))
          return WalkResult::advance();
        op->emitError("kernel code outside the thread loops");
        return WalkResult::interrupt();
      });
  if (unmapped.wasInterrupted())
    return failure();
  WalkResult result = kernel.walk([](memref::AllocOp alloc) {
    if (isWorkgroupMemory(alloc.getType()))
      return WalkResult::advance();
    alloc.emitError("allocation outside workgroup memory in a kernel");
    return WalkResult::interrupt();
  });
  return failure(result.wasInterrupted());
}

namespace {

struct CudaBufferizePass
    : vitc::cuda::impl::CudaBufferizePassBase<CudaBufferizePass> {
  void runOnOperation() override {
    func::FuncOp kernel = getOperation();
    if (!isKernelFunction(kernel))
      return;
    IRRewriter rewriter(&getContext());
    // The result's tensor.empty becomes the output argument.
    if (failed(bufferization::eliminateEmptyTensors(rewriter, kernel)))
      return signalPassFailure();
    bufferization::OneShotBufferizationOptions options;
    bufferization::BufferizationState state;
    if (failed(bufferization::runOneShotBufferize(kernel, options, state)))
      return signalPassFailure();

    OpPassManager cleanup(func::FuncOp::getOperationName());
    cleanup.addPass(createCanonicalizerPass());
    cleanup.addPass(createCSEPass());
    if (failed(runPipeline(cleanup, kernel)))
      return signalPassFailure();
    // Writing a tile into the buffer it was computed in leaves a copy of a
    // buffer onto itself.
    kernel.walk([](memref::CopyOp copy) {
      if (copy.getSource() == copy.getTarget())
        copy.erase();
    });
    if (failed(verifySchedule(kernel)))
      return signalPassFailure();
  }
};

} // namespace
