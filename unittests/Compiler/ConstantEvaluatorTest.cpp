//===- ConstantEvaluatorTest.cpp - Host evaluation of weight work ---------===//

#include "vitc/Compiler/ConstantEvaluator.h"

#include "vitc/InitAll.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"

#include "gtest/gtest.h"

using namespace vitc;

namespace {

/// Parses `ir` (a module with one function @c) and evaluates @c on
/// `weights`; `error` receives the message of the diagnostic reported on
/// failure.
class ConstantEvaluatorTest : public ::testing::Test {
protected:
  ConstantEvaluatorTest() {
    mlir::DialectRegistry registry;
    registerAllDialects(registry);
    context.appendDialectRegistry(registry);
  }

  std::optional<EvaluatedConstants> evaluate(const char *ir,
                                             std::string &error) {
    module = mlir::parseSourceString<mlir::ModuleOp>(ir, &context);
    EXPECT_TRUE(module) << ir;
    mlir::ScopedDiagnosticHandler handler(
        &context,
        [&](mlir::Diagnostic &diagnostic) { error = diagnostic.str(); });
    mlir::FailureOr<EvaluatedConstants> results = evaluateConstants(
        module->lookupSymbol<mlir::func::FuncOp>("c"), weights);
    if (failed(results))
      return std::nullopt;
    return std::move(*results);
  }

  /// Adds weight `name` of `shape` holding 0, 1, 2, ...
  void addIota(const std::string &name, std::vector<int64_t> shape) {
    Tensor tensor{std::move(shape), {}};
    tensor.data.resize(tensor.numElements());
    for (size_t i = 0; i < tensor.data.size(); ++i)
      tensor.data[i] = float(i);
    weights.tensors[name] = std::move(tensor);
  }

  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  WeightSet weights;
};

TEST_F(ConstantEvaluatorTest, CollapseTransposeOfHwioKernel) {
  // A [1, 2, 3] kernel holding 0..5, collapsed to [2, 3], then transposed:
  // result[j][i] = flat[i][j].
  addIota("k", {1, 2, 3});
  std::string error;
  auto results = evaluate(R"mlir(
    func.func @c() -> tensor<3x2xf32> {
      %k = vit.weight "k" : tensor<1x2x3xf32>
      %flat = tensor.collapse_shape %k [[0, 1], [2]] : tensor<1x2x3xf32> into tensor<2x3xf32>
      %init = tensor.empty() : tensor<3x2xf32>
      %t = linalg.transpose ins(%flat : tensor<2x3xf32>) outs(%init : tensor<3x2xf32>) permutation = [1, 0]
      return %t : tensor<3x2xf32>
    })mlir",
                          error);
  ASSERT_TRUE(results) << error;
  ASSERT_EQ(results->size(), 1u);
  EXPECT_EQ((*results)[0].shape, (std::vector<int64_t>{3, 2}));
  // flat = [[0,1,2],[3,4,5]] -> transposed [[0,3],[1,4],[2,5]].
  EXPECT_EQ((*results)[0].data, (std::vector<float>{0, 3, 1, 4, 2, 5}));
}

TEST_F(ConstantEvaluatorTest, ConcatOfSeparateProjections) {
  addIota("q", {2, 2});
  addIota("k", {2, 2});
  addIota("v", {1, 2});
  std::string error;
  auto results = evaluate(R"mlir(
    func.func @c() -> (tensor<5x2xf32>, tensor<2x5xf32>) {
      %q = vit.weight "q" : tensor<2x2xf32>
      %k = vit.weight "k" : tensor<2x2xf32>
      %v = vit.weight "v" : tensor<1x2xf32>
      %rows = tensor.concat dim(0) %q, %k, %v : (tensor<2x2xf32>, tensor<2x2xf32>, tensor<1x2xf32>) -> tensor<5x2xf32>
      %init = tensor.empty() : tensor<2x5xf32>
      %t = linalg.transpose ins(%rows : tensor<5x2xf32>) outs(%init : tensor<2x5xf32>) permutation = [1, 0]
      return %rows, %t : tensor<5x2xf32>, tensor<2x5xf32>
    })mlir",
                          error);
  ASSERT_TRUE(results) << error;
  EXPECT_EQ((*results)[0].data,
            (std::vector<float>{0, 1, 2, 3, 0, 1, 2, 3, 0, 1}));
  EXPECT_EQ((*results)[1].data,
            (std::vector<float>{0, 2, 0, 2, 0, 1, 3, 1, 3, 1}));
}

