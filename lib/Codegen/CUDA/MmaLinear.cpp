//===- MmaLinear.cpp - Linears on tensor cores ----------------------------===//
//
// A linear whose weight is stored in bf16 or f16 (vit-narrow-linear-weights)
// gets a hand-built tensor-core schedule instead of the SIMT tiling:
//
//   scf.forall (block tile BM x BN) {mapping = [#gpu.block<...>]} {
//     A, B stages: workgroup buffers [stages][rows][32] in the operand type
//     scf.forall (128 threads = 2 x 2 warps) {mapping = [#gpu.thread<...>]} {
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
// which is what lets such producers fuse here. The weight goes global to
// shared by cp.async. Both live in shared memory in rows of 32 elements
// (64 bytes) whose four 16-byte chunks are XOR-swizzled by the row pair:
// every 8x8 matrix an ldmatrix reads, every quarter warp of cp.async stores
// and every warp of input stores hits 8 distinct 16-byte bank groups, so
// none of them has a bank conflict (docs/codegen-cuda.md works it through).
//
//===----------------------------------------------------------------------===//

#include "vitc/Codegen/CUDA/Passes.h"
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
/// Elements per 16-byte chunk (one cp.async, one ldmatrix row).
constexpr int64_t kChunk = 8;
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
};

/// Follows `value` back to the kernel buffer it views, if it is one.
Value bufferOf(Value value) {
  auto toTensor = value.getDefiningOp<bufferization::ToTensorOp>();
  return toTensor ? toTensor.getBuffer() : Value();
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

/// Matches a kernel computing one matmul A[M, K] x W[N, K]^T with a narrow
/// (bf16/f16) weight, optionally followed by one element-wise epilogue.
FailureOr<LinearParts> matchLinear(func::FuncOp kernel) {
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
  if (!parts.weight || !fill || !matchPattern(fill.getInputs()[0], m_AnyZeroFloat()))
    return failure();
  Type element = getElementTypeOrSelf(parts.weight.getType());
  if ((!element.isBF16() && !element.isF16()) ||
      getElementTypeOrSelf(parts.input.getType()) != element ||
      !getElementTypeOrSelf(parts.matmul.getResult(0).getType()).isF32())
    return failure();
  auto weightType = cast<MemRefType>(parts.weight.getType());
  if (!weightType.getLayout().isIdentity())
    return failure();
  parts.n = weightType.getShape()[0];
  parts.k = weightType.getShape()[1];
  parts.m = cast<ShapedType>(parts.input.getType()).getShape()[0];
  if (parts.k % kChunk != 0)
    return failure();
  if (parts.root != parts.matmul) {
    auto epilogue = dyn_cast<linalg::GenericOp>(parts.root);
    if (!epilogue || epilogue.getNumReductionLoops() != 0 ||
        epilogue.getNumDpsInits() != 1 ||
        !epilogue.getMatchingIndexingMap(epilogue.getDpsInitOperand(0))
             .isIdentity())
      return failure();
  }
  return parts;
}

/// Builds single elements of a kernel's tensors where a thread needs them:
/// kernel inputs are loaded through the views the kernel takes of them, and
/// element-wise generics are recomputed from the elements of their inputs
/// (their bodies cloned). `known` short-cuts values the caller already has
/// (the matmul's accumulator for the element being stored).
class ElementBuilder {
public:
  ElementBuilder(OpBuilder &b, Location loc) : b(b), loc(loc) {}

  DenseMap<Value, Value> known;

  FailureOr<Value> build(Value tensor, ValueRange indices) {
    if (Value value = known.lookup(tensor))
      return value;
    if (Value buffer = bufferOf(tensor))
      return Value(memref::LoadOp::create(b, loc, buffer, indices));
    Operation *producer = tensor.getDefiningOp();
    if (!producer)
      return emitError(loc, "cannot compute an element of a block argument");
    if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(producer)) {
      ArrayRef<int64_t> source = collapse.getSrcType().getShape();
      SmallVector<Value> sourceIndices;
      for (auto [index, group] :
           llvm::zip_equal(indices, collapse.getReassociationIndices())) {
        if (group.size() == 1) {
          sourceIndices.push_back(index);
          continue;
        }
        SmallVector<int64_t> basis;
        for (int64_t dim : group)
          basis.push_back(source[dim]);
        llvm::append_range(sourceIndices,
                           affine::AffineDelinearizeIndexOp::create(
                               b, loc, index, basis, /*hasOuterBound=*/true)
                               .getResults());
      }
      return build(collapse.getSrc(), sourceIndices);
    }
    if (auto expand = dyn_cast<tensor::ExpandShapeOp>(producer)) {
      ArrayRef<int64_t> result = expand.getResultType().getShape();
      SmallVector<Value> sourceIndices;
      for (const ReassociationIndices &group :
           expand.getReassociationIndices()) {
        SmallVector<Value> parts;
        SmallVector<int64_t> basis;
        for (int64_t dim : group) {
          parts.push_back(indices[dim]);
          basis.push_back(result[dim]);
        }
        sourceIndices.push_back(
            parts.size() == 1
                ? parts.front()
                : Value(affine::AffineLinearizeIndexOp::create(
                      b, loc, parts, basis, /*disjoint=*/true)));
      }
      return build(expand.getSrc(), sourceIndices);
    }
    if (auto slice = dyn_cast<tensor::ExtractSliceOp>(producer)) {
      if (!slice.hasUnitStride() || !slice.getOffsets().empty())
        return slice.emitError("expected a static unit-stride slice");
      llvm::SmallBitVector dropped = slice.getDroppedDims();
      SmallVector<Value> sourceIndices;
      unsigned next = 0;
      for (auto [dim, offset] : llvm::enumerate(slice.getStaticOffsets())) {
        Value base = arith::ConstantIndexOp::create(b, loc, offset);
        sourceIndices.push_back(
            dropped.test(dim)
                ? base
                : Value(arith::AddIOp::create(b, loc, base, indices[next++])));
      }
      return build(slice.getSource(), sourceIndices);
    }
    if (auto generic = dyn_cast<linalg::GenericOp>(producer))
      return buildGeneric(generic, indices);
    return producer->emitError("cannot compute single elements of this op "
                               "in a tensor-core kernel");
  }

private:
  /// Recomputes the element of an element-wise generic at `indices` (its
  /// loop indices: its output map is the identity).
  FailureOr<Value> buildGeneric(linalg::GenericOp generic, ValueRange indices) {
    if (generic.getNumReductionLoops() != 0 || generic.getNumDpsInits() != 1 ||
        !generic.getMatchingIndexingMap(generic.getDpsInitOperand(0))
             .isIdentity())
      return generic.emitError("expected an element-wise op with one output");
    Block &body = generic.getRegion().front();
    if (!body.getArgument(generic.getNumDpsInputs()).use_empty())
      return generic.emitError("expected an op not reading its output");
    IRMapping mapping;
    for (OpOperand *input : generic.getDpsInputOperands()) {
      SmallVector<Value> inputIndices;
      for (AffineExpr expr :
           generic.getMatchingIndexingMap(input).getResults())
        inputIndices.push_back(affine::AffineApplyOp::create(
            b, loc, AffineMap::get(indices.size(), 0, expr), indices));
      FailureOr<Value> element = build(input->get(), inputIndices);
      if (failed(element))
        return failure();
      mapping.map(body.getArgument(input->getOperandNumber()), *element);
    }
    for (Operation &op : body.without_terminator()) {
      if (auto index = dyn_cast<linalg::IndexOp>(op)) {
        mapping.map(index.getResult(), indices[index.getDim()]);
        continue;
      }
      if (auto extract = dyn_cast<tensor::ExtractOp>(op)) {
        SmallVector<Value> extractIndices;
        for (Value index : extract.getIndices())
          extractIndices.push_back(mapping.lookupOrDefault(index));
        FailureOr<Value> element =
            build(mapping.lookupOrDefault(extract.getTensor()), extractIndices);
        if (failed(element))
          return failure();
        mapping.map(extract.getResult(), *element);
        continue;
      }
      b.clone(op, mapping);
    }
    return mapping.lookupOrDefault(
        cast<linalg::YieldOp>(body.getTerminator()).getValues()[0]);
  }

  OpBuilder &b;
  Location loc;
};

