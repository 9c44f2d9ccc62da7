//===- TensorCore.h - Building blocks of tensor-core kernels ----*- C++ -*-===//
//
// What the hand-built tensor-core schedules (vit-cuda-mma-linear,
// vit-cuda-flash-attention) share: single elements of a kernel's tensors
// computed where a thread needs them, the swizzled layout of their shared
// tiles, and ldmatrix / mma.sync on 16-bit operands with f32 accumulators.
// See docs/codegen-cuda.md#tensor-cores---precision-bf16fp16.
//
//===----------------------------------------------------------------------===//

#ifndef VITC_CODEGEN_CUDA_TENSORCORE_H
#define VITC_CODEGEN_CUDA_TENSORCORE_H

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"

#include <array>
#include <functional>

namespace vitc::cuda {

/// The kernel buffer `value` is read from (`bufferization.to_tensor`), or
/// null.
mlir::Value bufferOf(mlir::Value value);

/// Builds single elements of a kernel's tensors where a thread needs them:
/// kernel inputs are loaded through the views the kernel takes of them
/// (collapse/expand shapes, static slices), and element-wise generics are
/// recomputed from the elements of their inputs, their bodies cloned (a
/// gather's tensor.extract included). `known` short-cuts values the caller
/// already has (a matmul's accumulator for the element being stored);
/// `loaded` gives tensors whose elements the caller has computed elsewhere
/// (row statistics in shared memory), as a load at given indices.
class ElementBuilder {
public:
  using Loader = std::function<mlir::Value(mlir::ValueRange indices)>;

  ElementBuilder(mlir::OpBuilder &b, mlir::Location loc) : b(b), loc(loc) {}

  llvm::DenseMap<mlir::Value, mlir::Value> known;
  llvm::DenseMap<mlir::Value, Loader> loaded;

  /// The element of `tensor` at `indices`; fails after reporting on the op
  /// that cannot be computed element by element.
  mlir::FailureOr<mlir::Value> build(mlir::Value tensor,
                                     mlir::ValueRange indices);

  /// One step of a reduction generic: its body at loop indices `indices`,
  /// with `accumulator` as the value of its output so far.
  mlir::FailureOr<mlir::Value>
  buildReductionStep(mlir::linalg::GenericOp generic, mlir::ValueRange indices,
                     mlir::Value accumulator);

private:
  mlir::FailureOr<mlir::Value> buildGeneric(mlir::linalg::GenericOp generic,
                                            mlir::ValueRange indices);
  /// The body of `generic` at loop indices `indices`, its output argument
  /// bound to `output` (null: the body must not read it).
  mlir::FailureOr<mlir::Value> buildBody(mlir::linalg::GenericOp generic,
                                         mlir::ValueRange indices,
                                         mlir::Value output);

  mlir::OpBuilder &b;
  mlir::Location loc;
};

/// Bytes of one ldmatrix row, cp.async copy and swizzle chunk.
inline constexpr int64_t kChunkBytes = 16;

/// Elements of `element` in one 16-byte chunk (8 for bf16/f16, 4 for f32).
int64_t chunkElements(mlir::Type element);

/// Column at which element `column` of row `row` lives in a shared tile of
/// `element`s whose rows hold `rowElements` (whole 16-byte chunks, at most
/// 256 bytes). The 16-byte chunks of a row are XOR-swizzled by the row's place
/// among the rows that share a 128-byte line: any 8 consecutive rows
/// (from a multiple of 8) at one logical chunk, which is what an 8x8
/// ldmatrix matrix reads, then hit 8 distinct 16-byte bank groups, and so
/// do the stores of whole rows.
mlir::Value swizzledColumn(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::Value row, mlir::Value column,
                           int64_t rowElements, mlir::Type element);

/// ldmatrix and mma.sync on `element` operands with f32 accumulators:
/// m16n8k16 for bf16 and f16; m16n8k8 on tf32 for f32 tiles, whose
/// fragments are rounded to tf32 (cvt.rna) as they are loaded. ldmatrix
/// moves 32-bit elements as pairs of 16-bit ones: an 8x8 matrix of b16 is
/// 8 rows of 4 f32, which is the tf32 fragment layout.
class MmaBuilder {
public:
  explicit MmaBuilder(mlir::Type element) : element(element) {}

  /// K of one mma.sync: 16, or 8 for tf32.
  int64_t kStep() const { return element.isF32() ? 8 : 16; }

