//===- CudaCodegenTest.cpp - The CUDA back end's C++ entry points ---------===//
//
// vitc's pipeline from the linalg phase to PTX and serializeCudaKernels on a
// linear kernel (PTX, cubin, launch description, ptxas statistics) and on
// invalid input, and the schedule emulated on the CPU
// (buildGpuScheduleForCpuEmulation) run through the ExecutionEngine against
// a double-precision reference.
//
//===----------------------------------------------------------------------===//

#include "vitc/Codegen/CUDA/CudaCodegen.h"

#include "vitc/Compiler/Pipeline.h"
#include "vitc/InitAll.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/ExecutionEngine/CRunnerUtils.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/TargetSelect.h"

#include "gtest/gtest.h"

#include <cmath>

using namespace mlir;
using namespace vitc::cuda;

namespace {

/// A linear with bias (as convert-vit-to-linalg lowers vit.linear, epilogue
/// already on [M, N]) and a function that is not a kernel.
constexpr const char *kLinear = R"mlir(
  func.func @linear(%x: tensor<40x16xf32>, %w: tensor<24x16xf32>,
                    %b: tensor<24xf32>) -> tensor<40x24xf32>
      attributes {vit.kernel_name = "blocks.0.linear",
                  llvm.emit_c_interface} {
    %zero = arith.constant 0.0 : f32
    %empty = tensor.empty() : tensor<40x24xf32>
    %init = linalg.fill ins(%zero : f32) outs(%empty : tensor<40x24xf32>)
        -> tensor<40x24xf32>
    %products = linalg.matmul
        indexing_maps = [affine_map<(m, n, k) -> (m, k)>,
                         affine_map<(m, n, k) -> (n, k)>,
                         affine_map<(m, n, k) -> (m, n)>]
        ins(%x, %w : tensor<40x16xf32>, tensor<24x16xf32>)
        outs(%init : tensor<40x24xf32>) -> tensor<40x24xf32>
    %out = tensor.empty() : tensor<40x24xf32>
    %y = linalg.generic {
        indexing_maps = [affine_map<(m, n) -> (m, n)>,
                         affine_map<(m, n) -> (n)>,
                         affine_map<(m, n) -> (m, n)>],
        iterator_types = ["parallel", "parallel"]}
        ins(%products, %b : tensor<40x24xf32>, tensor<24xf32>)
        outs(%out : tensor<40x24xf32>) {
    ^bb0(%p: f32, %bias: f32, %o: f32):
      %sum = arith.addf %p, %bias : f32
      linalg.yield %sum : f32
    } -> tensor<40x24xf32>
    return %y : tensor<40x24xf32>
  }
  func.func @host(%x: tensor<4xf32>) -> tensor<4xf32> {
    return %x : tensor<4xf32>
  }
)mlir";

class CudaCodegenTest : public ::testing::Test {
protected:
  CudaCodegenTest() {
    DialectRegistry registry;
    vitc::registerAllDialects(registry);
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
  }

  OwningOpRef<ModuleOp> parse(StringRef source) {
    return parseSourceString<ModuleOp>(source, ParserConfig(&context));
  }

  /// vitc's pipeline from the linalg phase to PTX, then the serialization,
  /// as `vitc --target cuda:sm_<options.sm> -o` runs them.
  llvm::Expected<CudaCompileResult> compile(ModuleOp module,
                                            const CudaOptions &options) {
    std::string diagnostics;
    ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diagnostic) {
      llvm::raw_string_ostream(diagnostics) << diagnostic << "\n";
    });
    vitc::PipelineOptions pipeline;
    pipeline.target.kind = vitc::TargetOptions::Kind::Cuda;
    pipeline.target.cuda = options;
    pipeline.first = vitc::Phase::Linalg;
    pipeline.last = vitc::Phase::Ptx;
    PassManager pm(&context);
    vitc::buildCompilerPipeline(pm, pipeline);
    if (failed(pm.run(module)))
      return llvm::createStringError(diagnostics);
    return serializeCudaKernels(module, options);
  }

  MLIRContext context;
};

