//===- EmulatedGpuModelTest.cpp - Emulated GPU schedules vs the reference -===//
//
// Each case builds a tiny ViT, runs vitc's pipeline to the linalg phase and
// plans its dispatches exactly as vitc does, runs the CUDA back end's
// schedule of every kernel sequentially on the CPU
// (vitc::cuda::buildGpuScheduleForCpuEmulation: the same block/thread
// tiling, workgroup-memory staging and partial tiles as the PTX, with the
// block and thread loops run one after the other), and then executes the
// ExecutionPlan by hand: one arena of plan.arenaBytes, the evaluated
// constants, the image as input 0 and a logits buffer as output 0, one
// `_mlir_ciface_<kernel>` call per dispatch. The logits are compared with
// the independent reference model.
//
// The bound and its justification are in Numerics.h; a 5% error in every
// fifth weight of one linear breaks it (DetectsAPerturbedWeight).
//
//===----------------------------------------------------------------------===//

#include "vitc/Codegen/CUDA/CudaCodegen.h"
#include "vitc/Compiler/ConstantEvaluator.h"
#include "vitc/Compiler/Pipeline.h"
#include "vitc/Frontend/ModelBuilder.h"
#include "vitc/InitAll.h"
#include "vitc/Plan/ExecutionPlan.h"
#include "vitc/Reference/ReferenceModel.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/TargetSelect.h"

#include "gtest/gtest.h"

#include "E2E/Numerics.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <random>

using namespace vitc;
using namespace vitc::testing;

