//===- TileHeuristics.cpp - Block and thread tiles for CUDA ---------------===//
//
// fp32 SIMT schedules: a block owns an output tile, its intermediates live
// in workgroup memory, and every op of the tile is spread over the block's
// threads. The numbers below trade occupancy (enough blocks for every
// multiprocessor), workgroup memory (48 KiB of static shared memory per
// block) and per-thread register tiles against each other.
//
//===----------------------------------------------------------------------===//

#include "vitc/Codegen/CUDA/TileHeuristics.h"

#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace vitc::cuda;

CudaTarget vitc::cuda::getCudaTarget(int64_t sm) {
  // Multiprocessor counts of the parts each architecture is benchmarked on
  // (A100 SXM, H100 SXM); other parts only change how eagerly tiles shrink.
  CudaTarget target{sm, sm >= 90 ? 132 : sm >= 80 ? 108 : 80};
  if (sm >= 90) {
    target.sharedMemoryPerMultiprocessor = 228 * 1024;
  } else if (sm == 86 || sm == 87 || sm == 89) {
    target.threadsPerMultiprocessor = 1536;
    target.blocksPerMultiprocessor = sm == 89 ? 24 : 16;
    target.sharedMemoryPerMultiprocessor = 100 * 1024;
  }
  return target;
}

int64_t vitc::cuda::residentBlocks(const CudaTarget &target, int64_t threads,
                                   int64_t registers, int64_t sharedBytes) {
  if (threads <= 0)
    return 0;
  int64_t warps = llvm::divideCeil(threads, 32);
  int64_t blocks = std::min(target.blocksPerMultiprocessor,
                            target.threadsPerMultiprocessor / (warps * 32));
  // Registers are allocated per warp in units of 256.
  int64_t warpRegisters =
      llvm::alignTo(std::max<int64_t>(registers, 1) * 32, 256);
  blocks = std::min(blocks, target.registersPerMultiprocessor /
                                (warpRegisters * warps));
  // The runtime reserves 1 KiB of shared memory per block.
  blocks = std::min(blocks, target.sharedMemoryPerMultiprocessor /
                                (sharedBytes + 1024));
  return blocks;
}

KernelKind vitc::cuda::classifyKernel(func::FuncOp kernel) {
  int contractions = 0, reductions = 0;
  kernel.walk([&](linalg::LinalgOp op) {
    if (linalg::isaContractionOpInterface(op))
      ++contractions;
    else if (op.getNumReductionLoops() > 0)
      ++reductions;
  });
  if (contractions >= 2)
    return KernelKind::Attention;
  if (contractions == 1)
    return KernelKind::Linear;
  return reductions ? KernelKind::RowReduction : KernelKind::Elementwise;
}

StringRef vitc::cuda::stringifyKernelKind(KernelKind kind) {
  switch (kind) {
  case KernelKind::Elementwise:
    return "elementwise";
  case KernelKind::RowReduction:
    return "row_reduction";
  case KernelKind::Linear:
    return "linear";
  case KernelKind::Attention:
    return "attention";
  }
  llvm_unreachable("unknown kernel kind");
}

namespace {

/// Block tile of a root, described by the loops it splits and a shape
/// function of two knobs, so that candidates can shrink either knob.
struct TileShape {
  SmallVector<int64_t> bounds;
  /// Loops whose tile is `rows`, outermost first; they share the budget.
  SmallVector<unsigned> rowDims;
  /// Loop whose tile is `columns` (-1: none).
  int64_t columnDim = -1;

  /// Tile sizes for `rows` rows and `columns` columns, spreading the rows
  /// over the row loops innermost first (a tile of 64 tokens of an image
  /// batch takes 64 tokens of one image).
  SmallVector<int64_t> sizes(int64_t rows, int64_t columns) const {
    SmallVector<int64_t> tiles(bounds.size(), 0);
    for (unsigned dim : llvm::reverse(rowDims)) {
      int64_t tile = std::min(bounds[dim], rows);
      tiles[dim] = tile;
      rows = std::max<int64_t>(1, rows / tile);
    }
    if (columnDim >= 0)
      tiles[columnDim] = std::min(bounds[columnDim], columns);
    return tiles;
  }

