//===- Pipelines.cpp - Pass pipelines of the vit dialect ------------------===//

#include "vitc/Dialect/ViT/Transforms/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

func::FuncOp vitc::vit::lookupEntryFunction(ModuleOp module, StringRef name) {
  auto entry = module.lookupSymbol<func::FuncOp>(name);
  if (entry && !entry.isExternal())
    return entry;
  emitError(module.getLoc()) << "no entry function @" << name << " with a body";
  return {};
}

void vitc::vit::buildViTFusionPipeline(
    OpPassManager &pm, const ViTFusionPipelineOptions &options) {
  OpPassManager &function = pm.nest<func::FuncOp>();
  function.addPass(createViTDecomposePass());
  function.addPass(createViTHoistTokenSlicesPass());
  function.addPass(createViTFuseEpiloguesPass());
  ViTFormKernelsPassOptions formKernels;
  formKernels.layerNormIntoLinear = options.layerNormIntoLinear;
  formKernels.layerNormIntoLinearMultiple = options.layerNormIntoLinearMultiple;
  function.addPass(createViTFormKernelsPass(formKernels));
  pm.addPass(createViTExternalizeConstantsPass());
}

void vitc::vit::registerViTPipelines() {
  PassPipelineRegistration<ViTFusionPipelineOptions>(
      "vit-fusion-pipeline",
      "Decompose graph ops, fold epilogues and form kernels",
      buildViTFusionPipeline);
}
