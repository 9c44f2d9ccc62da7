//===- vitc.cpp - The vitc compiler driver --------------------------------===//
//
// Builds a ViT from a preset (plus overrides) or reads vit-dialect IR, checks
// the weights, and then prints a summary, stops the compiler pipeline after
// a phase and prints its IR (--emit), or compiles an artifact (-o). The
// pipeline itself is the library's (vitc/Compiler/Pipeline.h).
//
//===----------------------------------------------------------------------===//

#include "vitc/Codegen/CUDA/CudaCodegen.h"
#include "vitc/Compiler/Compiler.h"
#include "vitc/Compiler/Pipeline.h"
#include "vitc/Dialect/ViT/Analysis/ModelSummary.h"
#include "vitc/Dialect/ViT/IR/ViTOps.h"
#include "vitc/Frontend/ModelBuilder.h"
#include "vitc/Frontend/ModelDirectory.h"
#include "vitc/Frontend/Safetensors.h"
#include "vitc/Frontend/Weights.h"
#include "vitc/InitAll.h"
#include "vitc/Support/InputFiles.h"
#include "vitc/Version.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <unistd.h>

using namespace llvm;

namespace {

/// Integer flags are read in decimal: LLVM's own parser reads 010 as octal
/// 8 and 0x10 as 16, which a size given on the command line never means.
/// (LLVM's parsers of long and unsigned long are final: the flags hold long
/// long and unsigned long long, both 64 bits as int64_t and uint64_t are.)
template <typename T> struct DecimalParser : cl::parser<T> {
  using cl::parser<T>::parser;
  bool parse(cl::Option &option, StringRef, StringRef arg, T &value) {
    if (arg.getAsInteger(10, value))
      return option.error("'" + arg + "' is not a decimal integer");
    return false;
  }
};
static_assert(sizeof(long long) == sizeof(int64_t));
template <typename T>
using IntegerFlag = cl::opt<T, /*ExternalStorage=*/false, DecimalParser<T>>;

/// Number flags need a number: LLVM's own parser reads an empty value (the
/// middle of --pixel-mean=0.5,,0.5) as 0.
struct NumberParser : cl::parser<double> {
  using cl::parser<double>::parser;
  bool parse(cl::Option &option, StringRef name, StringRef arg, double &value) {
    if (arg.trim().empty())
      return option.error("an empty value where a number is expected");
    return cl::parser<double>::parse(option, name, arg, value);
  }
};
using NumberFlag = cl::opt<double, /*ExternalStorage=*/false, NumberParser>;
using NumberListFlag = cl::list<double, bool, NumberParser>;

cl::OptionCategory modelCategory("Model selection");
cl::OptionCategory weightCategory("Weights");
cl::OptionCategory outputCategory("Output");

cl::opt<std::string> inputFile(cl::Positional, cl::init(""),
                               cl::desc("[input.mlir]"),
                               cl::cat(modelCategory));

cl::opt<std::string> modelName("model",
                               cl::desc("Model preset (see --list-models)"),
                               cl::value_desc("preset"),
                               cl::cat(modelCategory));
cl::opt<bool> listModels("list-models",
                         cl::desc("List the model presets and exit"),
                         cl::cat(modelCategory));
cl::opt<std::string>
    modelDir("model-dir",
             cl::desc("A model folder: config.json and model.safetensors "
                      "as Hugging Face (ViTForImageClassification), timm or "
                      "python -m vitc.keras write them; every field, the "
                      "class names and the preprocessing come from it"),
             cl::value_desc("dir"), cl::cat(modelCategory));
cl::opt<std::string>
    configFile("config",
               cl::desc("JSON file overriding preset fields, e.g. "
                        "{\"depth\": 4} (see docs/model-config.md)"),
               cl::value_desc("file.json"), cl::cat(modelCategory));

// Per-field overrides; they apply after --config.
IntegerFlag<long long> imageSize("image-size", cl::desc("Input image side"),
                                 cl::cat(modelCategory));
IntegerFlag<long long> patchSize("patch-size", cl::desc("Patch side"),
                                 cl::cat(modelCategory));
IntegerFlag<long long> channels("channels", cl::desc("Image channels"),
                                cl::cat(modelCategory));
IntegerFlag<long long> hiddenSize("hidden-size", cl::desc("Embedding width"),
                                  cl::cat(modelCategory));
IntegerFlag<long long> depth("depth", cl::desc("Number of encoder blocks"),
                             cl::cat(modelCategory));
IntegerFlag<long long> numHeads("num-heads", cl::desc("Attention heads"),
                                cl::cat(modelCategory));
IntegerFlag<long long> mlpDim("mlp-dim", cl::desc("MLP hidden width"),
                              cl::cat(modelCategory));
IntegerFlag<long long> numClasses("num-classes", cl::desc("Classifier outputs"),
                                  cl::cat(modelCategory));
cl::opt<bool> qkvBias("qkv-bias",
                      cl::desc("Whether q/k/v projections have a bias"),
                      cl::cat(modelCategory));
NumberFlag layerNormEps("layer-norm-eps", cl::desc("LayerNorm epsilon"),
                        cl::cat(modelCategory));
cl::opt<std::string> inputLayout("input-layout", cl::desc("nchw or nhwc"),
                                 cl::cat(modelCategory));
cl::opt<std::string> kernelLayout("kernel-layout",
                                  cl::desc("Patch kernel layout: oihw or hwio"),
                                  cl::cat(modelCategory));
cl::opt<std::string> gelu("gelu", cl::desc("GELU formula: exact or tanh"),
                          cl::cat(modelCategory));
NumberListFlag
    pixelMean("pixel-mean",
              cl::desc("Per-channel mean of [0, 1] pixels the model was "
                       "trained with, comma-separated (e.g. 0.5,0.5,0.5)"),
              cl::value_desc("m1,m2,..."), cl::CommaSeparated,
              cl::cat(modelCategory));
NumberListFlag
    pixelStd("pixel-std",
             cl::desc("Per-channel standard deviation of [0, 1] pixels, "
                      "comma-separated"),
             cl::value_desc("s1,s2,..."), cl::CommaSeparated,
             cl::cat(modelCategory));
cl::opt<std::string>
    labelsFile("labels",
               cl::desc("Class names to embed in the artifact, one per line "
                        "and one per class (vit-run prints them)"),
               cl::value_desc("file"), cl::cat(modelCategory));
IntegerFlag<long long> batchSize("batch", cl::desc("Images per batch"),
                                 cl::init(1), cl::cat(modelCategory));

cl::opt<std::string> weightsFile("weights",
                                 cl::desc("safetensors checkpoint (timm or "
                                          "Hugging Face names)"),
                                 cl::value_desc("file"),
                                 cl::cat(weightCategory));
cl::opt<bool> randomWeights("random-weights",
                            cl::desc("Use seeded random weights"),
                            cl::cat(weightCategory));
IntegerFlag<unsigned long long> seed("seed",
                                     cl::desc("Seed for --random-weights"),
                                     cl::init(0), cl::cat(weightCategory));
cl::opt<std::string>
    weightNames("weight-names",
                cl::desc("Naming for random weights and IR without a "
                         "checkpoint: timm or hf"),
                cl::init("timm"), cl::cat(weightCategory));
cl::opt<std::string>
    saveWeights("save-weights",
                cl::desc("Write the weights in use to a safetensors file"),
                cl::value_desc("file"), cl::cat(weightCategory));

using vitc::Phase;

cl::opt<Phase>
    emit("emit", cl::desc("Stop after a phase and print its IR:"),
         cl::values(clEnumValN(Phase::Vit, "vit", "graph-level vit dialect"),
                    clEnumValN(Phase::Fused, "fused",
                               "decomposed ops with fused epilogues, grouped "
                               "into vit.kernel regions"),
                    clEnumValN(Phase::Linalg, "linalg",
                               "kernels outlined into functions (one per "
                               "distinct kernel), in linalg on tensors"),
                    clEnumValN(Phase::Tiled, "tiled",
                               "the kernels tiled (and, for the CPU, "
                               "vectorized) for --target, on tensors"),
                    clEnumValN(Phase::Bufferized, "bufferized",
                               "the tiled kernels on buffers, writing "
                               "their output arguments"),
                    clEnumValN(Phase::Llvm, "llvm",
                               "--target cpu: the kernels tiled, vectorized "
                               "and lowered to the LLVM dialect"),
                    clEnumValN(Phase::Ptx, "ptx",
                               "--target cuda:sm_NN: the kernels' PTX")),
         cl::cat(outputCategory));
cl::opt<std::string>
    targetName("target",
               cl::desc("What to compile for: cpu (this machine), "
                        "cpu:NAME (an LLVM CPU name, e.g. cpu:x86-64-v3 "
                        "runs on every AVX2 machine) or cuda:sm_NN (e.g. "
                        "cuda:sm_90)"),
               cl::value_desc("target"), cl::init("cpu"),
               cl::cat(outputCategory));
cl::opt<std::string> precisionName(
    "precision",
    cl::desc("What the matmuls compute in on --target cuda:sm_NN: fp32 "
             "(default), tf32 (linears on tensor cores), bf16 or fp16 "
             "(linears and attention on tensor cores, linear weights stored "
             "in that type); fp32 accumulation; the CPU computes in fp32"),
    cl::value_desc("fp32|tf32|bf16|fp16"), cl::init("fp32"),
    cl::cat(outputCategory));
cl::opt<std::string>
    cpuName("cpu",
            cl::desc("--target cpu: the LLVM CPU name to generate code for "
                     "(host: this machine; e.g. x86-64-v3 for AVX2, "
                     "x86-64-v4 for AVX-512)"),
            cl::value_desc("name"), cl::init("host"), cl::cat(outputCategory));
cl::opt<std::string> cpuTile(
    "cpu-tile",
    cl::desc("--target cpu: the tile a thread computes at a time, ROWSxCOLUMNS "
             "(default 24x128: 24 rows of tokens by 128 output features of a "
             "linear; attention tiles take two vectors of queries); a tuning "
             "knob, see docs/codegen-cpu.md"),
    cl::value_desc("ROWSxCOLUMNS"), cl::cat(outputCategory));
IntegerFlag<long long> cpuRowPadding(
    "cpu-row-padding",
    cl::desc("--target cpu: bytes added to each row of an activation whose "
             "rows are a multiple of 4 KiB long (e.g. fc2's input in "
             "ViT-B/16), so that a register block's rows do not share one "
             "L1 set (default 64; 0: none); a tuning knob, see "
             "docs/codegen-cpu.md"),
    cl::value_desc("bytes"), cl::cat(outputCategory));
cl::opt<bool> timing("timing",
                     cl::desc("Print the time each phase and pass takes"),
                     cl::cat(outputCategory));
cl::opt<bool> summary("summary",
                      cl::desc("Print per-layer output shapes, parameters "
                               "and MACs"),
                      cl::cat(outputCategory));
cl::opt<std::string> outputFile(
    "o",
    cl::desc(
        "Output: the .vitb artifact, or the IR of --emit (default: stdout)"),
    cl::value_desc("file"), cl::init("-"), cl::cat(outputCategory));

Error failure(const Twine &message) {
  return createStringError(inconvertibleErrorCode(), message);
}

template <typename T>
std::optional<std::string>
applyEnumFlag(const cl::opt<std::string> &flag,
              std::optional<T> (*parse)(const std::string &), T &field,
              const char *choices) {
  if (flag.getNumOccurrences() == 0)
    return std::nullopt;
  if (std::optional<T> parsed = parse(flag)) {
    field = *parsed;
    return std::nullopt;
  }
  return "--" + flag.ArgStr.str() + " must be " + choices + ", got '" +
         flag.getValue() + "'";
}

template <typename T, typename Parser, typename Field>
void applyFlag(const cl::opt<T, false, Parser> &flag, Field &field) {
  if (flag.getNumOccurrences())
    field = flag;
}

void applyFlag(const NumberListFlag &flag, std::vector<double> &field) {
  if (flag.getNumOccurrences())
    field.assign(flag.begin(), flag.end());
}

/// The lines of the --labels file, without line ends (a final newline
/// ends the last label, it does not add an empty one). A file without
/// labels or with an empty line is an error, not a model without class
/// names or with blank ones (control characters are the config's to
/// refuse).
Expected<std::vector<std::string>> readLabels(const std::string &path) {
  Expected<std::unique_ptr<MemoryBuffer>> text = vitc::readInputFile(path);
  if (!text)
    return text.takeError();
  std::vector<std::string> labels;
  StringRef rest = (*text)->getBuffer();
  while (!rest.empty()) {
    auto [line, next] = rest.split('\n');
    StringRef label = line.rtrim('\r');
    if (label.empty())
      return failure(path + ":" + std::to_string(labels.size() + 1) +
                     ": an empty line (one class name per line)");
    labels.push_back(label.str());
    rest = next;
  }
  if (labels.empty())
    return failure(path + ": no class names (one per line, one per class)");
  return labels;
}

/// The folder of --model-dir, if given: read after checking that no flag
/// that it replaces is given as well.
Expected<std::optional<vitc::ModelDirectory>> readModelFolder() {
  if (modelDir.empty())
    return std::optional<vitc::ModelDirectory>();
  const std::initializer_list<const cl::Option *> exclusive = {
      &modelName, &configFile, &weightsFile, &randomWeights, &weightNames};
  for (const cl::Option *other : exclusive)
    if (other->getNumOccurrences())
      return failure("--model-dir gives the model and its weights; it "
                     "cannot be combined with --" +
                     other->ArgStr);
  Expected<vitc::ModelDirectory> folder = vitc::readModelDirectory(modelDir);
  if (!folder)
    return folder.takeError();
  return std::optional<vitc::ModelDirectory>(std::move(*folder));
}

Expected<vitc::ModelConfig>
resolveConfig(const std::optional<vitc::ModelDirectory> &folder) {
  vitc::ModelConfig config;
  if (folder)
    config = folder->config;
  if (!modelName.empty()) {
    std::optional<vitc::ModelConfig> preset = vitc::lookupPreset(modelName);
    if (!preset)
      return failure("unknown model '" + modelName +
                     "' (run --list-models for the presets)");
    config = *preset;
  }
  if (!configFile.empty()) {
    Expected<std::unique_ptr<MemoryBuffer>> text =
        vitc::readInputFile(configFile);
    if (!text)
      return text.takeError();
    if (Error error =
            vitc::applyJsonOverrides(config, (*text)->getBuffer().str()))
      return failure(configFile + ": " + toString(std::move(error)));
  }
  applyFlag(imageSize, config.imageSize);
  applyFlag(patchSize, config.patchSize);
  applyFlag(channels, config.channels);
  applyFlag(hiddenSize, config.hiddenSize);
  applyFlag(depth, config.depth);
  applyFlag(numHeads, config.numHeads);
  applyFlag(mlpDim, config.mlpDim);
  applyFlag(numClasses, config.numClasses);
  applyFlag(qkvBias, config.qkvBias);
  applyFlag(layerNormEps, config.layerNormEps);
  applyFlag(pixelMean, config.pixelMean);
  applyFlag(pixelStd, config.pixelStd);
  if (!labelsFile.empty()) {
    Expected<std::vector<std::string>> labels = readLabels(labelsFile);
    if (!labels)
      return labels.takeError();
    config.labels = std::move(*labels);
  }
  for (std::optional<std::string> error :
       {applyEnumFlag(inputLayout, vitc::parseInputLayout, config.inputLayout,
                      "nchw or nhwc"),
        applyEnumFlag(kernelLayout, vitc::parseKernelLayout,
                      config.kernelLayout, "oihw or hwio"),
        applyEnumFlag(gelu, vitc::parseGelu, config.gelu, "exact or tanh")})
    if (error)
      return failure(*error);
  if (Error invalid = config.validate())
    return failure("invalid model config: " + toString(std::move(invalid)));
  return config;
}

constexpr double kGibibyte = 1024.0 * 1024 * 1024;
constexpr double kTebibyte = 1024 * kGibibyte;

/// The config fields that set the size of a model's weights, for messages:
/// "hidden_size 768, mlp_dim 3072, depth 12, num_classes 1000, 197 tokens
/// (image_size 224, patch_size 16)"; the tokens size the position
/// embedding.
std::string weightSizeFields(const vitc::ModelConfig &config) {
  return formatv("hidden_size {0}, mlp_dim {1}, depth {2}, num_classes {3}, "
                 "{4} tokens (image_size {5}, patch_size {6})",
                 config.hiddenSize, config.mlpDim, config.depth,
                 config.numClasses, config.numTokens(), config.imageSize,
                 config.patchSize)
      .str();
}

/// This machine's physical memory, where the system reports it.
std::optional<double> physicalMemoryBytes() {
  long pages = sysconf(_SC_PHYS_PAGES), pageSize = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || pageSize <= 0)
    return std::nullopt;
  return static_cast<double>(pages) * static_cast<double>(pageSize);
}

