//===- TileHeuristics.h - Block and thread tiles for CUDA -------*- C++ -*-===//
//
// Tile sizes of the CUDA schedules: which part of a kernel's result one
// thread block computes and how a block's threads share each op of the tile.
// The rules and their reasons are in docs/codegen-cuda.md.
//
//===----------------------------------------------------------------------===//

#ifndef VITC_CODEGEN_CUDA_TILEHEURISTICS_H
#define VITC_CODEGEN_CUDA_TILEHEURISTICS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace vitc::cuda {

/// What the heuristics need to know about a GPU.
struct CudaTarget {
  /// Compute capability times ten.
  int64_t sm;
  /// Streaming multiprocessors of the reference part (A100, H100 SXM).
  int64_t multiprocessors;
  /// Static shared memory a block may declare (larger needs opt-in dynamic
  /// shared memory, which the schedules do not use yet).
  int64_t maxStaticSharedMemoryBytes = 48 * 1024;
  /// Threads per block the schedules aim for.
  int64_t maxThreadsPerBlock = 256;
  /// What one multiprocessor holds (CUDA C++ Programming Guide, technical
  /// specifications per compute capability).
  int64_t threadsPerMultiprocessor = 2048;
  int64_t blocksPerMultiprocessor = 32;
  int64_t registersPerMultiprocessor = 64 * 1024;
  int64_t sharedMemoryPerMultiprocessor = 164 * 1024;
};

CudaTarget getCudaTarget(int64_t sm);

/// Blocks of a kernel one multiprocessor of `target` runs at once, given
/// its threads per block, registers per thread and static shared memory
/// (the occupancy ptxas's figures allow; 0 if a block does not fit).
int64_t residentBlocks(const CudaTarget &target, int64_t threads,
                       int64_t registers, int64_t sharedBytes);

/// Kernel kinds, from the ops of a kernel function in linalg form.
enum class KernelKind {
  /// Only element-wise ops (and data movement).
  Elementwise,
  /// Reductions but no contraction (layer norm).
  RowReduction,
  /// One contraction (a linear with its epilogue).
  Linear,
  /// Two or more contractions (attention core).
  Attention,
};

KernelKind classifyKernel(mlir::func::FuncOp kernel);
llvm::StringRef stringifyKernelKind(KernelKind kind);

/// Block tile sizes for the loops of `root` (0: not tiled), best first;
/// later candidates need less workgroup memory. `maxTile` > 0 caps every
/// tile size (for tests that want many partial tiles on small shapes).
llvm::SmallVector<llvm::SmallVector<int64_t>>
getBlockTileCandidates(KernelKind kind, mlir::linalg::LinalgOp root,
                       const CudaTarget &target, int64_t maxTile);

/// Threads one block needs to give every thread of the tile about as much
/// work as the schedule wants: a 4x4 register tile of each contraction, one
/// element of any other op. `loopBounds` are the ops' static loop bounds.
int64_t getThreadsPerBlock(llvm::ArrayRef<std::pair<mlir::linalg::LinalgOp,
                                                    llvm::SmallVector<int64_t>>>
                               ops,
                           const CudaTarget &target);

/// Number of threads for each loop of `op` (0: not distributed; reduction
/// loops are never distributed) when a block of `threads` threads runs it,
/// given its static loop bounds. Contractions get square-ish register tiles;
/// other ops spread threads over the innermost loops first so that
/// neighbouring threads touch neighbouring elements.
llvm::SmallVector<int64_t> getThreadCounts(mlir::linalg::LinalgOp op,
                                           llvm::ArrayRef<int64_t> loopBounds,
                                           int64_t threads);

} // namespace vitc::cuda

#endif // VITC_CODEGEN_CUDA_TILEHEURISTICS_H
