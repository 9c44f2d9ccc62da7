//===- MmaLinear.cpp - Linears on tensor cores ----------------------------===//
//
// A linear whose weight is stored in bf16 or f16 (vit-narrow-linear-weights)
// gets a hand-built tensor-core schedule instead of the SIMT tiling:
//
//   scf.forall (block tile BM x BN) {mapping = [#gpu.block<...>]} {
//     A, B stages: workgroup buffers [stages][rows][32] in the operand type
//     scf.forall (128 threads = 2 x 2 warps) {mapping = [#gpu.thread<...>]} {
//       row statistics (a fused layer norm's sums), one warp per row, into
//         shared memory; a barrier after each
//       prologue: stages 0 .. S-2 requested
//       scf.for (K tile) iter_args(accumulators, group) {
//         cp.async.wait_group S-2; barrier           -- this tile is in
//         request tile + S-1: weight rows by cp.async (16 bytes, zero-fill
//           past N), input elements computed, rounded, stored to shared
//         two k16 steps: ldmatrix.x4 of A and B, mma.sync m16n8k16
//       }
//       epilogue per accumulator: bias/GELU/residual recomputed from the
//       kernel's own element-wise ops, stored (fp32) where inside [M, N]
//     }
//   }
//
// The input (activations, fp32 in global memory between kernels) passes
// through registers: each element is computed by the kernel's producers of
// the matmul operand (the rounding to bf16/f16, a patch gather, a view),
// which is what lets such producers fuse here. A layer norm fused into the
// kernel (vit-form-kernels' layer-norm-into-linear) reads per-row sums over
// K: those reductions run once per block for its BM rows, before the
// pipeline, and the operand's elements read them from shared memory, so
// the normalized activations never go through global memory. The weight goes
// global to shared by cp.async. Both live in shared memory in rows of 32
// elements (64 bytes) whose four 16-byte chunks are XOR-swizzled by the row
// pair: every 8x8 matrix an ldmatrix reads, every quarter warp of cp.async
// stores and every warp of input stores hits 8 distinct 16-byte bank groups, so
// none of them has a bank conflict (docs/codegen-cuda.md works it through).
//
//===----------------------------------------------------------------------===//

#include "vitc/Codegen/CUDA/Passes.h"
#include "vitc/Codegen/CUDA/TensorCore.h"
#include "vitc/Codegen/CUDA/TileHeuristics.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"

namespace vitc::cuda {
#define GEN_PASS_DEF_CUDAMMALINEARPASS
#include "vitc/Codegen/CUDA/Passes.h.inc"
} // namespace vitc::cuda

using namespace mlir;
using namespace vitc;
using namespace vitc::cuda;

