//===- CompiledModelTest.cpp - Compiled artifacts vs the reference model --===//
//
// Each case builds a model, compiles it to a .vitb artifact exactly as vitc
// does, runs it with the vitrt runtime on fresh random images and compares
// the logits with the independent reference model. Every case runs for the
// CPU and, through the CUDA driver emulator (libcuda-emulator.so, which
// executes the artifact's PTX through vitrt's real CUDA backend and its
// graph replay), for cuda:sm_80 and cuda:sm_90.
//
// The bound and its justification are in Numerics.h.
//
//===----------------------------------------------------------------------===//

#include "vitc/Compiler/Compiler.h"
#include "vitc/CudaEmulator/Executor.h"
#include "vitc/Frontend/ModelBuilder.h"
#include "vitc/InitAll.h"
#include "vitc/Reference/ReferenceModel.h"
#include "vitc/Runtime/vitrt.h"

#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FileSystem.h"

#include "gtest/gtest.h"

#include "E2E/Numerics.h"

#include <cmath>
#include <cstdlib>
#include <dlfcn.h>
#include <random>

using namespace vitc;
using namespace vitc::testing;

namespace {

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
  // Rows of 1024 floats (4 KiB) between fc1 and fc2: the CPU stores them
  // padded (vit-cpu-pad-rows).
  ModelConfig wideMlp = small(InputLayout::NCHW, KernelLayout::OIHW);
  wideMlp.mlpDim = 1024;
  return {
      {"nchw_oihw_batch1", small(InputLayout::NCHW, KernelLayout::OIHW), 1},
      {"nchw_oihw_batch3", small(InputLayout::NCHW, KernelLayout::OIHW), 3},
      {"nhwc_hwio_no_qkv_bias_batch3", keras, 3},
      {"nhwc_oihw_batch1", small(InputLayout::NHWC, KernelLayout::OIHW), 1},
      {"hugging_face_names_batch3",
       small(InputLayout::NCHW, KernelLayout::OIHW), 3,
       WeightNaming::HuggingFace},
      {"tanh_gelu_patch8_batch3", tanh, 3},
      {"mlp1024_batch3", wideMlp, 3},
  };
}

/// Where an artifact runs: the CPU, or an emulated GPU of compute
/// capability `sm` through the driver emulator, computing its matmuls in
/// `precision`.
struct Target {
  std::string name;
  int sm = 0;
  cuda::Precision precision = cuda::Precision::F32;
};

/// Compiles `config` with `weights` for `target` and returns the artifact.
std::string compile(const ModelConfig &config, const WeightSet &weights,
                    int64_t batch, const Target &target = {"cpu"}) {
  mlir::DialectRegistry registry;
  registerAllDialects(registry);
  mlir::MLIRContext context(registry);
  std::string diagnostics;
  mlir::ScopedDiagnosticHandler handler(
      &context, [&](mlir::Diagnostic &diagnostic) {
        llvm::raw_string_ostream(diagnostics) << diagnostic << "\n";
      });
  mlir::OwningOpRef<mlir::ModuleOp> module =
      buildViTModule(context, config, weights.naming, batch);
  llvm::Expected<TargetOptions> options =
      parseTarget(target.sm ? "cuda:sm_" + std::to_string(target.sm) : "cpu");
  EXPECT_TRUE(bool(options)) << llvm::toString(options.takeError());
  if (!options)
    return "";
  options->cuda.precision = target.precision;

  llvm::SmallString<128> path;
  EXPECT_FALSE(llvm::sys::fs::createTemporaryFile("e2e", "vitb", path));
  CompileReport report;
  EXPECT_TRUE(succeeded(compileArtifact(*module, weights, *options,
                                        {config.name, config, "test"}, path,
                                        CompileSession(), report)))
      << diagnostics;
  return path.str().str();
}

