//===- InitAll.cpp - Everything vitc registers, in one place --------------===//

#include "vitc/InitAll.h"

#include "vitc/Codegen/CPU/Passes.h"
#include "vitc/Codegen/CUDA/CudaCodegen.h"
#include "vitc/Codegen/CUDA/Passes.h"
#include "vitc/Codegen/Common/Passes.h"
#include "vitc/Compiler/Passes.h"
#include "vitc/Conversion/Passes.h"
#include "vitc/Dialect/ViT/IR/ViTDialect.h"
#include "vitc/Dialect/ViT/Transforms/Passes.h"

#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"

void vitc::registerAllDialects(mlir::DialectRegistry &registry) {
  registry.insert<vit::ViTDialect>();
  // The pipelines touch most of upstream's code generation dialects and
  // rely on their interface models; registering all of them keeps this
  // list from drifting behind the pipelines.
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
  mlir::NVVM::registerNVVMTargetInterfaceExternalModels(registry);
}

void vitc::registerAllPasses() {
  mlir::registerAllPasses();
  vit::registerViTPasses();
  vit::registerViTPipelines();
  registerVitcConversionPasses();
  registerVitcCompilerPasses();
  registerVitcCodegenCommonPasses();
  cpu::registerVitcCodegenCPUPasses();
  cpu::registerCpuCodegenPipeline();
  cuda::registerVitcCodegenCUDAPasses();
  cuda::registerCudaPipelines();
}
