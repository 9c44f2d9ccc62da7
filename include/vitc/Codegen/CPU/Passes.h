//===- Passes.h - CPU code generation passes --------------------*- C++ -*-===//

#ifndef VITC_CODEGEN_CPU_PASSES_H
#define VITC_CODEGEN_CPU_PASSES_H

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassOptions.h"

namespace vitc::cpu {

/// Attribute naming the kernel a function implements (set by
/// vit-outline-kernels); only functions carrying it are compiled.
inline constexpr llvm::StringLiteral kKernelNameAttr = "vit.kernel_name";
/// Number of independent tiles of a compiled kernel (an i64 on the function).
inline constexpr llvm::StringLiteral kNumTilesAttr = "vit.num_tiles";

/// Whether `op` is a function that implements a kernel.
inline bool isKernelFunction(mlir::Operation *op) {
  return op->hasAttr(kKernelNameAttr);
}

#define GEN_PASS_DECL
#include "vitc/Codegen/CPU/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "vitc/Codegen/CPU/Passes.h.inc"

/// Options of the kernel code generation pipeline.
struct CpuPipelineOptions
    : public mlir::PassPipelineOptions<CpuPipelineOptions> {
  Option<int64_t> rowsPerTile{*this, "rows-per-tile",
                              llvm::cl::desc("Rows per kernel tile"),
                              llvm::cl::init(32)};
  Option<int64_t> columnsPerTile{
      *this, "columns-per-tile",
      llvm::cl::desc("Upper bound on output features per tile of a linear"),
      llvm::cl::init(128)};
  Option<int64_t> vectorWidth{
      *this, "vector-width",
      llvm::cl::desc("f32 lanes of the target's vector registers"),
      llvm::cl::init(16)};
};

/// Kernel functions in linalg form on tensors to LLVM dialect with one
/// exported entry point per kernel (see docs/codegen-cpu.md).
/// The stages of buildCpuCodegenPipeline, which runs them in order: tiles,
/// the calling convention and vectors on tensors; bufferization; the
/// lowering to the LLVM dialect with the exported entry points.
void buildCpuTilingPipeline(mlir::OpPassManager &pm,
                            const CpuPipelineOptions &options);
void buildCpuBufferizationPipeline(mlir::OpPassManager &pm);
void buildCpuToLLVMPipeline(mlir::OpPassManager &pm);

void buildCpuCodegenPipeline(mlir::OpPassManager &pm,
                             const CpuPipelineOptions &options);

/// Registers the pipeline above as `vit-cpu-codegen-pipeline`.
void registerCpuCodegenPipeline();

/// Registers the dialects and interface implementations (tiling,
/// bufferization, conversion to LLVM) the pipeline needs.
void registerCpuCodegenDialects(mlir::DialectRegistry &registry);

} // namespace vitc::cpu

#endif // VITC_CODEGEN_CPU_PASSES_H
