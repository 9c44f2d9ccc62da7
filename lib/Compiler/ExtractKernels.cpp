//===- ExtractKernels.cpp - Dispatch list to the compiler, kernels stay ---===//

#include "vitc/Compiler/Passes.h"
#include "vitc/Support/KernelContract.h"

namespace vitc {
#define GEN_PASS_DEF_EXTRACTKERNELSPASS
#include "vitc/Compiler/Passes.h.inc"
} // namespace vitc

using namespace mlir;

namespace {

struct ExtractKernelsPass
    : public vitc::impl::ExtractKernelsPassBase<ExtractKernelsPass> {
  using Base::Base;
  ExtractKernelsPass() = default;
  explicit ExtractKernelsPass(vitc::DispatchesHook hook)
      : hook(std::move(hook)) {}

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (hook) {
      auto entry = module.lookupSymbol<func::FuncOp>(entryPoint);
      if (!entry || entry.isExternal()) {
        emitError(module.getLoc())
            << "no entry function @" << entryPoint << " with a body to plan";
        return signalPassFailure();
      }
      if (failed(hook(entry)))
        return signalPassFailure();
    }
    for (Operation &op : llvm::make_early_inc_range(module.getOps()))
      if (!vitc::isKernelFunction(&op))
        op.erase();
  }

  vitc::DispatchesHook hook;
};

} // namespace

std::unique_ptr<Pass> vitc::createExtractKernelsPass(DispatchesHook hook) {
  return std::make_unique<ExtractKernelsPass>(std::move(hook));
}