/// Block tile: 64 x 64 where the grid fills the target's multiprocessors,
/// else features then rows halve to 32 (see docs/codegen-cuda.md).
std::pair<int64_t, int64_t> chooseBlockTile(int64_t m, int64_t n,
                                            const CudaTarget &target) {
  int64_t rows = 64, columns = 64;
  auto blocks = [&] {
    return int64_t(llvm::divideCeil(m, rows) * llvm::divideCeil(n, columns));
  };
  if (blocks() < target.multiprocessors)
    columns = 32;
  if (blocks() < target.multiprocessors)
    rows = 32;
  return {rows, columns};
}

/// Builds the schedule of a matched linear in place of its tensor ops.
class MmaLinearBuilder {
public:
  MmaLinearBuilder(LinearParts parts, int64_t blockRows,
                   int64_t blockColumns)
      : parts(parts), blockRows(blockRows), blockColumns(blockColumns),
        warpRows(blockRows / kWarpRows), warpColumns(blockColumns / kWarpColumns),
        mTiles(warpRows / 16), nTiles(warpColumns / 8),
        element(getElementTypeOrSelf(parts.weight.getType())) {}

  LogicalResult build(OpBuilder &b) {
    Location loc = parts.store.getLoc();
    MLIRContext *context = b.getContext();
    auto workgroup = gpu::AddressSpaceAttr::get(
        context, gpu::GPUDialect::getWorkgroupAddressSpace());
    int64_t gridRows = llvm::divideCeil(parts.m, blockRows);
    int64_t gridColumns = llvm::divideCeil(parts.n, blockColumns);
    auto blocks = scf::ForallOp::create(
        b, loc, ArrayRef<OpFoldResult>{b.getIndexAttr(gridRows),
                                       b.getIndexAttr(gridColumns)},
        ValueRange(),
        b.getArrayAttr({gpu::GPUBlockMappingAttr::get(
                            context, gpu::MappingId::LinearDim1),
                        gpu::GPUBlockMappingAttr::get(
                            context, gpu::MappingId::LinearDim0)}));
    b.setInsertionPointToStart(blocks.getBody());
    rowBase = arith::MulIOp::create(b, loc, blocks.getInductionVar(0),
                                    constant(b, loc, blockRows));
    columnBase = arith::MulIOp::create(b, loc, blocks.getInductionVar(1),
                                       constant(b, loc, blockColumns));
    stagesA = memref::AllocOp::create(
        b, loc,
        MemRefType::get({kStages, blockRows, kTileK}, element,
                        MemRefLayoutAttrInterface(), workgroup));
    stagesB = memref::AllocOp::create(
        b, loc,
        MemRefType::get({kStages, blockColumns, kTileK}, element,
                        MemRefLayoutAttrInterface(), workgroup));
    auto threads = scf::ForallOp::create(
        b, loc, ArrayRef<OpFoldResult>{b.getIndexAttr(kThreads)}, ValueRange(),
        b.getArrayAttr(
            {gpu::GPUThreadMappingAttr::get(context, gpu::MappingId::LinearDim0)}));
    b.setInsertionPointToStart(threads.getBody());
    return buildThread(b, loc, threads.getInductionVar(0));
  }

private:
  static Value constant(OpBuilder &b, Location loc, int64_t value) {
    return arith::ConstantIndexOp::create(b, loc, value);
  }

