//===- CompiledModelTest.cpp - Compiled artifacts vs the reference model --===//
//
// Each case builds a model, compiles it to a .vitb artifact exactly as vitc
// does, runs it with the vitrt runtime on fresh random images and compares
// the logits with the independent reference model.
//
// Bound: the kernels compute in fp32 with fp32 accumulation, the reference
// in double. A dot product of K terms carries a relative error of about
// sqrt(K) * 2^-24 (~3e-6 for K = 3072) typically; layer norms renormalise
// after every block, so errors do not compound across depth. Measured on
// ViT-B/16 here: 2.6e-7. We allow
//   max |compiled - reference| <= 2e-5 * max(1, max |reference|),
// which leaves ~100x headroom for other summation orders and CPUs, while a
// wrong weight, a tanh GELU for an exact one (~1e-3) or a missing epilogue
// shifts logits far more (DetectsAPerturbedWeight checks this).
//
//===----------------------------------------------------------------------===//

#include "vitc/Dialect/ViT/Transforms/Passes.h"
#include "vitc/Frontend/ModelBuilder.h"
#include "vitc/InitAllDialects.h"
#include "vitc/Reference/ReferenceModel.h"
#include "vitc/Runtime/vitrt.h"
#include "vitc/Target/Compiler.h"

#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FileSystem.h"

#include "gtest/gtest.h"

#include <cmath>
#include <random>

using namespace vitc;

