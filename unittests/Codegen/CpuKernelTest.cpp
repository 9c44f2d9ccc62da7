//===- CpuKernelTest.cpp - Compiled CPU kernels against the reference -----===//
//
// Builds a tiny ViT, lowers it to kernel functions, compiles them into a
// shared object with the CPU back end, loads it and runs the model's dispatch
// list (@vit) the way a runtime does: one buffer per kernel result, bindings
// in call-operand order, the image, the evaluated constants and earlier
// results as inputs. The logits are compared with the reference model.
//
// Tolerance: max |compiled - reference| <= 1e-4 * max |reference| + 1e-5.
// The kernels store and accumulate in fp32 (unit roundoff 6e-8) and use
// polynomial exp/erf/tanh (relative error ~1e-7); the reference accumulates
// in double. A dot product of length K in fp32 is off by about
// sqrt(K) * 6e-8 relative to the magnitude of its terms, i.e. < 1e-6 for
// K <= 192 here, and layer norms keep errors relative rather than growing
// with depth. 1e-4 leaves two orders of magnitude over that, and is still
// far below the error of any wrong index, layout or epilogue (>= 1e-2 of the
// logits' scale), which the perturbation test shows the check catches.
//
//===----------------------------------------------------------------------===//

#include "vitc/Codegen/CPU/Serialize.h"

#include "vitc/Compiler/ConstantEvaluator.h"
#include "vitc/Compiler/Pipeline.h"
#include "vitc/Frontend/ModelBuilder.h"
#include "vitc/InitAll.h"
#include "vitc/Reference/ReferenceModel.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Object/ELFObjectFile.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/Host.h"

#include "gtest/gtest.h"

#include "E2E/Numerics.h"

#include <dlfcn.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <thread>

using namespace vitc;
using namespace vitc::cpu;

