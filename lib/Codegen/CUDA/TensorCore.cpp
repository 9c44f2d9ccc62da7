//===- TensorCore.cpp - Building blocks of tensor-core kernels ------------===//

#include "vitc/Codegen/CUDA/TensorCore.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"

using namespace mlir;
using namespace vitc::cuda;

Value vitc::cuda::bufferOf(Value value) {
  auto toTensor = value.getDefiningOp<bufferization::ToTensorOp>();
  return toTensor ? toTensor.getBuffer() : Value();
}

namespace vitc::cuda {

FailureOr<Value> ElementBuilder::build(Value tensor, ValueRange indices) {
  if (Value value = known.lookup(tensor))
    return value;
  if (Value buffer = bufferOf(tensor))
    return Value(memref::LoadOp::create(b, loc, buffer, indices));
  if (auto loader = loaded.find(tensor); loader != loaded.end())
    return loader->second(indices);
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
    for (const ReassociationIndices &group : expand.getReassociationIndices()) {
      SmallVector<Value> parts;
      SmallVector<int64_t> basis;
      for (int64_t dim : group) {
        parts.push_back(indices[dim]);
        basis.push_back(result[dim]);
      }
      sourceIndices.push_back(
          parts.size() == 1 ? parts.front()
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

/// Recomputes the element of an element-wise generic at `indices` (its
/// loop indices: its output map is the identity).
FailureOr<Value> ElementBuilder::buildGeneric(linalg::GenericOp generic,
                                              ValueRange indices) {
  if (generic.getNumReductionLoops() != 0 || generic.getNumDpsInits() != 1 ||
      !generic.getMatchingIndexingMap(generic.getDpsInitOperand(0))
           .isIdentity())
    return generic.emitError("expected an element-wise op with one output");
  return buildBody(generic, indices, Value());
}

FailureOr<Value> ElementBuilder::buildReductionStep(linalg::GenericOp generic,
                                                    ValueRange indices,
                                                    Value accumulator) {
  if (generic.getNumDpsInits() != 1)
    return generic.emitError("expected a reduction with one output");
  return buildBody(generic, indices, accumulator);
}

FailureOr<Value> ElementBuilder::buildBody(linalg::GenericOp generic,
                                           ValueRange indices, Value output) {
  Block &body = generic.getRegion().front();
  BlockArgument outputArgument = body.getArgument(generic.getNumDpsInputs());
  if (!output && !outputArgument.use_empty())
    return generic.emitError("expected an op not reading its output");
  IRMapping mapping;
  if (output)
    mapping.map(outputArgument, output);
  for (OpOperand *input : generic.getDpsInputOperands()) {
    SmallVector<Value> inputIndices;
    for (AffineExpr expr : generic.getMatchingIndexingMap(input).getResults())
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

Value butterflyReduce(OpBuilder &b, Location loc, Value value, int64_t lanes,
                      bool sum) {
  for (int32_t offset = 1; offset < lanes; offset *= 2) {
    Value other = gpu::ShuffleOp::create(b, loc, value, offset, /*width=*/32,
                                         gpu::ShuffleMode::XOR)
                      .getShuffleResult();
    value = sum ? Value(arith::AddFOp::create(b, loc, value, other))
                : Value(arith::MaximumFOp::create(b, loc, value, other));
  }
  return value;
}

scf::ForallOp createBlockLoop(OpBuilder &b, Location loc, int64_t rows,
                              int64_t columns) {
  MLIRContext *context = b.getContext();
  return scf::ForallOp::create(
      b, loc,
      ArrayRef<OpFoldResult>{b.getIndexAttr(rows), b.getIndexAttr(columns)},
      ValueRange(),
      b.getArrayAttr(
          {gpu::GPUBlockMappingAttr::get(context, gpu::MappingId::LinearDim1),
           gpu::GPUBlockMappingAttr::get(context,
                                         gpu::MappingId::LinearDim0)}));
}

scf::ForallOp createThreadLoop(OpBuilder &b, Location loc, int64_t threads) {
  return scf::ForallOp::create(
      b, loc, ArrayRef<OpFoldResult>{b.getIndexAttr(threads)}, ValueRange(),
      b.getArrayAttr({gpu::GPUThreadMappingAttr::get(
          b.getContext(), gpu::MappingId::LinearDim0)}));
}

Value allocateWorkgroupTile(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                            Type element) {
  auto workgroup = gpu::AddressSpaceAttr::get(
      b.getContext(), gpu::GPUDialect::getWorkgroupAddressSpace());
  return memref::AllocOp::create(
      b, loc,
      MemRefType::get(shape, element, MemRefLayoutAttrInterface(), workgroup));
}

std::pair<Value, Value> distributedPiece(OpBuilder &b, Location loc,
                                         Value thread, int64_t round,
                                         int64_t threads, int64_t piecesPerRow,
                                         int64_t pieceElements) {
  Value piece = arith::AddIOp::create(b, loc, thread,
                                      indexConstant(b, loc, round * threads));
  Value row = arith::DivUIOp::create(b, loc, piece,
                                     indexConstant(b, loc, piecesPerRow));
  Value column = arith::MulIOp::create(
      b, loc,
      arith::RemUIOp::create(b, loc, piece,
                             indexConstant(b, loc, piecesPerRow)),
      indexConstant(b, loc, pieceElements));
  return {row, column};
}

LogicalResult
fillTilePairs(OpBuilder &b, Location loc, Value thread, int64_t threads,
              Value tile, ValueRange prefix, int64_t rows, int64_t rowElements,
              function_ref<Value(Value row, Value column)> inside,
              function_ref<FailureOr<Value>(Value row, Value column)> value) {
  Type element = cast<MemRefType>(tile.getType()).getElementType();
  auto pairType = VectorType::get({2}, element);
  int64_t pairsPerRow = rowElements / 2;
  for (int64_t i = 0; i < rows * pairsPerRow / threads; ++i) {
    auto [row, column] =
        distributedPiece(b, loc, thread, i, threads, pairsPerRow, 2);
    auto ifOp = scf::IfOp::create(b, loc, pairType, inside(row, column),
                                  /*withElseRegion=*/true);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(ifOp.thenBlock());
      SmallVector<Value> values;
      for (int64_t j = 0; j < 2; ++j) {
        FailureOr<Value> v =
            value(row, arith::AddIOp::create(b, loc, column,
                                             indexConstant(b, loc, j)));
        if (failed(v))
          return failure();
        values.push_back(
            v->getType() == element
                ? *v
                : Value(arith::TruncFOp::create(b, loc, element, *v)));
      }
      scf::YieldOp::create(
          b, loc,
          ValueRange{vector::FromElementsOp::create(b, loc, pairType, values)});
      b.setInsertionPointToStart(ifOp.elseBlock());
      scf::YieldOp::create(
          b, loc,
          ValueRange{arith::ConstantOp::create(
              b, loc, pairType,
              DenseElementsAttr::get(pairType, b.getFloatAttr(element, 0.0)))});
    }
    SmallVector<Value> indices(prefix);
    indices.push_back(row);
    indices.push_back(
        swizzledColumn(b, loc, row, column, rowElements, element));
    vector::StoreOp::create(b, loc, ifOp.getResult(0), tile, indices);
  }
  return success();
}

void eraseDeadOps(Block &block) {
  bool erased = true;
  while (erased) {
    erased = false;
    for (Operation &op : llvm::make_early_inc_range(llvm::reverse(block)))
      if (isOpTriviallyDead(&op)) {
        op.erase();
        erased = true;
      }
  }
}

Value indexConstant(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

int64_t chunkElements(Type element) {
  return kChunkBytes * 8 / element.getIntOrFloatBitWidth();
}

Value swizzledColumn(OpBuilder &b, Location loc, Value row, Value column,
                     int64_t rowElements, Type element) {
  int64_t chunkSize = chunkElements(element);
  int64_t chunks = rowElements / chunkSize;
  int64_t rowsPerLine = std::max<int64_t>(1, 8 / chunks);
  auto c = [&](int64_t value) { return indexConstant(b, loc, value); };
  Value chunk = arith::DivUIOp::create(b, loc, column, c(chunkSize));
  Value key = arith::RemUIOp::create(
      b, loc, arith::DivUIOp::create(b, loc, row, c(rowsPerLine)),
      c(std::min<int64_t>(chunks, 8)));
  Value swizzled = arith::XOrIOp::create(b, loc, chunk, key);
  return arith::AddIOp::create(
      b, loc, arith::MulIOp::create(b, loc, swizzled, c(chunkSize)),
      arith::RemUIOp::create(b, loc, column, c(chunkSize)));
}

SmallVector<Value, 4> MmaBuilder::ldmatrix(OpBuilder &b, Location loc,
                                           Value tile, ValueRange prefix,
                                           Value row, Value column,
                                           int64_t rowElements,
                                           bool transpose) const {
  SmallVector<Value> indices(prefix);
  indices.push_back(row);
  indices.push_back(swizzledColumn(b, loc, row, column, rowElements, element));
  Value fragment = nvgpu::LdMatrixOp::create(
      b, loc, VectorType::get({4, element.isF32() ? 1 : 2}, element), tile,
      indices, transpose, /*numTiles=*/4);
  SmallVector<Value, 4> registers;
  for (int64_t i = 0; i < 4; ++i)
    registers.push_back(operand(
        b, loc,
        vector::ExtractOp::create(b, loc, fragment, ArrayRef<int64_t>{i})));
  return registers;
}

Value MmaBuilder::operand(OpBuilder &b, Location loc, Value pair) const {
  if (element.isF16())
    return pair;
  if (element.isF32()) {
    // One f32, rounded to tf32 (nearest, ties away: cvt.rna.tf32.f32).
    Value value = vector::ExtractOp::create(b, loc, pair, ArrayRef<int64_t>{0});
    return NVVM::ConvertFloatToTF32Op::create(
        b, loc, b.getI32Type(), value, NVVM::FPRoundingMode::RNA,
        NVVM::SaturationMode::NONE, /*relu=*/false);
  }
  // A 1-d bitcast: the NVVM lowering handles no others.
  Value word = vector::BitCastOp::create(
      b, loc, VectorType::get({1}, b.getI32Type()), pair);
  return vector::ExtractOp::create(b, loc, word, ArrayRef<int64_t>{0});
}

Value MmaBuilder::pack(OpBuilder &b, Location loc, Value low,
                       Value high) const {
  Value pair = vector::FromElementsOp::create(
      b, loc, VectorType::get({2}, b.getF32Type()), ValueRange{low, high});
  return operand(
      b, loc,
      arith::TruncFOp::create(b, loc, VectorType::get({2}, element), pair));
}

std::array<Value, 4> MmaBuilder::mma(OpBuilder &b, Location loc, ValueRange a,
                                     ValueRange bRegs, ValueRange c) const {
  NVVM::MMATypes type = element.isBF16()  ? NVVM::MMATypes::bf16
                        : element.isF16() ? NVVM::MMATypes::f16
                                          : NVVM::MMATypes::tf32;
  Type f32 = b.getF32Type();
  auto mma = NVVM::MmaOp::create(
      b, loc,
      LLVM::LLVMStructType::getLiteral(b.getContext(), {f32, f32, f32, f32}), a,
      bRegs, c, ArrayRef<int64_t>{16, 8, kStep()}, std::nullopt, std::nullopt,
      std::array<NVVM::MMATypes, 2>{type, type},
      std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                     NVVM::MMALayout::col});
  std::array<Value, 4> d;
  for (int64_t i = 0; i < 4; ++i)
    d[i] = LLVM::ExtractValueOp::create(b, loc, mma.getResult(),
                                        ArrayRef<int64_t>{i});
  return d;
}

} // namespace vitc::cuda