namespace {

constexpr double kRelativeBound = 2e-5;

struct Case {
  std::string name;
  ModelConfig config;
  int64_t batch;
  WeightNaming naming = WeightNaming::Timm;
};

ModelConfig small(InputLayout input, KernelLayout kernel) {
  ModelConfig config;
  config.name = "small";
  config.imageSize = 48; // 3 x 3 patches: an odd grid
  config.patchSize = 16;
  config.hiddenSize = 48;
  config.numHeads = 3; // head width 16
  config.mlpDim = 96;
  config.depth = 2;
  config.numClasses = 10;
  config.inputLayout = input;
  config.kernelLayout = kernel;
  return config;
}

std::vector<Case> cases() {
  ModelConfig keras = small(InputLayout::NHWC, KernelLayout::HWIO);
  keras.qkvBias = false;
  ModelConfig tanh = small(InputLayout::NCHW, KernelLayout::OIHW);
  tanh.gelu = GeluApproximation::Tanh;
  tanh.imageSize = 40; // 5 x 5 patches of 8
  tanh.patchSize = 8;
  return {
      {"nchw_oihw_batch1", small(InputLayout::NCHW, KernelLayout::OIHW), 1},
      {"nchw_oihw_batch3", small(InputLayout::NCHW, KernelLayout::OIHW), 3},
      {"nhwc_hwio_no_qkv_bias_batch3", keras, 3},
      {"nhwc_oihw_batch1", small(InputLayout::NHWC, KernelLayout::OIHW), 1},
      {"hugging_face_names_batch3", small(InputLayout::NCHW, KernelLayout::OIHW),
       3, WeightNaming::HuggingFace},
      {"tanh_gelu_patch8_batch3", tanh, 3},
  };
}

/// Compiles `config` with `weights` for the CPU and returns the artifact.
std::string compile(const ModelConfig &config, const WeightSet &weights,
                    int64_t batch) {
  mlir::DialectRegistry registry;
  registerAllDialects(registry);
  mlir::MLIRContext context(registry);
  mlir::OwningOpRef<mlir::ModuleOp> module =
      buildViTModule(context, config, weights.naming, batch);
  mlir::PassManager pm(&context);
  vit::buildViTFusionPipeline(pm);
  EXPECT_TRUE(succeeded(pm.run(*module)));

  llvm::SmallString<128> path;
  EXPECT_FALSE(llvm::sys::fs::createTemporaryFile("e2e", "vitb", path));
  mlir::DefaultTimingManager timing;
  mlir::TimingScope timer = timing.getRootScope();
  CompileReport report;
  std::string error;
  EXPECT_TRUE(compileArtifact(*module, weights, TargetOptions(),
                              {config.name, config, "test"}, path.str().str(),
                              timer, [](const std::string &) {}, report,
                              error))
      << error;
  return path.str().str();
}

std::vector<float> run(const std::string &artifact,
                       const std::vector<float> &images, size_t numLogits) {
  vitrt_session *session = nullptr;
  EXPECT_EQ(vitrt_session_create_from_file(artifact.c_str(), nullptr,
                                           &session),
            VITRT_OK)
      << vitrt_last_error();
  std::vector<float> logits(numLogits, std::nanf(""));
  const float *inputs[] = {images.data()};
  float *outputs[] = {logits.data()};
  if (session) {
    EXPECT_EQ(vitrt_session_run(session, inputs, outputs), VITRT_OK)
        << vitrt_last_error();
    vitrt_session_destroy(session);
  }
  return logits;
}

std::vector<float> randomImages(const ModelConfig &config, int64_t batch,
                                uint32_t seed) {
  std::mt19937 generator(seed);
  std::uniform_real_distribution<float> pixel(-1.0f, 1.0f);
  std::vector<float> images(batch * config.channels * config.imageSize *
                            config.imageSize);
  for (float &value : images)
    value = pixel(generator);
  return images;
}

/// max |a - b| / max(1, max |b|).
double relativeError(const std::vector<float> &a, const std::vector<float> &b) {
  double maxDiff = 0, scale = 1;
  for (size_t i = 0; i < a.size(); ++i) {
    maxDiff = std::max(maxDiff, std::fabs(double(a[i]) - b[i]));
    scale = std::max(scale, std::fabs(double(b[i])));
    if (std::isnan(a[i]))
      return INFINITY;
  }
  return maxDiff / scale;
}

class CompiledModelTest : public ::testing::TestWithParam<Case> {};

TEST_P(CompiledModelTest, MatchesReference) {
  const Case &testCase = GetParam();
  WeightSet weights = makeRandomWeights(testCase.config, testCase.naming, 7);
  std::string artifact = compile(testCase.config, weights, testCase.batch);
  // Two fresh images per run, so a kernel that ignores its input fails.
  for (uint32_t seed : {11u, 12u}) {
    std::vector<float> images =
        randomImages(testCase.config, testCase.batch, seed);
    std::vector<float> expected = reference::runModel(
        testCase.config, weights, images, testCase.batch);
    std::vector<float> actual = run(artifact, images, expected.size());
    EXPECT_LE(relativeError(actual, expected), kRelativeBound)
        << "seed " << seed;
  }
  llvm::sys::fs::remove(artifact);
}

INSTANTIATE_TEST_SUITE_P(Small, CompiledModelTest, ::testing::ValuesIn(cases()),
                         [](const auto &info) { return info.param.name; });

// The comparison is sharp enough to catch a small weight error: perturbing
// one weight of one block by 5% of its scale must break the bound.
TEST(CompiledModelSensitivity, DetectsAPerturbedWeight) {
  ModelConfig config = small(InputLayout::NCHW, KernelLayout::OIHW);
  WeightSet weights = makeRandomWeights(config, WeightNaming::Timm, 7);
  WeightSet perturbed = weights;
  std::vector<float> &fc1 = perturbed.tensors["blocks.1.mlp.fc1.weight"].data;
  for (size_t i = 0; i < fc1.size(); i += 5)
    fc1[i] *= 1.05f;
  std::string artifact = compile(config, perturbed, 1);
  std::vector<float> images = randomImages(config, 1, 3);
  std::vector<float> expected = reference::runModel(config, weights, images, 1);
  EXPECT_GT(relativeError(run(artifact, images, expected.size()), expected),
            kRelativeBound);
  llvm::sys::fs::remove(artifact);
}

// The full ViT-B/16 at batch 1.
TEST(CompiledModelFull, VitB16MatchesReference) {
  ModelConfig config = *lookupPreset("vit-b16");
  WeightSet weights = makeRandomWeights(config, WeightNaming::Timm, 1);
  std::string artifact = compile(config, weights, 1);
  std::vector<float> images = randomImages(config, 1, 5);
  std::vector<float> expected = reference::runModel(config, weights, images, 1);
  std::vector<float> actual = run(artifact, images, expected.size());
  double error = relativeError(actual, expected);
  std::printf("ViT-B/16 max relative error vs reference: %.3g\n", error);
  EXPECT_LE(error, kRelativeBound);
  llvm::sys::fs::remove(artifact);
}

} // namespace
