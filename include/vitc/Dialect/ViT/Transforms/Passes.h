//===- Passes.h - vit dialect passes ----------------------------*- C++ -*-===//

#ifndef VITC_DIALECT_VIT_TRANSFORMS_PASSES_H
#define VITC_DIALECT_VIT_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassOptions.h"

namespace vitc::vit {

#define GEN_PASS_DECL
#include "vitc/Dialect/ViT/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "vitc/Dialect/ViT/Transforms/Passes.h.inc"

/// The function called `name` in `module`, or a null op after reporting on
/// `module` that there is none with a body.
mlir::func::FuncOp lookupEntryFunction(mlir::ModuleOp module,
                                       llvm::StringRef name);

/// Options of `vit-fusion-pipeline`.
struct ViTFusionPipelineOptions
    : public mlir::PassPipelineOptions<ViTFusionPipelineOptions> {
  Option<bool> layerNormIntoLinear{
      *this, "layer-norm-into-linear",
      llvm::cl::desc("Fuse a layer norm into the linear that alone reads it "
                     "(vit-form-kernels)"),
      llvm::cl::init(false)};
  Option<int64_t> layerNormIntoLinearMultiple{
      *this, "layer-norm-into-linear-multiple",
      llvm::cl::desc("Only where the width is a multiple of this "
                     "(vit-form-kernels)"),
      llvm::cl::init(1)};
};

/// Graph ops to fused kernels: decompose, fold epilogues, form kernels and
/// separate the compile-time weight work.
void buildViTFusionPipeline(mlir::OpPassManager &pm,
                            const ViTFusionPipelineOptions &options);

/// Registers the pipelines above as `vit-fusion-pipeline`.
void registerViTPipelines();

} // namespace vitc::vit

#endif // VITC_DIALECT_VIT_TRANSFORMS_PASSES_H
