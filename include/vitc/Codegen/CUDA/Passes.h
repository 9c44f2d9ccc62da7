//===- Passes.h - CUDA code generation passes -------------------*- C++ -*-===//

#ifndef VITC_CODEGEN_CUDA_PASSES_H
#define VITC_CODEGEN_CUDA_PASSES_H

#include "vitc/Support/KernelContract.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Transform/IR/TransformDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace vitc::cuda {

#define GEN_PASS_DECL
#include "vitc/Codegen/CUDA/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "vitc/Codegen/CUDA/Passes.h.inc"

} // namespace vitc::cuda

#endif // VITC_CODEGEN_CUDA_PASSES_H
