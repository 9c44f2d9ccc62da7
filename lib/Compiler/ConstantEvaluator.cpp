//===- ConstantEvaluator.cpp - Compile-time weight work on the host -------===//

#include "vitc/Compiler/ConstantEvaluator.h"

#include "vitc/Dialect/ViT/IR/ViTOps.h"
#include "vitc/Support/HalfPrecision.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;

namespace vitc {

namespace {

std::vector<int64_t> shapeOf(Value value) {
  ArrayRef<int64_t> shape = cast<RankedTensorType>(value.getType()).getShape();
  return {shape.begin(), shape.end()};
}

/// Row-major strides of `shape`.
std::vector<int64_t> stridesOf(ArrayRef<int64_t> shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (int64_t d = int64_t(shape.size()) - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

/// A tensor of `shape` whose element at each index is `source`'s element at
/// the flat position `sourceIndex(index)`.
template <typename IndexFn>
Tensor gather(ArrayRef<int64_t> shape, IndexFn sourceIndex,
              const std::vector<float> &source) {
  Tensor result{{shape.begin(), shape.end()}, {}};
  result.data.resize(result.numElements());
  std::vector<int64_t> index(shape.size(), 0);
  for (float &element : result.data) {
    element = source[sourceIndex(index)];
    // Advance the row-major odometer.
    for (int64_t d = int64_t(shape.size()) - 1; d >= 0; --d) {
      if (++index[d] < shape[d])
        break;
      index[d] = 0;
    }
  }
  return result;
}

} // namespace

class ConstantEvaluator {
public:
  explicit ConstantEvaluator(const WeightSet &weights) : weights(weights) {}

  FailureOr<EvaluatedConstants> run(func::FuncOp function) {
    for (Operation &op : function.getBody().front()) {
      if (auto ret = dyn_cast<func::ReturnOp>(op)) {
        EvaluatedConstants results;
        for (Value value : ret.getOperands()) {
          auto weight = weightValues.find(value);
          if (weight != weightValues.end()) {
            results.values.push_back(weight->second);
            continue;
          }
          results.owned.push_back(std::make_unique<Tensor>(take(value)));
          results.values.push_back(results.owned.back().get());
        }
        return results;
      }
      if (failed(evaluate(&op)))
        return failure();
    }
    return function.emitError("the constants function has no return");
  }

private:
  LogicalResult evaluate(Operation *op) {
    return llvm::TypeSwitch<Operation *, LogicalResult>(op)
        .Case([&](vit::WeightOp weight) { return evaluateWeight(weight); })
        .Case<tensor::CollapseShapeOp, tensor::ExpandShapeOp>(
            [&](auto reshape) {
              Tensor result = take(reshape.getSrc());
              result.shape = shapeOf(reshape.getResult());
              return define(reshape.getResult(), std::move(result));
            })
        .Case(
            [&](tensor::ExtractSliceOp slice) { return evaluateSlice(slice); })
        .Case([&](tensor::ConcatOp concat) { return evaluateConcat(concat); })
        .Case([&](linalg::TransposeOp transpose) {
          return evaluateTranspose(transpose);
        })
        .Case([&](arith::AddFOp add) {
          const Tensor &rhs = get(add.getRhs());
          Tensor result = take(add.getLhs());
          for (size_t i = 0; i < result.data.size(); ++i)
            result.data[i] += rhs.data[i];
          return define(add.getResult(), std::move(result));
        })
        .Case([&](arith::TruncFOp truncate) {
          return evaluateTruncate(truncate);
        })
        // Only the shape of a transpose's destination matters.
        .Case([&](tensor::EmptyOp) { return success(); })
        .Default([&](Operation *other) -> LogicalResult {
          return other->emitError("cannot evaluate '")
                 << other->getName() << "' at compile time";
        });
  }

  LogicalResult evaluateWeight(vit::WeightOp op) {
    auto found = weights.tensors.find(op.getName().str());
    if (found == weights.tensors.end())
      return op.emitError("the IR reads weight '")
             << op.getName() << "', which the weights do not have";
    std::vector<int64_t> expected = shapeOf(op.getResult());
    if (found->second.shape != expected)
      return op.emitError("weight '")
             << op.getName() << "' has shape "
             << formatShape(found->second.shape) << ", the IR expects "
             << formatShape(expected);
    // Read in place: most weights are constants as they are, and are
    // copied once, into the results.
    weightValues[op.getResult()] = &found->second;
    return success();
  }

  /// Narrowing to a 16-bit float type (weights stored in a tensor-core
  /// precision): the values are rounded to it, ties to even, as cvt.rn
  /// would on the device.
  LogicalResult evaluateTruncate(arith::TruncFOp truncate) {
    Type element = getElementTypeOrSelf(truncate.getType());
    if (!element.isBF16() && !element.isF16())
      return truncate.emitError("can only narrow constants to bf16 or f16");
    Tensor result = take(truncate.getIn());
    result.storage = element.isBF16() ? StorageType::BF16 : StorageType::F16;
    for (float &value : result.data)
      value = element.isBF16() ? bf16ToF32(f32ToBf16(value))
                               : f16ToF32(f32ToF16(value));
    return define(truncate.getResult(), std::move(result));
  }

  LogicalResult evaluateSlice(tensor::ExtractSliceOp slice) {
    const Tensor &source = get(slice.getSource());
    std::vector<int64_t> sourceStrides = stridesOf(source.shape);
    ArrayRef<int64_t> offsets = slice.getStaticOffsets();
    ArrayRef<int64_t> sizes = slice.getStaticSizes();
    ArrayRef<int64_t> steps = slice.getStaticStrides();
    // Gather in the unreduced slice shape, then drop the unit dimensions.
    Tensor result = gather(
        sizes,
        [&](ArrayRef<int64_t> index) {
          int64_t flat = 0;
          for (size_t d = 0; d < index.size(); ++d)
            flat += (offsets[d] + index[d] * steps[d]) * sourceStrides[d];
          return flat;
        },
        source.data);
    result.shape = shapeOf(slice.getResult());
    return define(slice.getResult(), std::move(result));
  }

  LogicalResult evaluateConcat(tensor::ConcatOp concat) {
    int64_t dim = concat.getDim();
    std::vector<int64_t> shape = shapeOf(concat.getResult());
    // Which input owns each position along `dim`, and where in it.
    std::vector<const Tensor *> owner;
    std::vector<int64_t> positionInOwner;
    for (Value input : concat.getInputs()) {
      const Tensor &tensor = get(input);
      for (int64_t i = 0; i < tensor.shape[dim]; ++i) {
        owner.push_back(&tensor);
        positionInOwner.push_back(i);
      }
    }
    Tensor result{shape, {}};
    result.data.resize(result.numElements());
    std::vector<int64_t> strides = stridesOf(shape);
    int64_t outer = result.numElements() / (shape[dim] * strides[dim]);
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < shape[dim]; ++i) {
        const Tensor &input = *owner[i];
        int64_t inner = strides[dim];
        const float *from = input.data.data() +
                            (o * input.shape[dim] + positionInOwner[i]) * inner;
        std::copy(from, from + inner,
                  result.data.begin() + (o * shape[dim] + i) * inner);
      }
    }
    return define(concat.getResult(), std::move(result));
  }

