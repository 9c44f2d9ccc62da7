//===- ModelBuilder.h - Emit vit-dialect IR for a ViT config ----*- C++ -*-===//

#ifndef VITC_FRONTEND_MODELBUILDER_H
#define VITC_FRONTEND_MODELBUILDER_H

#include "vitc/Frontend/ModelConfig.h"
#include "vitc/Frontend/Weights.h"
#include "vitc/Support/KernelContract.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace vitc {

/// Builds a module holding one function, @vit, that maps an image batch of
/// `batchSize` images (in config.inputLayout) to [batchSize, numClasses]
/// logits. Weights appear as `vit.weight` ops carrying the checkpoint names
/// of `naming`. Each layer op has a NameLoc naming its layer ("blocks.3.mlp")
/// so diagnostics and summaries can point at it. `config` must be valid.
mlir::OwningOpRef<mlir::ModuleOp> buildViTModule(mlir::MLIRContext &context,
                                                 const ModelConfig &config,
                                                 WeightNaming naming,
                                                 int64_t batchSize);

} // namespace vitc

#endif // VITC_FRONTEND_MODELBUILDER_H