namespace {

using KernelEntry = void (*)(void *const *bindings, int64_t tileBegin,
                             int64_t tileEnd);

/// The C library symbols a kernel library may import.
const char *const kAllowedImports[] = {"malloc", "free", "memcpy", "memmove",
                                       "memset"};

/// Image 32, patch 8 (17 tokens), width 32, 2 heads, depth 2, MLP 64, 10
/// classes. The NHWC variant is the Keras construction (HWIO kernel, no qkv
/// bias) with the tanh GELU, so both GELUs and both patchifications run.
ModelConfig tinyConfig(InputLayout layout) {
  ModelConfig config;
  config.name = "tiny";
  config.imageSize = 32;
  config.patchSize = 8;
  config.hiddenSize = 32;
  config.depth = 2;
  config.numHeads = 2;
  config.mlpDim = 64;
  config.numClasses = 10;
  config.inputLayout = layout;
  if (layout == InputLayout::NHWC) {
    config.kernelLayout = KernelLayout::HWIO;
    config.qkvBias = false;
    config.gelu = GeluApproximation::Tanh;
  }
  return config;
}

/// `cpu` resolved, with the default tiles.
CpuTarget targetFor(const char *cpu = "host") {
  llvm::Expected<CpuTarget> target = resolveCpuTarget(cpu);
  if (!target) {
    ADD_FAILURE() << llvm::toString(target.takeError());
    return CpuTarget();
  }
  return *target;
}

/// The vector extension the kernels of `target` use, as an LLVM feature
/// name, when this machine lacks it; "" when it can run them.
std::string missingHostFeature(const CpuTarget &target) {
  const char *feature = target.vectorExtension == "AVX-512" ? "avx512f"
                        : target.vectorExtension == "AVX2"  ? "avx2"
                        : target.vectorExtension == "AVX"   ? "avx"
                                                            : nullptr;
  if (!feature || llvm::sys::getHostCPUFeatures().lookup(feature))
    return "";
  return feature;
}

/// Small tiles, so that every kernel but the concatenation has several tiles
/// and the last row tile is partial (34 rows of linears in tiles of 8).
CpuTarget smallTiles(const char *cpu = "host") {
  CpuTarget target = targetFor(cpu);
  target.codegen.rowsPerTile = 8;
  target.codegen.columnsPerTile = 16;
  return target;
}

/// How the dispatch loop calls each kernel.
enum class Schedule {
  /// One call over all tiles.
  AllTiles,
  /// The second half of the tiles, then the first: tiles must neither depend
  /// on each other nor write outside their part of the output.
  HalvesReversed,
  /// Contiguous ranges of tiles on concurrent threads, as a runtime does.
  Threads,
};

/// Threads of Schedule::Threads.
unsigned numThreads() {
  return std::max(2u, std::thread::hardware_concurrency());
}

/// Writes a shared object to a temporary file and loads it.
class LoadedLibrary {
public:
  explicit LoadedLibrary(const std::vector<uint8_t> &bytes) {
    llvm::SmallString<128> file;
    int fd;
    if (llvm::sys::fs::createTemporaryFile("vitc-kernels", "so", fd, file))
      return;
    path = std::string(file);
    {
      llvm::raw_fd_ostream stream(fd, /*shouldClose=*/true);
      stream.write(reinterpret_cast<const char *>(bytes.data()), bytes.size());
    }
    handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  }
  ~LoadedLibrary() {
    if (handle)
      dlclose(handle);
    if (!path.empty())
      llvm::sys::fs::remove(path);
  }
  void *handle = nullptr;
  std::string path;
};

/// A tiny model lowered to kernels and compiled for the CPU.
class CompiledModel {
public:
  CompiledModel(const ModelConfig &config, int64_t batch,
                const CpuTarget &target)
      : config(config), batch(batch) {
    mlir::DialectRegistry registry;
    registerAllDialects(registry);
    context.appendDialectRegistry(registry);
    llvm::raw_string_ostream diagnostics(error);
    mlir::ScopedDiagnosticHandler handler(
        &context, [&](mlir::Diagnostic &diagnostic) {
          diagnostics << diagnostic.getLocation() << ": " << diagnostic << "\n";
        });
    module = buildViTModule(context, config, WeightNaming::Timm, batch);
    // The compiler's pipeline; the test keeps what it hands over (the
    // constants function and the dispatch list) to run the model itself.
    host = mlir::ModuleOp::create(mlir::UnknownLoc::get(&context));
    PipelineOptions options;
    options.target.cpu = target;
    options.last = Phase::Llvm;
    options.constantsHook = [&](mlir::func::FuncOp constants) {
      host->push_back(constants.clone());
      return mlir::success();
    };
    options.dispatchesHook = [&](mlir::func::FuncOp dispatches) {
      entry = dispatches.clone();
      host->push_back(entry);
      for (auto function : dispatches->getParentOfType<mlir::ModuleOp>()
                               .getOps<mlir::func::FuncOp>())
        if (isKernelFunction(function))
          kernelSymbols.push_back(function.getSymName().str());
      return mlir::success();
    };
    mlir::PassManager pm(&context);
    buildCompilerPipeline(pm, options);
    if (failed(pm.run(*module))) {
      diagnostics << "the pipeline failed";
      return;
    }
    llvm::Expected<CpuObject> object = serializeCpuKernels(*module, target);
    if (!object) {
      error = llvm::toString(object.takeError());
      return;
    }
    compiled = std::move(*object);
    library = std::make_unique<LoadedLibrary>(compiled.sharedObject);
    if (!library->handle) {
      error = "dlopen failed: " + std::string(dlerror());
      return;
    }
    for (const CompiledKernel &kernel : compiled.kernels) {
      auto function = reinterpret_cast<KernelEntry>(
          dlsym(library->handle, kernel.symbol.c_str()));
      if (!function) {
        error = "missing symbol " + kernel.symbol;
        return;
      }
      entryPoints[kernel.symbol] = {function, kernel.numTiles};
    }
  }

  bool ok() const { return error.empty(); }

  /// Evaluates the constants function on `weights`.
  std::vector<Tensor> evaluateConstants(const WeightSet &weights) {
    auto constants = host->lookupSymbol<mlir::func::FuncOp>(
        constantsFunctionName(kEntryFunctionName));
    mlir::FailureOr<EvaluatedConstants> values =
        vitc::evaluateConstants(constants, weights);
    EXPECT_TRUE(succeeded(values));
    return succeeded(values) ? values->copy() : std::vector<Tensor>{};
  }

