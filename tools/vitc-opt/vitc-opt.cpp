//===- vitc-opt.cpp - mlir-opt with the vit dialect and vitc passes -------===//

#include "vitc/Codegen/CPU/Passes.h"
#include "vitc/Codegen/CUDA/CudaCodegen.h"
#include "vitc/Codegen/CUDA/Passes.h"
#include "vitc/Conversion/Passes.h"
#include "vitc/Dialect/ViT/IR/ViTDialect.h"
#include "vitc/Dialect/ViT/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::registerTransformsPasses();
  vitc::vit::registerViTPasses();
  vitc::vit::registerViTPipelines();
  vitc::registerVitcConversionPasses();
  vitc::cpu::registerVitcCodegenCPUPasses();
  vitc::cpu::registerCpuCodegenPipeline();
  vitc::cuda::registerVitcCodegenCUDAPasses();
  vitc::cuda::registerCudaPipelines();
  mlir::DialectRegistry registry;
  registry.insert<vitc::vit::ViTDialect, mlir::arith::ArithDialect,
                  mlir::func::FuncDialect, mlir::linalg::LinalgDialect,
                  mlir::math::MathDialect, mlir::tensor::TensorDialect>();
  vitc::cpu::registerCpuCodegenDialects(registry);
  vitc::cuda::registerCudaCodegenDialects(registry);
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "vitc optimizer driver\n", registry));
}
