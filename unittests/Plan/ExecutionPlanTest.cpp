//===- ExecutionPlanTest.cpp - Dispatch list and arena planning -----------===//

#include "vitc/Plan/ExecutionPlan.h"

#include "vitc/InitAll.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"

#include "gtest/gtest.h"

using namespace vitc;
using Kind = PlannedBinding::Kind;

namespace {

class ExecutionPlanTest : public ::testing::Test {
protected:
  ExecutionPlanTest() {
    mlir::DialectRegistry registry;
    registerAllDialects(registry);
    context.appendDialectRegistry(registry);
  }

  std::optional<ExecutionPlan> plan(const char *ir, std::string &error) {
    module = mlir::parseSourceString<mlir::ModuleOp>(ir, &context);
    EXPECT_TRUE(module) << ir;
    mlir::ScopedDiagnosticHandler handler(
        &context,
        [&](mlir::Diagnostic &diagnostic) { error = diagnostic.str(); });
    mlir::FailureOr<ExecutionPlan> result =
        planExecution(module->lookupSymbol<mlir::func::FuncOp>("vit"));
    if (failed(result))
      return std::nullopt;
    return std::move(*result);
  }

  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
};

// A chain a -> b -> c -> d of 1 KiB tensors where each is read only by the
// next kernel: two arena slots suffice, used alternately.
constexpr const char *kChain = R"mlir(
  func.func private @k(tensor<256xf32>, tensor<256xf32>) -> tensor<256xf32>
  func.func @vit(%x: tensor<256xf32>, %c: tensor<256xf32> {vit.constant = 0 : i64}) -> tensor<256xf32> {
    %a = call @k(%x, %c) : (tensor<256xf32>, tensor<256xf32>) -> tensor<256xf32>
    %b = call @k(%a, %c) : (tensor<256xf32>, tensor<256xf32>) -> tensor<256xf32>
    %d = call @k(%b, %c) : (tensor<256xf32>, tensor<256xf32>) -> tensor<256xf32>
    %e = call @k(%d, %c) : (tensor<256xf32>, tensor<256xf32>) -> tensor<256xf32>
    return %e : tensor<256xf32>
  })mlir";

TEST_F(ExecutionPlanTest, ChainReusesTwoSlots) {
  std::string error;
  std::optional<ExecutionPlan> result = plan(kChain, error);
  ASSERT_TRUE(result) << error;
  ASSERT_EQ(result->dispatches.size(), 4u);
  EXPECT_EQ(result->arenaBytes, 2048);
  EXPECT_EQ(result->unplannedBytes, 3 * 1024);

  const auto &first = result->dispatches[0].bindings;
  ASSERT_EQ(first.size(), 3u);
  EXPECT_EQ(first[0].kind, Kind::Input);
  EXPECT_EQ(first[1].kind, Kind::Constant);
  EXPECT_EQ(first[1].index, 0);
  EXPECT_EQ(first[2].kind, Kind::Arena);
  // Each dispatch's output never overlaps its arena input.
  for (const PlannedDispatch &dispatch : result->dispatches) {
    const PlannedBinding &input = dispatch.bindings[0];
    const PlannedBinding &output = dispatch.bindings.back();
    if (input.kind == Kind::Arena && output.kind == Kind::Arena)
      EXPECT_NE(input.offset, output.offset);
  }
  // The last result is the model output, not arena storage.
  EXPECT_EQ(result->dispatches[3].bindings.back().kind, Kind::Output);
  EXPECT_EQ(result->dispatches[3].bindings.back().size, 1024);
}

TEST_F(ExecutionPlanTest, LongLivedTensorKeepsItsSlot) {
  // %a is read again by the last kernel (a residual): its slot cannot be
  // reused by %b or %d.
  std::string error;
  std::optional<ExecutionPlan> result = plan(R"mlir(
    func.func private @k(tensor<64xf32>, tensor<64xf32>) -> tensor<64xf32>
    func.func @vit(%x: tensor<64xf32>) -> tensor<64xf32> {
      %a = call @k(%x, %x) : (tensor<64xf32>, tensor<64xf32>) -> tensor<64xf32>
      %b = call @k(%a, %a) : (tensor<64xf32>, tensor<64xf32>) -> tensor<64xf32>
      %d = call @k(%b, %b) : (tensor<64xf32>, tensor<64xf32>) -> tensor<64xf32>
      %e = call @k(%d, %a) : (tensor<64xf32>, tensor<64xf32>) -> tensor<64xf32>
      return %e : tensor<64xf32>
    })mlir",
                                             error);
  ASSERT_TRUE(result) << error;
  int64_t aOffset = result->dispatches[0].bindings.back().offset;
  int64_t bOffset = result->dispatches[1].bindings.back().offset;
  int64_t dOffset = result->dispatches[2].bindings.back().offset;
  EXPECT_NE(bOffset, aOffset);
  EXPECT_NE(dOffset, aOffset);
  EXPECT_NE(dOffset, bOffset);
  EXPECT_EQ(result->arenaBytes, 3 * kArenaAlignment);
  EXPECT_EQ(result->dispatches[3].bindings[1].offset, aOffset);
}

TEST_F(ExecutionPlanTest, DescribesEachKernelOnce) {
  // Two kernels, one of them shared by three dispatches: the plan lists
  // each once, in order of first dispatch, with what its attributes say.
  std::string error;
  std::optional<ExecutionPlan> result = plan(R"mlir(
    func.func private @norm(tensor<8xf32>) -> tensor<8xf32>
        attributes {vit.kernel_name = "blocks.*.norm1",
                    vit.multiply_accumulates = 0 : i64}
    func.func private @fc(tensor<8xf32>) -> tensor<8xf32>
        attributes {vit.kernel_name = "blocks.*.mlp.fc1",
                    vit.multiply_accumulates = 64 : i64}
    func.func @vit(%x: tensor<8xf32>) -> tensor<8xf32> {
      %a = call @fc(%x) : (tensor<8xf32>) -> tensor<8xf32>
      %b = call @norm(%a) : (tensor<8xf32>) -> tensor<8xf32>
      %c = call @fc(%b) : (tensor<8xf32>) -> tensor<8xf32>
      %d = call @fc(%c) : (tensor<8xf32>) -> tensor<8xf32>
      return %d : tensor<8xf32>
    })mlir",
                                             error);
  ASSERT_TRUE(result) << error;
  ASSERT_EQ(result->kernels.size(), 2u);
  EXPECT_EQ(result->kernels[0].symbol, "fc");
  EXPECT_EQ(result->kernels[0].name, "blocks.*.mlp.fc1");
  EXPECT_EQ(result->kernels[0].multiplyAccumulates, 64);
  EXPECT_EQ(result->kernels[0].dispatches, 3);
  EXPECT_EQ(result->kernels[1].symbol, "norm");
  EXPECT_EQ(result->kernels[1].dispatches, 1);
  EXPECT_EQ(result->dispatches.size(), 4u);
}

TEST_F(ExecutionPlanTest, RejectsOtherOps) {
  std::string error;
  std::optional<ExecutionPlan> result = plan(R"mlir(
    func.func @vit(%x: tensor<4xf32>) -> tensor<4xf32> {
      %y = arith.addf %x, %x : tensor<4xf32>
      return %y : tensor<4xf32>
    })mlir",
                                             error);
  EXPECT_FALSE(result);
  EXPECT_EQ(error, "cannot plan 'arith.addf': the entry function must only "
                   "call single-result kernels");
}

} // namespace
