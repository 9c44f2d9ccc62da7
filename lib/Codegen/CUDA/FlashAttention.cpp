//===- FlashAttention.cpp - Attention on tensor cores, online softmax -----===//
//
// The attention kernel of a model compiled with --precision bf16/fp16 gets a
// flash-attention schedule in place of the SIMT tiling:
//
//   scf.forall (image x head, block of 64 queries) {mapping = [#gpu.block]} {
//     Q [64], K and V [32] tiles of head-width rows, swizzled
//     scf.forall (128 threads = 4 warps of 16 query rows) {
//       Q tile computed, rounded, stored; barrier; each warp keeps its
//         16 x head-width Q fragments in registers (ldmatrix)
//       scf.for (block of 32 keys) iter_args(row max, row sum, O) {
//         barrier; K and V tiles computed, rounded, stored; barrier
//         S = Q K^T (mma.sync, f32), scaled by log2(e) / sqrt(head width),
//           keys past Tk masked to -inf
//         online softmax per row: new max (quad shuffles), rescale of the
//           running sum and of O by ex2(old max - new max), P = ex2(S - max)
//         O += P V: P's accumulators repacked as A fragments in registers,
//           V read with ldmatrix.trans
//       }
//       O / row sum, stored (f32) for the queries inside Tq
//     }
//   }
//
// The [Tq, Tk] scores never leave registers: a warp holds 16 x 32 of them at
// a time. Statistics and accumulation are f32; the operands of both
// products (Q, K, V and the probabilities P) are rounded to the precision.
//
//===----------------------------------------------------------------------===//

#include "vitc/Codegen/CUDA/Passes.h"
#include "vitc/Codegen/CUDA/TensorCore.h"
#include "vitc/Codegen/CUDA/TileHeuristics.h"

#include "mlir/Dialect/Math/IR/Math.h"

#include <cmath>

namespace vitc::cuda {
#define GEN_PASS_DEF_CUDAFLASHATTENTIONPASS
#include "vitc/Codegen/CUDA/Passes.h.inc"
} // namespace vitc::cuda

using namespace mlir;
using namespace vitc;
using namespace vitc::cuda;

namespace {

/// Queries per block (16 per warp) and keys per step (see above).
constexpr int64_t kQueries = 64, kKeys = 32;
constexpr int64_t kWarps = 4, kWarpSize = 32;
/// The lanes of a quad, which hold one row of an accumulator tile: row
/// statistics are reduced over them.
constexpr int64_t kQuad = 4;
constexpr int64_t kThreads = kWarps * kWarpSize;

/// The attention kernel as vit.attention_core lowers: scores = Q K^T over
/// [B, Tq, H, D] and [B, Tk, H, D] views of the kernel input, a softmax over
/// [B, H, Tq, Tk], and O = P V written to a [B, Tq, H, D] view of the
/// output.
struct AttentionParts {
  Value query, key, value;
  Value output;
  bufferization::MaterializeInDestinationOp store;
  int64_t batch, queries, keys, heads, width;
};

FailureOr<AttentionParts> matchAttention(func::FuncOp kernel) {
  if (classifyKernel(kernel) != KernelKind::Attention)
    return failure();
  auto stores = kernel.getOps<bufferization::MaterializeInDestinationOp>();
  if (!llvm::hasSingleElement(stores))
    return failure();
  SmallVector<linalg::GenericOp> contractions;
  kernel.walk([&](linalg::GenericOp op) {
    if (linalg::isaContractionOpInterface(op))
      contractions.push_back(op);
  });
  if (contractions.size() != 2)
    return failure();
  AttentionParts parts;
  parts.store = *stores.begin();
  linalg::GenericOp scores = contractions[0], mix = contractions[1];
  if (parts.store.getSource() != mix.getResult(0))
    return failure();
  parts.query = scores.getDpsInputs()[0];
  parts.key = scores.getDpsInputs()[1];
  parts.value = mix.getDpsInputs()[1];
  parts.output = parts.store.getDest();
  auto shape = [](Value value) {
    return cast<ShapedType>(value.getType()).getShape();
  };
  ArrayRef<int64_t> q = shape(parts.query), v = shape(parts.value);
  if (v.size() != 4 || q.size() != 4 || shape(parts.key) != v ||
      shape(parts.output) != q || q[0] != v[0] || q[2] != v[2] || q[3] != v[3])
    return failure();
  parts.batch = v[0];
  parts.queries = q[1];
  parts.keys = v[1];
  parts.heads = v[2];
  parts.width = v[3];
  ArrayRef<int64_t> s = shape(scores.getResult(0));
  if (s !=
      ArrayRef<int64_t>{parts.batch, parts.heads, parts.queries, parts.keys})
    return failure();
  // Head widths the register tiles handle: whole k16 steps, and O and the
  // Q fragments in registers.
  if (parts.width % 16 != 0 || parts.width > 128)
    return failure();
  return parts;
}

class FlashAttentionBuilder {
public:
  FlashAttentionBuilder(AttentionParts parts, Type element)
      : parts(parts), element(element), mma(element) {}