namespace {

struct Case {
  std::string name;
  ModelConfig config;
  int64_t batch;
  /// CudaOptions::maxTile: 0 is the production schedule, 8 forces many
  /// blocks and partial tiles on these small shapes.
  int64_t maxTile;
};

ModelConfig tiny(InputLayout input, KernelLayout kernel) {
  ModelConfig config;
  config.name = "tiny";
  config.imageSize = 32; // 4 x 4 patches of 8: 17 tokens with the class token
  config.patchSize = 8;
  config.hiddenSize = 32;
  config.numHeads = 2; // head width 16
  config.mlpDim = 64;
  config.depth = 2;
  config.numClasses = 10;
  config.inputLayout = input;
  config.kernelLayout = kernel;
  return config;
}

ModelConfig keras() {
  ModelConfig config = tiny(InputLayout::NHWC, KernelLayout::HWIO);
  config.qkvBias = false;
  return config;
}

std::vector<Case> cases() {
  return {
      {"nchw_oihw_batch2_tile8", tiny(InputLayout::NCHW, KernelLayout::OIHW), 2,
       8},
      {"nchw_oihw_batch2_default_tiles",
       tiny(InputLayout::NCHW, KernelLayout::OIHW), 2, 0},
      {"nhwc_hwio_no_qkv_bias_batch2_tile8", keras(), 2, 8},
      {"nhwc_hwio_no_qkv_bias_batch2_default_tiles", keras(), 2, 0},
  };
}

/// A ranked strided memref descriptor laid out as the C interface expects:
/// {float *allocated, float *aligned, int64 offset, int64 sizes[rank],
/// int64 strides[rank]}, row-major and contiguous.
class MemRefDescriptor {
public:
  MemRefDescriptor(float *data, const std::vector<int64_t> &shape)
      : words(3 + 2 * shape.size()) {
    static_assert(sizeof(float *) == sizeof(int64_t));
    std::memcpy(&words[0], &data, sizeof(data));
    std::memcpy(&words[1], &data, sizeof(data));
    words[2] = 0;
    int64_t stride = 1;
    size_t rank = shape.size();
    for (size_t i = rank; i-- > 0;) {
      words[3 + i] = shape[i];
      words[3 + rank + i] = stride;
      stride *= shape[i];
    }
  }
  void *get() { return words.data(); }

private:
  std::vector<int64_t> words;
};

int64_t numElements(const std::vector<int64_t> &shape) {
  int64_t count = 1;
  for (int64_t size : shape)
    count *= size;
  return count;
}

/// A compiled, emulated model ready to run.
struct EmulatedModel {
  std::unique_ptr<mlir::MLIRContext> context;
  /// The kernel functions, the plan of their dispatches and the constants
  /// the plan binds.
  mlir::OwningOpRef<mlir::ModuleOp> kernels;
  ExecutionPlan plan;
  std::vector<Tensor> constants;
  /// Operand shapes of each kernel (inputs, then the result), recorded from
  /// the tensor signatures before emulation rewrote them.
  std::map<std::string, std::vector<std::vector<int64_t>>> shapes;
  /// Largest block tile size over all kernels (vit.cuda.block_tile).
  int64_t largestTile = 0;
  std::unique_ptr<mlir::ExecutionEngine> engine;
};

/// Builds, fuses, lowers and emulates `config`; failures are reported
/// through gtest and leave `engine` null.
std::unique_ptr<EmulatedModel> build(const ModelConfig &config,
                                     const WeightSet &weights, int64_t batch,
                                     int64_t maxTile) {
  auto model = std::make_unique<EmulatedModel>();
  mlir::DialectRegistry registry;
  registerAllDialects(registry);
  model->context = std::make_unique<mlir::MLIRContext>(registry);
  model->kernels =
      buildViTModule(*model->context, config, weights.naming, batch);
  // vitc's pipeline to the linalg phase, and its hand-over of the constants
  // and the dispatch list.
  PipelineOptions options;
  options.target.kind = TargetOptions::Kind::Cuda;
  options.target.cuda.maxTile = maxTile;
  options.last = Phase::Linalg;
  options.constantsHook = [&](mlir::func::FuncOp constants) {
    mlir::FailureOr<EvaluatedConstants> values =
        evaluateConstants(constants, weights);
    if (succeeded(values))
      model->constants = values->copy();
    return mlir::LogicalResult(values);
  };
  mlir::PassManager pm(model->context.get());
  buildCompilerPipeline(pm, options);
  pm.addPass(createExtractKernelsPass([&](mlir::func::FuncOp entry) {
    mlir::FailureOr<ExecutionPlan> plan = planExecution(entry);
    if (succeeded(plan))
      model->plan = std::move(*plan);
    return mlir::LogicalResult(plan);
  }));
  if (failed(pm.run(*model->kernels))) {
    ADD_FAILURE() << "the pipeline failed";
    return model;
  }

  mlir::ModuleOp kernels = *model->kernels;
  mlir::Builder builder(model->context.get());
  for (auto func : kernels.getOps<mlir::func::FuncOp>()) {
    std::vector<std::vector<int64_t>> operands;
    auto type = func.getFunctionType();
    for (mlir::Type t :
         llvm::concat<const mlir::Type>(type.getInputs(), type.getResults())) {
      auto tensor = mlir::dyn_cast<mlir::RankedTensorType>(t);
      if (!tensor || !tensor.hasStaticShape()) {
        ADD_FAILURE() << "kernel @" << func.getSymName().str()
                      << " has a non-static-tensor operand";
        return model;
      }
      operands.emplace_back(tensor.getShape().begin(), tensor.getShape().end());
    }
    if (type.getNumResults() != 1) {
      ADD_FAILURE() << "kernel @" << func.getSymName().str() << " has "
                    << type.getNumResults() << " results";
      return model;
    }
    model->shapes[func.getSymName().str()] = std::move(operands);
    func->setAttr("llvm.emit_c_interface", builder.getUnitAttr());
  }

  mlir::PassManager emulation(model->context.get());
  cuda::buildGpuScheduleForCpuEmulation(emulation, options.target.cuda);
  if (failed(emulation.run(kernels))) {
    ADD_FAILURE() << "the emulation pipeline failed";
    return model;
  }

  // After the destination ABI each kernel takes its inputs, then its output
  // buffer, and returns nothing: check every dispatched C interface.
  for (const PlannedDispatch &dispatch : model->plan.dispatches) {
    auto found = model->shapes.find(dispatch.symbol);
    if (found == model->shapes.end()) {
      ADD_FAILURE() << "no kernel @" << dispatch.symbol;
      return model;
    }
    if (found->second.size() != dispatch.bindings.size()) {
      ADD_FAILURE() << "@" << dispatch.symbol << ": "
                    << dispatch.bindings.size() << " bindings for "
                    << found->second.size() << " operands";
      return model;
    }
    auto wrapper = kernels.lookupSymbol<mlir::LLVM::LLVMFuncOp>(
        "_mlir_ciface_" + dispatch.symbol);
    if (!wrapper) {
      ADD_FAILURE() << "no _mlir_ciface_" << dispatch.symbol;
      return model;
    }
    auto tile =
        wrapper->getAttrOfType<mlir::DenseI64ArrayAttr>(kCudaBlockTileAttr);
    if (!tile) {
      ADD_FAILURE() << "@" << dispatch.symbol << " has no vit.cuda.block_tile";
      return model;
    }
    for (int64_t size : tile.asArrayRef())
      model->largestTile = std::max(model->largestTile, size);
    auto wrapperType = wrapper.getFunctionType();
    if (wrapperType.getNumParams() != dispatch.bindings.size() ||
        !mlir::isa<mlir::LLVM::LLVMVoidType>(wrapperType.getReturnType())) {
      std::string printed;
      llvm::raw_string_ostream os(printed);
      os << wrapperType;
      ADD_FAILURE() << "_mlir_ciface_" << dispatch.symbol
                    << " has an unexpected signature: " << printed;
      return model;
    }
  }

  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  auto engine = mlir::ExecutionEngine::create(kernels);
  if (!engine) {
    ADD_FAILURE() << llvm::toString(engine.takeError());
    return model;
  }
  model->engine = std::move(*engine);
  return model;
}

/// Runs the plan on `images` and returns the logits.
std::vector<float> run(EmulatedModel &model, std::vector<float> images,
                       size_t numLogits) {
  std::vector<float> logits(numLogits, std::nanf(""));
  const ExecutionPlan &plan = model.plan;
  // Aligned like the runtime's arena; filled with NaN so that a read of an
  // unwritten range poisons the logits.
  size_t arenaBytes = (std::max<int64_t>(plan.arenaBytes, kArenaAlignment) +
                       kArenaAlignment - 1) /
                      kArenaAlignment * kArenaAlignment;
  std::unique_ptr<char, decltype(&std::free)> arena(
      static_cast<char *>(std::aligned_alloc(kArenaAlignment, arenaBytes)),
      &std::free);
  std::fill_n(reinterpret_cast<float *>(arena.get()), arenaBytes / 4,
              std::nanf(""));

  for (const PlannedDispatch &dispatch : plan.dispatches) {
    const std::vector<std::vector<int64_t>> &shapes =
        model.shapes.at(dispatch.symbol);
    std::vector<MemRefDescriptor> descriptors;
    descriptors.reserve(dispatch.bindings.size());
    for (size_t i = 0; i < dispatch.bindings.size(); ++i) {
      const PlannedBinding &binding = dispatch.bindings[i];
      int64_t elements = numElements(shapes[i]);
      float *data = nullptr;
      switch (binding.kind) {
      case PlannedBinding::Kind::Input:
        EXPECT_EQ(binding.index, 0);
        EXPECT_EQ(elements, static_cast<int64_t>(images.size()));
        data = images.data();
        break;
      case PlannedBinding::Kind::Output:
        EXPECT_EQ(binding.index, 0);
        EXPECT_EQ(elements, static_cast<int64_t>(logits.size()));
        data = logits.data();
        break;
      case PlannedBinding::Kind::Constant: {
        Tensor &constant = model.constants.at(binding.index);
        EXPECT_EQ(elements, constant.numElements()) << dispatch.symbol;
        data = constant.data.data();
        break;
      }
      case PlannedBinding::Kind::Arena:
        EXPECT_LE(elements * 4, binding.size) << dispatch.symbol;
        EXPECT_LE(binding.offset + elements * 4, plan.arenaBytes);
        data = reinterpret_cast<float *>(arena.get() + binding.offset);
        break;
      }
      descriptors.emplace_back(data, shapes[i]);
    }
    std::vector<void *> pointers, args;
    pointers.reserve(descriptors.size());
    for (MemRefDescriptor &descriptor : descriptors)
      pointers.push_back(descriptor.get());
    for (void *&pointer : pointers)
      args.push_back(&pointer);
    llvm::Error invoked =
        model.engine->invokePacked("_mlir_ciface_" + dispatch.symbol, args);
    if (invoked) {
      ADD_FAILURE() << llvm::toString(std::move(invoked));
      return logits;
    }
  }
  return logits;
}

class EmulatedGpuModelTest : public ::testing::TestWithParam<Case> {};

TEST_P(EmulatedGpuModelTest, MatchesReference) {
  const Case &testCase = GetParam();
  WeightSet weights = makeRandomWeights(testCase.config, WeightNaming::Timm, 7);
  std::unique_ptr<EmulatedModel> model =
      build(testCase.config, weights, testCase.batch, testCase.maxTile);
  ASSERT_TRUE(model->engine);
  EXPECT_GT(model->plan.dispatches.size(), 4u);
  // The cap took effect (so small shapes get many blocks and partial
  // tiles), and the default schedule is really a different one.
  if (testCase.maxTile > 0)
    EXPECT_LE(model->largestTile, testCase.maxTile);
  else
    EXPECT_GT(model->largestTile, 8);
  // Two fresh images per run, so a kernel that ignores its input fails.
  for (uint32_t seed : {11u, 12u}) {
    std::vector<float> images =
        randomImages(testCase.config, testCase.batch, seed);
    std::vector<float> expected =
        reference::runModel(testCase.config, weights, images, testCase.batch);
    ASSERT_EQ(expected.size(),
              size_t(testCase.batch * testCase.config.numClasses));
    std::vector<float> actual = run(*model, images, expected.size());
    double error = relativeError(actual, expected);
    std::printf("%s seed %u: %zu dispatches, largest block tile %lld, max "
                "relative error %.3g\n",
                testCase.name.c_str(), seed, model->plan.dispatches.size(),
                static_cast<long long>(model->largestTile), error);
    EXPECT_LE(error, kRelativeBound) << "seed " << seed;
  }
}

INSTANTIATE_TEST_SUITE_P(Tiny, EmulatedGpuModelTest,
                         ::testing::ValuesIn(cases()),
                         [](const auto &info) { return info.param.name; });

// The comparison is sharp enough to catch a small weight error: compiling
// with one weight of one block perturbed by 5% must break the bound.
TEST(EmulatedGpuModelSensitivity, DetectsAPerturbedWeight) {
  ModelConfig config = tiny(InputLayout::NCHW, KernelLayout::OIHW);
  WeightSet weights = makeRandomWeights(config, WeightNaming::Timm, 7);
  WeightSet perturbed = weights;
  std::vector<float> &fc1 = perturbed.tensors["blocks.1.mlp.fc1.weight"].data;
  ASSERT_FALSE(fc1.empty());
  for (size_t i = 0; i < fc1.size(); i += 5)
    fc1[i] *= 1.05f;
  std::unique_ptr<EmulatedModel> model = build(config, perturbed, 2, 8);
  ASSERT_TRUE(model->engine);
  std::vector<float> images = randomImages(config, 2, 3);
  std::vector<float> expected = reference::runModel(config, weights, images, 2);
  double error = relativeError(run(*model, images, expected.size()), expected);
  std::printf("perturbed fc1: max relative error %.3g\n", error);
  EXPECT_GT(error, kRelativeBound);
  EXPECT_TRUE(std::isfinite(error));
}

} // namespace
