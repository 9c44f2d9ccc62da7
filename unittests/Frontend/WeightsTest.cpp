//===- WeightsTest.cpp - Parameter names, shapes, init and validation -----===//

#include "vitc/Frontend/Weights.h"

#include "vitc/Frontend/Safetensors.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "gtest/gtest.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>

using namespace vitc;

namespace {

ModelConfig preset(const std::string &name) {
  std::optional<ModelConfig> config = lookupPreset(name);
  EXPECT_TRUE(config.has_value()) << name;
  return config.value_or(ModelConfig());
}

/// Small enough that validation tests run in microseconds.
ModelConfig tinyConfig() {
  ModelConfig config;
  config.name = "tiny";
  config.imageSize = 8;
  config.patchSize = 4;
  config.hiddenSize = 8;
  config.depth = 2;
  config.numHeads = 2;
  config.mlpDim = 16;
  config.numClasses = 3;
  return config;
}

int64_t totalElements(const std::vector<ParamSpec> &specs) {
  int64_t total = 0;
  for (const ParamSpec &spec : specs)
    total += Tensor{spec.shape, {}}.numElements();
  return total;
}

const ParamSpec *findSpec(const std::vector<ParamSpec> &specs,
                          const std::string &name) {
  for (const ParamSpec &spec : specs)
    if (spec.name == name)
      return &spec;
  return nullptr;
}

uint32_t bitsOf(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

bool bitEqual(const Tensor &lhs, const Tensor &rhs) {
  if (lhs.shape != rhs.shape || lhs.data.size() != rhs.data.size())
    return false;
  for (size_t i = 0; i < lhs.data.size(); ++i)
    if (bitsOf(lhs.data[i]) != bitsOf(rhs.data[i]))
      return false;
  return true;
}

/// The message validateWeights fails with, or "" if it accepts `tensors`.
std::string validationError(const ModelConfig &config,
                            std::map<std::string, Tensor> tensors) {
  return llvm::toString(
      validateWeights(config, std::move(tensors)).takeError());
}

TEST(WeightsTest, TensorBasics) {
  EXPECT_EQ((Tensor{{2304, 768}, {}}.numElements()), 2304 * 768);
  EXPECT_EQ((Tensor{{}, {}}.numElements()), 1);
  EXPECT_EQ((Tensor{{3, 0}, {}}.numElements()), 0);
  EXPECT_EQ(formatShape({2304, 768}), "[2304, 768]");
  EXPECT_EQ(formatShape({7}), "[7]");
  EXPECT_EQ(formatShape({}), "[]");
}

TEST(WeightsTest, NamingStringsRoundTrip) {
  for (WeightNaming naming : {WeightNaming::Timm, WeightNaming::HuggingFace})
    EXPECT_EQ(parseWeightNaming(toString(naming)), naming);
  EXPECT_STREQ(toString(WeightNaming::Timm), "timm");
  EXPECT_STREQ(toString(WeightNaming::HuggingFace), "hf");
  EXPECT_FALSE(parseWeightNaming("keras").has_value());
}

TEST(WeightsTest, PresetParameterCounts) {
  EXPECT_EQ(totalElements(getParamSpecs(preset("vit-b16"), WeightNaming::Timm)),
            86567656);
  EXPECT_EQ(
      totalElements(getParamSpecs(preset("vit-b16-keras"), WeightNaming::Timm)),
      86540008);
}

TEST(WeightsTest, NamingsAgreeOnElementCount) {
  for (const std::string &name : presetNames()) {
    ModelConfig config = preset(name);
    EXPECT_EQ(totalElements(getParamSpecs(config, WeightNaming::Timm)),
              totalElements(getParamSpecs(config, WeightNaming::HuggingFace)))
        << name;
  }
}

TEST(WeightsTest, TimmSpecs) {
  std::vector<ParamSpec> specs =
      getParamSpecs(preset("vit-b16"), WeightNaming::Timm);
  // 4 embedding tensors, 12 per block, final norm and head.
  ASSERT_EQ(specs.size(), 4u + 12 * 12 + 4);
  EXPECT_EQ(specs.front().name, "patch_embed.proj.weight");
  EXPECT_EQ(specs.front().shape, (std::vector<int64_t>{768, 3, 16, 16}));
  EXPECT_EQ(specs.front().kind, ParamKind::Kernel);
  EXPECT_EQ(specs.front().fanIn, 3 * 16 * 16);
  EXPECT_EQ(specs.back().name, "head.bias");
  EXPECT_EQ(specs.back().shape, std::vector<int64_t>{1000});
  EXPECT_EQ(specs.back().kind, ParamKind::Bias);

  struct Expected {
    const char *name;
    std::vector<int64_t> shape;
    ParamKind kind;
    int64_t fanIn;
  };
  for (const Expected &e : {
           Expected{"cls_token", {1, 1, 768}, ParamKind::Embedding, 0},
           Expected{"pos_embed", {1, 197, 768}, ParamKind::Embedding, 0},
           Expected{"blocks.0.norm1.weight", {768}, ParamKind::NormScale, 0},
           Expected{"blocks.0.norm1.bias", {768}, ParamKind::NormShift, 0},
           Expected{
               "blocks.0.attn.qkv.weight", {2304, 768}, ParamKind::Kernel, 768},
           Expected{"blocks.0.attn.qkv.bias", {2304}, ParamKind::Bias, 0},
           Expected{
               "blocks.5.attn.proj.weight", {768, 768}, ParamKind::Kernel, 768},
           Expected{
               "blocks.11.mlp.fc1.weight", {3072, 768}, ParamKind::Kernel, 768},
           Expected{"blocks.11.mlp.fc1.bias", {3072}, ParamKind::Bias, 0},
           Expected{"blocks.11.mlp.fc2.weight",
                    {768, 3072},
                    ParamKind::Kernel,
                    3072},
           Expected{"norm.weight", {768}, ParamKind::NormScale, 0},
           Expected{"head.weight", {1000, 768}, ParamKind::Kernel, 768},
       }) {
    const ParamSpec *spec = findSpec(specs, e.name);
    ASSERT_NE(spec, nullptr) << e.name;
    EXPECT_EQ(spec->shape, e.shape) << e.name;
    EXPECT_EQ(spec->kind, e.kind) << e.name;
    EXPECT_EQ(spec->fanIn, e.fanIn) << e.name;
  }
}

TEST(WeightsTest, KerasSpecsUseHwioAndNoQkvBias) {
  std::vector<ParamSpec> specs =
      getParamSpecs(preset("vit-b16-keras"), WeightNaming::Timm);
  EXPECT_EQ(specs.front().shape, (std::vector<int64_t>{16, 16, 3, 768}));
  EXPECT_EQ(specs.front().fanIn, 3 * 16 * 16);
  EXPECT_EQ(findSpec(specs, "blocks.0.attn.qkv.bias"), nullptr);
  ASSERT_NE(findSpec(specs, "blocks.0.attn.qkv.weight"), nullptr);
  // Linear weights stay [out, in] whatever the kernel layout.
  EXPECT_EQ(findSpec(specs, "blocks.0.mlp.fc1.weight")->shape,
            (std::vector<int64_t>{3072, 768}));
}

TEST(WeightsTest, HuggingFaceSpecs) {
  std::vector<ParamSpec> specs =
      getParamSpecs(preset("vit-b16"), WeightNaming::HuggingFace);
  ASSERT_EQ(specs.size(), 4u + 12 * 16 + 4);
  EXPECT_EQ(specs.front().name,
            "vit.embeddings.patch_embeddings.projection.weight");
  for (const char *name :
       {"vit.encoder.layer.3.attention.attention.query.weight",
        "vit.encoder.layer.3.attention.attention.key.weight",
        "vit.encoder.layer.3.attention.attention.value.weight",
        "vit.encoder.layer.3.attention.output.dense.weight"}) {
    const ParamSpec *spec = findSpec(specs, name);
    ASSERT_NE(spec, nullptr) << name;
    EXPECT_EQ(spec->shape, (std::vector<int64_t>{768, 768})) << name;
    EXPECT_EQ(spec->fanIn, 768) << name;
  }
  for (const char *name :
       {"vit.embeddings.cls_token", "vit.embeddings.position_embeddings",
        "vit.encoder.layer.0.layernorm_before.weight",
        "vit.encoder.layer.0.attention.attention.value.bias",
        "vit.encoder.layer.0.layernorm_after.bias",
        "vit.encoder.layer.0.intermediate.dense.bias",
        "vit.encoder.layer.0.output.dense.weight", "vit.layernorm.bias",
        "classifier.weight", "classifier.bias"})
    EXPECT_NE(findSpec(specs, name), nullptr) << name;
}

TEST(WeightsTest, ParamNamesMatchSpecsAndAreUnique) {
  for (WeightNaming naming : {WeightNaming::Timm, WeightNaming::HuggingFace}) {
    for (bool qkvBias : {true, false}) {
      ModelConfig config = tinyConfig();
      config.qkvBias = qkvBias;
      ModelParamNames names = getParamNames(config, naming);
      ASSERT_EQ(names.blocks.size(), 2u);
      size_t perBlock = naming == WeightNaming::Timm ? 1 : 3;
      EXPECT_EQ(names.blocks[1].qkvWeights.size(), perBlock);
      EXPECT_EQ(names.blocks[1].qkvBiases.size(), qkvBias ? perBlock : 0);

      std::vector<ParamSpec> specs = getParamSpecs(config, naming);
      std::set<std::string> unique;
      for (const ParamSpec &spec : specs)
        unique.insert(spec.name);
      EXPECT_EQ(unique.size(), specs.size());
      for (const std::string &name :
           {names.patchKernel, names.classToken, names.blocks[1].fc2Bias,
            names.blocks[0].qkvWeights.back(), names.headWeight})
        EXPECT_TRUE(unique.count(name)) << name;
    }
  }
  ModelParamNames timm = getParamNames(tinyConfig(), WeightNaming::Timm);
  EXPECT_EQ(timm.blocks[1].fc1Bias, "blocks.1.mlp.fc1.bias");
  EXPECT_EQ(timm.blocks[1].qkvBiases,
            std::vector<std::string>{"blocks.1.attn.qkv.bias"});
  ModelParamNames hf = getParamNames(tinyConfig(), WeightNaming::HuggingFace);
  EXPECT_EQ(hf.blocks[1].qkvWeights[1],
            "vit.encoder.layer.1.attention.attention.key.weight");
  EXPECT_EQ(hf.normBias, "vit.layernorm.bias");
}

TEST(WeightsTest, RandomWeightsAreDeterministicPerSeed) {
  WeightSet a = makeRandomWeights(tinyConfig(), WeightNaming::Timm, 7);
  WeightSet b = makeRandomWeights(tinyConfig(), WeightNaming::Timm, 7);
  WeightSet c = makeRandomWeights(tinyConfig(), WeightNaming::Timm, 8);
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (const auto &[name, tensor] : a.tensors) {
    EXPECT_TRUE(bitEqual(tensor, b.get(name))) << name;
    EXPECT_FALSE(bitEqual(tensor, c.get(name))) << name;
  }
}

TEST(WeightsTest, RandomWeightsDependOnNameNotOrder) {
  // Blocks 0-1 keep their names in a deeper model, whose extra tensors
  // come before the head in forward order.
  ModelConfig deeper = tinyConfig();
  deeper.depth = 4;
  WeightSet shallow = makeRandomWeights(tinyConfig(), WeightNaming::Timm, 3);
  WeightSet deep = makeRandomWeights(deeper, WeightNaming::Timm, 3);
  for (const auto &[name, tensor] : shallow.tensors)
    EXPECT_TRUE(bitEqual(tensor, deep.get(name))) << name;
  // Same shape and kind but different names: different values.
  EXPECT_FALSE(bitEqual(shallow.get("blocks.0.mlp.fc1.weight"),
                        shallow.get("blocks.1.mlp.fc1.weight")));
}

TEST(WeightsTest, RandomWeightsMatchKnownValues) {
  // Pins the documented generator, so a change shows up on every platform.
  WeightSet weights = makeRandomWeights(tinyConfig(), WeightNaming::Timm, 0);
  const std::vector<float> &data = weights.get("cls_token").data;
  ASSERT_EQ(data.size(), 8u);
  auto reference = [](uint64_t seed, const std::string &name, size_t count) {
    uint64_t state = 0xcbf29ce484222325ULL;
    for (unsigned char byte : name)
      state = (state ^ byte) * 0x100000001b3ULL;
    state ^= seed;
    std::vector<float> values;
    for (size_t i = 0; i < count; ++i) {
      uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      z ^= z >> 31;
      int64_t k = static_cast<int64_t>(z >> 40);
      values.push_back(static_cast<float>(
          0.5 * static_cast<double>(2 * k + 1 - (int64_t(1) << 24)) * 0x1p-24));
    }
    return values;
  };
  EXPECT_EQ(data, reference(0, "cls_token", 8));
}

TEST(WeightsTest, RandomWeightsFollowTheDocumentedDistributions) {
  ModelConfig config = preset("vit-ti16");
  std::vector<ParamSpec> specs = getParamSpecs(config, WeightNaming::Timm);
  WeightSet weights = makeRandomWeights(config, WeightNaming::Timm, 42);
  ASSERT_EQ(validationError(config, weights.tensors), "");

  // Per kind: running sums of the values scaled to the unit interval
  // [-1, 1], whose uniform distribution has mean 0 and variance 1/3.
  struct Moments {
    double sum = 0, sumSquares = 0;
    int64_t count = 0;
  };
  std::map<ParamKind, Moments> moments;
  for (const ParamSpec &spec : specs) {
    double center = spec.kind == ParamKind::NormScale ? 1.0 : 0.0;
    double halfWidth;
    switch (spec.kind) {
    case ParamKind::Kernel:
      halfWidth = std::sqrt(3.0 / static_cast<double>(spec.fanIn));
      break;
    case ParamKind::Embedding:
      halfWidth = 0.5;
      break;
    default:
      halfWidth = 0.1;
      break;
    }
    Moments &m = moments[spec.kind];
    const std::vector<float> &data = weights.get(spec.name).data;
    for (float value : data) {
      ASSERT_GE(value, static_cast<float>(center - halfWidth)) << spec.name;
      ASSERT_LE(value, static_cast<float>(center + halfWidth)) << spec.name;
      double unit = (value - center) / halfWidth;
      m.sum += unit;
      m.sumSquares += unit * unit;
    }
    m.count += static_cast<int64_t>(data.size());
  }
  ASSERT_EQ(moments.size(), 5u);
  for (const auto &[kind, m] : moments) {
    double mean = m.sum / m.count;
    double variance = m.sumSquares / m.count - mean * mean;
    // With 4000+ samples the standard errors of the mean and the variance
    // are below 0.01 and 0.005; the seed is fixed, so this is not flaky.
    EXPECT_GT(m.count, 4000) << int(kind);
    EXPECT_NEAR(mean, 0.0, 0.03) << int(kind);
    EXPECT_NEAR(variance, 1.0 / 3.0, 0.02) << int(kind);
  }
  // Kernel variance is 1/fanIn before scaling.
  const std::vector<float> &fc2 = weights.get("blocks.0.mlp.fc2.weight").data;
  double sumSquares = 0;
  for (float value : fc2)
    sumSquares += double(value) * value;
  EXPECT_NEAR(sumSquares / fc2.size() * config.mlpDim, 1.0, 0.02);
}

TEST(WeightsTest, GetReturnsTheNamedTensor) {
  WeightSet weights = makeRandomWeights(tinyConfig(), WeightNaming::Timm, 1);
  EXPECT_EQ(weights.get("head.bias").shape, std::vector<int64_t>{3});
}

TEST(WeightsDeathTest, GetOfAnUnknownNameAborts) {
  WeightSet weights = makeRandomWeights(tinyConfig(), WeightNaming::Timm, 1);
  EXPECT_DEATH(weights.get("nope"), "no tensor named 'nope'");
}

TEST(WeightsTest, ValidateAcceptsCompleteWeightsAndDetectsNaming) {
  for (WeightNaming naming : {WeightNaming::Timm, WeightNaming::HuggingFace}) {
    WeightSet random = makeRandomWeights(tinyConfig(), naming, 5);
    llvm::Expected<WeightSet> weights =
        validateWeights(tinyConfig(), random.tensors);
    ASSERT_TRUE(bool(weights))
        << toString(naming) << ": " << llvm::toString(weights.takeError());
    EXPECT_EQ(weights->naming, naming);
    EXPECT_EQ(weights->tensors.size(), random.tensors.size());
  }
}

TEST(WeightsTest, ValidateReportsMissingTensors) {
  std::map<std::string, Tensor> tensors =
      makeRandomWeights(tinyConfig(), WeightNaming::Timm, 5).tensors;
  tensors.erase("blocks.1.mlp.fc1.bias");
  EXPECT_EQ(validationError(tinyConfig(), tensors),
            "missing tensor 'blocks.1.mlp.fc1.bias' (expected shape "
            "[16])");

  tensors.erase("head.weight");
  tensors.erase("blocks.0.attn.qkv.weight");
  tensors["extra"] = {{1}, {0.0f}}; // Missing tensors are reported first.
  EXPECT_EQ(validationError(tinyConfig(), tensors),
            "missing tensor 'blocks.0.attn.qkv.weight' (expected shape "
            "[24, 8]) and 2 more");
}

TEST(WeightsTest, ValidateReportsUnexpectedTensors) {
  std::map<std::string, Tensor> tensors =
      makeRandomWeights(tinyConfig(), WeightNaming::Timm, 5).tensors;
  tensors["foo"] = {{1}, {0.0f}};
  EXPECT_EQ(validationError(tinyConfig(), tensors),
            "unexpected tensor 'foo' (not part of tiny with timm names)");

  tensors.erase("foo");
  tensors["bad\nname"] = {{1}, {0.0f}};
  EXPECT_EQ(
      validationError(tinyConfig(), tensors),
      "unexpected tensor 'bad\\0Aname' (not part of tiny with timm names)");
  tensors.erase("bad\nname");

  // A qkv bias on a model built without one.
  ModelConfig noBias = tinyConfig();
  noBias.qkvBias = false;
  EXPECT_EQ(validationError(noBias, tensors),
            "unexpected tensor 'blocks.0.attn.qkv.bias' (not part of "
            "tiny with timm names) and 1 more");
}

TEST(WeightsTest, ValidateReportsWrongShapes) {
  std::map<std::string, Tensor> tensors =
      makeRandomWeights(tinyConfig(), WeightNaming::Timm, 5).tensors;
  tensors["blocks.0.attn.qkv.weight"] = {{8, 8}, std::vector<float>(64)};
  EXPECT_EQ(validationError(tinyConfig(), tensors),
            "tensor 'blocks.0.attn.qkv.weight' has shape [8, 8], "
            "expected [24, 8]");

  tensors = makeRandomWeights(tinyConfig(), WeightNaming::Timm, 5).tensors;
  tensors["norm.bias"].data.pop_back();
  EXPECT_EQ(validationError(tinyConfig(), tensors),
            "tensor 'norm.bias' holds 7 values but its shape [8] "
            "needs 8");
}

TEST(WeightsTest, ValidateRejectsNonFiniteValues) {
  struct Case {
    float value;
    const char *expected;
  };
  for (const Case &c :
       {Case{std::numeric_limits<float>::quiet_NaN(),
             "tensor 'norm.weight' has a non-finite value (NaN) at flat index "
             "3"},
        Case{-std::numeric_limits<float>::infinity(),
             "tensor 'norm.weight' has a non-finite value (-Inf) at flat "
             "index 3"}}) {
    std::map<std::string, Tensor> tensors =
        makeRandomWeights(tinyConfig(), WeightNaming::Timm, 5).tensors;
    tensors["norm.weight"].data[3] = c.value;
    EXPECT_EQ(validationError(tinyConfig(), tensors), c.expected);
  }
}

TEST(WeightsTest, ValidateDetectsHuggingFaceFromItsNames) {
  std::map<std::string, Tensor> tensors =
      makeRandomWeights(tinyConfig(), WeightNaming::HuggingFace, 5).tensors;
  tensors.erase("classifier.bias");
  EXPECT_EQ(validationError(tinyConfig(), tensors),
            "missing tensor 'classifier.bias' (expected shape [3])");

  // Only the classifier is enough to recognise the scheme.
  std::string error = validationError(
      tinyConfig(), {{"classifier.weight", {{3, 8}, std::vector<float>(24)}}});
  EXPECT_EQ(error.rfind("missing tensor "
                        "'vit.embeddings.patch_embeddings.projection.weight'",
                        0),
            0u)
      << error;

  tensors =
      makeRandomWeights(tinyConfig(), WeightNaming::HuggingFace, 5).tensors;
  tensors["head.weight"] = {{3, 8}, std::vector<float>(24)};
  EXPECT_EQ(validationError(tinyConfig(), tensors),
            "unexpected tensor 'head.weight' (not part of tiny with "
            "Hugging Face names)");
}

TEST(WeightsTest, ValidateRejectsAnInvalidConfig) {
  ModelConfig config = tinyConfig();
  config.patchSize = 0;
  EXPECT_EQ(validationError(config, {}),
            "invalid model config: patch_size must be positive, got 0");
}

class LoadWeightsTest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_FALSE(
        llvm::sys::fs::createTemporaryFile("vitc-test", "safetensors", path));
    remover.setFile(path);
  }