/// The weights named by the flags, or no weights when none were asked for.
Expected<std::optional<vitc::WeightSet>>
resolveWeights(const vitc::ModelConfig &config,
               const std::optional<vitc::ModelDirectory> &folder) {
  if (!weightsFile.empty() && randomWeights)
    return failure("--weights and --random-weights are mutually exclusive");
  if (!weightsFile.empty() && weightNames.getNumOccurrences())
    return failure("--weight-names does not apply to --weights: a "
                   "checkpoint's naming is detected from its tensor names");
  if (seed.getNumOccurrences() && !randomWeights)
    return failure("--seed seeds --random-weights, which is not given");
  std::optional<vitc::WeightNaming> naming =
      vitc::parseWeightNaming(weightNames);
  if (!naming)
    return failure("--weight-names must be timm or hf, got '" + weightNames +
                   "'");
  std::string path = folder ? folder->weightsPath : weightsFile;
  if (!randomWeights && path.empty())
    return std::optional<vitc::WeightSet>();
  // Drawn or read, every weight is in memory while vitc compiles: a model
  // beyond the machine's memory would end in an out-of-memory abort.
  double weightBytes = config.parameterBytes();
  if (std::optional<double> memory = physicalMemoryBytes();
      memory && weightBytes > *memory)
    return failure(
        formatv("the model's fp32 weights take {0:F1} GiB, more than this "
                "machine's {1:F1} GiB of memory, and vitc holds them all "
                "while compiling ({2})",
                weightBytes / kGibibyte, *memory / kGibibyte,
                weightSizeFields(config))
            .str());
  if (randomWeights)
    return std::optional<vitc::WeightSet>(
        vitc::makeRandomWeights(config, *naming, seed));
  Expected<vitc::WeightSet> weights = vitc::loadWeights(path, config);
  if (!weights)
    return weights.takeError();
  return std::optional<vitc::WeightSet>(std::move(*weights));
}

