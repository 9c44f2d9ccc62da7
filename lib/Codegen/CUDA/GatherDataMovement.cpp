//===- GatherDataMovement.cpp - Copies of kernel inputs as gathers --------===//
//
// A kernel becomes one launch only if every op of it fuses into the tile of
// the op computing its result. Tile-and-fuse follows tensor.extract_slice
// through producers that implement TilingInterface (and, with bubbling,
// through simple reshapes), but not through copies such as a transpose under
// a collapse_shape (patchify) or insert_slices (prepend token). This pass
// turns those copies into element-wise gathers, which do fuse.
//
//===----------------------------------------------------------------------===//

#include "vitc/Codegen/CUDA/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "llvm/ADT/TypeSwitch.h"

namespace vitc::cuda {
#define GEN_PASS_DEF_CUDAGATHERDATAMOVEMENTPASS
#include "vitc/Codegen/CUDA/Passes.h.inc"
} // namespace vitc::cuda

using namespace mlir;
using namespace vitc;
using namespace vitc::cuda;

//===----------------------------------------------------------------------===//
// Data movement as gathers
//===----------------------------------------------------------------------===//

/// Ops that only rearrange elements of their tensor operands.
static bool isDataMovement(Operation *op) {
  auto isStatic = [](OffsetSizeAndStrideOpInterface slice) {
    return !ShapedType::isDynamicShape(slice.getStaticOffsets()) &&
           !ShapedType::isDynamicShape(slice.getStaticSizes()) &&
           !ShapedType::isDynamicShape(slice.getStaticStrides());
  };
  if (auto slice = dyn_cast<OffsetSizeAndStrideOpInterface>(op))
    return isa<tensor::ExtractSliceOp, tensor::InsertSliceOp>(op) &&
           isStatic(slice);
  return isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp, tensor::EmptyOp,
             linalg::TransposeOp, linalg::BroadcastOp>(op);
}

/// Data movement that bufferizes to a copy rather than to a view.
static bool copiesData(Operation *op) {
  return isa<tensor::InsertSliceOp, linalg::TransposeOp, linalg::BroadcastOp>(
      op);
}

/// The tensors `op` moves data from.
static SmallVector<Value> movedOperands(Operation *op) {
  return TypeSwitch<Operation *, SmallVector<Value>>(op)
      .Case([](tensor::InsertSliceOp insert) {
        return SmallVector<Value>{insert.getSource(), insert.getDest()};
      })
      .Case([](linalg::TransposeOp transpose) {
        return SmallVector<Value>{transpose.getInput()};
      })
      .Case([](linalg::BroadcastOp broadcast) {
        return SmallVector<Value>{broadcast.getInput()};
      })
      .Case([](tensor::EmptyOp) { return SmallVector<Value>{}; })
      .Default(
          [](Operation *op) { return SmallVector<Value>{op->getOperand(0)}; });
}

/// Whether `value` is data movement of kernel inputs and constants only, and
/// whether any of it copies.
static bool isMovedInput(Value value, bool &copies) {
  Operation *op = value.getDefiningOp();
  if (!op)
    return true;
  if (op->hasTrait<OpTrait::ConstantLike>())
    return true;
  if (!isDataMovement(op))
    return false;
  copies |= copiesData(op);
  return llvm::all_of(movedOperands(op), [&](Value operand) {
    return isMovedInput(operand, copies);
  });
}

namespace {

/// Emits, for a value that is data movement of inputs, the scalar at given
/// indices, read from the inputs with tensor.extract.
class GatherEmitter {
public:
  explicit GatherEmitter(ImplicitLocOpBuilder &b) : b(b) {}

