//===- ConstantEvaluator.cpp - Compile-time weight work on the host -------===//

#include "vitc/Target/ConstantEvaluator.h"

#include "vitc/Dialect/ViT/IR/ViTOps.h"

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

class Evaluator {
public:
  Evaluator(const WeightSet &weights, std::string &error)
      : weights(weights), error(error) {}

  std::optional<std::vector<Tensor>> run(func::FuncOp function) {
    for (Operation &op : function.getBody().front()) {
      if (auto ret = dyn_cast<func::ReturnOp>(op)) {
        std::vector<Tensor> results;
        for (Value value : ret.getOperands())
          results.push_back(values.at(value));
        return results;
      }
      if (failed(evaluate(&op)))
        return std::nullopt;
    }
    error = "the constants function has no return";
    return std::nullopt;
  }

private:
  LogicalResult evaluate(Operation *op) {
    return llvm::TypeSwitch<Operation *, LogicalResult>(op)
        .Case([&](vit::WeightOp weight) { return evaluateWeight(weight); })
        .Case<tensor::CollapseShapeOp, tensor::ExpandShapeOp>(
            [&](auto reshape) {
              Tensor result = values.at(reshape.getSrc());
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
          Tensor result = values.at(add.getLhs());
          const Tensor &rhs = values.at(add.getRhs());
          for (size_t i = 0; i < result.data.size(); ++i)
            result.data[i] += rhs.data[i];
          return define(add.getResult(), std::move(result));
        })
        // Only the shape of a transpose's destination matters.
        .Case([&](tensor::EmptyOp) { return success(); })
        .Default([&](Operation *other) {
          error = "cannot evaluate '" + other->getName().getStringRef().str() +
                  "' at compile time";
          return failure();
        });
  }

  LogicalResult evaluateWeight(vit::WeightOp op) {
    auto found = weights.tensors.find(op.getName().str());
    if (found == weights.tensors.end()) {
      error = "the IR reads weight '" + op.getName().str() +
              "', which the weights do not have";
      return failure();
    }
    std::vector<int64_t> expected = shapeOf(op.getResult());
    if (found->second.shape != expected) {
      error = "weight '" + op.getName().str() + "' has shape " +
              formatShape(found->second.shape) + ", the IR expects " +
              formatShape(expected);
      return failure();
    }
    return define(op.getResult(), found->second);
  }

  LogicalResult evaluateSlice(tensor::ExtractSliceOp slice) {
    const Tensor &source = values.at(slice.getSource());
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
      const Tensor &tensor = values.at(input);
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
    const Tensor &input = values.at(transpose.getInput());
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
    values[value] = std::move(tensor);
    return success();
  }

  const WeightSet &weights;
  std::string &error;
  llvm::DenseMap<Value, Tensor> values;
};

} // namespace

std::optional<std::vector<Tensor>> evaluateConstants(func::FuncOp constants,
                                                     const WeightSet &weights,
                                                     std::string &error) {
  return Evaluator(weights, error).run(constants);
}

} // namespace vitc
