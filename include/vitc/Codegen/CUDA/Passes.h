//===- Passes.h - CUDA code generation passes -------------------*- C++ -*-===//

#ifndef VITC_CODEGEN_CUDA_PASSES_H
#define VITC_CODEGEN_CUDA_PASSES_H

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Transform/IR/TransformDialect.h"
#include "mlir/Pass/Pass.h"

namespace vitc::cuda {

#define GEN_PASS_DECL
#include "vitc/Codegen/CUDA/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "vitc/Codegen/CUDA/Passes.h.inc"

/// Kernel functions are the outlined `vit.kernel`s; the passes leave every
/// other function alone.
inline bool isKernelFunction(mlir::func::FuncOp function) {
  return function->hasAttr("vit.kernel_name") && !function.isExternal();
}

/// Attribute with the threads per block of a scheduled kernel function.
inline constexpr llvm::StringLiteral kBlockSizeAttrName = "vit.cuda.block_size";

/// Attribute with the static shared memory of a kernel mapped to the GPU.
inline constexpr llvm::StringLiteral kSharedMemoryAttrName =
    "vit.cuda.shared_memory_bytes";

/// The `gpu.module` holding every kernel.
inline constexpr llvm::StringLiteral kKernelModuleName = "vit_kernels";

} // namespace vitc::cuda

#endif // VITC_CODEGEN_CUDA_PASSES_H