  LogicalResult evaluateTranspose(linalg::TransposeOp transpose) {
    const Tensor &input = get(transpose.getInput());
    std::vector<int64_t> inputStrides = stridesOf(input.shape);
    ArrayRef<int64_t> permutation = transpose.getPermutation();
    // Result dimension d walks input dimension permutation[d].
    Tensor result = gather(
        shapeOf(transpose->getResult(0)),
        [&](ArrayRef<int64_t> index) {
          int64_t flat = 0;
          for (size_t d = 0; d < index.size(); ++d)
            flat += index[d] * inputStrides[permutation[d]];
          return flat;
        },
        input.data);
    return define(transpose->getResult(0), std::move(result));
  }

  LogicalResult define(Value value, Tensor tensor) {
    computed[value] = std::move(tensor);
    return success();
  }

  const Tensor &get(Value value) const {
    auto weight = weightValues.find(value);
    return weight != weightValues.end() ? *weight->second : computed.at(value);
  }

  /// The value of `value` for a consumer to keep: moved out when that
  /// consumer is its only use, else copied.
  Tensor take(Value value) {
    auto found = computed.find(value);
    if (found != computed.end() && value.hasOneUse())
      return std::move(found->second);
    return get(value);
  }

  const WeightSet &weights;
  /// Weights the function reads, by value, and the tensors it computed.
  llvm::DenseMap<Value, const Tensor *> weightValues;
  llvm::DenseMap<Value, Tensor> computed;
};

std::vector<Tensor> EvaluatedConstants::copy() const {
  std::vector<Tensor> copies;
  for (const Tensor *value : values)
    copies.push_back(*value);
  return copies;
}

FailureOr<EvaluatedConstants> evaluateConstants(func::FuncOp constants,
                                                const WeightSet &weights) {
  return ConstantEvaluator(weights).run(constants);
}

} // namespace vitc