namespace {

/// Elements of a K tile: one 64-byte row of four 16-byte chunks.
constexpr int64_t kTileK = 32;
/// Shared-memory stages of the operand pipeline.
constexpr int64_t kStages = 3;
/// 2 x 2 warps.
constexpr int64_t kWarpRows = 2, kWarpColumns = 2;
constexpr int64_t kWarpSize = 32;
constexpr int64_t kThreads = kWarpRows * kWarpColumns * kWarpSize;

/// The parts of a linear kernel the schedule is built from.
struct LinearParts {
  linalg::MatmulOp matmul;
  /// [M, K] in the weight's type, and the weight [N, K] buffer.
  Value input;
  Value weight;
  /// The op writing the output (the matmul or its element-wise epilogue)
  /// and the output view it writes.
  Operation *root;
  Value output;
  bufferization::MaterializeInDestinationOp store;
  int64_t m, n, k;
  /// Sums over the last dimension whose results are indexed by the rows of
  /// the input (a fused layer norm's sum and sum of squares), in the order
  /// they depend on each other.
  SmallVector<linalg::GenericOp> rowStatistics;
  /// For each, the value the kernel keeps of it: the sum's one element-wise
  /// user of the same shape (the mean, the inverse standard deviation),
  /// computed once per row rather than per element; or the sum itself.
  SmallVector<Value> keptStatistics;
};

/// What the kernel keeps of row statistic `sum` (see keptStatistics).
Value keptStatistic(linalg::GenericOp sum) {
  Value result = sum.getResult(0);
  if (!result.hasOneUse())
    return result;
  auto finish = dyn_cast<linalg::GenericOp>(*result.getUsers().begin());
  if (!finish || finish.getNumReductionLoops() != 0 ||
      finish.getNumDpsInits() != 1 ||
      finish.getResult(0).getType() != result.getType() ||
      !finish.getMatchingIndexingMap(finish.getDpsInitOperand(0)).isIdentity())
    return result;
  return finish.getResult(0);
}

/// Whether `map` is (m, n, k) -> (dims...).
bool isMap(AffineMap map, ArrayRef<unsigned> dims) {
  if (map.getNumDims() != 3 || map.getNumResults() != dims.size())
    return false;
  for (auto [expr, dim] : llvm::zip_equal(map.getResults(), dims))
    if (expr != getAffineDimExpr(dim, map.getContext()))
      return false;
  return true;
}

/// Whether `generic` sums over its last loop into a zero-filled output
/// indexed by the other loops, `rows` elements in all: a row statistic.
bool isRowSum(linalg::GenericOp generic, int64_t rows) {
  if (generic.getNumDpsInits() != 1 || generic.getNumReductionLoops() != 1 ||
      generic.getIteratorTypesArray().back() != utils::IteratorType::reduction)
    return false;
  auto fill = generic.getDpsInits()[0].getDefiningOp<linalg::FillOp>();
  auto type = cast<ShapedType>(generic.getResult(0).getType());
  AffineMap outputMap =
      generic.getMatchingIndexingMap(generic.getDpsInitOperand(0));
  if (!fill || !matchPattern(fill.getInputs()[0], m_AnyZeroFloat()) ||
      !type.getElementType().isF32() || type.getNumElements() != rows ||
      outputMap != AffineMap::getMultiDimIdentityMap(outputMap.getNumDims(),
                                                     generic.getContext())
                       .getMajorSubMap(outputMap.getNumDims() - 1))
    return false;
  // The body adds one value to the output argument: partial sums combine by
  // addition.
  Block &body = generic.getRegion().front();
  Value output = body.getArgument(generic.getNumDpsInputs());
  auto add = cast<linalg::YieldOp>(body.getTerminator())
                 .getValues()[0]
                 .getDefiningOp<arith::AddFOp>();
  return add && output.hasOneUse() &&
         (add.getLhs() == output || add.getRhs() == output);
}

/// Matches a kernel computing one matmul A[M, K] x W[N, K]^T with a narrow
/// (bf16/f16) weight, or with `tf32` an f32 one, optionally followed by one
/// element-wise epilogue, its input possibly normalized with row statistics
/// computed in the kernel.
FailureOr<LinearParts> matchLinear(func::FuncOp kernel, bool tf32) {
  auto stores = kernel.getOps<bufferization::MaterializeInDestinationOp>();
  if (!llvm::hasSingleElement(stores))
    return failure();
  LinearParts parts;
  parts.store = *stores.begin();
  parts.output = parts.store.getDest();
  parts.root = parts.store.getSource().getDefiningOp();
  if (!parts.root)
    return failure();
  SmallVector<linalg::MatmulOp> matmuls(kernel.getOps<linalg::MatmulOp>());
  if (matmuls.size() != 1)
    return failure();
  parts.matmul = matmuls.front();
  SmallVector<AffineMap> maps = parts.matmul.getIndexingMapsArray();
  if (!isMap(maps[0], {0, 2}) || !isMap(maps[1], {1, 2}) ||
      !isMap(maps[2], {0, 1}))
    return failure();
  parts.input = parts.matmul.getDpsInputs()[0];
  parts.weight = bufferOf(parts.matmul.getDpsInputs()[1]);
  auto fill = parts.matmul.getDpsInits()[0].getDefiningOp<linalg::FillOp>();
  if (!parts.weight || !fill ||
      !matchPattern(fill.getInputs()[0], m_AnyZeroFloat()))
    return failure();
  Type element = getElementTypeOrSelf(parts.weight.getType());
  if ((!element.isBF16() && !element.isF16() && !(tf32 && element.isF32())) ||
      getElementTypeOrSelf(parts.input.getType()) != element ||
      !getElementTypeOrSelf(parts.matmul.getResult(0).getType()).isF32())
    return failure();
  auto weightType = cast<MemRefType>(parts.weight.getType());
  if (!weightType.getLayout().isIdentity())
    return failure();
  parts.n = weightType.getShape()[0];
  parts.k = weightType.getShape()[1];
  parts.m = cast<ShapedType>(parts.input.getType()).getShape()[0];
  // Weight rows are copied in 16-byte pieces.
  if (parts.k % chunkElements(element) != 0)
    return failure();
  if (parts.root != parts.matmul) {
    auto epilogue = dyn_cast<linalg::GenericOp>(parts.root);
    if (!epilogue || epilogue.getNumReductionLoops() != 0 ||
        epilogue.getNumDpsInits() != 1 ||
        !epilogue.getMatchingIndexingMap(epilogue.getDpsInitOperand(0))
             .isIdentity())
      return failure();
  }
  for (auto generic : kernel.getOps<linalg::GenericOp>()) {
    if (generic.getNumReductionLoops() == 0)
      continue;
    if (!isRowSum(generic, parts.m))
      return failure();
    parts.rowStatistics.push_back(generic);
    parts.keptStatistics.push_back(keptStatistic(generic));
  }
  return parts;
}

/// Block tile: 64 x 64 where the grid fills the target's multiprocessors,
/// else features then rows halve to 32 (see docs/codegen-cuda.md); then
/// features, then rows, halve while the operand stages of `elementBytes`
/// elements and `statistics` rows of f32 statistics exceed the static
/// shared memory (tf32 at 64 x 64 fills the 48 KiB with its stages alone).
std::pair<int64_t, int64_t> chooseBlockTile(int64_t m, int64_t n,
                                            int64_t elementBytes,
                                            int64_t statistics,
                                            const CudaTarget &target) {
  int64_t rows = 64, columns = 64;
  auto blocks = [&] {
    return int64_t(llvm::divideCeil(m, rows) * llvm::divideCeil(n, columns));
  };
  if (blocks() < target.multiprocessors)
    columns = 32;
  if (blocks() < target.multiprocessors)
    rows = 32;
  auto sharedBytes = [&] {
    return kStages * (rows + columns) * kTileK * elementBytes +
           statistics * rows * int64_t(sizeof(float));
  };
  while (sharedBytes() > target.maxStaticSharedMemoryBytes && columns > 32)
    columns /= 2;
  while (sharedBytes() > target.maxStaticSharedMemoryBytes && rows > 32)
    rows /= 2;
  return {rows, columns};
}

/// Builds the schedule of a matched linear in place of its tensor ops.
class MmaLinearBuilder {
public:
  MmaLinearBuilder(LinearParts parts, int64_t blockRows, int64_t blockColumns)
      : parts(parts), blockRows(blockRows), blockColumns(blockColumns),
        warpRows(blockRows / kWarpRows),
        warpColumns(blockColumns / kWarpColumns), mTiles(warpRows / 16),
        nTiles(warpColumns / 8),
        element(getElementTypeOrSelf(parts.weight.getType())),
        chunk(chunkElements(element)), mmaBuilder(element) {}