  LogicalResult build(OpBuilder &b) {
    Location loc = parts.store.getLoc();
    auto blocks = createBlockLoop(b, loc, parts.batch * parts.heads,
                                  llvm::divideCeil(parts.queries, kQueries));
    b.setInsertionPointToStart(blocks.getBody());
    Value imageHead = blocks.getInductionVar(0);
    image = arith::DivUIOp::create(b, loc, imageHead, c(b, loc, parts.heads));
    head = arith::RemUIOp::create(b, loc, imageHead, c(b, loc, parts.heads));
    queryBase = arith::MulIOp::create(b, loc, blocks.getInductionVar(1),
                                      c(b, loc, kQueries));
    tileQ = allocateWorkgroupTile(b, loc, {kQueries, parts.width}, element);
    tileK = allocateWorkgroupTile(b, loc, {kKeys, parts.width}, element);
    tileV = allocateWorkgroupTile(b, loc, {kKeys, parts.width}, element);
    auto threads = createThreadLoop(b, loc, kThreads);
    b.setInsertionPointToStart(threads.getBody());
    return buildThread(b, loc, threads.getInductionVar(0));
  }

private:
  static Value c(OpBuilder &b, Location loc, int64_t value) {
    return indexConstant(b, loc, value);
  }

  Value f32(OpBuilder &b, Location loc, float value) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(value));
  }

  /// Fills the `rows` of `tile` with tokens base + r (zero from `tokens`
  /// on) of `source` ([B, tokens, H, D]) for this block's image and head.
  LogicalResult fillTile(OpBuilder &b, Location loc, Value thread, Value tile,
                         int64_t rows, Value source, int64_t tokens,
                         Value base) {
    auto token = [&](Value row) {
      return arith::AddIOp::create(b, loc, base, row);
    };
    return fillTilePairs(
        b, loc, thread, kThreads, tile, {}, rows, parts.width,
        [&](Value row, Value) -> Value {
          return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                       token(row), c(b, loc, tokens));
        },
        [&](Value row, Value column) {
          ElementBuilder elements(b, loc);
          return elements.build(source, {image, token(row), head, column});
        });
  }

  LogicalResult buildThread(OpBuilder &b, Location loc, Value thread) {
    Value warp = arith::DivUIOp::create(b, loc, thread, c(b, loc, kWarpSize));
    Value lane = arith::RemUIOp::create(b, loc, thread, c(b, loc, kWarpSize));
    Value lane16 = arith::RemUIOp::create(b, loc, lane, c(b, loc, 16));
    Value lane8 = arith::RemUIOp::create(b, loc, lane, c(b, loc, 8));
    Value half8 = arith::MulIOp::create(
        b, loc, arith::DivUIOp::create(b, loc, lane, c(b, loc, 16)),
        c(b, loc, 8));
    Value odd8 = arith::MulIOp::create(
        b, loc,
        arith::RemUIOp::create(
            b, loc, arith::DivUIOp::create(b, loc, lane, c(b, loc, 8)),
            c(b, loc, 2)),
        c(b, loc, 8));
    Value group = arith::DivUIOp::create(b, loc, lane, c(b, loc, 4));
    Value pairColumn = arith::MulIOp::create(
        b, loc, arith::RemUIOp::create(b, loc, lane, c(b, loc, 4)),
        c(b, loc, 2));
    Value warpRow = arith::MulIOp::create(b, loc, warp, c(b, loc, 16));
    int64_t steps = parts.width / 16, outputTiles = parts.width / 8;

    // Q, once: this warp's 16 rows as A fragments, one per k16 step.
    if (failed(fillTile(b, loc, thread, tileQ, kQueries, parts.query,
                        parts.queries, queryBase)))
      return failure();
    gpu::BarrierOp::create(b, loc);
    SmallVector<SmallVector<Value, 4>> q;
    for (int64_t step = 0; step < steps; ++step)
      q.push_back(mma.ldmatrix(
          b, loc, tileQ, {}, arith::AddIOp::create(b, loc, warpRow, lane16),
          arith::AddIOp::create(b, loc, c(b, loc, step * 16), half8),
          parts.width, /*transpose=*/false));

    // Carried: the max and sum of rows g and g + 8, then O's accumulators.
    Value negInf = f32(b, loc, -INFINITY), zero = f32(b, loc, 0.0f);
    SmallVector<Value> initial{negInf, negInf, zero, zero};
    initial.append(outputTiles * 4, zero);
    int64_t keyBlocks = llvm::divideCeil(parts.keys, kKeys);
    auto loop = scf::ForOp::create(b, loc, c(b, loc, 0), c(b, loc, keyBlocks),
                                   c(b, loc, 1), initial);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value keyBase = arith::MulIOp::create(b, loc, loop.getInductionVar(),
                                            c(b, loc, kKeys));
      ValueRange carried = loop.getRegionIterArgs();
      // Every warp is done with the previous keys before they are replaced.
      gpu::BarrierOp::create(b, loc);
      if (failed(fillTile(b, loc, thread, tileK, kKeys, parts.key, parts.keys,
                          keyBase)) ||
          failed(fillTile(b, loc, thread, tileV, kKeys, parts.value, parts.keys,
                          keyBase)))
        return failure();
      gpu::BarrierOp::create(b, loc);

      // S = Q K^T: 4 tiles of 16 x 8 (32 keys), K rows being B's columns.
      SmallVector<std::array<Value, 4>> s(kKeys / 8, {zero, zero, zero, zero});
      for (int64_t step = 0; step < steps; ++step) {
        for (int64_t np = 0; np < kKeys / 16; ++np) {
          Value row = arith::AddIOp::create(
              b, loc, c(b, loc, np * 16),
              arith::AddIOp::create(b, loc, half8, lane8));
          Value column =
              arith::AddIOp::create(b, loc, c(b, loc, step * 16), odd8);
          SmallVector<Value, 4> k = mma.ldmatrix(
              b, loc, tileK, {}, row, column, parts.width, /*transpose=*/false);
          s[2 * np] = mma.mma(b, loc, q[step], {k[0], k[1]}, s[2 * np]);
          s[2 * np + 1] = mma.mma(b, loc, q[step], {k[2], k[3]}, s[2 * np + 1]);
        }
      }

      // Scaled into base 2, keys past Tk masked; row maxima.
      Value scale =
          f32(b, loc, float(M_LOG2E / std::sqrt(double(parts.width))));
      Value rowMax[2] = {negInf, negInf};
      for (int64_t nt = 0; nt < kKeys / 8; ++nt)
        for (int64_t i = 0; i < 4; ++i) {
          Value key = arith::AddIOp::create(
              b, loc, keyBase,
              arith::AddIOp::create(b, loc, c(b, loc, nt * 8 + i % 2),
                                    pairColumn));
          Value inside = arith::CmpIOp::create(
              b, loc, arith::CmpIPredicate::ult, key, c(b, loc, parts.keys));
          s[nt][i] = arith::SelectOp::create(
              b, loc, inside, arith::MulFOp::create(b, loc, s[nt][i], scale),
              negInf);
          rowMax[i / 2] =
              arith::MaximumFOp::create(b, loc, rowMax[i / 2], s[nt][i]);
        }
      SmallVector<Value> next(carried.begin(), carried.end());
      Value correction[2];
      for (int64_t h = 0; h < 2; ++h) {
        Value newMax = arith::MaximumFOp::create(
            b, loc, carried[h],
            butterflyReduce(b, loc, rowMax[h], kQuad, /*sum=*/false));
        correction[h] = math::Exp2Op::create(
            b, loc, arith::SubFOp::create(b, loc, carried[h], newMax));
        next[h] = newMax;
        next[2 + h] =
            arith::MulFOp::create(b, loc, carried[2 + h], correction[h]);
      }
      // P = ex2(S - max), summed into this thread's part of the row sums.
      for (int64_t nt = 0; nt < kKeys / 8; ++nt)
        for (int64_t i = 0; i < 4; ++i) {
          s[nt][i] = math::Exp2Op::create(
              b, loc, arith::SubFOp::create(b, loc, s[nt][i], next[i / 2]));
          next[2 + i / 2] =
              arith::AddFOp::create(b, loc, next[2 + i / 2], s[nt][i]);
        }
      for (int64_t nt = 0; nt < outputTiles; ++nt)
        for (int64_t i = 0; i < 4; ++i)
          next[4 + nt * 4 + i] = arith::MulFOp::create(
              b, loc, carried[4 + nt * 4 + i], correction[i / 2]);

      // O += P V, 16 keys per step: two S tiles are one A fragment.
      for (int64_t step = 0; step < kKeys / 16; ++step) {
        const std::array<Value, 4> &left = s[2 * step],
                                   &right = s[2 * step + 1];
        SmallVector<Value> a{mma.pack(b, loc, left[0], left[1]),
                             mma.pack(b, loc, left[2], left[3]),
                             mma.pack(b, loc, right[0], right[1]),
                             mma.pack(b, loc, right[2], right[3])};
        Value row =
            arith::AddIOp::create(b, loc, c(b, loc, step * 16),
                                  arith::AddIOp::create(b, loc, lane8, odd8));
        for (int64_t dp = 0; dp < outputTiles / 2; ++dp) {
          Value column =
              arith::AddIOp::create(b, loc, c(b, loc, dp * 16), half8);
          SmallVector<Value, 4> v = mma.ldmatrix(
              b, loc, tileV, {}, row, column, parts.width, /*transpose=*/true);
          for (int64_t half = 0; half < 2; ++half) {
            int64_t first = 4 + (2 * dp + half) * 4;
            std::array<Value, 4> o =
                mma.mma(b, loc, a, {v[2 * half], v[2 * half + 1]},
                        ArrayRef<Value>(next).slice(first, 4));
            std::copy(o.begin(), o.end(), next.begin() + first);
          }
        }
      }
      scf::YieldOp::create(b, loc, next);
    }

    // O / row sum, for the queries inside Tq.
    ValueRange results = loop.getResults();
    Value inverse[2];
    for (int64_t h = 0; h < 2; ++h)
      inverse[h] = arith::DivFOp::create(
          b, loc, f32(b, loc, 1.0f),
          butterflyReduce(b, loc, results[2 + h], kQuad, /*sum=*/true));
    for (int64_t h = 0; h < 2; ++h) {
      Value token = arith::AddIOp::create(
          b, loc, queryBase,
          arith::AddIOp::create(
              b, loc, warpRow,
              arith::AddIOp::create(b, loc, group, c(b, loc, 8 * h))));
      Value inside = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                           token, c(b, loc, parts.queries));
      auto ifOp = scf::IfOp::create(b, loc, inside, /*withElseRegion=*/false);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(ifOp.thenBlock());
      for (int64_t nt = 0; nt < outputTiles; ++nt)
        for (int64_t j = 0; j < 2; ++j) {
          Value d =
              arith::AddIOp::create(b, loc, c(b, loc, nt * 8 + j), pairColumn);
          Value o = arith::MulFOp::create(
              b, loc, results[4 + nt * 4 + 2 * h + j], inverse[h]);
          memref::StoreOp::create(b, loc, o, parts.output,
                                  ValueRange{image, token, head, d});
        }
    }
    return success();
  }

  AttentionParts parts;
  Type element;
  MmaBuilder mma;
  Value image, head, queryBase, tileQ, tileK, tileV;
};

