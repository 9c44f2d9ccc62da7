//===- KernelContract.h - Names shared by the model and its kernels -*- C++
//-*-//
//
// The contract between the model-level IR (the vit dialect and its passes),
// the code generators and the execution plan: the names of the functions
// the pipeline creates and of the attributes that describe a kernel. Every
// one of them is defined here and nowhere else, so that Codegen and the plan
// can read kernels without depending on the vit dialect.
//
//===----------------------------------------------------------------------===//

#ifndef VITC_SUPPORT_KERNELCONTRACT_H
#define VITC_SUPPORT_KERNELCONTRACT_H

#include "mlir/IR/Operation.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/StringRef.h"

#include <string>

namespace vitc {

/// On the module: the name of the model it was built from ("vit-b16").
inline constexpr llvm::StringLiteral kModelNameAttr = "vit.model";

/// The model's entry function: images in, logits out. After outlining it is
/// the ordered list of kernel calls (the dispatches).
inline constexpr llvm::StringLiteral kEntryFunctionName = "vit";

/// The function computing the compile-time constants of `entry` from its
/// weights (see vit-externalize-constants).
inline std::string constantsFunctionName(llvm::StringRef entry) {
  return (entry + "_constants").str();
}

/// On an entry-function argument: the index of the compile-time constant it
/// receives.
inline constexpr llvm::StringLiteral kConstantAttr = "vit.constant";

/// On a kernel function: the kernel's name in the model ("blocks.3.mlp.fc1",
/// or "blocks.*.mlp.fc1" for one kernel shared by every block).
inline constexpr llvm::StringLiteral kKernelNameAttr = "vit.kernel_name";

/// On a kernel function: multiply-accumulates of one call (an i64).
inline constexpr llvm::StringLiteral kMultiplyAccumulatesAttr =
    "vit.multiply_accumulates";

/// On a CPU kernel: number of independent tiles of one call (an i64).
inline constexpr llvm::StringLiteral kNumTilesAttr = "vit.num_tiles";

/// On a CUDA kernel: threads per block of its schedule (an i64).
inline constexpr llvm::StringLiteral kCudaBlockSizeAttr = "vit.cuda.block_size";

/// On a CUDA kernel: the kind of schedule chosen for it (a string).
inline constexpr llvm::StringLiteral kCudaKernelKindAttr =
    "vit.cuda.kernel_kind";

/// On a CUDA kernel: the fewest blocks per multiprocessor ptxas must allow
/// (an i64; PTX .minnctapersm). Without it, ptxas caps the registers of a
/// kernel with a known block size to fit several blocks, and a schedule
/// that needs more registers spills.
inline constexpr llvm::StringLiteral kCudaMinBlocksPerMultiprocessorAttr =
    "vit.cuda.min_blocks_per_multiprocessor";

/// On a CUDA kernel: stages of its operand pipeline in shared memory (an
/// i64; absent: 1, nothing overlaps the loads of a step with its math).
inline constexpr llvm::StringLiteral kCudaPipelineStagesAttr =
    "vit.cuda.pipeline_stages";

/// On a CUDA kernel: the block tile sizes of its schedule (i64 array).
inline constexpr llvm::StringLiteral kCudaBlockTileAttr = "vit.cuda.block_tile";

/// On a CUDA kernel mapped to the GPU: its static shared memory in bytes.
inline constexpr llvm::StringLiteral kCudaSharedMemoryAttr =
    "vit.cuda.shared_memory_bytes";

/// The `gpu.module` (and then `gpu.binary`) holding every CUDA kernel.
inline constexpr llvm::StringLiteral kCudaKernelModuleName = "vit_kernels";

/// Whether `op` is a function with a body that implements a kernel: the
/// functions every code generation pass works on (any function-like op, so
/// that it also holds for `llvm.func`s late in the CPU pipeline).
inline bool isKernelFunction(mlir::Operation *op) {
  auto function = llvm::dyn_cast<mlir::FunctionOpInterface>(op);
  return function && !function.isExternal() && op->hasAttr(kKernelNameAttr);
}

} // namespace vitc

#endif // VITC_SUPPORT_KERNELCONTRACT_H