  /// Runs the dispatch list of @vit and returns the logits.
  std::vector<float> run(const std::vector<float> &images,
                         std::vector<Tensor> &constants, Schedule schedule) {
    // NaN-filled result buffers: any element a kernel fails to write poisons
    // the logits.
    std::vector<std::vector<float>> storage;
    llvm::DenseMap<mlir::Value, float *> buffers;
    auto bufferOf = [&](mlir::Value value) -> float * {
      auto argument = llvm::dyn_cast<mlir::BlockArgument>(value);
      if (!argument)
        return buffers.lookup(value);
      if (argument.getArgNumber() == 0)
        return const_cast<float *>(images.data());
      auto index = entry.getArgAttrOfType<mlir::IntegerAttr>(
          argument.getArgNumber(), "vit.constant");
      Tensor &constant = constants.at(index.getInt());
      EXPECT_EQ(constant.numElements(),
                llvm::cast<mlir::ShapedType>(value.getType()).getNumElements());
      return constant.data.data();
    };

    for (mlir::Operation &op : entry.getBody().front()) {
      if (auto ret = llvm::dyn_cast<mlir::func::ReturnOp>(op)) {
        float *logits = bufferOf(ret.getOperand(0));
        return {logits, logits + batch * config.numClasses};
      }
      auto call = llvm::dyn_cast<mlir::func::CallOp>(op);
      if (!call) {
        ADD_FAILURE() << "unexpected op in the dispatch list: "
                      << op.getName().getStringRef().str();
        return {};
      }
      std::vector<void *> bindings;
      for (mlir::Value operand : call.getOperands())
        bindings.push_back(bufferOf(operand));
      for (mlir::Value result : call.getResults()) {
        int64_t size =
            llvm::cast<mlir::ShapedType>(result.getType()).getNumElements();
        storage.emplace_back(size, std::numeric_limits<float>::quiet_NaN());
        buffers[result] = storage.back().data();
        bindings.push_back(storage.back().data());
      }
      auto [function, numTiles] = entryPoints.at(call.getCallee().str());
      switch (schedule) {
      case Schedule::AllTiles:
        function(bindings.data(), 0, numTiles);
        break;
      case Schedule::HalvesReversed:
        function(bindings.data(), numTiles / 2, numTiles);
        function(bindings.data(), 0, numTiles / 2);
        break;
      case Schedule::Threads: {
        std::vector<std::thread> threads;
        int64_t count = numThreads();
        for (int64_t i = 0; i < count; ++i)
          threads.emplace_back(function, bindings.data(), numTiles * i / count,
                               numTiles * (i + 1) / count);
        for (std::thread &thread : threads)
          thread.join();
        break;
      }
      }
    }
    ADD_FAILURE() << "the dispatch list has no return";
    return {};
  }

  ModelConfig config;
  int64_t batch;
  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  /// The constants function and the dispatch list (@vit) the pipeline
  /// handed over, and the kernel symbols in module order.
  mlir::OwningOpRef<mlir::ModuleOp> host;
  mlir::func::FuncOp entry;
  std::vector<std::string> kernelSymbols;
  CpuObject compiled;
  std::unique_ptr<LoadedLibrary> library;
  std::map<std::string, std::pair<KernelEntry, int64_t>> entryPoints;
  std::string error;
};

/// max |actual - expected|, or infinity if the sizes differ or any value is
/// NaN.
double maxAbsDiff(const std::vector<float> &actual,
                  const std::vector<float> &expected) {
  if (actual.size() != expected.size())
    return std::numeric_limits<double>::infinity();
  double result = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    double diff = std::abs(double(actual[i]) - double(expected[i]));
    if (std::isnan(diff))
      return std::numeric_limits<double>::infinity();
    result = std::max(result, diff);
  }
  return result;
}

/// The bound justified at the top of this file.
double errorBound(const std::vector<float> &reference) {
  double scale = 0;
  for (float value : reference)
    scale = std::max(scale, std::abs(double(value)));
  return 1e-4 * scale + 1e-5;
}

