//===- PadRows.cpp - Activations whose rows do not alias in the L1 --------===//
//
// fc2 of ViT-B/16 reads rows of 3072 floats, 12 KiB apart, so the twelve
// rows of an AVX-512 register block all map to one set of a 32 KiB 8-way
// L1 and evict one another at every step of the reduction: on a Zen 4, fc2
// alone ran at 63% of the FMA peak against 93% with its rows 16 floats
// longer (benchmarks/gemm.py, docs/codegen-cpu.md). The padding is a
// layout of the buffer between two kernels, so it is decided here, where
// the graph still shows which kernels write and read each value.
//
//===----------------------------------------------------------------------===//

#include "vitc/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/SymbolTable.h"

namespace vitc::cpu {
#define GEN_PASS_DEF_CPUPADROWSPASS
#include "vitc/Codegen/CPU/Passes.h.inc"
} // namespace vitc::cpu

using namespace mlir;
using namespace vitc;
using namespace vitc::cpu;

/// Whether every use of `value` reads it where a view with longer rows
/// serves as well: as a linalg input, through slices and reshapes that keep
/// the innermost dimension out of any collapse (collapsing it with others
/// would need contiguous rows, and bufferization would copy).
static bool readsRowsInPlace(Value value) {
  return llvm::all_of(value.getUses(), [](OpOperand &use) {
    Operation *user = use.getOwner();
    if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(user))
      return collapse.getReassociationIndices().back().size() == 1 &&
             readsRowsInPlace(collapse.getResult());
    if (isa<tensor::ExpandShapeOp, tensor::ExtractSliceOp>(user))
      return readsRowsInPlace(user->getResult(0));
    auto linalgOp = dyn_cast<linalg::LinalgOp>(user);
    return linalgOp && linalgOp.isDpsInput(&use);
  });
}

bool vitc::cpu::isPaddedRowsInsertion(Operation *op) {
  auto insert = dyn_cast_or_null<tensor::InsertSliceOp>(op);
  if (!insert || !insert->hasOneUse() ||
      !isa<func::ReturnOp>(*insert->user_begin()) ||
      !insert.getDest().getDefiningOp<tensor::EmptyOp>() ||
      !insert.hasUnitStride() || !insert.hasZeroOffset())
    return false;
  ArrayRef<int64_t> source = insert.getSourceType().getShape();
  ArrayRef<int64_t> dest = insert.getDestType().getShape();
  return source.size() == dest.size() &&
         source.drop_back() == dest.drop_back() && source.back() < dest.back();
}

