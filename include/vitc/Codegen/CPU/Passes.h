//===- Passes.h - CPU code generation passes --------------------*- C++ -*-===//

#ifndef VITC_CODEGEN_CPU_PASSES_H
#define VITC_CODEGEN_CPU_PASSES_H

#include "vitc/Codegen/CPU/Serialize.h"
#include "vitc/Support/KernelContract.h"

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

#define GEN_PASS_DECL
#include "vitc/Codegen/CPU/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "vitc/Codegen/CPU/Passes.h.inc"

/// Whether `op` is the tensor.insert_slice with which vit-cpu-pad-rows
/// returns a kernel's result in longer rows: returned, into a tensor.empty,
/// at offset zero, with unit strides, covering all but the end of the
/// innermost dimension (which no kernel computing its whole result leaves
/// undefined otherwise).
bool isPaddedRowsInsertion(mlir::Operation *op);

/// Options of the registered `vit-cpu-codegen-pipeline`.
struct CpuPipelineOptions
    : public mlir::PassPipelineOptions<CpuPipelineOptions> {
  Option<int64_t> rowsPerTile{*this, "rows-per-tile",
                              llvm::cl::desc("Rows per kernel tile"),
                              llvm::cl::init(24)};
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
/// exported entry point per kernel (see docs/codegen-cpu.md), in three
/// stages that the compiler pipeline runs in order (vitc/Compiler/
/// Pipeline.h): tiles, the calling convention and vectors on tensors;
/// bufferization; the lowering to the LLVM dialect with the exported entry
/// points.
void buildCpuTilingPipeline(mlir::OpPassManager &pm,
                            const CpuCodegenOptions &options);
void buildCpuBufferizationPipeline(mlir::OpPassManager &pm);
void buildCpuToLLVMPipeline(mlir::OpPassManager &pm);

/// Registers the three stages as `vit-cpu-codegen-pipeline`.
void registerCpuCodegenPipeline();

} // namespace vitc::cpu

#endif // VITC_CODEGEN_CPU_PASSES_H