Expected<mlir::OwningOpRef<mlir::ModuleOp>>
parseInputModule(mlir::MLIRContext &context) {
  std::string error;
  // "-" is standard input, which cannot be checked ahead.
  if (inputFile != "-")
    if (Error notAFile = vitc::checkRegularFile(inputFile))
      return std::move(notAFile);
  std::unique_ptr<MemoryBuffer> buffer = mlir::openInputFile(inputFile, &error);
  if (!buffer)
    return failure(error);
  if (Error tooDeep = vitc::checkNestingDepth(buffer->getBuffer()))
    return failure(inputFile + ": " + toString(std::move(tooDeep)));
  SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(buffer), SMLoc());
  // Parse errors reach the tool's diagnostic handler with their location.
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceFile<mlir::ModuleOp>(sourceMgr, &context);
  // The parser reported why, on its line; an empty message adds none.
  if (!module)
    return failure("");
  return module;
}

/// Options that describe a model to build; an input .mlir file is already
/// built, so they would be silently ignored with one. (--weights is allowed:
/// it supplies the data of the IR's vit.weight ops.)
const cl::Option *firstBuildOptionGiven() {
  const std::initializer_list<const cl::Option *> buildOptions = {
      &modelName, &modelDir, &configFile, &imageSize, &patchSize, &channels,
      &hiddenSize, &depth, &numHeads, &mlpDim, &numClasses, &qkvBias,
      &layerNormEps, &inputLayout, &kernelLayout, &gelu,
      // A cl::list's operator& gives its vector of values, not the option.
      std::addressof(pixelMean), std::addressof(pixelStd), &labelsFile,
      &batchSize, &randomWeights, &seed, &weightNames, &saveWeights};
  for (const cl::Option *option : buildOptions)
    if (option->getNumOccurrences())
      return option;
  return nullptr;
}