  /// ldmatrix.x4 (optionally .trans) of the four 8x8 matrices whose rows
  /// this lane addresses: row `row`, column `column` of the swizzled tile
  /// `tile[prefix..., row, column]` of `rowElements` columns. Returns the
  /// four registers in mma.sync's operand form.
  llvm::SmallVector<mlir::Value, 4>
  ldmatrix(mlir::OpBuilder &b, mlir::Location loc, mlir::Value tile,
           mlir::ValueRange prefix, mlir::Value row, mlir::Value column,
           int64_t rowElements, bool transpose) const;

  /// Two f32 values rounded to the operand type and packed into one
  /// register (`low` first), as a fragment of P in flash attention.
  mlir::Value pack(mlir::OpBuilder &b, mlir::Location loc, mlir::Value low,
                   mlir::Value high) const;

  /// D = A x B + C for one 16 x 8 x 16 tile: `a` four registers, `b` two,
  /// `c` four f32; returns D's four f32 values.
  std::array<mlir::Value, 4> mma(mlir::OpBuilder &b, mlir::Location loc,
                                 mlir::ValueRange a, mlir::ValueRange bRegs,
                                 mlir::ValueRange c) const;

  mlir::Type getElement() const { return element; }

private:
  /// A pair of elements in mma.sync's operand form: vector<2xf16> for f16,
  /// a 32-bit word for bf16.
  mlir::Value operand(mlir::OpBuilder &b, mlir::Location loc,
                      mlir::Value pair) const;

  mlir::Type element;
};

/// The sum (or maximum) of `value` over groups of `lanes` consecutive lanes
/// (a power of two, at most 32), by XOR shuffles: every lane of a group gets
/// the result.
mlir::Value butterflyReduce(mlir::OpBuilder &b, mlir::Location loc,
                            mlir::Value value, int64_t lanes, bool sum);

/// The block loop of a hand-built schedule: a 2-d grid `rows` x `columns`,
/// the second dimension fastest (#gpu.block<linear_dim_1, linear_dim_0>).
mlir::scf::ForallOp createBlockLoop(mlir::OpBuilder &b, mlir::Location loc,
                                    int64_t rows, int64_t columns);

/// The one thread loop of a hand-built schedule: `threads` threads
/// (#gpu.thread<linear_dim_0>), each running the whole body.
mlir::scf::ForallOp createThreadLoop(mlir::OpBuilder &b, mlir::Location loc,
                                     int64_t threads);

/// A workgroup buffer of `element`s of `shape`.
mlir::Value allocateWorkgroupTile(mlir::OpBuilder &b, mlir::Location loc,
                                  llvm::ArrayRef<int64_t> shape,
                                  mlir::Type element);

/// Where the `round`-th piece of `thread` lies when `threads` threads
/// deal out pieces of `pieceElements` elements, `piecesPerRow` to a row,
/// each thread taking every `threads`-th: its row and its first column.
std::pair<mlir::Value, mlir::Value>
distributedPiece(mlir::OpBuilder &b, mlir::Location loc, mlir::Value thread,
                 int64_t round, int64_t threads, int64_t piecesPerRow,
                 int64_t pieceElements);

/// Fills `tile[prefix..., 0 .. rows, 0 .. rowElements]` (swizzled, see
/// swizzledColumn) with pairs of elements, `threads` threads each
/// storing every `threads`-th pair: `value(row, column)` computes the
/// element at (row, column) and (row, column + 1) where `inside(row,
/// column)` holds (both then; an f32 value is rounded to the tile's type),
/// and the pair is zero elsewhere. A warp
/// stores whole rows, which the swizzle keeps free of bank conflicts.
mlir::LogicalResult fillTilePairs(
    mlir::OpBuilder &b, mlir::Location loc, mlir::Value thread, int64_t threads,
    mlir::Value tile, mlir::ValueRange prefix, int64_t rows,
    int64_t rowElements,
    llvm::function_ref<mlir::Value(mlir::Value row, mlir::Value column)> inside,
    llvm::function_ref<mlir::FailureOr<mlir::Value>(mlir::Value row,
                                                    mlir::Value column)>
        value);

/// Erases the ops of `block` that are dead (their results unused and no
/// side effects), users first: the tensor computation a hand-built schedule
/// replaced.
void eraseDeadOps(mlir::Block &block);

/// An index constant.
mlir::Value indexConstant(mlir::OpBuilder &b, mlir::Location loc,
                          int64_t value);

} // namespace vitc::cuda

#endif // VITC_CODEGEN_CUDA_TENSORCORE_H