  llvm::SmallString<128> path;
  llvm::FileRemover remover;
};

TEST_F(LoadWeightsTest, LoadsWhatWasWritten) {
  WeightSet random =
      makeRandomWeights(tinyConfig(), WeightNaming::HuggingFace, 9);
  llvm::Error error = writeSafetensors(path.str().str(), random.tensors);
  ASSERT_FALSE(bool(error)) << llvm::toString(std::move(error));
  llvm::Expected<WeightSet> loaded =
      loadWeights(path.str().str(), tinyConfig());
  ASSERT_TRUE(bool(loaded)) << llvm::toString(loaded.takeError());
  EXPECT_EQ(loaded->naming, WeightNaming::HuggingFace);
  for (const auto &[name, tensor] : random.tensors)
    EXPECT_TRUE(bitEqual(tensor, loaded->get(name))) << name;
}

TEST_F(LoadWeightsTest, PrefixesValidationErrorsWithThePath) {
  llvm::Error error = writeSafetensors(
      path.str().str(),
      makeRandomWeights(tinyConfig(), WeightNaming::Timm, 9).tensors);
  ASSERT_FALSE(bool(error)) << llvm::toString(std::move(error));
  ModelConfig deeper = tinyConfig();
  deeper.depth = 3;
  EXPECT_EQ(llvm::toString(loadWeights(path.str().str(), deeper).takeError()),
            path.str().str() +
                ": missing tensor 'blocks.2.norm1.weight' (expected "
                "shape [8]) and 11 more");

  // Read errors already name the path; it is not repeated.
  std::ofstream(path.str().str(), std::ios::binary) << "\x01\x02\x03\x04";
  EXPECT_EQ(
      llvm::toString(loadWeights(path.str().str(), tinyConfig()).takeError()),
      path.str().str() + ": file is 4 bytes long, too short for the 8-byte "
                         "header length (file truncated?)");
}

} // namespace
