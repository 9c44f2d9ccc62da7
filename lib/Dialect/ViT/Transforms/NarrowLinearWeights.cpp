//===- NarrowLinearWeights.cpp - Linear weights in bf16 or f16 ------------===//

#include "vitc/Dialect/ViT/IR/ViTOps.h"
#include "vitc/Dialect/ViT/Transforms/Passes.h"
#include "vitc/Support/KernelContract.h"

namespace vitc::vit {
#define GEN_PASS_DEF_VITNARROWLINEARWEIGHTSPASS
#include "vitc/Dialect/ViT/Transforms/Passes.h.inc"
} // namespace vitc::vit

using namespace mlir;
using namespace vitc::vit;

namespace {

/// Tensor-core kernels copy weight rows in 16-byte pieces of 8 elements.
constexpr int64_t kReductionMultiple = 8;

/// Whether every use of the entry argument `constant` is as the weight of
/// a linear (through the kernel regions it is passed into) whose reduction
/// length suits tensor-core kernels.
bool onlyLinearWeight(BlockArgument constant) {
  if (!getElementTypeOrSelf(constant.getType()).isF32())
    return false;
  for (OpOperand &use : constant.getUses()) {
    auto kernel = dyn_cast<KernelOp>(use.getOwner());
    if (!kernel)
      return false;
    BlockArgument inside =
        kernel.getBody().front().getArgument(use.getOperandNumber());
    for (OpOperand &insideUse : inside.getUses()) {
      auto linear = dyn_cast<LinearOp>(insideUse.getOwner());
      if (!linear || linear.getWeight() != inside)
        return false;
      if (cast<ShapedType>(inside.getType()).getShape()[1] %
              kReductionMultiple !=
          0)
        return false;
    }
  }
  return !constant.use_empty();
}

struct ViTNarrowLinearWeightsPass
    : public vitc::vit::impl::ViTNarrowLinearWeightsPassBase<
          ViTNarrowLinearWeightsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    Builder builder(&getContext());
    Type narrow = type == "bf16"  ? Type(builder.getBF16Type())
                  : type == "f16" ? Type(builder.getF16Type())
                                  : Type();
    if (!narrow) {
      module.emitError("vit-narrow-linear-weights: unknown type '")
          << type << "'; expected bf16 or f16";
      return signalPassFailure();
    }
    func::FuncOp entry = lookupEntryFunction(module, entryPoint);
    if (!entry)
      return signalPassFailure();
    auto constants = module.lookupSymbol<func::FuncOp>(
        vitc::constantsFunctionName(entry.getName()));
    if (!constants || constants.isExternal()) {
      module.emitError("no constants function @")
          << vitc::constantsFunctionName(entry.getName())
          << "; run vit-externalize-constants first";
      return signalPassFailure();
    }
    auto ret =
        cast<func::ReturnOp>(constants.getBody().front().getTerminator());

    for (BlockArgument argument : entry.getArguments()) {
      auto index = entry.getArgAttrOfType<IntegerAttr>(argument.getArgNumber(),
                                                       vitc::kConstantAttr);
      if (!index || !onlyLinearWeight(argument))
        continue;
      auto wide = cast<RankedTensorType>(argument.getType());
      auto narrowType = RankedTensorType::get(wide.getShape(), narrow);
      // The constants function rounds it ...
      OpOperand &result = ret->getOpOperand(index.getInt());
      OpBuilder atReturn(ret);
      result.set(arith::TruncFOp::create(atReturn, ret.getLoc(), narrowType,
                                         result.get()));
      // ... and the kernels receive it narrow.
      argument.setType(narrowType);
      for (OpOperand &use : argument.getUses()) {
        auto kernel = cast<KernelOp>(use.getOwner());
        kernel.getBody()
            .front()
            .getArgument(use.getOperandNumber())
            .setType(narrowType);
      }
    }
    entry.setType(builder.getFunctionType(
        entry.getBody().front().getArgumentTypes(), entry.getResultTypes()));
    constants.setType(builder.getFunctionType(constants.getArgumentTypes(),
                                              ret.getOperandTypes()));
  }
};

} // namespace
