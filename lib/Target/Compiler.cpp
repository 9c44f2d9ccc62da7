//===- Compiler.cpp - Fused IR plus weights to a .vitb artifact -----------===//

#include "vitc/Target/Compiler.h"

#include "vitc/Codegen/CPU/KernelCompiler.h"
#include "vitc/Codegen/CUDA/CudaCodegen.h"
#include "vitc/Dialect/ViT/IR/ViTOps.h"
#include "vitc/Frontend/ModelBuilder.h"
#include "vitc/Target/ArtifactWriter.h"
#include "vitc/Target/Lowering.h"
#include "vitc/Version.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"

using namespace mlir;

namespace vitc {

std::optional<TargetOptions> parseTarget(const std::string &text) {
  TargetOptions target;
  if (text == "cpu")
    return target;
  llvm::StringRef rest(text);
  int64_t sm = 0;
  if (!rest.consume_front("cuda:sm_") || rest.getAsInteger(10, sm) ||
      sm < 50 || sm > 200)
    return std::nullopt;
  target.kind = TargetOptions::Kind::Cuda;
  target.sm = sm;
  return target;
}

namespace {

/// Facts about the model read from the fused IR before it is lowered.
struct ModelFacts {
  int64_t parameters = 0;
  int64_t batch = 1;
  std::string inputLayout = "nchw";
  ArtifactTensor input, output;
};

ArtifactTensor describe(const char *name, Type type) {
  ArrayRef<int64_t> shape = cast<RankedTensorType>(type).getShape();
  return {name, {shape.begin(), shape.end()}};
}

std::optional<ModelFacts> readFacts(ModuleOp module, std::string &error) {
  auto entry = module.lookupSymbol<func::FuncOp>(kEntryFunctionName);
  if (!entry || entry.getNumResults() != 1 || entry.getNumArguments() == 0) {
    error = std::string("the module has no @") + kEntryFunctionName +
            " function taking an image and returning logits";
    return std::nullopt;
  }
  ModelFacts facts;
  facts.input = describe("image", entry.getArgumentTypes()[0]);
  facts.output = describe("logits", entry.getResultTypes()[0]);
  facts.batch = facts.input.dims.empty() ? 1 : facts.input.dims[0];
  llvm::StringSet<> counted;
  module.walk([&](vit::WeightOp weight) {
    if (counted.insert(weight.getName()).second)
      facts.parameters += weight.getType().getNumElements();
  });
  module.walk([&](vit::PatchifyOp patchify) {
    facts.inputLayout = vit::stringifyInputLayout(patchify.getInputLayout());
  });
  return facts;
}

/// Kernel names by symbol, read from the kernel functions.
llvm::StringMap<std::string> kernelNames(ModuleOp kernels) {
  llvm::StringMap<std::string> names;
  for (auto function : kernels.getOps<func::FuncOp>())
    if (auto name = function->getAttrOfType<StringAttr>("vit.kernel_name"))
      names[function.getName()] = name.str();
  return names;
}

bool generateCpu(ModuleOp kernels, const TargetOptions &target,
                 ArtifactContents &contents, std::string &error) {
  cpu::CpuOptions options;
  options.cpu = target.cpu;
  FailureOr<cpu::CpuCompileResult> compiled =
      cpu::compileKernelsForCpu(kernels, options, error);
  if (failed(compiled))
    return false;
  contents.targetName = "x86_64";
  contents.modules.push_back({ModuleFormat::ElfSharedObject, "x86_64",
                              std::move(compiled->sharedObject)});
  for (const cpu::CompiledKernel &kernel : compiled->kernels) {
    ArtifactKernel described;
    described.symbol = kernel.symbol;
    described.numTiles = kernel.numTiles;
    contents.kernels.push_back(described);
  }
  return true;
}

bool generateCuda(ModuleOp kernels, const TargetOptions &target,
                  ArtifactContents &contents, CompileReport &report,
                  std::string &error) {
  cuda::CudaOptions options;
  options.sm = target.sm;
  FailureOr<cuda::CudaCompileResult> compiled =
      cuda::compileKernelsForCuda(kernels, options, error);
  if (failed(compiled))
    return false;
  std::string sm = "sm_" + std::to_string(target.sm);
  contents.cuda = true;
  contents.targetName = sm;
  contents.modules.push_back(
      {ModuleFormat::Ptx, sm,
       std::vector<uint8_t>(compiled->ptx.begin(), compiled->ptx.end())});
  if (!compiled->cubin.empty())
    contents.modules.push_back(
        {ModuleFormat::Cubin, sm, std::move(compiled->cubin)});
  for (const cuda::LaunchInfo &launch : compiled->kernels) {
    ArtifactKernel described;
    described.symbol = launch.symbol;
    described.grid = {launch.grid[0], launch.grid[1], launch.grid[2]};
    described.block = {launch.block[0], launch.block[1], launch.block[2]};
    described.sharedMemoryBytes = launch.sharedMemoryBytes;
    contents.kernels.push_back(described);
  }
  report.ptxasReport = compiled->ptxasReport;
  return true;
}

} // namespace

bool compileArtifact(ModuleOp module, const WeightSet &weights,
                     const TargetOptions &target,
                     const ArtifactDescription &description,
                     const std::string &path, TimingScope &timer,
                     const std::function<void(const std::string &)> &progress,
                     CompileReport &report, std::string &error) {
  std::optional<ModelFacts> facts = readFacts(module, error);
  if (!facts)
    return false;

  progress("evaluating constants and lowering kernels to linalg");
  TimingScope lowerTimer = timer.nest("lower (constants, outline, linalg)");
  std::optional<LoweredModel> lowered = lowerModel(module, weights, error);
  lowerTimer.stop();
  if (!lowered)
    return false;

  ArtifactContents contents;
  TimingScope codegenTimer = timer.nest("code generation");
  if (target.kind == TargetOptions::Kind::Cpu) {
    progress("generating CPU code");
    if (!generateCpu(*lowered->kernels, target, contents, error))
      return false;
  } else {
    progress("generating CUDA code for sm_" + std::to_string(target.sm));
    if (!generateCuda(*lowered->kernels, target, contents, report, error))
      return false;
  }
  codegenTimer.stop();

  llvm::StringMap<std::string> names = kernelNames(*lowered->kernels);
  llvm::StringMap<int64_t> macs;
  for (const auto &[symbol, count] : lowered->kernelMacs)
    macs[symbol] = count;
  int64_t totalMacs = 0;
  for (ArtifactKernel &kernel : contents.kernels) {
    kernel.name = names.lookup(kernel.symbol);
    kernel.multiplyAccumulates = macs.lookup(kernel.symbol);
    totalMacs += kernel.multiplyAccumulates;
  }

  contents.plan = std::move(lowered->plan);
  contents.constants = std::move(lowered->constants);
  contents.constantNames = std::move(lowered->constantNames);
  contents.inputs = {facts->input};
  contents.outputs = {facts->output};
  ArtifactMetadata &meta = contents.metadata;
  meta.model = description.model;
  meta.parameters = facts->parameters;
  meta.multiplyAccumulatesPerImage = totalMacs / std::max<int64_t>(facts->batch, 1);
  meta.batch = facts->batch;
  meta.inputLayout = facts->inputLayout;
  ModelConfig config = description.config.value_or(ModelConfig());
  meta.pixelMean.assign(config.pixelMean.begin(), config.pixelMean.end());
  meta.pixelStd.assign(config.pixelStd.begin(), config.pixelStd.end());
  meta.compilerVersion = VITC_VERSION_STRING;
  meta.compileOptions = description.compileOptions;
  meta.configJson = description.config ? toJson(*description.config) : "{}";

  progress("writing " + path);
  TimingScope writeTimer = timer.nest("write artifact");
  if (!writeArtifact(contents, path, error))
    return false;
  writeTimer.stop();

  report.kernels = contents.kernels.size();
  report.constants = contents.constants.size();
  for (const Tensor &constant : contents.constants)
    report.constantBytes += constant.data.size() * sizeof(float);
  report.arenaBytes = contents.plan.arenaBytes;
  report.arenaBytesWithoutReuse = contents.plan.unplannedBytes;
  for (const ArtifactModule &module : contents.modules)
    report.moduleBytes += module.data.size();
  uint64_t size = 0;
  if (!llvm::sys::fs::file_size(path, size))
    report.artifactBytes = size;
  return true;
}

} // namespace vitc
