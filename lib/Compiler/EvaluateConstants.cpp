//===- EvaluateConstants.cpp - Constants function to the compiler ---------===//

#include "vitc/Compiler/Passes.h"
#include "vitc/Support/KernelContract.h"

namespace vitc {
#define GEN_PASS_DEF_EVALUATECONSTANTSPASS
#include "vitc/Compiler/Passes.h.inc"
} // namespace vitc

using namespace mlir;

namespace {

struct EvaluateConstantsPass
    : public vitc::impl::EvaluateConstantsPassBase<EvaluateConstantsPass> {
  using Base::Base;
  EvaluateConstantsPass() = default;
  explicit EvaluateConstantsPass(vitc::ConstantsHook hook)
      : hook(std::move(hook)) {}

  void runOnOperation() override {
    ModuleOp module = getOperation();
    std::string name = vitc::constantsFunctionName(entryPoint);
    auto constants = module.lookupSymbol<func::FuncOp>(name);
    if (!constants || constants.isExternal()) {
      emitError(module.getLoc())
          << "no constants function @" << name
          << " with a body; run the fusion pipeline first";
      return signalPassFailure();
    }
    if (hook && failed(hook(constants)))
      return signalPassFailure();
    constants.erase();
  }

  vitc::ConstantsHook hook;
};

} // namespace

std::unique_ptr<Pass> vitc::createEvaluateConstantsPass(ConstantsHook hook) {
  return std::make_unique<EvaluateConstantsPass>(std::move(hook));
}