std::vector<float> run(const std::string &artifact,
                       const std::vector<float> &images, size_t numLogits,
                       const Target &target = {"cpu"}) {
  vitrt_options options;
  vitrt_options_init(&options);
  if (target.sm) {
    // The emulator reads the device to emulate when a context is created.
    setenv("VITC_EMULATOR_SM", std::to_string(target.sm).c_str(), 1);
    options.cuda_driver = VITC_CUDA_EMULATOR_PATH;
  }
  vitrt_session *session = nullptr;
  EXPECT_EQ(
      vitrt_session_create_from_file(artifact.c_str(), &options, &session),
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

class CompiledModelTest
    : public ::testing::TestWithParam<std::tuple<Case, Target>> {};

/// Compiles `testCase` for `target` and runs it on two fresh batches of
/// images (so a kernel that ignores its input fails), handing `check` the
/// seed, the logits and the reference's.
void runOnFreshImages(
    const Case &testCase, const Target &target,
    llvm::function_ref<void(uint32_t seed, const std::vector<float> &actual,
                            const std::vector<float> &expected)>
        check) {
  WeightSet weights = makeRandomWeights(testCase.config, testCase.naming, 7);
  std::string artifact =
      compile(testCase.config, weights, testCase.batch, target);
  for (uint32_t seed : {11u, 12u}) {
    std::vector<float> images =
        randomImages(testCase.config, testCase.batch, seed);
    std::vector<float> expected =
        reference::runModel(testCase.config, weights, images, testCase.batch);
    check(seed, run(artifact, images, expected.size(), target), expected);
  }
  llvm::sys::fs::remove(artifact);
}

TEST_P(CompiledModelTest, MatchesReference) {
  const auto &[testCase, target] = GetParam();
  runOnFreshImages(testCase, target,
                   [](uint32_t seed, const std::vector<float> &actual,
                      const std::vector<float> &expected) {
                     EXPECT_LE(relativeError(actual, expected), kRelativeBound)
                         << "seed " << seed;
                   });
}

INSTANTIATE_TEST_SUITE_P(
    Small, CompiledModelTest,
    ::testing::Combine(::testing::ValuesIn(cases()),
                       ::testing::Values(Target{"cpu"},
                                         Target{"emulated_sm80", 80},
                                         Target{"emulated_sm90", 90})),
    [](const auto &info) {
      return std::get<0>(info.param).name + "_" + std::get<1>(info.param).name;
    });

// The comparison is sharp enough to catch a small weight error: perturbing
// one weight of one block by 5% of its scale must break the bound.
TEST(CompiledModelSensitivity, DetectsAPerturbedWeight) {
  ModelConfig config = small(InputLayout::NCHW, KernelLayout::OIHW);
  WeightSet weights = makeRandomWeights(config, WeightNaming::Timm, 7);
  WeightSet perturbed = weights;
  std::vector<float> &fc1 = perturbed.tensors["blocks.1.mlp.fc1.weight"].data;
  for (size_t i = 0; i < fc1.size(); i += 5)
    fc1[i] *= 1.05f;
  std::vector<float> images = randomImages(config, 1, 3);
  std::vector<float> expected = reference::runModel(config, weights, images, 1);
  for (const Target &target : {Target{"cpu"}, Target{"emulated_sm90", 90}}) {
    std::string artifact = compile(config, perturbed, 1, target);
    double error =
        relativeError(run(artifact, images, expected.size(), target), expected);
    EXPECT_GT(error, kRelativeBound) << target.name;
    EXPECT_TRUE(std::isfinite(error)) << target.name;
    llvm::sys::fs::remove(artifact);
  }
}

// Sessions of different artifacts may be open at once in one process, each
// running its own kernels. (Each CPU session dlopens its kernels from a
// memfd; when the first session closed that descriptor, the second got the
// same /proc/self/fd path, and dlopen handed it the first one's library.)
TEST(CompiledModelSessions, DifferentArtifactsOpenAtOnceRunTheirOwnKernels) {
  Case first = cases()[0];  // patch 16, exact GELU
  Case second = cases()[5]; // patch 8, tanh GELU
  std::vector<std::string> artifacts;
  std::vector<vitrt_session *> sessions;
  std::vector<WeightSet> weights;
  for (const Case &testCase : {first, second}) {
    weights.push_back(makeRandomWeights(testCase.config, testCase.naming, 7));
    artifacts.push_back(
        compile(testCase.config, weights.back(), testCase.batch));
    vitrt_session *session = nullptr;
    EXPECT_EQ(vitrt_session_create_from_file(artifacts.back().c_str(), nullptr,
                                             &session),
              VITRT_OK)
        << vitrt_last_error();
    sessions.push_back(session);
  }
  Case both[] = {first, second};
  for (auto [index, testCase] : llvm::enumerate(both)) {
    std::vector<float> images =
        randomImages(testCase.config, testCase.batch, uint32_t(20 + index));
    std::vector<float> expected = reference::runModel(
        testCase.config, weights[index], images, testCase.batch);
    std::vector<float> logits(expected.size(), std::nanf(""));
    const float *inputs[] = {images.data()};
    float *outputs[] = {logits.data()};
    ASSERT_NE(sessions[index], nullptr);
    EXPECT_EQ(vitrt_session_run(sessions[index], inputs, outputs), VITRT_OK)
        << vitrt_last_error();
    EXPECT_LE(relativeError(logits, expected), kRelativeBound) << testCase.name;
  }
  for (vitrt_session *session : sessions)
    vitrt_session_destroy(session);
  for (const std::string &artifact : artifacts)
    llvm::sys::fs::remove(artifact);
}

/// Tensor-core precisions: the logits of each small case stay within the
/// precision's relative L2 bound (Numerics.h), for both seeds.
class TensorCoreModelTest
    : public ::testing::TestWithParam<std::tuple<Case, Target>> {};

double boundFor(cuda::Precision precision) {
  return precision == cuda::Precision::BF16   ? kBf16RelativeL2Bound
         : precision == cuda::Precision::TF32 ? kTf32RelativeL2Bound
                                              : kFp16RelativeL2Bound;
}

TEST_P(TensorCoreModelTest, MatchesReferenceWithinPrecisionBound) {
  // Named, not a structured binding: the lambda below captures it.
  const Target &target = std::get<1>(GetParam());
  runOnFreshImages(std::get<0>(GetParam()), target,
                   [&](uint32_t seed, const std::vector<float> &actual,
                       const std::vector<float> &expected) {
                     double error = relativeL2(actual, expected);
                     std::printf("%s seed %u: relative L2 error %.3g\n",
                                 target.name.c_str(), seed, error);
                     EXPECT_LE(error, boundFor(target.precision))
                         << "seed " << seed;
                   });
}

const Target kBf16Sm80{"bf16_sm80", 80, cuda::Precision::BF16};
const Target kBf16Sm90{"bf16_sm90", 90, cuda::Precision::BF16};
const Target kFp16Sm80{"fp16_sm80", 80, cuda::Precision::F16};
const Target kFp16Sm90{"fp16_sm90", 90, cuda::Precision::F16};
const Target kTf32Sm80{"tf32_sm80", 80, cuda::Precision::TF32};
const Target kTf32Sm90{"tf32_sm90", 90, cuda::Precision::TF32};

INSTANTIATE_TEST_SUITE_P(
    Small, TensorCoreModelTest,
    ::testing::Combine(::testing::ValuesIn(cases()),
                       ::testing::Values(kBf16Sm80, kBf16Sm90, kFp16Sm80,
                                         kFp16Sm90, kTf32Sm80, kTf32Sm90)),
    [](const auto &info) {
      return std::get<0>(info.param).name + "_" + std::get<1>(info.param).name;
    });

// Top-1 classes of 32 random images agree with the reference on at least
// 95% of them (here: all but one), in both precisions.
TEST(TensorCoreModel, Top1AgreesWithReference) {
  ModelConfig config = small(InputLayout::NCHW, KernelLayout::OIHW);
  WeightSet weights = makeRandomWeights(config, WeightNaming::Timm, 7);
  constexpr int64_t kBatch = 16;
  for (const Target &target : {kBf16Sm90, kFp16Sm90, kTf32Sm80}) {
    std::string artifact = compile(config, weights, kBatch, target);
    int64_t agree = 0, images = 0;
    for (uint32_t seed : {21u, 22u}) {
      std::vector<float> pixels = randomImages(config, kBatch, seed);
      std::vector<float> expected =
          reference::runModel(config, weights, pixels, kBatch);
      agree += top1Agreements(run(artifact, pixels, expected.size(), target),
                              expected, config.numClasses);
      images += kBatch;
    }
    std::printf("%s: top-1 agrees on %lld of %lld images\n",
                target.name.c_str(), (long long)agree, (long long)images);
    EXPECT_GE(agree * 100, images * 95) << target.name;
    llvm::sys::fs::remove(artifact);
  }
}

// The bounds are sharp enough to catch a wrong weight: scaling a fifth of
// one block's fc1 weights by 1.25 must break them.
TEST(TensorCoreModel, DetectsAPerturbedWeight) {
  ModelConfig config = small(InputLayout::NCHW, KernelLayout::OIHW);
  WeightSet weights = makeRandomWeights(config, WeightNaming::Timm, 7);
  WeightSet perturbed = weights;
  std::vector<float> &fc1 = perturbed.tensors["blocks.1.mlp.fc1.weight"].data;
  for (size_t i = 0; i < fc1.size(); i += 5)
    fc1[i] *= 1.25f;
  std::vector<float> images = randomImages(config, 3, 3);
  std::vector<float> expected = reference::runModel(config, weights, images, 3);
  for (const Target &target : {kBf16Sm90, kFp16Sm80, kTf32Sm90}) {
    std::string artifact = compile(config, perturbed, 3, target);
    double error =
        relativeL2(run(artifact, images, expected.size(), target), expected);
    std::printf("%s, perturbed weight: relative L2 error %.3g\n",
                target.name.c_str(), error);
    EXPECT_GT(error, boundFor(target.precision)) << target.name;
    EXPECT_TRUE(std::isfinite(error)) << target.name;
    llvm::sys::fs::remove(artifact);
  }
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

// One full-width block: ViT-B/16 with depth 1 at batch 1, its PTX run by the
// driver emulator (about 45 s on 2 cores).
TEST(CompiledModelFull, VitB16OneBlockEmulatedSm90MatchesReference) {
  ModelConfig config = *lookupPreset("vit-b16");
  config.depth = 1;
  WeightSet weights = makeRandomWeights(config, WeightNaming::Timm, 1);
  Target sm90{"emulated_sm90", 90};
  std::string artifact = compile(config, weights, 1, sm90);
  std::vector<float> images = randomImages(config, 1, 5);
  std::vector<float> expected = reference::runModel(config, weights, images, 1);
  std::vector<float> actual = run(artifact, images, expected.size(), sm90);
  double error = relativeError(actual, expected);
  std::printf("ViT-B/16, one block, emulated sm_90: max relative error vs "
              "reference %.3g\n",
              error);
  EXPECT_LE(error, kRelativeBound);
  llvm::sys::fs::remove(artifact);
}

// One full-width block in bf16 (ViT-B/16, depth 1, batch 1) on an emulated
// sm_90, with the emulator's counters: the logits stay within the bf16
// bound; every linear kernel and the flash-attention kernel do at least
// their multiply-adds as tensor-core MMAs (more, with the zero padding of
// partial tiles) and read and write shared memory without a bank conflict,
// so that >= 95% of the model's multiply-adds (here: all) run on tensor
// cores.
TEST(CompiledModelFull, VitB16OneBlockBf16EmulatedSm90) {
  ModelConfig config = *lookupPreset("vit-b16");
  config.depth = 1;
  WeightSet weights = makeRandomWeights(config, WeightNaming::Timm, 1);
  Target target{"bf16_sm90", 90, cuda::Precision::BF16};
  std::string artifact = compile(config, weights, 1, target);
  std::vector<float> images = randomImages(config, 1, 5);
  std::vector<float> expected = reference::runModel(config, weights, images, 1);

  llvm::SmallString<128> countersPath;
  ASSERT_FALSE(
      llvm::sys::fs::createTemporaryFile("counters", "txt", countersPath));
  setenv("VITC_EMULATOR_COUNTERS", countersPath.c_str(), 1);
  setenv("VITC_EMULATOR_SM", "90", 1);
  vitrt_options options;
  vitrt_options_init(&options);
  options.cuda_driver = VITC_CUDA_EMULATOR_PATH;
  vitrt_session *session = nullptr;
  ASSERT_EQ(
      vitrt_session_create_from_file(artifact.c_str(), &options, &session),
      VITRT_OK)
      << vitrt_last_error();
  EXPECT_STREQ(vitrt_session_precision(session), "bf16");
  std::vector<float> logits(expected.size(), std::nanf(""));
  const float *inputs[] = {images.data()};
  float *outputs[] = {logits.data()};
  ASSERT_EQ(vitrt_session_run(session, inputs, outputs), VITRT_OK)
      << vitrt_last_error();
  double error = relativeL2(logits, expected);
  std::printf("ViT-B/16, one block, bf16 on emulated sm_90: relative L2 "
              "error vs reference %.3g\n",
              error);
  EXPECT_LE(error, kBf16RelativeL2Bound);

  // The emulator vitrt loaded: its counters until the context is released.
  void *emulator = dlopen(VITC_CUDA_EMULATOR_PATH, RTLD_NOW | RTLD_NOLOAD);
  ASSERT_NE(emulator, nullptr);
  auto kernelCounters =
      reinterpret_cast<bool (*)(const char *, emulator::KernelCounters *)>(
          dlsym(emulator, "vitcEmulatorKernelCounters"));
  ASSERT_NE(kernelCounters, nullptr);
  // The only block is the last: from the query projection on, it computes
  // the class token alone (vit-hoist-token-slices), the QKV projection in
  // two kernels (the class token's query, every token's keys and values).
  const int64_t t = 197, d = 768, mlp = 3072, heads = 12, classToken = 1;
  const std::pair<const char *, int64_t> matmuls[] = {
      {"patch_embed", 196 * 768 * d},
      {"blocks_0_attn_qkv_0_768", classToken * d * d},
      {"blocks_0_attn_qkv_768_2304", t * d * 2 * d},
      {"blocks_0_attn_core", heads * 2 * classToken * t * (d / heads)},
      {"blocks_0_attn_proj", classToken * d * d},
      {"blocks_0_mlp_fc1", classToken * d * mlp},
      {"blocks_0_mlp_fc2", classToken * mlp * d},
      {"head", d * 1000}};
  int64_t modelMacs = 0, tensorCoreMacs = 0;
  for (auto [name, macs] : matmuls) {
    emulator::KernelCounters counters;
    ASSERT_TRUE(kernelCounters(name, &counters)) << name;
    std::printf("%-20s MACs %lld, on tensor cores %llu, fp32 FMAs %llu, "
                "ldmatrix bank conflicts %llu\n",
                name, (long long)macs,
                (unsigned long long)counters.tensorMacs(),
                (unsigned long long)counters.fp32Macs(),
                (unsigned long long)counters.ldmatrixBankConflicts());
    EXPECT_GE(counters.tensorMacs(), uint64_t(macs)) << name;
    modelMacs += macs;
    if (counters.tensorMacs() >= uint64_t(macs))
      tensorCoreMacs += macs;
    EXPECT_EQ(counters.ldmatrixBankConflicts(), 0u) << name;
    // Conflict-free: one wavefront per 4-byte-per-lane request, per
    // ldmatrix matrix, and per quarter warp of a 16-byte cp.async.
    uint64_t otherRequests = counters.sharedRequests -
                             counters.ldmatrixRequests -
                             counters.asyncCopyRequests;
    EXPECT_EQ(counters.sharedWavefronts, otherRequests +
                                             counters.ldmatrixMatrices +
                                             4 * counters.asyncCopyRequests)
        << name << ": shared-memory bank conflicts";
  }
  double share = double(tensorCoreMacs) / double(modelMacs);
  std::printf("share of the model's MACs on tensor cores: %.1f%%\n",
              100 * share);
  EXPECT_GE(share, 0.95);
  dlclose(emulator);
  vitrt_session_destroy(session);
  unsetenv("VITC_EMULATOR_COUNTERS");
  llvm::sys::fs::remove(countersPath);
  llvm::sys::fs::remove(artifact);
}