/// A model variant and the CPU its kernels are compiled for.
struct Variant {
  InputLayout layout;
  const char *cpu;
};

class CpuKernelTest : public ::testing::TestWithParam<Variant> {};

TEST_P(CpuKernelTest, MatchesReferenceModel) {
  ModelConfig config = tinyConfig(GetParam().layout);
  ASSERT_EQ(llvm::toString(config.validate()), "");
  constexpr int64_t kBatch = 2;
  CompiledModel model(config, kBatch, smallTiles(GetParam().cpu));
  ASSERT_TRUE(model.ok()) << model.error;
  // Kernels for a wider ISA than this machine's compile everywhere; they
  // run (and are checked) on machines that have it.
  std::string missing = missingHostFeature(targetFor(GetParam().cpu));
  if (!missing.empty())
    GTEST_SKIP() << "the " << GetParam().cpu
                 << " kernels compiled, but this CPU lacks " << missing
                 << " to run them";

  WeightSet weights = makeRandomWeights(config, WeightNaming::Timm, 7);
  std::vector<Tensor> constants = model.evaluateConstants(weights);
  std::vector<float> images = vitc::testing::randomImages(config, kBatch, 11);
  std::vector<float> reference =
      reference::runModel(config, weights, images, kBatch);
  double bound = errorBound(reference);

  std::vector<float> logits = model.run(images, constants, Schedule::AllTiles);
  double error = maxAbsDiff(logits, reference);
  EXPECT_LE(error, bound) << "max |diff| " << error;

  // Tiles are independent: any split of the range, also over concurrent
  // threads, gives the same bits.
  EXPECT_EQ(model.run(images, constants, Schedule::HalvesReversed), logits);
  EXPECT_EQ(model.run(images, constants, Schedule::Threads), logits);

  // The check is not vacuous: one logit off by ten times the bound fails it.
  Tensor &headBias = constants.back();
  ASSERT_EQ(headBias.shape, std::vector<int64_t>{config.numClasses});
  headBias.data[3] += 10 * bound;
  double perturbedError =
      maxAbsDiff(model.run(images, constants, Schedule::AllTiles), reference);
  EXPECT_GT(perturbedError, bound);
}

// The host, baseline x86-64 (SSE2: 4-lane vectors, fewer registers for
// accumulators), and the two ISAs the development machines alternate
// between whatever this one is: x86-64-v3 (AVX2, panels of 16, 6-row
// blocks) and x86-64-v4 (AVX-512, panels of 32, 12-row blocks). A variant
// the machine cannot execute is compiled, then skipped with the reason.
INSTANTIATE_TEST_SUITE_P(
    Variants, CpuKernelTest,
    ::testing::Values(Variant{InputLayout::NCHW, "host"},
                      Variant{InputLayout::NHWC, "host"},
                      Variant{InputLayout::NCHW, "x86-64"},
                      Variant{InputLayout::NCHW, "x86-64-v3"},
                      Variant{InputLayout::NHWC, "x86-64-v4"}),
    [](const auto &info) {
      std::string name =
          std::string(toString(info.param.layout)) + "_" + info.param.cpu;
      std::replace(name.begin(), name.end(), '-', '_');
      return name;
    });

