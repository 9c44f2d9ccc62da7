//===- DropWorkgroupMemory.cpp - Workgroup buffers on the host ------------===//
//
// On the CPU, a block's workgroup buffer is an ordinary allocation that
// lives for one iteration of the (now sequential) block loop.
//
//===----------------------------------------------------------------------===//

#include "vitc/Codegen/CUDA/Passes.h"

namespace vitc::cuda {
#define GEN_PASS_DEF_CUDADROPWORKGROUPMEMORYPASS
#include "vitc/Codegen/CUDA/Passes.h.inc"
} // namespace vitc::cuda

using namespace mlir;
using namespace vitc;
using namespace vitc::cuda;

static Type dropWorkgroupSpace(Type type) {
  auto memref = dyn_cast<MemRefType>(type);
  auto space =
      memref ? dyn_cast_or_null<gpu::AddressSpaceAttr>(memref.getMemorySpace())
             : nullptr;
  if (!space || space.getValue() != gpu::AddressSpace::Workgroup)
    return type;
  return MemRefType::get(memref.getShape(), memref.getElementType(),
                         memref.getLayout());
}

namespace {

struct CudaDropWorkgroupMemoryPass
    : vitc::cuda::impl::CudaDropWorkgroupMemoryPassBase<
          CudaDropWorkgroupMemoryPass> {
  void runOnOperation() override {
    func::FuncOp kernel = getOperation();
    if (!isKernelFunction(kernel))
      return;
    OpBuilder b(&getContext());
    kernel.walk([&](memref::AllocOp alloc) {
      if (dropWorkgroupSpace(alloc.getType()) == alloc.getType())
        return;
      Block *block = alloc->getBlock();
      b.setInsertionPoint(block->getTerminator());
      memref::DeallocOp::create(b, alloc.getLoc(), alloc);
    });
    // Memory spaces only label types here: the ops on workgroup buffers
    // (views, loads, stores, linalg) mean the same in host memory.
    kernel.walk([](Operation *op) {
      for (Value result : op->getResults())
        result.setType(dropWorkgroupSpace(result.getType()));
      for (Region &region : op->getRegions())
        for (BlockArgument argument : region.getArguments())
          argument.setType(dropWorkgroupSpace(argument.getType()));
    });
  }
};

} // namespace