/// The model to compile: its IR and, when known, its config and weights.
struct Model {
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::optional<vitc::ModelConfig> config;
  std::optional<vitc::WeightSet> weights;
  std::string name;
};

Expected<Model> readModel(mlir::MLIRContext &context) {
  if (const cl::Option *option = firstBuildOptionGiven())
    return failure("--" + option->ArgStr +
                   " describes a model to build and cannot be combined "
                   "with an input .mlir file");
  Expected<mlir::OwningOpRef<mlir::ModuleOp>> module =
      parseInputModule(context);
  if (!module)
    return module.takeError();
  Model model;
  model.module = std::move(*module);
  if (auto name = (*model.module)
                      ->getAttrOfType<mlir::StringAttr>(vitc::kModelNameAttr))
    model.name = name.str();
  if (!weightsFile.empty()) {
    // The names and shapes are checked against the IR's vit.weight ops
    // when the constants are evaluated.
    Expected<std::map<std::string, vitc::Tensor>> tensors =
        vitc::readSafetensors(weightsFile);
    if (!tensors)
      return tensors.takeError();
    model.weights =
        vitc::WeightSet{vitc::WeightNaming::Timm, std::move(*tensors)};
  } else if (!(*model.module)
                  ->walk([](vitc::vit::WeightOp) {
                    return mlir::WalkResult::interrupt();
                  })
                  .wasInterrupted()) {
    // A module without vit.weight ops (an attention alone, say) compiles
    // without a weights file.
    model.weights = vitc::WeightSet{};
  }
  return std::move(model);
}