TEST(CpuKernelLibrary, ExportsKernelsAndImportsOnlyLibc) {
  ModelConfig config = tinyConfig(InputLayout::NCHW);
  // An explicit CPU: the linears' column tiles follow the vector width, so
  // on an AVX-512 host "host" would halve their count.
  CompiledModel model(config, /*batch=*/2, smallTiles("x86-64-v3"));
  ASSERT_TRUE(model.ok()) << model.error;

  // One kernel per function, in module order; the big ones have several
  // tiles (layer norms: 34 rows in tiles of 8; attention: 2 images x 2
  // heads x 2 tiles of 16 query rows, two AVX2 vectors; linears: rows x
  // column tiles). The last block computes its attention and MLP for the
  // two images' class tokens alone: one query tile per image and head, one
  // row tile.
  std::vector<std::string> functions = model.kernelSymbols;
  ASSERT_EQ(model.compiled.kernels.size(), functions.size());
  for (auto [kernel, function] :
       llvm::zip_equal(model.compiled.kernels, functions)) {
    EXPECT_EQ(kernel.symbol, function);
    EXPECT_GE(kernel.numTiles, 1);
  }
  std::map<std::string, int64_t> tiles;
  for (const CompiledKernel &kernel : model.compiled.kernels)
    tiles[kernel.symbol] = kernel.numTiles;
  EXPECT_EQ(tiles.at("blocks_N_normN"), 2 * 3);
  EXPECT_EQ(tiles.at("blocks_0_attn_core"), 2 * 2 * 2);
  EXPECT_EQ(tiles.at("blocks_1_attn_core"), 2 * 2 * 1);
  EXPECT_EQ(tiles.at("blocks_0_mlp_fc1"), 5 * (64 / 16));
  EXPECT_EQ(tiles.at("blocks_1_mlp_fc1"), 1 * (64 / 16));
  EXPECT_EQ(tiles.at("class_pos_embed"), 1);

  // Only the entry points are exported; imports come from the C library.
  auto binary = llvm::object::ObjectFile::createObjectFile(model.library->path);
  ASSERT_TRUE(bool(binary)) << llvm::toString(binary.takeError());
  auto *elf =
      llvm::dyn_cast<llvm::object::ELFObjectFileBase>(binary->getBinary());
  ASSERT_TRUE(elf);
  std::vector<std::string> exported, imported;
  for (const llvm::object::SymbolRef &symbol :
       elf->getDynamicSymbolIterators()) {
    llvm::Expected<llvm::StringRef> name = symbol.getName();
    llvm::Expected<uint32_t> flags = symbol.getFlags();
    ASSERT_TRUE(name && flags);
    if (name->empty())
      continue;
    if (*flags & llvm::object::SymbolRef::SF_Undefined)
      imported.push_back(name->str());
    else
      exported.push_back(name->str());
  }
  std::sort(exported.begin(), exported.end());
  std::sort(functions.begin(), functions.end());
  EXPECT_EQ(exported, functions);
  for (const std::string &name : imported)
    EXPECT_TRUE(llvm::is_contained(kAllowedImports, name)) << name;
}

/// Compile time, run times and accuracy for ViT-B/16; slow
/// (the reference alone takes a while), so run it explicitly with
/// --gtest_also_run_disabled_tests --gtest_filter='*VitB16*'.
TEST(CpuKernelLibrary, DISABLED_VitB16) {
  using Clock = std::chrono::steady_clock;
  auto seconds = [](Clock::time_point since) {
    return std::chrono::duration<double>(Clock::now() - since).count();
  };
  ModelConfig config = *lookupPreset("vit-b16");
  Clock::time_point start = Clock::now();
  CompiledModel model(config, /*batch=*/1, targetFor());
  ASSERT_TRUE(model.ok()) << model.error;
  std::printf("compile (build, fuse, lower, codegen, link): %.2f s, %zu "
              "kernels, %zu bytes\n",
              seconds(start), model.compiled.kernels.size(),
              model.compiled.sharedObject.size());

  WeightSet weights = makeRandomWeights(config, WeightNaming::Timm, 7);
  std::vector<Tensor> constants = model.evaluateConstants(weights);
  std::vector<float> images = vitc::testing::randomImages(config, 1, 11);
  model.run(images, constants, Schedule::AllTiles);
  start = Clock::now();
  std::vector<float> logits = model.run(images, constants, Schedule::AllTiles);
  std::printf("run, one thread: %.3f s\n", seconds(start));
  start = Clock::now();
  EXPECT_EQ(model.run(images, constants, Schedule::Threads), logits);
  std::printf("run, %u threads: %.3f s\n", numThreads(), seconds(start));
  start = Clock::now();
  std::vector<float> reference =
      reference::runModel(config, weights, images, 1);
  std::printf("reference: %.1f s\n", seconds(start));
  double error = maxAbsDiff(logits, reference);
  std::printf("max |diff| %g, bound %g\n", error, errorBound(reference));
  EXPECT_LE(error, errorBound(reference));
}

} // namespace