namespace {

/// A kernel's argument, by function and position.
using KernelArgument = std::pair<Operation *, unsigned>;

struct CpuPadRowsPass
    : public vitc::cpu::impl::CpuPadRowsPassBase<CpuPadRowsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (padding == 0)
      return;
    if (padding < 0 || criticalStride <= 0) {
      getOperation().emitError(
          "vit-cpu-pad-rows: padding must be >= 0 and critical-stride > 0");
      return signalPassFailure();
    }
    collectCalls();
    DenseSet<Operation *> producers = choosePaddedProducers();
    for (Operation *producer : producers)
      padResult(cast<func::FuncOp>(producer));
    for (KernelArgument argument : readersOf(producers))
      sliceArgument(cast<func::FuncOp>(argument.first), argument.second);
  }

  /// Kernel calls of the graph, by callee, and the callee of each.
  llvm::MapVector<Operation *, SmallVector<func::CallOp>> callsOf;
  DenseMap<Operation *, Operation *> calleeOf;

  void collectCalls() {
    SymbolTableCollection symbols;
    getOperation().walk([&](func::CallOp call) {
      Operation *callee =
          symbols.lookupNearestSymbolFrom(call, call.getCalleeAttr());
      if (!callee || !isKernelFunction(callee))
        return;
      callsOf[callee].push_back(call);
      calleeOf[call] = callee;
    });
  }

  /// The padded type of `type` if its rows are a multiple of the critical
  /// stride.
  std::optional<RankedTensorType> paddedType(Type type) {
    auto tensor = dyn_cast<RankedTensorType>(type);
    if (!tensor || !tensor.hasStaticShape() || tensor.getRank() < 2 ||
        !tensor.getElementType().isIntOrFloat())
      return std::nullopt;
    int64_t elementBytes = tensor.getElementTypeBitWidth() / 8;
    int64_t rowLength = tensor.getShape().back();
    if (elementBytes == 0 || padding % elementBytes != 0 ||
        tensor.getNumElements() == rowLength ||
        (rowLength * elementBytes) % criticalStride != 0)
      return std::nullopt;
    SmallVector<int64_t> shape(tensor.getShape());
    shape.back() += padding / elementBytes;
    return tensor.clone(shape);
  }

  /// Whether `value` is the result of a call of one of `producers`.
  bool producedBy(Value value, const DenseSet<Operation *> &producers) {
    Operation *call = value.getDefiningOp();
    return call && producers.contains(calleeOf.lookup(call));
  }

  /// The kernel arguments that receive values from `producers`.
  DenseSet<KernelArgument> readersOf(const DenseSet<Operation *> &producers) {
    DenseSet<KernelArgument> readers;
    for (auto &[callee, calls] : callsOf)
      for (func::CallOp call : calls)
        for (OpOperand &operand : call->getOpOperands())
          if (producedBy(operand.get(), producers))
            readers.insert({callee, operand.getOperandNumber()});
    return readers;
  }

  /// Kernels whose result to pad: a single result with aliasing rows, read
  /// only by kernel arguments that read rows in place and are passed a
  /// padded value at every call.
  DenseSet<Operation *> choosePaddedProducers() {
    DenseSet<Operation *> producers;
    for (auto &[callee, calls] : callsOf) {
      auto function = cast<func::FuncOp>(callee);
      if (function.getNumResults() == 1 &&
          paddedType(function.getResultTypes()[0]))
        producers.insert(callee);
    }
    // Dropping a producer leaves the arguments it fed unpadded at some
    // call: the other producers feeding them go too, until none changes.
    bool changed = true;
    while (changed) {
      changed = false;
      for (Operation *producer : llvm::to_vector(producers)) {
        if (!feedsOnlyPaddedArguments(producer, producers)) {
          producers.erase(producer);
          changed = true;
        }
      }
    }
    return producers;
  }

  bool feedsOnlyPaddedArguments(Operation *producer,
                                const DenseSet<Operation *> &producers) {
    for (func::CallOp call : callsOf.lookup(producer)) {
      for (OpOperand &use : call.getResult(0).getUses()) {
        Operation *reader = calleeOf.lookup(use.getOwner());
        if (!reader)
          return false; // The graph's result.
        unsigned position = use.getOperandNumber();
        if (!readsRowsInPlace(cast<func::FuncOp>(reader).getArgument(position)))
          return false;
        for (func::CallOp other : callsOf.lookup(reader))
          if (!producedBy(other.getOperand(position), producers))
            return false;
      }
    }
    return true;
  }

  /// Makes `function` return its result inserted into a padded tensor, and
  /// its calls return that type.
  void padResult(func::FuncOp function) {
    auto ret = cast<func::ReturnOp>(function.getBody().front().getTerminator());
    Value result = ret.getOperand(0);
    auto type = cast<RankedTensorType>(result.getType());
    RankedTensorType padded = *paddedType(type);
    OpBuilder b(ret);
    Value empty = tensor::EmptyOp::create(b, ret.getLoc(), padded.getShape(),
                                          padded.getElementType());
    Slice slice = sliceFor(b, type);
    Value inserted = tensor::InsertSliceOp::create(b, ret.getLoc(), result,
                                                   empty, slice.offsets,
                                                   slice.sizes, slice.strides);
    ret.setOperand(0, inserted);
    function.setFunctionType(
        b.getFunctionType(function.getArgumentTypes(), {padded}));
    for (func::CallOp call : callsOf.lookup(function))
      call.getResult(0).setType(padded);
  }

  /// Makes `function` take its argument `position` padded and read the
  /// slice of it that holds the value.
  void sliceArgument(func::FuncOp function, unsigned position) {
    BlockArgument argument = function.getArgument(position);
    auto type = cast<RankedTensorType>(argument.getType());
    RankedTensorType padded = *paddedType(type);
    argument.setType(padded);
    OpBuilder b = OpBuilder::atBlockBegin(&function.getBody().front());
    Slice slice = sliceFor(b, type);
    Value value = tensor::ExtractSliceOp::create(b, function.getLoc(), type,
                                                 argument, slice.offsets,
                                                 slice.sizes, slice.strides);
    argument.replaceAllUsesExcept(value, value.getDefiningOp());
    function.setFunctionType(b.getFunctionType(
        function.getBody().getArgumentTypes(), function.getResultTypes()));
  }

  /// Offsets, sizes and strides of the slice of a padded tensor that
  /// holds a value of `type`.
  struct Slice {
    SmallVector<OpFoldResult> offsets, sizes, strides;
  };
  static Slice sliceFor(OpBuilder &b, RankedTensorType type) {
    return {SmallVector<OpFoldResult>(type.getRank(), b.getIndexAttr(0)),
            getAsIndexOpFoldResult(b.getContext(), type.getShape()),
            SmallVector<OpFoldResult>(type.getRank(), b.getIndexAttr(1))};
  }
};

} // namespace