struct CudaFlashAttentionPass
    : vitc::cuda::impl::CudaFlashAttentionPassBase<CudaFlashAttentionPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp kernel = getOperation();
    if (!isKernelFunction(kernel) || kernel->hasAttr(kCudaKernelKindAttr))
      return;
    Builder builder(&getContext());
    Type element = precision == "bf16"  ? Type(builder.getBF16Type())
                   : precision == "f16" ? Type(builder.getF16Type())
                                        : Type();
    if (!element) {
      kernel.emitError("vit-cuda-flash-attention: unknown precision '")
          << precision << "'; expected bf16 or f16";
      return signalPassFailure();
    }
    FailureOr<AttentionParts> parts = matchAttention(kernel);
    if (failed(parts))
      return;
    OpBuilder b(parts->store);
    FlashAttentionBuilder flash(*parts, element);
    if (failed(flash.build(b)))
      return signalPassFailure();
    // The tensor computation is now dead: erase it, users first.
    parts->store.erase();
    eraseDeadOps(kernel.getBody().front());
    kernel->setAttr(kCudaBlockSizeAttr, builder.getI64IntegerAttr(kThreads));
    kernel->setAttr(kCudaKernelKindAttr,
                    builder.getStringAttr("flash_attention"));
    kernel->setAttr(kCudaBlockTileAttr,
                    builder.getDenseI64ArrayAttr({1, kQueries}));
    // S, O and the Q fragments take ~120 registers, more than ptxas allots
    // a 128-thread block unless told that one block per multiprocessor
    // will do (it still fits four).
    kernel->setAttr(kCudaMinBlocksPerMultiprocessorAttr,
                    builder.getI64IntegerAttr(1));
  }
};

} // namespace