  int64_t blocks(ArrayRef<int64_t> tiles) const {
    int64_t count = 1;
    for (auto [bound, tile] : llvm::zip(bounds, tiles))
      if (tile)
        count *= llvm::divideCeil(bound, tile);
    return count;
  }
};

} // namespace

SmallVector<SmallVector<int64_t>>
vitc::cuda::getBlockTileCandidates(KernelKind kind, linalg::LinalgOp root,
                                   const CudaTarget &target, int64_t maxTile) {
  TileShape shape;
  shape.bounds = root.getStaticLoopRanges();
  SmallVector<unsigned> parallel;
  root.getParallelDims(parallel);

  // Initial rows and columns per block and the smallest values the occupancy
  // rule below may shrink them to.
  int64_t rows, columns = 0, minRows, minColumns = 0;
  FailureOr<linalg::ContractionDimensions> contraction =
      linalg::inferContractionDims(root);
  if (kind == KernelKind::Attention && succeeded(contraction)) {
    // Root: probabilities x values, loops (batch..., query rows, head
    // channels, keys). A block owns a few query rows of one head, so that
    // their score rows ([rows, keys], three buffers) fit in workgroup
    // memory; the channels of the head stay whole.
    // Short sequences let a block take several heads instead.
    shape.rowDims.append(contraction->batch.begin(), contraction->batch.end());
    shape.rowDims.append(contraction->m.begin(), contraction->m.end());
    rows = 16;
    minRows = 4;
  } else if (kind == KernelKind::Linear && !parallel.empty()) {
    // Root: the epilogue (or the matmul) over [rows..., features]. A 64x64
    // output tile gives 256 threads a 4x4 register tile each and reads each
    // operand element from memory 64 times less often than one thread per
    // output; 32 features keep a warp's accesses to a row one 128-byte line.
    shape.rowDims.assign(parallel.begin(), parallel.end() - 1);
    shape.columnDim = parallel.back();
    rows = 64;
    columns = 64;
    minRows = 8;
    minColumns = 32;
  } else {
    // Row-wise kernels (layer norm) take one whole row per block: its
    // statistics are computed once, by a warp (see splitRowReductions), and
    // the tile stays static, which splitting the reduction needs.
    // Element-wise kernels take 256-column strips of about 1024 elements.
    if (parallel.empty())
      return {SmallVector<int64_t>(shape.bounds.size(), 0)};
    shape.rowDims.assign(parallel.begin(), parallel.end() - 1);
    if (kind == KernelKind::Elementwise) {
      shape.columnDim = parallel.back();
      columns = std::min<int64_t>(shape.bounds[parallel.back()], 256);
    }
    rows = kind == KernelKind::Elementwise
               ? std::max<int64_t>(1, 1024 / columns)
               : 1;
    minRows = 1;
    minColumns = columns;
  }
  if (maxTile > 0) {
    rows = std::min(rows, maxTile);
    columns = std::min(columns, maxTile);
    minRows = std::min(minRows, rows);
    minColumns = std::min(minColumns, columns);
  }
  // Tiles never exceed the (power-of-two rounded) problem.
  int64_t totalRows = 1;
  for (unsigned dim : shape.rowDims)
    totalRows *= shape.bounds[dim];
  rows = std::min<int64_t>(rows, llvm::PowerOf2Ceil(totalRows));
  if (shape.columnDim >= 0)
    columns = std::min<int64_t>(
        columns, llvm::PowerOf2Ceil(shape.bounds[shape.columnDim]));

  // Occupancy: a launch of fewer blocks than multiprocessors leaves some
  // idle, so halve the tile (columns first: they cost no operand reuse along
  // the reduction) until every multiprocessor has a block or the tile is at
  // its minimum.
  while (shape.blocks(shape.sizes(rows, columns)) < target.multiprocessors) {
    if (columns / 2 >= minColumns && columns > 1)
      columns /= 2;
    else if (rows / 2 >= minRows && rows > 1)
      rows /= 2;
    else
      break;
  }

  // Fallbacks for workgroup memory, in order: fewer rows, then fewer
  // columns.
  SmallVector<SmallVector<int64_t>> candidates;
  for (; rows >= 1; rows /= 2)
    candidates.push_back(shape.sizes(rows, columns));
  for (columns /= 2; columns >= 8; columns /= 2)
    candidates.push_back(shape.sizes(1, columns));

  // A tile as large as its loop does not split it.
  for (SmallVector<int64_t> &tiles : candidates)
    for (auto [tile, bound] : llvm::zip(tiles, shape.bounds))
      if (tile >= bound)
        tile = 0;
  return candidates;
}