  LogicalResult build(OpBuilder &b) {
    Location loc = parts.store.getLoc();
    auto blocks = createBlockLoop(b, loc, llvm::divideCeil(parts.m, blockRows),
                                  llvm::divideCeil(parts.n, blockColumns));
    b.setInsertionPointToStart(blocks.getBody());
    rowBase = arith::MulIOp::create(b, loc, blocks.getInductionVar(0),
                                    indexConstant(b, loc, blockRows));
    columnBase = arith::MulIOp::create(b, loc, blocks.getInductionVar(1),
                                       indexConstant(b, loc, blockColumns));
    stagesA =
        allocateWorkgroupTile(b, loc, {kStages, blockRows, kTileK}, element);
    stagesB =
        allocateWorkgroupTile(b, loc, {kStages, blockColumns, kTileK}, element);
    if (!parts.rowStatistics.empty())
      statistics = allocateWorkgroupTile(
          b, loc, {static_cast<int64_t>(parts.rowStatistics.size()), blockRows},
          b.getF32Type());
    auto threads = createThreadLoop(b, loc, kThreads);
    b.setInsertionPointToStart(threads.getBody());
    return buildThread(b, loc, threads.getInductionVar(0));
  }

private:
  Value lessThan(OpBuilder &b, Location loc, Value value, int64_t bound) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, value,
                                 indexConstant(b, loc, bound));
  }

  /// An element builder that reads the row statistics from shared memory.
  ElementBuilder elementBuilder(OpBuilder &b, Location loc) {
    ElementBuilder elements(b, loc);
    for (auto [position, result] : llvm::enumerate(parts.keptStatistics)) {
      int64_t index = position;
      ArrayRef<int64_t> shape = cast<ShapedType>(result.getType()).getShape();
      elements.loaded[result] = [&b, loc, this, index,
                                 shape](ValueRange indices) -> Value {
        Value m = indices.size() == 1
                      ? indices.front()
                      : Value(affine::AffineLinearizeIndexOp::create(
                            b, loc, indices, shape, /*disjoint=*/true));
        Value row = arith::SubIOp::create(b, loc, m, rowBase);
        return memref::LoadOp::create(
            b, loc, statistics, ValueRange{indexConstant(b, loc, index), row});
      };
    }
    return elements;
  }

  /// Computes the row statistics of the block's rows into shared memory:
  /// warp w sums rows w, w + 4, ..., its lanes striding over the reduced
  /// dimension, and lane 0 stores what the kernel keeps of the sum. A
  /// barrier after each statistic publishes it to the next and to the
  /// operand loads.
  LogicalResult computeRowStatistics(OpBuilder &b, Location loc, Value warp,
                                     Value lane) {
    int64_t warps = kWarpRows * kWarpColumns;
    Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
    for (auto [index, statistic] : llvm::enumerate(parts.rowStatistics)) {
      SmallVector<int64_t> shape = statistic.getStaticLoopRanges();
      OpBuilder::InsertionGuard guard(b);
      auto rows = scf::ForOp::create(b, loc, indexConstant(b, loc, 0),
                                     indexConstant(b, loc, blockRows / warps),
                                     indexConstant(b, loc, 1));
      b.setInsertionPointToStart(rows.getBody());
      Value row = arith::AddIOp::create(
          b, loc, warp,
          arith::MulIOp::create(b, loc, rows.getInductionVar(),
                                indexConstant(b, loc, warps)));
      Value m = arith::AddIOp::create(b, loc, rowBase, row);
      auto inside = scf::IfOp::create(b, loc, lessThan(b, loc, m, parts.m),
                                      /*withElseRegion=*/false);
      b.setInsertionPointToStart(inside.thenBlock());
      auto loop =
          scf::ForOp::create(b, loc, lane, indexConstant(b, loc, shape.back()),
                             indexConstant(b, loc, kWarpSize), zero);
      {
        OpBuilder::InsertionGuard inner(b);
        b.setInsertionPointToStart(loop.getBody());
        SmallVector<Value> indices(affine::AffineDelinearizeIndexOp::create(
                                       b, loc, m, ArrayRef(shape).drop_back(),
                                       /*hasOuterBound=*/true)
                                       .getResults());
        indices.push_back(loop.getInductionVar());
        ElementBuilder elements = elementBuilder(b, loc);
        FailureOr<Value> sum = elements.buildReductionStep(
            statistic, indices, loop.getRegionIterArgs()[0]);
        if (failed(sum))
          return failure();
        scf::YieldOp::create(b, loc, *sum);
      }
      Value total = butterflyReduce(b, loc, loop.getResult(0), kWarpSize,
                                    /*sum=*/true);
      ElementBuilder elements = elementBuilder(b, loc);
      elements.known[statistic.getResult(0)] = total;
      elements.loaded.erase(parts.keptStatistics[index]);
      FailureOr<Value> kept = elements.build(
          parts.keptStatistics[index],
          affine::AffineDelinearizeIndexOp::create(
              b, loc, m, ArrayRef(shape).drop_back(), /*hasOuterBound=*/true)
              .getResults());
      if (failed(kept))
        return failure();
      auto first = scf::IfOp::create(
          b, loc,
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, lane,
                                indexConstant(b, loc, 0)),
          /*withElseRegion=*/false);
      b.setInsertionPointToStart(first.thenBlock());
      memref::StoreOp::create(b, loc, *kept, statistics,
                              ValueRange{indexConstant(b, loc, index), row});
      b.setInsertionPointAfter(rows);
      gpu::BarrierOp::create(b, loc);
    }
    return success();
  }

  /// Requests K tile `tile` into `stage`: the weight rows by cp.async, the
  /// input elements computed and stored by this thread.
  LogicalResult request(OpBuilder &b, Location loc, Value thread, Value tile,
                        Value stage) {
    Value kBase =
        arith::MulIOp::create(b, loc, tile, indexConstant(b, loc, kTileK));
    int64_t chunksPerRow = kTileK / chunk;
    for (int64_t i = 0; i < blockColumns * chunksPerRow / kThreads; ++i) {
      auto [row, column] =
          distributedPiece(b, loc, thread, i, kThreads, chunksPerRow, chunk);
      Value n = arith::AddIOp::create(b, loc, columnBase, row);
      Value k = arith::AddIOp::create(b, loc, kBase, column);
      // Rows past N and chunks past K are zero-filled; their addresses are
      // clamped into the weight although nothing is read from them.
      Value inside = arith::AndIOp::create(b, loc, lessThan(b, loc, n, parts.n),
                                           lessThan(b, loc, k, parts.k));
      Value sourceElements =
          arith::SelectOp::create(b, loc, inside, indexConstant(b, loc, chunk),
                                  indexConstant(b, loc, 0));
      Value clampedN =
          arith::MinUIOp::create(b, loc, n, indexConstant(b, loc, parts.n - 1));
      Value clampedK = arith::MinUIOp::create(
          b, loc, k, indexConstant(b, loc, parts.k - chunk));
      nvgpu::DeviceAsyncCopyOp::create(
          b, loc, nvgpu::DeviceAsyncTokenType::get(b.getContext()), stagesB,
          ValueRange{stage, row,
                     swizzledColumn(b, loc, row, column, kTileK, element)},
          parts.weight, ValueRange{clampedN, clampedK}, b.getIndexAttr(chunk),
          sourceElements, b.getUnitAttr());
    }
    // Input: computed through the kernel's producers of the operand (the
    // rounding included). K is a multiple of a chunk: a pair is wholly
    // inside or outside.
    auto m = [&](Value row) {
      return arith::AddIOp::create(b, loc, rowBase, row);
    };
    auto k = [&](Value column) {
      return arith::AddIOp::create(b, loc, kBase, column);
    };
    return fillTilePairs(
        b, loc, thread, kThreads, stagesA, {stage}, blockRows, kTileK,
        [&](Value row, Value column) -> Value {
          return arith::AndIOp::create(b, loc,
                                       lessThan(b, loc, m(row), parts.m),
                                       lessThan(b, loc, k(column), parts.k));
        },
        [&](Value row, Value column) {
          ElementBuilder elements = elementBuilder(b, loc);
          return elements.build(parts.input, {m(row), k(column)});
        });
  }

  /// Multiplies the stage's tile into the accumulators (MT x NT tiles of
  /// four per thread, in mma.sync's C order).
  SmallVector<Value> multiply(OpBuilder &b, Location loc, Value lane,
                              Value warpRow, Value warpColumn, Value stage,
                              ValueRange accumulators) {
    SmallVector<Value> result(accumulators);
    Value lane16 =
        arith::RemUIOp::create(b, loc, lane, indexConstant(b, loc, 16));
    Value lane8 =
        arith::RemUIOp::create(b, loc, lane, indexConstant(b, loc, 8));
    Value half =
        arith::DivUIOp::create(b, loc, lane, indexConstant(b, loc, 16));
    Value quarterOdd = arith::RemUIOp::create(
        b, loc, arith::DivUIOp::create(b, loc, lane, indexConstant(b, loc, 8)),
        indexConstant(b, loc, 2));
    int64_t kStep = mmaBuilder.kStep();
    for (int64_t step = 0; step < kTileK / kStep; ++step) {
      // A: matrices (rows 0-7, first chunk of the step), (8-15, first),
      // (0-7, second), (8-15, second): lane l gives row l % 16 at chunk
      // l / 16.
      SmallVector<SmallVector<Value, 4>> a;
      for (int64_t mt = 0; mt < mTiles; ++mt) {
        Value row = arith::AddIOp::create(
            b, loc, warpRow,
            arith::AddIOp::create(b, loc, indexConstant(b, loc, mt * 16),
                                  lane16));
        Value k = arith::AddIOp::create(
            b, loc, indexConstant(b, loc, step * kStep),
            arith::MulIOp::create(b, loc, half, indexConstant(b, loc, chunk)));
        a.push_back(mmaBuilder.ldmatrix(b, loc, stagesA, stage, row, k, kTileK,
                                        /*transpose=*/false));
      }
      // B (rows n, k contiguous): matrices (n 0-7, first chunk), (0-7,
      // second), (8-15, first), (8-15, second), i.e. b0 b1 of two n8 tiles.
      SmallVector<SmallVector<Value>> bTiles;
      for (int64_t np = 0; np < nTiles / 2; ++np) {
        Value row = arith::AddIOp::create(
            b, loc, warpColumn,
            arith::AddIOp::create(
                b, loc, indexConstant(b, loc, np * 16),
                arith::AddIOp::create(
                    b, loc,
                    arith::MulIOp::create(b, loc, half,
                                          indexConstant(b, loc, 8)),
                    lane8)));
        Value k = arith::AddIOp::create(
            b, loc, indexConstant(b, loc, step * kStep),
            arith::MulIOp::create(b, loc, quarterOdd,
                                  indexConstant(b, loc, chunk)));
        SmallVector<Value, 4> words = mmaBuilder.ldmatrix(
            b, loc, stagesB, stage, row, k, kTileK, /*transpose=*/false);
        bTiles.push_back({words[0], words[1]});
        bTiles.push_back({words[2], words[3]});
      }
      for (int64_t mt = 0; mt < mTiles; ++mt) {
        for (int64_t nt = 0; nt < nTiles; ++nt) {
          int64_t first = (mt * nTiles + nt) * 4;
          ArrayRef<Value> c = ArrayRef<Value>(result).slice(first, 4);
          std::array<Value, 4> d = mmaBuilder.mma(b, loc, a[mt], bTiles[nt], c);
          std::copy(d.begin(), d.end(), result.begin() + first);
        }
      }
    }
    return result;
  }

  LogicalResult buildThread(OpBuilder &b, Location loc, Value thread) {
    MLIRContext *context = b.getContext();
    Value warp = arith::DivUIOp::create(b, loc, thread,
                                        indexConstant(b, loc, kWarpSize));
    Value lane = arith::RemUIOp::create(b, loc, thread,
                                        indexConstant(b, loc, kWarpSize));
    Value warpRow = arith::MulIOp::create(
        b, loc,
        arith::DivUIOp::create(b, loc, warp,
                               indexConstant(b, loc, kWarpColumns)),
        indexConstant(b, loc, warpRows));
    Value warpColumn = arith::MulIOp::create(
        b, loc,
        arith::RemUIOp::create(b, loc, warp,
                               indexConstant(b, loc, kWarpColumns)),
        indexConstant(b, loc, warpColumns));
    int64_t tiles = llvm::divideCeil(parts.k, kTileK);
    auto tokenType = nvgpu::DeviceAsyncTokenType::get(context);
    if (failed(computeRowStatistics(b, loc, warp, lane)))
      return failure();

    // Prologue: tiles 0 .. S-2, one group each (empty past the last tile,
    // so that the group count stays S-1 ahead of the loop).
    Value group;
    for (int64_t tile = 0; tile < kStages - 1; ++tile) {
      if (tile < tiles &&
          failed(request(b, loc, thread, indexConstant(b, loc, tile),
                         indexConstant(b, loc, tile))))
        return failure();
      group = nvgpu::DeviceAsyncCreateGroupOp::create(b, loc, tokenType,
                                                      ValueRange());
    }

    Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
    SmallVector<Value> initial(mTiles * nTiles * 4, zero);
    initial.push_back(group);
    auto loop = scf::ForOp::create(b, loc, indexConstant(b, loc, 0),
                                   indexConstant(b, loc, tiles),
                                   indexConstant(b, loc, 1), initial);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value tile = loop.getInductionVar();
      ValueRange carried = loop.getRegionIterArgs();
      // Tile `tile` has landed once at most S-2 newer groups are pending;
      // the barrier publishes every thread's part of it and ends all reads
      // of the stage the next request overwrites.
      nvgpu::DeviceAsyncWaitOp::create(b, loc, carried.back(),
                                       b.getI32IntegerAttr(kStages - 2));
      gpu::BarrierOp::create(b, loc);
      Value next = arith::AddIOp::create(b, loc, tile,
                                         indexConstant(b, loc, kStages - 1));
      auto ifOp = scf::IfOp::create(
          b, loc,
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, next,
                                indexConstant(b, loc, tiles)),
          /*withElseRegion=*/false);
      {
        OpBuilder::InsertionGuard inner(b);
        b.setInsertionPointToStart(ifOp.thenBlock());
        if (failed(request(b, loc, thread, next,
                           arith::RemUIOp::create(
                               b, loc, next, indexConstant(b, loc, kStages)))))
          return failure();
      }
      Value nextGroup = nvgpu::DeviceAsyncCreateGroupOp::create(
          b, loc, tokenType, ValueRange());
      Value stage =
          arith::RemUIOp::create(b, loc, tile, indexConstant(b, loc, kStages));
      SmallVector<Value> updated = multiply(b, loc, lane, warpRow, warpColumn,
                                            stage, carried.drop_back());
      updated.push_back(nextGroup);
      scf::YieldOp::create(b, loc, updated);
    }
    // Only empty groups can be pending here; nothing is left in flight.
    nvgpu::DeviceAsyncWaitOp::create(b, loc, loop.getResults().back(),
                                     b.getI32IntegerAttr(0));
    return storeResults(b, loc, lane, warpRow, warpColumn,
                        loop.getResults().drop_back());
  }

  /// Accumulator (mt, nt, i) holds row g + 8 * (i / 2), column 2 * q + i % 2
  /// of its 16 x 8 tile (g = lane / 4, q = lane % 4). Each is finished by
  /// the epilogue and stored if it lies inside [M, N].
  LogicalResult storeResults(OpBuilder &b, Location loc, Value lane,
                             Value warpRow, Value warpColumn,
                             ValueRange accumulators) {
    Value group =
        arith::DivUIOp::create(b, loc, lane, indexConstant(b, loc, 4));
    Value pairColumn = arith::MulIOp::create(
        b, loc, arith::RemUIOp::create(b, loc, lane, indexConstant(b, loc, 4)),
        indexConstant(b, loc, 2));
    ArrayRef<int64_t> outputShape =
        cast<MemRefType>(parts.output.getType()).getShape();
    for (int64_t mt = 0; mt < mTiles; ++mt) {
      for (int64_t nt = 0; nt < nTiles; ++nt) {
        for (int64_t i = 0; i < 4; ++i) {
          Value m = arith::AddIOp::create(
              b, loc, rowBase,
              arith::AddIOp::create(
                  b, loc, warpRow,
                  arith::AddIOp::create(
                      b, loc, indexConstant(b, loc, mt * 16 + (i / 2) * 8),
                      group)));
          Value n = arith::AddIOp::create(
              b, loc, columnBase,
              arith::AddIOp::create(
                  b, loc, warpColumn,
                  arith::AddIOp::create(b, loc,
                                        indexConstant(b, loc, nt * 8 + i % 2),
                                        pairColumn)));
          Value inside =
              arith::AndIOp::create(b, loc, lessThan(b, loc, m, parts.m),
                                    lessThan(b, loc, n, parts.n));
          auto ifOp =
              scf::IfOp::create(b, loc, inside, /*withElseRegion=*/false);
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(ifOp.thenBlock());
          // The output's leading dimensions split M; the last is N.
          SmallVector<Value> indices;
          if (outputShape.size() > 2 ||
              (outputShape.size() == 2 && outputShape[0] != parts.m)) {
            llvm::append_range(indices,
                               affine::AffineDelinearizeIndexOp::create(
                                   b, loc, m, outputShape.drop_back(),
                                   /*hasOuterBound=*/true)
                                   .getResults());
          } else {
            indices.push_back(m);
          }
          indices.push_back(n);
          ElementBuilder elements(b, loc);
          elements.known[parts.matmul.getResult(0)] =
              accumulators[(mt * nTiles + nt) * 4 + i];
          FailureOr<Value> value =
              elements.build(parts.root->getResult(0), indices);
          if (failed(value))
            return failure();
          memref::StoreOp::create(b, loc, *value, parts.output, indices);
        }
      }
    }
    return success();
  }

  LinearParts parts;
  int64_t blockRows, blockColumns, warpRows, warpColumns, mTiles, nTiles;
  Type element;
  /// Elements per 16-byte chunk (one cp.async, one ldmatrix row).
  int64_t chunk;
  MmaBuilder mmaBuilder;
  Value rowBase, columnBase, stagesA, stagesB;
  /// [row statistics][BM] f32 in shared memory, if the kernel has any.
  Value statistics;
};