/// The most memory a compiled model may need to run: more than any CPU
/// server or GPU has today.
constexpr double kMaxRunBytes = 4 * kTebibyte;

Expected<Model> buildModel(mlir::MLIRContext &context) {
  if (!inputFile.empty())
    return readModel(context);
  if (modelName.empty() && configFile.empty() && modelDir.empty())
    return failure("no model given: pass --model=<preset>, --config=<file>, "
                   "--model-dir=<folder> or an input .mlir file");
  if (batchSize <= 0)
    return failure("--batch must be positive, got " +
                   std::to_string(batchSize));
  Expected<std::optional<vitc::ModelDirectory>> folder = readModelFolder();
  if (!folder)
    return folder.takeError();
  Expected<vitc::ModelConfig> config = resolveConfig(*folder);
  if (!config)
    return config.takeError();
  // Refused before anything is built: such a model would take minutes to
  // compile (or exhaust memory drawing its weights) and could never run.
  double weightBytes = config->parameterBytes();
  if (weightBytes > kMaxRunBytes)
    return failure(
        formatv("the model's fp32 weights take {0:F1} TiB, more than the "
                "{1:F0} TiB vitc compiles for ({2})",
                weightBytes / kTebibyte, kMaxRunBytes / kTebibyte,
                weightSizeFields(*config))
            .str());
  double runBytes = config->minimumRunBytes(batchSize);
  if (runBytes > kMaxRunBytes)
    return failure(
        formatv("a batch of {0} images needs at least {1:F1} TiB of memory "
                "to run (per image, the input and activations of {2} x {3} "
                "and {2} x {4} floats live at once), more than the {5:F0} TiB "
                "vitc compiles for; use a smaller --batch",
                batchSize, runBytes / kTebibyte, config->numTokens(),
                config->hiddenSize,
                std::max(3 * config->hiddenSize, config->mlpDim),
                kMaxRunBytes / kTebibyte)
            .str());
  Expected<std::optional<vitc::WeightSet>> weights =
      resolveWeights(*config, *folder);
  if (!weights)
    return weights.takeError();
  if (!saveWeights.empty()) {
    if (!*weights)
      return failure(
          "--save-weights needs --weights, --random-weights or --model-dir");
    if (Error error = vitc::writeSafetensors(saveWeights, (*weights)->tensors))
      return std::move(error);
  }
  vitc::WeightNaming naming =
      *weights ? (*weights)->naming : *vitc::parseWeightNaming(weightNames);
  Model model;
  model.module = vitc::buildViTModule(context, *config, naming, batchSize);
  if (failed(mlir::verify(*model.module)))
    return failure("internal error: the built model failed verification");
  model.name = config->name;
  model.config = std::move(*config);
  model.weights = std::move(*weights);
  return std::move(model);
}