/// Threads an op wants: one per output element, or one per 4x4 register
/// tile of a contraction.
static int64_t desiredThreads(linalg::LinalgOp op, ArrayRef<int64_t> bounds) {
  int64_t work = 1;
  SmallVector<unsigned> parallel;
  op.getParallelDims(parallel);
  for (unsigned dim : parallel)
    work *= bounds[dim];
  int64_t perThread = linalg::isaContractionOpInterface(op) ? 16 : 1;
  return llvm::divideCeil(work, perThread);
}

int64_t vitc::cuda::getThreadsPerBlock(
    ArrayRef<std::pair<linalg::LinalgOp, SmallVector<int64_t>>> ops,
    const CudaTarget &target) {
  int64_t threads = 1;
  for (const auto &[op, bounds] : ops)
    threads = std::max(threads, desiredThreads(op, bounds));
  // Whole warps: a partial warp costs a full one.
  return std::clamp<int64_t>(llvm::alignTo(threads, 32), 32,
                             target.maxThreadsPerBlock);
}

/// Spreads `threads` over `dims` innermost first.
static void spreadInnermostFirst(ArrayRef<unsigned> dims,
                                 ArrayRef<int64_t> bounds, int64_t threads,
                                 SmallVectorImpl<int64_t> &counts) {
  for (unsigned dim : llvm::reverse(dims)) {
    counts[dim] = std::min(bounds[dim], threads);
    threads = std::max<int64_t>(1, threads / counts[dim]);
  }
}

SmallVector<int64_t> vitc::cuda::getThreadCounts(linalg::LinalgOp op,
                                                 ArrayRef<int64_t> bounds,
                                                 int64_t threads) {
  SmallVector<int64_t> counts(bounds.size(), 0);
  SmallVector<unsigned> parallel;
  op.getParallelDims(parallel);
  FailureOr<linalg::ContractionDimensions> contraction = failure();
  if (linalg::isaContractionOpInterface(op))
    contraction = linalg::inferContractionDims(op);
  if (succeeded(contraction) && !contraction->m.empty() &&
      !contraction->n.empty()) {
    // Register tiles: double the per-thread extent of the innermost row or
    // column loop, whichever has more threads, until the block suffices.
    // Square-ish tiles load the fewest operand elements per multiply-add.
    for (unsigned dim : parallel)
      counts[dim] = bounds[dim];
    unsigned m = contraction->m.back(), n = contraction->n.back();
    SmallVector<int64_t> perThread(bounds.size(), 1);
    auto total = [&] {
      int64_t product = 1;
      for (unsigned dim : parallel)
        product *= counts[dim];
      return product;
    };
    while (total() > threads && (counts[m] > 1 || counts[n] > 1)) {
      unsigned dim = counts[n] >= counts[m] ? n : m;
      perThread[dim] *= 2;
      counts[dim] = llvm::divideCeil(bounds[dim], perThread[dim]);
    }
    if (total() > threads)
      spreadInnermostFirst(parallel, bounds, threads, counts);
  } else {
    spreadInnermostFirst(parallel, bounds, threads, counts);
  }
  // A loop with a single thread is not distributed.
  for (int64_t &count : counts)
    if (count == 1)
      count = 0;
  return counts;
}
