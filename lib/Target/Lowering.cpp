//===- Lowering.cpp - From fused IR to kernels, plan and constants --------===//

#include "vitc/Target/Lowering.h"

#include "vitc/Conversion/Passes.h"
#include "vitc/Dialect/ViT/IR/ViTOps.h"
#include "vitc/Dialect/ViT/Transforms/Passes.h"
#include "vitc/Frontend/ModelBuilder.h"
#include "vitc/Target/ConstantEvaluator.h"

#include "mlir/Pass/PassManager.h"

using namespace mlir;

namespace vitc {

static LogicalResult runPass(ModuleOp module, std::unique_ptr<Pass> pass) {
  PassManager pm(module.getContext());
  pm.addPass(std::move(pass));
  return pm.run(module);
}

LogicalResult lowerKernelsToLinalg(ModuleOp module) {
  if (failed(runPass(module, vit::createViTOutlineKernelsPass())))
    return failure();
  return runPass(module, createConvertViTToLinalgPass());
}

/// A readable name for each constant: the weight it is, or what it is
/// computed from.
static std::vector<std::string> nameConstants(func::FuncOp constants) {
  std::vector<std::string> names;
  auto ret = cast<func::ReturnOp>(constants.getBody().front().getTerminator());
  for (Value value : ret.getOperands()) {
    if (auto weight = value.getDefiningOp<vit::WeightOp>()) {
      names.push_back(weight.getName().str());
      continue;
    }
    // The first weight the computation reads.
    std::string name = "packed";
    SmallVector<Value> work = {value};
    while (!work.empty()) {
      Operation *op = work.pop_back_val().getDefiningOp();
      if (!op)
        continue;
      if (auto weight = dyn_cast<vit::WeightOp>(op)) {
        name = "packed(" + weight.getName().str() + ")";
        break;
      }
      llvm::append_range(work, op->getOperands());
    }
    names.push_back(name);
  }
  return names;
}

std::optional<LoweredModel>
lowerModel(ModuleOp module, const WeightSet &weights, std::string &error) {
  std::string entryName = kEntryFunctionName;
  auto constantsFunction =
      module.lookupSymbol<func::FuncOp>(entryName + "_constants");
  if (!constantsFunction) {
    error = "the module has no @" + entryName +
            "_constants function; run the fusion pipeline first";
    return std::nullopt;
  }
  LoweredModel lowered;
  std::optional<std::vector<Tensor>> constants =
      evaluateConstants(constantsFunction, weights, error);
  if (!constants)
    return std::nullopt;
  lowered.constants = std::move(*constants);
  lowered.constantNames = nameConstants(constantsFunction);
  constantsFunction.erase();

  if (failed(runPass(module, vit::createViTOutlineKernelsPass()))) {
    error = "outlining the kernels failed (see the diagnostics above)";
    return std::nullopt;
  }
  // Counted on the vit ops, which know their MACs, before they are lowered.
  for (auto function : module.getOps<func::FuncOp>()) {
    if (!function->hasAttr("vit.kernel_name"))
      continue;
    int64_t macs = 0;
    function.walk(
        [&](vit::MacCountOpInterface op) { macs += op.getMacCount(); });
    lowered.kernelMacs.emplace_back(function.getName().str(), macs);
  }
  if (failed(runPass(module, createConvertViTToLinalgPass()))) {
    error = "lowering the kernels to linalg failed (see the diagnostics "
            "above)";
    return std::nullopt;
  }
  auto entry = module.lookupSymbol<func::FuncOp>(entryName);
  std::optional<ExecutionPlan> plan = planExecution(entry, error);
  if (!plan)
    return std::nullopt;
  lowered.plan = std::move(*plan);

  // The kernels alone, for the target code generators.
  lowered.kernels = cast<ModuleOp>(module->clone());
  lowered.kernels->lookupSymbol<func::FuncOp>(entryName).erase();
  return lowered;
}

} // namespace vitc