int fail(const Twine &message) {
  WithColor::error(errs(), "vitc") << message << "\n";
  return 1;
}

/// Where a diagnostic points, as a user reads it: "file:line:col" for
/// parsed IR, the layer name ("blocks.3.mlp") for built IR, nothing for an
/// unknown location.
std::string describeLocation(mlir::Location location) {
  if (auto file = dyn_cast<mlir::FileLineColLoc>(location))
    return (file.getFilename().getValue() + ":" + Twine(file.getLine()) + ":" +
            Twine(file.getColumn()))
        .str();
  if (auto name = dyn_cast<mlir::NameLoc>(location)) {
    std::string within = describeLocation(name.getChildLoc());
    return name.getName().str() + (within.empty() ? "" : " (" + within + ")");
  }
  if (auto fused = dyn_cast<mlir::FusedLoc>(location))
    for (mlir::Location part : fused.getLocations())
      if (std::string described = describeLocation(part); !described.empty())
        return described;
  if (auto call = dyn_cast<mlir::CallSiteLoc>(location))
    return describeLocation(call.getCallee());
  return "";
}

/// Prints every diagnostic once, as `vitc: error: <location>: <message>`
/// (without a location where it is unknown), with its notes.
void printDiagnostic(mlir::Diagnostic &diagnostic) {
  raw_ostream &os = errs();
  switch (diagnostic.getSeverity()) {
  case mlir::DiagnosticSeverity::Error:
    WithColor::error(os, "vitc");
    break;
  case mlir::DiagnosticSeverity::Warning:
    WithColor::warning(os, "vitc");
    break;
  case mlir::DiagnosticSeverity::Note:
    WithColor::note(os, "vitc");
    break;
  case mlir::DiagnosticSeverity::Remark:
    WithColor::remark(os, "vitc");
    break;
  }
  std::string location = describeLocation(diagnostic.getLocation());
  if (!location.empty())
    os << location << ": ";
  os << diagnostic << "\n";
  for (mlir::Diagnostic &note : diagnostic.getNotes())
    printDiagnostic(note);
}

/// The command line, for the artifact's metadata.
std::string commandLine(int argc, char **argv) {
  std::string text;
  for (int i = 1; i < argc; ++i)
    text += (i > 1 ? " " : "") + std::string(argv[i]);
  return text;
}

std::string mebibytes(int64_t bytes) {
  std::string text;
  raw_string_ostream(text) << format("%.1f MiB", bytes / double(1 << 20));
  return text;
}

