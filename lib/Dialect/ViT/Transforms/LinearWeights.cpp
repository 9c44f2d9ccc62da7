//===- LinearWeights.cpp - Re-storing the constants linears read ----------===//

#include "vitc/Dialect/ViT/Transforms/LinearWeights.h"
#include "vitc/Dialect/ViT/Transforms/Passes.h"
#include "vitc/Support/KernelContract.h"

using namespace mlir;

namespace vitc::vit {

/// Whether every use of the entry argument `constant` is as the weight of
/// a linear (through the kernel regions it is passed into) that `accepts`.
static bool onlyLinearWeight(BlockArgument constant,
                             function_ref<bool(RankedTensorType)> accepts) {
  auto type = dyn_cast<RankedTensorType>(constant.getType());
  if (!type || !accepts(type))
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
    }
  }
  return !constant.use_empty();
}

LogicalResult rewriteLinearWeights(
    ModuleOp module, StringRef entryPoint,
    function_ref<bool(RankedTensorType)> accepts,
    function_ref<Value(OpBuilder &, Location, Value)> rewrite) {
  func::FuncOp entry = lookupEntryFunction(module, entryPoint);
  if (!entry)
    return failure();
  auto constants = module.lookupSymbol<func::FuncOp>(
      vitc::constantsFunctionName(entry.getName()));
  if (!constants || constants.isExternal())
    return module.emitError("no constants function @")
           << vitc::constantsFunctionName(entry.getName())
           << "; run vit-externalize-constants first";
  auto ret = cast<func::ReturnOp>(constants.getBody().front().getTerminator());

  for (BlockArgument argument : entry.getArguments()) {
    auto index = entry.getArgAttrOfType<IntegerAttr>(argument.getArgNumber(),
                                                     vitc::kConstantAttr);
    if (!index || !onlyLinearWeight(argument, accepts))
      continue;
    // The constants function computes the new form ...
    OpOperand &result = ret->getOpOperand(index.getInt());
    OpBuilder atReturn(ret);
    Value rewritten = rewrite(atReturn, ret.getLoc(), result.get());
    result.set(rewritten);
    // ... and the kernels receive it so.
    argument.setType(rewritten.getType());
    for (OpOperand &use : argument.getUses())
      cast<KernelOp>(use.getOwner())
          .getBody()
          .front()
          .getArgument(use.getOperandNumber())
          .setType(rewritten.getType());
  }
  Builder builder(module.getContext());
  entry.setType(builder.getFunctionType(
      entry.getBody().front().getArgumentTypes(), entry.getResultTypes()));
  constants.setType(builder.getFunctionType(constants.getArgumentTypes(),
                                            ret.getOperandTypes()));
  return success();
}

} // namespace vitc::vit