  Value emit(Value value, SmallVector<Value> indices) {
    Operation *op = value.getDefiningOp();
    if (!op || !isDataMovement(op))
      return tensor::ExtractOp::create(b, value, indices);
    return TypeSwitch<Operation *, Value>(op)
        .Case([&](tensor::ExpandShapeOp expand) {
          // Each source index is its group of result indices, linearized.
          ArrayRef<int64_t> shape = expand.getResultType().getShape();
          SmallVector<Value> source;
          for (ReassociationIndices group : expand.getReassociationIndices())
            source.push_back(linearize(indices, shape, group));
          return emit(expand.getSrc(), source);
        })
        .Case([&](tensor::CollapseShapeOp collapse) {
          ArrayRef<int64_t> shape = collapse.getSrcType().getShape();
          SmallVector<Value> source;
          for (auto [index, group] :
               llvm::enumerate(collapse.getReassociationIndices())) {
            SmallVector<int64_t> basis = llvm::map_to_vector(
                group, [&](int64_t dim) { return shape[dim]; });
            if (basis.size() == 1) {
              source.push_back(indices[index]);
              continue;
            }
            llvm::append_range(source, affine::AffineDelinearizeIndexOp::create(
                                           b, indices[index], basis)
                                           .getResults());
          }
          return emit(collapse.getSrc(), source);
        })
        .Case([&](tensor::ExtractSliceOp slice) {
          llvm::SmallBitVector dropped = slice.getDroppedDims();
          SmallVector<Value> source;
          unsigned next = 0;
          for (auto [dim, offset, stride] : llvm::enumerate(
                   slice.getStaticOffsets(), slice.getStaticStrides())) {
            Value index = dropped.test(dim) ? constant(0) : indices[next++];
            source.push_back(affine(index, stride, offset));
          }
          return emit(slice.getSource(), source);
        })
        .Case([&](tensor::InsertSliceOp insert) {
          return emitInsert(insert, indices);
        })
        .Case([&](linalg::TransposeOp transpose) {
          SmallVector<Value> source(indices.size());
          for (auto [index, dim] : llvm::enumerate(transpose.getPermutation()))
            source[dim] = indices[index];
          return emit(transpose.getInput(), source);
        })
        .Case([&](linalg::BroadcastOp broadcast) {
          SmallVector<Value> source;
          for (auto [dim, index] : llvm::enumerate(indices))
            if (!llvm::is_contained(broadcast.getDimensions(), dim))
              source.push_back(index);
          return emit(broadcast.getInput(), source);
        })
        .Default([&](Operation *) {
          // tensor.empty: the contents are undefined, any value will do.
          Type type = cast<ShapedType>(value.getType()).getElementType();
          return arith::ConstantOp::create(b, b.getZeroAttr(type));
        });
  }

private:
  /// The inserted source where the indices fall into it, the destination
  /// elsewhere. Both are read (with the source indices clamped into range),
  /// so that the gather stays free of control flow.
  Value emitInsert(tensor::InsertSliceOp insert, ArrayRef<Value> indices) {
    Value inside;
    SmallVector<Value> source;
    ArrayRef<int64_t> shape = insert.getDestType().getShape();
    for (auto [index, offset, size, extent] :
         llvm::zip(indices, insert.getStaticOffsets(), insert.getStaticSizes(),
                   shape)) {
      if (size == extent) {
        source.push_back(index);
        continue;
      }
      Value lower = constant(offset), upper = constant(offset + size);
      Value within = arith::AndIOp::create(
          b, arith::CmpIOp::create(b, arith::CmpIPredicate::sge, index, lower),
          arith::CmpIOp::create(b, arith::CmpIPredicate::slt, index, upper));
      inside = inside ? arith::AndIOp::create(b, inside, within) : within;
      Value shifted = arith::SubIOp::create(b, index, lower);
      Value clamped = arith::MaxSIOp::create(b, shifted, constant(0));
      source.push_back(arith::MinSIOp::create(b, clamped, constant(size - 1)));
    }
    // Drop the unit dimensions a rank-extending insert adds.
    SmallVector<Value> sourceIndices;
    llvm::SmallBitVector dropped = insert.getDroppedDims();
    for (auto [dim, index] : llvm::enumerate(source))
      if (!dropped.test(dim))
        sourceIndices.push_back(index);
    Value inserted = emit(insert.getSource(), sourceIndices);
    if (!inside || insert.getDest().getDefiningOp<tensor::EmptyOp>())
      return inserted;
    Value original = emit(insert.getDest(), SmallVector<Value>(indices));
    return arith::SelectOp::create(b, inside, inserted, original);
  }