void printReport(const vitc::CompileReport &report, raw_ostream &os) {
  os << "  kernels:   " << report.kernels << " distinct, " << report.dispatches
     << " dispatches (" << mebibytes(report.moduleBytes) << " of code)\n"
     << "  constants: " << report.constants << " tensors, "
     << mebibytes(report.constantBytes) << "\n"
     << "  arena:     " << mebibytes(report.arenaBytes) << " ("
     << mebibytes(report.arenaBytesWithoutReuse) << " without reuse)\n"
     << "  artifact:  " << mebibytes(report.artifactBytes) << "\n";
  if (!report.cudaKernels.empty()) {
    os << "  per kernel (occupancy: blocks per multiprocessor that ptxas's "
          "registers and the shared memory allow, and the warp slots they "
          "fill):\n";
    // The kernel column fits the longest symbol
    // ("blocks_11_attn_qkv_768_2304").
    int nameWidth = 22;
    for (const vitc::CudaKernelReport &kernel : report.cudaKernels)
      nameWidth = std::max(nameWidth, int(kernel.symbol.size()));
    os << format("    %-*s %5s %-16s %-9s %-9s %6s %7s %6s %5s %9s %9s\n",
                 nameWidth, "kernel", "calls", "kind", "precision", "tile",
                 "stages", "threads", "blocks", "regs", "smem", "occupancy");
    for (const vitc::CudaKernelReport &kernel : report.cudaKernels) {
      std::string tile;
      for (int64_t size : kernel.blockTile)
        if (size)
          tile += (tile.empty() ? "" : "x") + std::to_string(size);
      std::string registers =
          kernel.registers < 0 ? "-" : std::to_string(kernel.registers);
      std::string occupancy =
          kernel.registers < 0
              ? "-"
              : std::to_string(kernel.residentBlocks) + " " +
                    std::to_string(int(kernel.occupancy * 100 + 0.5)) + "%";
      os << format(
          "    %-*s %5lld %-16s %-9s %-9s %6lld %7lld %6lld %5s %7.1fK %9s\n",
          nameWidth, kernel.symbol.c_str(), (long long)kernel.dispatches,
          kernel.kind.c_str(), kernel.precision.c_str(),
          tile.empty() ? "-" : tile.c_str(), (long long)kernel.pipelineStages,
          (long long)kernel.threads, (long long)kernel.blocks,
          registers.c_str(), kernel.sharedMemoryBytes / 1024.0,
          occupancy.c_str());
    }
  }
  if (!report.ptxasReport.empty())
    os << "ptxas report:\n" << report.ptxasReport;
}

} // namespace

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  // MLIR's own flags (--mlir-print-ir-after-all, --mlir-timing,
  // --mlir-pass-pipeline-crash-reproducer, ...) work as in mlir-opt, for
  // every pass of the pipeline; --help-hidden lists them. Passes are
  // registered first, so that --mlir-print-ir-after=<pass> knows them.
  vitc::registerAllPasses();
  mlir::registerMLIRContextCLOptions();
  mlir::registerPassManagerCLOptions();
  mlir::registerAsmPrinterCLOptions();
  mlir::registerDefaultTimingManagerCLOptions();
  cl::HideUnrelatedOptions({&modelCategory, &weightCategory, &outputCategory});
  cl::SetVersionPrinter([](raw_ostream &os) {
    os << "vitc " << VITC_VERSION_STRING << " (LLVM/MLIR "
       << LLVM_VERSION_STRING << ")\n";
  });
  cl::ParseCommandLineOptions(
      argc, argv,
      "vitc: the Vision Transformer compiler\n\n"
      "  vitc --model vit-b16 --summary\n"
      "  vitc --model vit-b16 --random-weights --batch 8 -o vit_b16.vitb\n"
      "  vitc --model vit-b16 --weights vit_b16.safetensors --target "
      "cuda:sm_90 -o vit_b16.vitb\n"
      "  vitc --model vit-b16-keras --batch 8 --emit=fused\n");

  if (listModels) {
    for (const std::string &name : vitc::presetNames()) {
      vitc::ModelConfig preset = *vitc::lookupPreset(name);
      outs() << llvm::left_justify(name, 16) << "image " << preset.imageSize
             << ", patch " << preset.patchSize << ", width "
             << preset.hiddenSize << ", depth " << preset.depth << ", heads "
             << preset.numHeads << ", mlp " << preset.mlpDim << ", "
             << vitc::toString(preset.inputLayout) << "\n";
    }
    return 0;
  }
  if (targetName != "cpu" && cpuName.getNumOccurrences())
    return fail("--cpu applies to --target cpu only (--target cpu:NAME "
                "names the CPU itself)");
  Expected<vitc::TargetOptions> target = vitc::parseTarget(targetName, cpuName);
  if (!target) {
    // "cpu" and "cpu:NAME" always parse: their errors are about the CPU.
    if (targetName == "cpu")
      return fail("--cpu: " + toString(target.takeError()));
    if (StringRef(targetName).starts_with("cpu:"))
      return fail("--target: " + toString(target.takeError()));
    consumeError(target.takeError());
    return fail("unknown --target '" + targetName +
                "'; expected cpu, cpu:NAME or cuda:sm_NN (e.g. cuda:sm_90)");
  }
  if (cpuTile.getNumOccurrences()) {
    if (target->isCuda())
      return fail("--cpu-tile applies to --target cpu only");
    uint64_t rows = 0, columns = 0;
    auto [rowText, columnText] = StringRef(cpuTile).split('x');
    if (rowText.getAsInteger(10, rows) ||
        columnText.getAsInteger(10, columns) || rows == 0 || columns == 0 ||
        rows > 4096 || columns > 4096)
      return fail("--cpu-tile must be ROWSxCOLUMNS, two integers from 1 to "
                  "4096 (e.g. 24x128), got '" +
                  cpuTile + "'");
    target->cpu.codegen.rowsPerTile = rows;
    target->cpu.codegen.columnsPerTile = columns;
  }
  if (cpuRowPadding.getNumOccurrences()) {
    if (target->isCuda())
      return fail("--cpu-row-padding applies to --target cpu only");
    if (cpuRowPadding < 0 || cpuRowPadding > 4096 || cpuRowPadding % 4 != 0)
      return fail("--cpu-row-padding must be a multiple of 4 from 0 to "
                  "4096 bytes (e.g. 64), got " +
                  std::to_string(cpuRowPadding));
    target->cpu.codegen.rowPadding = cpuRowPadding;
  }
  std::optional<vitc::cuda::Precision> precision =
      vitc::cuda::parsePrecision(precisionName);
  if (!precision)
    return fail("unknown --precision '" + precisionName +
                "'; expected fp32, tf32, bf16 or fp16");
  if (*precision != vitc::cuda::Precision::F32 && !target->isCuda())
    return fail("--precision " + precisionName +
                " needs a --target cuda:sm_NN; the CPU computes in fp32");
  if (*precision != vitc::cuda::Precision::F32 && target->cuda.sm < 80)
    return fail("--precision " + precisionName +
                " needs sm_80 or newer (mma.sync with bf16/fp16, cp.async)");
  target->cuda.precision = *precision;
  // Linking with lld in-process resets LLVM's command-line options to their
  // defaults, so read every option needed after code generation now.
  const std::string outputPath = outputFile;
  bool emitIR = emit.getNumOccurrences() > 0;
  bool compile = !emitIR && outputPath != "-";
  if (!emitIR && !summary && !compile && saveWeights.empty())
    return fail("nothing to do: pass -o <file>.vitb, --emit=<phase>, "
                "--summary or --save-weights");
  if (emitIR && emit == Phase::Llvm && target->isCuda())
    return fail("--emit=llvm shows CPU code; for --target " + targetName +
                " use --emit=ptx");
  if (emitIR && emit == Phase::Ptx && !target->isCuda())
    return fail("--emit=ptx needs a --target cuda:sm_NN");

  // --timing, or MLIR's --mlir-timing (with its display options).
  mlir::DefaultTimingManager timingManager;
  mlir::applyDefaultTimingManagerCLOptions(timingManager);
  if (timing)
    timingManager.setEnabled(true);
  mlir::TimingScope rootTimer = timingManager.getRootScope();

  mlir::DialectRegistry registry;
  vitc::registerAllDialects(registry);
  mlir::MLIRContext context(registry);
  // An error is one line: the operation it is about is printed after it
  // only when asked for (--mlir-print-op-on-diagnostic, for debugging).
  if (!cl::getRegisteredOptions()["mlir-print-op-on-diagnostic"]
           ->getNumOccurrences())
    context.printOpOnDiagnostic(false);
  mlir::ScopedDiagnosticHandler diagnostics(&context,
                                            [](mlir::Diagnostic &diagnostic) {
                                              printDiagnostic(diagnostic);
                                              return mlir::success();
                                            });
  mlir::TimingScope frontendTimer = rootTimer.nest("frontend (build IR)");
  Expected<Model> model = buildModel(context);
  frontendTimer.stop();
  if (!model) {
    std::string message = toString(model.takeError());
    return message.empty() ? 1 : fail(message);
  }
  mlir::ModuleOp module = *model->module;
  if (compile && !model->weights)
    return fail(inputFile.empty()
                    ? "compiling needs weights: pass --weights "
                      "<file>.safetensors or --random-weights"
                    : "compiling needs weights: the module's vit.weight ops "
                      "read them from --weights <file>.safetensors");
  auto configure = [&](mlir::PassManager &pm) {
    return mlir::applyPassManagerCLOptions(pm);
  };

  if (compile) {
    vitc::CompileSession session;
    session.configure = configure;
    session.progress = [](StringRef step) {
      errs() << "vitc: " << step << "...\n";
    };
    session.timer = &rootTimer;
    vitc::ArtifactDescription description{model->name, model->config,
                                          commandLine(argc, argv)};
    vitc::CompileReport report;
    auto start = std::chrono::steady_clock::now();
    if (failed(vitc::compileArtifact(module, *model->weights, *target,
                                     description, outputPath, session, report)))
      return 1;
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    errs() << "vitc: wrote " << outputPath << " in " << format("%.1f", seconds)
           << " s\n";
    printReport(report, errs());
    return 0;
  }

  if (emitIR && emit > Phase::Vit) {
    vitc::PipelineOptions options;
    options.target = *target;
    options.last = emit;
    mlir::PassManager pm(&context);
    if (failed(configure(pm)))
      return 1;
    mlir::TimingScope pipelineTimer = rootTimer.nest("pipeline");
    pm.enableTiming(pipelineTimer);
    vitc::buildCompilerPipeline(pm, options);
    if (failed(pm.run(module)))
      return 1;
  }

  auto function =
      module.lookupSymbol<mlir::func::FuncOp>(vitc::kEntryFunctionName);
  if (summary && !function)
    return fail("the module has no function @" + vitc::kEntryFunctionName +
                " to summarise");
  std::string error;
  std::unique_ptr<ToolOutputFile> output =
      mlir::openOutputFile(outputPath, &error);
  if (!output)
    return fail(error);
  if (summary)
    vitc::vit::printModelSummary(vitc::vit::summarizeModel(function),
                                 output->os());
  if (emitIR && emit == Phase::Ptx) {
    Expected<std::string> ptx = vitc::cuda::readPtx(module);
    if (!ptx)
      return fail(toString(ptx.takeError()));
    output->os() << *ptx;
  } else if (emitIR) {
    module.print(output->os());
    output->os() << "\n";
  }
  // A failed write (a full disk, /dev/full) is our error to report: left
  // in the stream, LLVM would abort with its own message at exit.
  output->os().flush();
  if (std::error_code written = output->os().error()) {
    output->os().clear_error();
    return fail(outputPath + ": write failed: " + written.message());
  }
  output->keep();
  return 0;
}
