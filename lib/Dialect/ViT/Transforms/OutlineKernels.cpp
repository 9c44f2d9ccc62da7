//===- OutlineKernels.cpp - vit.kernel regions into functions -------------===//

#include "vitc/Dialect/ViT/IR/ViTOps.h"
#include "vitc/Dialect/ViT/Transforms/Passes.h"

#include "mlir/IR/SymbolTable.h"

namespace vitc::vit {
#define GEN_PASS_DEF_VITOUTLINEKERNELSPASS
#include "vitc/Dialect/ViT/Transforms/Passes.h.inc"
} // namespace vitc::vit

using namespace mlir;
using namespace vitc::vit;

namespace {

struct ViTOutlineKernelsPass
    : public vitc::vit::impl::ViTOutlineKernelsPassBase<ViTOutlineKernelsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    func::FuncOp entry = lookupEntryFunction(module, entryPoint);
    if (!entry)
      return signalPassFailure();
    SymbolTable symbols(module);
    OpBuilder builder(&getContext());
    for (auto kernel : llvm::make_early_inc_range(entry.getOps<KernelOp>())) {
      builder.setInsertionPoint(entry);
      auto function = func::FuncOp::create(
          builder, kernel.getLoc(), kernelSymbol(kernel.getName()),
          builder.getFunctionType(kernel.getInputs().getTypes(),
                                  kernel.getResultTypes()));
      function->setAttr(vitc::kKernelNameAttr, kernel.getNameAttr());
      int64_t macs = 0;
      kernel.walk([&](MacCountOpInterface op) { macs += op.getMacCount(); });
      function->setAttr(vitc::kMultiplyAccumulatesAttr,
                        builder.getI64IntegerAttr(macs));
      // Renames on a clash, so the call below must use the final name.
      symbols.insert(function);
      function.getBody().takeBody(kernel.getBody());
      auto yield = cast<YieldOp>(function.getBody().front().getTerminator());
      builder.setInsertionPoint(yield);
      func::ReturnOp::create(builder, yield.getLoc(), yield.getValues());
      yield.erase();

      builder.setInsertionPoint(kernel);
      auto call = func::CallOp::create(builder, kernel.getLoc(), function,
                                       kernel.getInputs());
      kernel.replaceAllUsesWith(call.getResults());
      kernel.erase();
    }
  }
};

} // namespace