TEST_F(ConstantEvaluatorTest, ConcatAlongInnerDimension) {
  addIota("a", {2, 1});
  addIota("b", {2, 2});
  std::string error;
  auto results = evaluate(R"mlir(
    func.func @c() -> tensor<2x3xf32> {
      %a = vit.weight "a" : tensor<2x1xf32>
      %b = vit.weight "b" : tensor<2x2xf32>
      %c = tensor.concat dim(1) %a, %b : (tensor<2x1xf32>, tensor<2x2xf32>) -> tensor<2x3xf32>
      return %c : tensor<2x3xf32>
    })mlir",
                          error);
  ASSERT_TRUE(results) << error;
  EXPECT_EQ((*results)[0].data, (std::vector<float>{0, 0, 1, 1, 2, 3}));
}

TEST_F(ConstantEvaluatorTest, ClassRowFromSlicesAndAdd) {
  // pos [1, 3, 2] = 0..5, cls [1, 1, 2] = 0..1.
  addIota("pos", {1, 3, 2});
  addIota("cls", {1, 1, 2});
  std::string error;
  auto results = evaluate(R"mlir(
    func.func @c() -> (tensor<2x2xf32>, tensor<2xf32>) {
      %pos = vit.weight "pos" : tensor<1x3x2xf32>
      %cls = vit.weight "cls" : tensor<1x1x2xf32>
      %rest = tensor.extract_slice %pos[0, 1, 0] [1, 2, 2] [1, 1, 1] : tensor<1x3x2xf32> to tensor<2x2xf32>
      %row = tensor.collapse_shape %cls [[0, 1, 2]] : tensor<1x1x2xf32> into tensor<2xf32>
      %first = tensor.extract_slice %pos[0, 0, 0] [1, 1, 2] [1, 1, 1] : tensor<1x3x2xf32> to tensor<2xf32>
      %sum = arith.addf %row, %first : tensor<2xf32>
      return %rest, %sum : tensor<2x2xf32>, tensor<2xf32>
    })mlir",
                          error);
  ASSERT_TRUE(results) << error;
  EXPECT_EQ((*results)[0].shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ((*results)[0].data, (std::vector<float>{2, 3, 4, 5}));
  EXPECT_EQ((*results)[1].data, (std::vector<float>{0, 2}));
}

TEST_F(ConstantEvaluatorTest, StridedSlice) {
  addIota("w", {4, 3});
  std::string error;
  auto results = evaluate(R"mlir(
    func.func @c() -> tensor<2x2xf32> {
      %w = vit.weight "w" : tensor<4x3xf32>
      %s = tensor.extract_slice %w[1, 0] [2, 2] [2, 2] : tensor<4x3xf32> to tensor<2x2xf32>
      return %s : tensor<2x2xf32>
    })mlir",
                          error);
  ASSERT_TRUE(results) << error;
  // Rows 1 and 3, columns 0 and 2 of [[0,1,2],[3,4,5],[6,7,8],[9,10,11]].
  EXPECT_EQ((*results)[0].data, (std::vector<float>{3, 5, 9, 11}));
}

TEST_F(ConstantEvaluatorTest, MissingWeightIsNamed) {
  std::string error;
  auto results = evaluate(R"mlir(
    func.func @c() -> tensor<2xf32> {
      %w = vit.weight "blocks.0.norm1.weight" : tensor<2xf32>
      return %w : tensor<2xf32>
    })mlir",
                          error);
  EXPECT_FALSE(results);
  EXPECT_EQ(error, "the IR reads weight 'blocks.0.norm1.weight', which the "
                   "weights do not have");
}

TEST_F(ConstantEvaluatorTest, WrongWeightShapeIsNamed) {
  addIota("w", {3});
  std::string error;
  auto results = evaluate(R"mlir(
    func.func @c() -> tensor<2xf32> {
      %w = vit.weight "w" : tensor<2xf32>
      return %w : tensor<2xf32>
    })mlir",
                          error);
  EXPECT_FALSE(results);
  EXPECT_EQ(error, "weight 'w' has shape [3], the IR expects [2]");
}

TEST_F(ConstantEvaluatorTest, UnsupportedOpIsNamed) {
  addIota("w", {2});
  std::string error;
  auto results = evaluate(R"mlir(
    func.func @c() -> tensor<2xf32> {
      %w = vit.weight "w" : tensor<2xf32>
      %m = arith.mulf %w, %w : tensor<2xf32>
      return %m : tensor<2xf32>
    })mlir",
                          error);
  EXPECT_FALSE(results);
  EXPECT_EQ(error, "cannot evaluate 'arith.mulf' at compile time");
}

} // namespace