  /// Column of element `k` of row `row` in a stage: chunks XOR-swizzled by
  /// the row pair (row / 2 mod 4), elements in a chunk in order.
  Value swizzle(OpBuilder &b, Location loc, Value row, Value k) {
    Value chunk = arith::ShRUIOp::create(b, loc, k, constant(b, loc, 3));
    Value pair = arith::AndIOp::create(
        b, loc, arith::ShRUIOp::create(b, loc, row, constant(b, loc, 1)),
        constant(b, loc, 3));
    Value swizzled = arith::XOrIOp::create(b, loc, chunk, pair);
    return arith::OrIOp::create(
        b, loc, arith::ShLIOp::create(b, loc, swizzled, constant(b, loc, 3)),
        arith::AndIOp::create(b, loc, k, constant(b, loc, kChunk - 1)));
  }

  Value lessThan(OpBuilder &b, Location loc, Value value, int64_t bound) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, value,
                                 constant(b, loc, bound));
  }

  /// Requests K tile `tile` into `stage`: the weight rows by cp.async, the
  /// input elements computed and stored by this thread.
  LogicalResult request(OpBuilder &b, Location loc, Value thread, Value tile,
                        Value stage) {
    Value kBase = arith::MulIOp::create(b, loc, tile, constant(b, loc, kTileK));
    constexpr int64_t chunksPerRow = kTileK / kChunk;
    for (int64_t i = 0; i < blockColumns * chunksPerRow / kThreads; ++i) {
      Value chunk =
          arith::AddIOp::create(b, loc, thread, constant(b, loc, i * kThreads));
      Value row = arith::DivUIOp::create(b, loc, chunk,
                                         constant(b, loc, chunksPerRow));
      Value column = arith::MulIOp::create(
          b, loc,
          arith::RemUIOp::create(b, loc, chunk,
                                 constant(b, loc, chunksPerRow)),
          constant(b, loc, kChunk));
      Value n = arith::AddIOp::create(b, loc, columnBase, row);
      Value k = arith::AddIOp::create(b, loc, kBase, column);
      // Rows past N and chunks past K are zero-filled; their addresses are
      // clamped into the weight although nothing is read from them.
      Value inside = arith::AndIOp::create(b, loc, lessThan(b, loc, n, parts.n),
                                           lessThan(b, loc, k, parts.k));
      Value sourceElements = arith::SelectOp::create(
          b, loc, inside, constant(b, loc, kChunk), constant(b, loc, 0));
      Value clampedN =
          arith::MinUIOp::create(b, loc, n, constant(b, loc, parts.n - 1));
      Value clampedK = arith::MinUIOp::create(
          b, loc, k, constant(b, loc, parts.k - kChunk));
      nvgpu::DeviceAsyncCopyOp::create(
          b, loc, nvgpu::DeviceAsyncTokenType::get(b.getContext()), stagesB,
          ValueRange{stage, row, swizzle(b, loc, row, column)}, parts.weight,
          ValueRange{clampedN, clampedK}, b.getIndexAttr(kChunk),
          sourceElements, b.getUnitAttr());
    }
    // Input: pairs of elements, so that a warp stores two whole rows.
    constexpr int64_t pairsPerRow = kTileK / 2;
    auto pairType = VectorType::get({2}, element);
    for (int64_t i = 0; i < blockRows * pairsPerRow / kThreads; ++i) {
      Value pairIndex =
          arith::AddIOp::create(b, loc, thread, constant(b, loc, i * kThreads));
      Value row = arith::DivUIOp::create(b, loc, pairIndex,
                                         constant(b, loc, pairsPerRow));
      Value column = arith::MulIOp::create(
          b, loc,
          arith::RemUIOp::create(b, loc, pairIndex,
                                 constant(b, loc, pairsPerRow)),
          constant(b, loc, 2));
      Value m = arith::AddIOp::create(b, loc, rowBase, row);
      Value k = arith::AddIOp::create(b, loc, kBase, column);
      // K is a multiple of 8: a pair is wholly inside or outside.
      Value inside = arith::AndIOp::create(b, loc, lessThan(b, loc, m, parts.m),
                                           lessThan(b, loc, k, parts.k));
      auto ifOp = scf::IfOp::create(b, loc, pairType, inside,
                                    /*withElseRegion=*/true);
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(ifOp.thenBlock());
        ElementBuilder elements(b, loc);
        SmallVector<Value> pair;
        for (int64_t j = 0; j < 2; ++j) {
          Value kj = arith::AddIOp::create(b, loc, k, constant(b, loc, j));
          FailureOr<Value> value = elements.build(parts.input, {m, kj});
          if (failed(value))
            return failure();
          pair.push_back(*value);
        }
        scf::YieldOp::create(
            b, loc, ValueRange{vector::FromElementsOp::create(b, loc, pairType, pair)});
        b.setInsertionPointToStart(ifOp.elseBlock());
        scf::YieldOp::create(
            b, loc,
            ValueRange{arith::ConstantOp::create(
                b, loc, pairType,
                DenseElementsAttr::get(pairType, b.getFloatAttr(element, 0.0)))});
      }
      vector::StoreOp::create(b, loc, ifOp.getResult(0), stagesA,
                              ValueRange{stage, row, swizzle(b, loc, row, column)});
    }
    return success();
  }

  /// The mma.sync operand registers of an ldmatrix result: its pairs of
  /// 16-bit elements, which nvvm.mma.sync takes as vector<2xf16> for f16
  /// and as 32-bit words for bf16.
  SmallVector<Value> registers(OpBuilder &b, Location loc, Value fragment) {
    auto wordType = VectorType::get({1}, b.getI32Type());
    SmallVector<Value> result;
    for (int64_t i = 0, e = cast<VectorType>(fragment.getType()).getShape()[0];
         i < e; ++i) {
      Value pair =
          vector::ExtractOp::create(b, loc, fragment, ArrayRef<int64_t>{i});
      if (element.isF16()) {
        result.push_back(pair);
        continue;
      }
      // A 1-d bitcast: the NVVM lowering handles no others.
      Value word = vector::BitCastOp::create(b, loc, wordType, pair);
      result.push_back(
          vector::ExtractOp::create(b, loc, word, ArrayRef<int64_t>{0}));
    }
    return result;
  }

  Value ldmatrix(OpBuilder &b, Location loc, Value stages, Value stage,
                 Value row, Value k) {
    return nvgpu::LdMatrixOp::create(
        b, loc, VectorType::get({4, 2}, element), stages,
        ValueRange{stage, row, swizzle(b, loc, row, k)}, /*transpose=*/false,
        /*numTiles=*/4);
  }

  /// Multiplies the stage's tile into the accumulators (MT x NT tiles of
  /// four per thread, in mma.sync's C order).
  SmallVector<Value> multiply(OpBuilder &b, Location loc, Value lane,
                              Value warpRow, Value warpColumn, Value stage,
                              ValueRange accumulators) {
    SmallVector<Value> result(accumulators);
    Value lane16 = arith::RemUIOp::create(b, loc, lane, constant(b, loc, 16));
    Value lane8 = arith::RemUIOp::create(b, loc, lane, constant(b, loc, 8));
    Value half = arith::DivUIOp::create(b, loc, lane, constant(b, loc, 16));
    Value quarterOdd = arith::RemUIOp::create(
        b, loc, arith::DivUIOp::create(b, loc, lane, constant(b, loc, 8)),
        constant(b, loc, 2));
    NVVM::MMATypes type =
        element.isBF16() ? NVVM::MMATypes::bf16 : NVVM::MMATypes::f16;
    Type f32 = b.getF32Type();
    Type resultType =
        LLVM::LLVMStructType::getLiteral(b.getContext(), {f32, f32, f32, f32});
    for (int64_t step = 0; step < kTileK / 16; ++step) {
      // A: matrices (rows 0-7, k 0-7), (8-15, 0-7), (0-7, 8-15), (8-15,
      // 8-15): lane l gives row l % 16 at k (l / 16) * 8.
      SmallVector<SmallVector<Value>> a;
      for (int64_t mt = 0; mt < mTiles; ++mt) {
        Value row = arith::AddIOp::create(
            b, loc, warpRow,
            arith::AddIOp::create(b, loc, constant(b, loc, mt * 16), lane16));
        Value k = arith::AddIOp::create(
            b, loc, constant(b, loc, step * 16),
            arith::MulIOp::create(b, loc, half, constant(b, loc, 8)));
        a.push_back(registers(b, loc, ldmatrix(b, loc, stagesA, stage, row, k)));
      }
      // B (rows n, k contiguous): matrices (n 0-7, k 0-7), (0-7, 8-15),
      // (8-15, 0-7), (8-15, 8-15), i.e. b0 b1 of two n8 tiles.
      SmallVector<SmallVector<Value>> bTiles;
      for (int64_t np = 0; np < nTiles / 2; ++np) {
        Value row = arith::AddIOp::create(
            b, loc, warpColumn,
            arith::AddIOp::create(
                b, loc, constant(b, loc, np * 16),
                arith::AddIOp::create(
                    b, loc, arith::MulIOp::create(b, loc, half, constant(b, loc, 8)),
                    lane8)));
        Value k = arith::AddIOp::create(
            b, loc, constant(b, loc, step * 16),
            arith::MulIOp::create(b, loc, quarterOdd, constant(b, loc, 8)));
        SmallVector<Value> words =
            registers(b, loc, ldmatrix(b, loc, stagesB, stage, row, k));
        bTiles.push_back({words[0], words[1]});
        bTiles.push_back({words[2], words[3]});
      }
      for (int64_t mt = 0; mt < mTiles; ++mt) {
        for (int64_t nt = 0; nt < nTiles; ++nt) {
          int64_t first = (mt * nTiles + nt) * 4;
          ArrayRef<Value> c = ArrayRef<Value>(result).slice(first, 4);
          auto mma = NVVM::MmaOp::create(
              b, loc, resultType, a[mt], bTiles[nt], c,
              ArrayRef<int64_t>{16, 8, 16}, std::nullopt, std::nullopt,
              std::array<NVVM::MMATypes, 2>{type, type},
              std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                             NVVM::MMALayout::col});
          for (int64_t i = 0; i < 4; ++i)
            result[first + i] = LLVM::ExtractValueOp::create(
                b, loc, mma.getResult(), ArrayRef<int64_t>{i});
        }
      }
    }
    return result;
  }

  LogicalResult buildThread(OpBuilder &b, Location loc, Value thread) {
    MLIRContext *context = b.getContext();
    Value warp = arith::DivUIOp::create(b, loc, thread, constant(b, loc, kWarpSize));
    Value lane = arith::RemUIOp::create(b, loc, thread, constant(b, loc, kWarpSize));
    Value warpRow = arith::MulIOp::create(
        b, loc, arith::DivUIOp::create(b, loc, warp, constant(b, loc, kWarpColumns)),
        constant(b, loc, warpRows));
    Value warpColumn = arith::MulIOp::create(
        b, loc, arith::RemUIOp::create(b, loc, warp, constant(b, loc, kWarpColumns)),
        constant(b, loc, warpColumns));
    int64_t tiles = llvm::divideCeil(parts.k, kTileK);
    auto tokenType = nvgpu::DeviceAsyncTokenType::get(context);

    // Prologue: tiles 0 .. S-2, one group each (empty past the last tile,
    // so that the group count stays S-1 ahead of the loop).
    Value group;
    for (int64_t tile = 0; tile < kStages - 1; ++tile) {
      if (tile < tiles &&
          failed(request(b, loc, thread, constant(b, loc, tile),
                         constant(b, loc, tile))))
        return failure();
      group = nvgpu::DeviceAsyncCreateGroupOp::create(b, loc, tokenType,
                                                      ValueRange());
    }

    Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
    SmallVector<Value> initial(mTiles * nTiles * 4, zero);
    initial.push_back(group);
    auto loop = scf::ForOp::create(b, loc, constant(b, loc, 0),
                                   constant(b, loc, tiles), constant(b, loc, 1),
                                   initial);
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
                                         constant(b, loc, kStages - 1));
      auto ifOp = scf::IfOp::create(
          b, loc,
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, next,
                                constant(b, loc, tiles)),
          /*withElseRegion=*/false);
      {
        OpBuilder::InsertionGuard inner(b);
        b.setInsertionPointToStart(ifOp.thenBlock());
        if (failed(request(b, loc, thread, next,
                           arith::RemUIOp::create(b, loc, next,
                                                  constant(b, loc, kStages)))))
          return failure();
      }
      Value nextGroup = nvgpu::DeviceAsyncCreateGroupOp::create(
          b, loc, tokenType, ValueRange());
      Value stage =
          arith::RemUIOp::create(b, loc, tile, constant(b, loc, kStages));
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
    Value group = arith::DivUIOp::create(b, loc, lane, constant(b, loc, 4));
    Value pairColumn = arith::MulIOp::create(
        b, loc, arith::RemUIOp::create(b, loc, lane, constant(b, loc, 4)),
        constant(b, loc, 2));
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
                      b, loc, constant(b, loc, mt * 16 + (i / 2) * 8), group)));
          Value n = arith::AddIOp::create(
              b, loc, columnBase,
              arith::AddIOp::create(
                  b, loc, warpColumn,
                  arith::AddIOp::create(
                      b, loc, constant(b, loc, nt * 8 + i % 2), pairColumn)));
          Value inside =
              arith::AndIOp::create(b, loc, lessThan(b, loc, m, parts.m),
                                    lessThan(b, loc, n, parts.n));
          auto ifOp = scf::IfOp::create(b, loc, inside, /*withElseRegion=*/false);
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(ifOp.thenBlock());
          // The output's leading dimensions split M; the last is N.
          SmallVector<Value> indices;
          if (outputShape.size() > 2 ||
              (outputShape.size() == 2 && outputShape[0] != parts.m)) {
            llvm::append_range(
                indices, affine::AffineDelinearizeIndexOp::create(
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
  Value rowBase, columnBase, stagesA, stagesB;
};

struct CudaMmaLinearPass
    : vitc::cuda::impl::CudaMmaLinearPassBase<CudaMmaLinearPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp kernel = getOperation();
    if (!isKernelFunction(kernel) || kernel->hasAttr(kCudaKernelKindAttr))
      return;
    FailureOr<LinearParts> parts = matchLinear(kernel);
    if (failed(parts))
      return;
    auto [blockRows, blockColumns] =
        chooseBlockTile(parts->m, parts->n, getCudaTarget(sm));
    OpBuilder b(parts->store);
    MmaLinearBuilder builder(*parts, blockRows, blockColumns);
    if (failed(builder.build(b)))
      return signalPassFailure();
    // The tensor computation is now dead: erase it, users first.
    parts->store.erase();
    bool erased = true;
    while (erased) {
      erased = false;
      for (Operation &op :
           llvm::make_early_inc_range(llvm::reverse(kernel.getBody().front())))
        if (isOpTriviallyDead(&op)) {
          op.erase();
          erased = true;
        }
    }
    Builder attributes(&getContext());
    kernel->setAttr(kCudaBlockSizeAttr, attributes.getI64IntegerAttr(kThreads));
    kernel->setAttr(kCudaKernelKindAttr, attributes.getStringAttr("mma_linear"));
    kernel->setAttr(kCudaBlockTileAttr,
                    attributes.getDenseI64ArrayAttr({blockRows, blockColumns}));
  }
};

} // namespace