  /// index * stride + offset.
  Value affine(Value index, int64_t stride, int64_t offset) {
    if (stride != 1)
      index = arith::MulIOp::create(b, index, constant(stride));
    if (offset != 0)
      index = arith::AddIOp::create(b, index, constant(offset));
    return index;
  }

  Value linearize(ArrayRef<Value> indices, ArrayRef<int64_t> shape,
                  ArrayRef<int64_t> group) {
    if (group.size() == 1)
      return indices[group.front()];
    SmallVector<Value> multi;
    SmallVector<int64_t> basis;
    for (int64_t dim : group) {
      multi.push_back(indices[dim]);
      basis.push_back(shape[dim]);
    }
    return affine::AffineLinearizeIndexOp::create(b, multi, basis,
                                                  /*disjoint=*/true);
  }

  Value constant(int64_t value) {
    return arith::ConstantIndexOp::create(b, value);
  }

  ImplicitLocOpBuilder &b;
};

} // namespace

/// Erases `op`, if it is data movement whose result is unused, and then the
/// data movement that fed only it.
static void eraseDeadDataMovement(Operation *op) {
  if (!op || !isDataMovement(op) || !op->use_empty())
    return;
  SmallVector<Value> operands(op->getOperands());
  op->erase();
  for (Value operand : operands)
    eraseDeadDataMovement(operand.getDefiningOp());
}

/// Replaces every outermost copying chain of data movement over inputs (one
/// whose result feeds something else than data movement) by an element-wise
/// linalg.generic gathering each element from the inputs.
static void rewriteCopiesAsGathers(func::FuncOp kernel) {
  SmallVector<Value> chains;
  kernel.walk([&](Operation *op) {
    if (!isDataMovement(op) || isa<tensor::EmptyOp>(op))
      return;
    Value result = op->getResult(0);
    bool feedsCompute = llvm::any_of(result.getUsers(), [](Operation *user) {
      return !isDataMovement(user);
    });
    bool copies = false;
    if (feedsCompute && isMovedInput(result, copies) && copies)
      chains.push_back(result);
  });
  for (Value chain : chains) {
    auto type = cast<RankedTensorType>(chain.getType());
    OpBuilder builder(chain.getContext());
    builder.setInsertionPointAfterValue(chain);
    Location loc = chain.getLoc();
    Value init = tensor::EmptyOp::create(builder, loc, type.getShape(),
                                         type.getElementType());
    auto gather = linalg::GenericOp::create(
        builder, loc, type, ValueRange{}, init,
        builder.getMultiDimIdentityMap(type.getRank()),
        SmallVector<utils::IteratorType>(type.getRank(),
                                         utils::IteratorType::parallel),
        [&](OpBuilder &nested, Location nestedLoc, ValueRange) {
          ImplicitLocOpBuilder b(nestedLoc, nested);
          SmallVector<Value> indices;
          for (int64_t dim = 0; dim < type.getRank(); ++dim)
            indices.push_back(linalg::IndexOp::create(b, dim));
          linalg::YieldOp::create(b, GatherEmitter(b).emit(chain, indices));
        });
    chain.replaceUsesWithIf(gather.getResult(0), [&](OpOperand &use) {
      return !isDataMovement(use.getOwner()) && use.getOwner() != gather;
    });
  }
  // A chain feeding an outer one stays until that one is gone: chains come
  // in program order, so an inner one is never erased before its turn.
  for (Value chain : chains)
    eraseDeadDataMovement(chain.getDefiningOp());
}

//===----------------------------------------------------------------------===//
// Pass
//===----------------------------------------------------------------------===//

namespace {

struct CudaGatherDataMovementPass
    : vitc::cuda::impl::CudaGatherDataMovementPassBase<
          CudaGatherDataMovementPass> {
  void runOnOperation() override {
    func::FuncOp kernel = getOperation();
    if (isKernelFunction(kernel))
      rewriteCopiesAsGathers(kernel);
  }
};

} // namespace