TEST_F(CudaCodegenTest, CompilesKernelsToPtxAndCubin) {
  OwningOpRef<ModuleOp> module = parse(kLinear);
  ASSERT_TRUE(module);
  CudaOptions options;
  options.sm = 90;
  llvm::Expected<CudaCompileResult> result = compile(*module, options);
  ASSERT_TRUE(bool(result)) << llvm::toString(result.takeError());

  EXPECT_NE(result->ptx.find(".target sm_90"), std::string::npos);
  EXPECT_NE(result->ptx.find(".visible .entry linear("), std::string::npos);
  // Inputs, then the output: one pointer each.
  EXPECT_NE(result->ptx.find("linear_param_3\n)"), std::string::npos);
  EXPECT_EQ(result->ptx.find("host"), std::string::npos);

  ASSERT_EQ(result->kernels.size(), 1u);
  const LaunchInfo &launch = result->kernels.front();
  EXPECT_EQ(launch.symbol, "linear");
  // [40, 24] in 8 x 24 tiles (64 x 64 shrunk for occupancy, capped at the
  // power-of-two-rounded extents): 5 blocks of 192 threads.
  EXPECT_EQ(launch.grid[0] * launch.grid[1] * launch.grid[2], 5);
  EXPECT_EQ(launch.block[0], 192);
  EXPECT_EQ(launch.block[1] * launch.block[2], 1);
  EXPECT_EQ(launch.sharedMemoryBytes, 0);
  EXPECT_EQ(launch.staticSharedMemoryBytes, 8 * 24 * 4);

  // ptxas is installed on every machine that builds vitc.
  ASSERT_GE(result->cubin.size(), 4u);
  EXPECT_EQ(std::string(result->cubin.begin(), result->cubin.begin() + 4),
            "\x7f"
            "ELF");
  EXPECT_GT(launch.registers, 0);
  EXPECT_EQ(launch.spillStoreBytes, 0);
  EXPECT_EQ(launch.spillLoadBytes, 0);
  EXPECT_NE(result->ptxasReport.find("linear"), std::string::npos);
}

TEST_F(CudaCodegenTest, ReportsWhatItCannotCompile) {
  OwningOpRef<ModuleOp> module = parse(R"mlir(
    func.func @dynamic(%x: tensor<?xf32>) -> tensor<?xf32>
        attributes {vit.kernel_name = "dynamic"} {
      return %x : tensor<?xf32>
    }
  )mlir");
  ASSERT_TRUE(module);
  llvm::Expected<CudaCompileResult> result = compile(*module, CudaOptions());
  ASSERT_FALSE(bool(result));
  std::string error = llvm::toString(result.takeError());
  EXPECT_NE(error.find("statically shaped"), std::string::npos) << error;

  OwningOpRef<ModuleOp> empty = parse("module {}");
  result = compile(*empty, CudaOptions());
  ASSERT_FALSE(bool(result));
  error = llvm::toString(result.takeError());
  EXPECT_NE(error.find("no kernel functions"), std::string::npos) << error;
}

TEST_F(CudaCodegenTest, EmulatesTheScheduleOnTheCpu) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  OwningOpRef<ModuleOp> module = parse(kLinear);
  ASSERT_TRUE(module);
  // Small tiles: 10 x 6 blocks of 4 x 4 with several thread loops each.
  CudaOptions options;
  options.maxTile = 4;
  PassManager pm(&context);
  buildGpuScheduleForCpuEmulation(pm, options);
  ASSERT_TRUE(succeeded(pm.run(*module)));
  auto engine = ExecutionEngine::create(*module);
  ASSERT_TRUE(static_cast<bool>(engine)) << llvm::toString(engine.takeError());

  // Inputs are multiples of 1/16 below 1/2: products and their 16-term sums
  // are exact in f32, so only the bias add rounds.
  auto value = [](int64_t index, int64_t seed) {
    return static_cast<float>((index * 7 + seed) % 15 - 7) / 16.0f;
  };
  std::vector<float> x(40 * 16), w(24 * 16), b(24), y(40 * 24, NAN);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = value(i, 1);
  for (size_t i = 0; i < w.size(); ++i)
    w[i] = value(i, 2);
  for (size_t i = 0; i < b.size(); ++i)
    b[i] = value(i, 3);
  auto view2d = [](std::vector<float> &data, int64_t rows, int64_t columns) {
    return StridedMemRefType<float, 2>{
        data.data(), data.data(), 0, {rows, columns}, {columns, 1}};
  };
  StridedMemRefType<float, 2> xRef = view2d(x, 40, 16),
                              wRef = view2d(w, 24, 16),
                              yRef = view2d(y, 40, 24);
  StridedMemRefType<float, 1> bRef{b.data(), b.data(), 0, {24}, {1}};
  auto *xArg = &xRef, *wArg = &wRef, *yArg = &yRef;
  auto *bArg = &bRef;
  void *args[] = {&xArg, &wArg, &bArg, &yArg};
  llvm::Error invoked = (*engine)->invokePacked("_mlir_ciface_linear", args);
  ASSERT_FALSE(static_cast<bool>(invoked))
      << llvm::toString(std::move(invoked));

  for (int64_t m = 0; m < 40; ++m)
    for (int64_t n = 0; n < 24; ++n) {
      double expected = b[n];
      for (int64_t k = 0; k < 16; ++k)
        expected += double(x[m * 16 + k]) * double(w[n * 16 + k]);
      EXPECT_NEAR(y[m * 24 + n], expected, 1e-6) << "at " << m << ", " << n;
    }
}

} // namespace