struct CudaMmaLinearPass
    : vitc::cuda::impl::CudaMmaLinearPassBase<CudaMmaLinearPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp kernel = getOperation();
    if (!isKernelFunction(kernel) || kernel->hasAttr(kCudaKernelKindAttr))
      return;
    FailureOr<LinearParts> parts = matchLinear(kernel, tf32);
    if (failed(parts))
      return;
    if (sm < 80) {
      kernel.emitError("a linear with ")
          << getElementTypeOrSelf(parts->weight.getType())
          << " weights needs the tensor cores of sm_80 or newer (mma.sync, "
             "cp.async); compiling for sm_"
          << int64_t(sm);
      return signalPassFailure();
    }
    auto [blockRows, blockColumns] = chooseBlockTile(
        parts->m, parts->n,
        getElementTypeOrSelf(parts->weight.getType()).getIntOrFloatBitWidth() /
            8,
        parts->rowStatistics.size(), getCudaTarget(sm));
    OpBuilder b(parts->store);
    MmaLinearBuilder builder(*parts, blockRows, blockColumns);
    if (failed(builder.build(b)))
      return signalPassFailure();
    // The tensor computation is now dead: erase it, users first.
    parts->store.erase();
    eraseDeadOps(kernel.getBody().front());
    Builder attributes(&getContext());
    kernel->setAttr(kCudaBlockSizeAttr, attributes.getI64IntegerAttr(kThreads));
    kernel->setAttr(kCudaKernelKindAttr,
                    attributes.getStringAttr("mma_linear"));
    kernel->setAttr(kCudaBlockTileAttr,
                    attributes.getDenseI64ArrayAttr({blockRows, blockColumns}));
    kernel->setAttr(kCudaPipelineStagesAttr,
                    attributes.getI64IntegerAttr(kStages));
  }
};

} // namespace
