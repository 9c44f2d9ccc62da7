//===- Assemble.cpp - Check PTX with ptxas --------------------------------===//
//
// LLVM emits PTX for any input; only ptxas tells whether a kernel assembles
// for a given architecture, how many registers it needs and whether it
// spills. This pass makes that a checked step of the pipeline.
//
//===----------------------------------------------------------------------===//

#include "vitc/Codegen/CUDA/CudaCodegen.h"
#include "vitc/Codegen/CUDA/Passes.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

namespace vitc::cuda {
#define GEN_PASS_DEF_CUDAASSEMBLEPASS
#include "vitc/Codegen/CUDA/Passes.h.inc"
} // namespace vitc::cuda

using namespace mlir;
using namespace vitc::cuda;

namespace {

struct CudaAssemblePass
    : vitc::cuda::impl::CudaAssemblePassBase<CudaAssemblePass> {
  using Base::Base;

  void runOnOperation() override {
    std::string executable = findPtxas(ptxas);
    if (executable.empty()) {
      getOperation().emitError("ptxas not found; pass ptxas=<path>");
      return signalPassFailure();
    }
    WalkResult result = getOperation().walk([&](gpu::BinaryOp binary) {
      for (auto object : binary.getObjects().getAsRange<gpu::ObjectAttr>()) {
        if (failed(assemble(binary, object, executable)))
          return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }

  LogicalResult assemble(gpu::BinaryOp binary, gpu::ObjectAttr object,
                         StringRef executable) {
    auto target = dyn_cast<NVVM::NVVMTargetAttr>(object.getTarget());
    int64_t sm = 0;
    if (!target || object.getFormat() != gpu::CompilationTarget::Assembly ||
        !target.getChip().consume_front("sm_") ||
        target.getChip().drop_front(3).getAsInteger(10, sm))
      return binary.emitError("expected PTX for an NVVM sm_XX target");
    llvm::Expected<PtxasResult> assembled =
        assembleWithPtxas(executable, object.getObject(), sm);
    if (!assembled)
      return binary.emitError(llvm::toString(assembled.takeError()));
    const llvm::StringMap<PtxasKernelStats> &stats = assembled->stats;
    bool spills = false;
    SmallVector<StringRef> names(stats.keys());
    llvm::sort(names);
    for (StringRef name : names) {
      const PtxasKernelStats &kernel = stats.lookup(name);
      binary.emitRemark() << "ptxas sm_" << sm << " " << name << ": "
                          << kernel.registers << " registers, "
                          << kernel.spillStoreBytes << " bytes spill stores, "
                          << kernel.spillLoadBytes << " bytes spill loads, "
                          << kernel.stackFrameBytes << " bytes stack frame, "
                          << kernel.sharedMemoryBytes << " bytes smem";
      spills |= std::max(kernel.spillStoreBytes, kernel.spillLoadBytes) >
                maxSpillBytes;
    }
    if (spills)
      return binary.emitError("a kernel spills more than ")
             << int64_t(maxSpillBytes) << " bytes";
    return success();
  }
};

} // namespace
