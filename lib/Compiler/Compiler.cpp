//===- Compiler.cpp - A model and its weights to a .vitb artifact ---------===//

#include "vitc/Compiler/Compiler.h"

#include "vitc/Codegen/CUDA/TileHeuristics.h"
#include "vitc/Compiler/ConstantEvaluator.h"
#include "vitc/Dialect/ViT/IR/ViTOps.h"
#include "vitc/Plan/ArtifactWriter.h"
#include "vitc/Plan/ExecutionPlan.h"
#include "vitc/Version.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"

using namespace mlir;

namespace vitc {

namespace {

/// Facts about the model read from its IR before it is compiled.
struct ModelFacts {
  int64_t parameters = 0;
  int64_t batch = 1;
  /// "nchw" or "nhwc"; empty when the input is not an image (a module of
  /// other ops than a whole ViT, e.g. one linear).
  std::string inputLayout;
  std::unique_ptr<vitb::TensorInfoT> input, output;
};

std::unique_ptr<vitb::TensorInfoT> describe(const char *name, Type type) {
  auto info = std::make_unique<vitb::TensorInfoT>();
  info->name = name;
  ArrayRef<int64_t> shape = cast<RankedTensorType>(type).getShape();
  info->dims.assign(shape.begin(), shape.end());
  return info;
}

FailureOr<ModelFacts> readFacts(ModuleOp module) {
  auto entry = module.lookupSymbol<func::FuncOp>(kEntryFunctionName);
  if (!entry || entry.getNumResults() != 1 || entry.getNumArguments() == 0)
    return emitError(module.getLoc(), "the module has no @")
           << kEntryFunctionName
           << " function taking an image and returning logits";
  ModelFacts facts;
  facts.input = describe("image", entry.getArgumentTypes()[0]);
  facts.output = describe("logits", entry.getResultTypes()[0]);
  facts.batch = facts.input->dims.empty() ? 1 : facts.input->dims[0];
  llvm::StringSet<> counted;
  module.walk([&](vit::WeightOp weight) {
    if (counted.insert(weight.getName()).second)
      facts.parameters += weight.getType().getNumElements();
  });
  // The graph-level op, or the decomposed one in IR read after fusion.
  module.walk([&](Operation *op) {
    if (auto embed = dyn_cast<vit::PatchEmbedOp>(op))
      facts.inputLayout = vit::stringifyInputLayout(embed.getInputLayout());
    else if (auto patchify = dyn_cast<vit::PatchifyOp>(op))
      facts.inputLayout = vit::stringifyInputLayout(patchify.getInputLayout());
  });
  return facts;
}

/// A readable name for each constant: the weight it is, or what it is
/// computed from.
std::vector<std::string> nameConstants(func::FuncOp constants) {
  std::vector<std::string> names;
  auto ret = cast<func::ReturnOp>(constants.getBody().front().getTerminator());
  for (Value value : ret.getOperands()) {
    if (auto weight = value.getDefiningOp<vit::WeightOp>()) {
      names.push_back(weight.getName().str());
      continue;
    }
    // The first weight the computation reads.
    std::string name = "packed";
    SmallVector<Value> work = {value};
    while (!work.empty()) {
      Operation *op = work.pop_back_val().getDefiningOp();
      if (!op)
        continue;
      if (auto weight = dyn_cast<vit::WeightOp>(op)) {
        name = "packed(" + weight.getName().str() + ")";
        break;
      }
      llvm::append_range(work, op->getOperands());
    }
    names.push_back(name);
  }
  return names;
}

/// A kernel of the artifact's table, as the plan describes it.
std::unique_ptr<vitb::KernelT> describeKernel(const PlannedKernel &planned) {
  auto kernel = std::make_unique<vitb::KernelT>();
  kernel->name = planned.name;
  kernel->symbol = planned.symbol;
  kernel->multiply_accumulates = planned.multiplyAccumulates;
  kernel->binding_bytes = planned.bindingBytes;
  kernel->grid = {1, 1, 1};
  kernel->block = {1, 1, 1};
  return kernel;
}

std::unique_ptr<vitb::KernelModuleT> describeModule(vitb::ModuleFormat format,
                                                    std::string target,
                                                    std::vector<uint8_t> data) {
  auto module = std::make_unique<vitb::KernelModuleT>();
  module->format = format;
  module->target = std::move(target);
  module->data = std::move(data);
  return module;
}

/// Serializes the end of the CPU pipeline into `artifact`.
llvm::Error serializeCpu(ModuleOp module, const cpu::CpuTarget &target,
                         const llvm::StringMap<const PlannedKernel *> &planned,
                         vitb::ArtifactT &artifact) {
  llvm::Expected<cpu::CpuObject> object =
      cpu::serializeCpuKernels(module, target);
  if (!object)
    return object.takeError();
  artifact.target = vitb::TargetKind::Cpu;
  artifact.target_name = target.cpu;
  artifact.modules.push_back(describeModule(vitb::ModuleFormat::ElfSharedObject,
                                            "x86_64",
                                            std::move(object->sharedObject)));
  // The extensions the code may use: those the target enables, of the ones
  // a runtime can test for.
  llvm::StringSet<> enabled;
  for (const std::string &feature : target.enabledFeatures)
    enabled.insert(feature);
  for (const char *feature : {
#define VITB_FEATURE_NAME(name) name,
           VITB_X86_CPU_FEATURES(VITB_FEATURE_NAME)
#undef VITB_FEATURE_NAME
       })
    if (enabled.contains(feature))
      artifact.modules.back()->cpu_features.push_back(feature);
  for (const cpu::CompiledKernel &compiled : object->kernels) {
    const PlannedKernel *kernel = planned.lookup(compiled.symbol);
    if (!kernel)
      continue;
    artifact.kernels.push_back(describeKernel(*kernel));
    artifact.kernels.back()->num_tiles = compiled.numTiles;
  }
  return llvm::Error::success();
}

/// Serializes the end of the CUDA pipeline into `artifact`.
llvm::Error serializeCuda(ModuleOp module, const cuda::CudaOptions &options,
                          const llvm::StringMap<const PlannedKernel *> &planned,
                          vitb::ArtifactT &artifact, CompileReport &report) {
  llvm::Expected<cuda::CudaCompileResult> compiled =
      cuda::serializeCudaKernels(module, options);
  if (!compiled)
    return compiled.takeError();
  std::string sm = "sm_" + std::to_string(options.sm);
  artifact.target = vitb::TargetKind::Cuda;
  artifact.target_name = sm;
  artifact.modules.push_back(describeModule(
      vitb::ModuleFormat::Ptx, sm,
      std::vector<uint8_t>(compiled->ptx.begin(), compiled->ptx.end())));
  if (!compiled->cubin.empty())
    artifact.modules.push_back(describeModule(vitb::ModuleFormat::Cubin, sm,
                                              std::move(compiled->cubin)));
  for (const cuda::LaunchInfo &launch : compiled->kernels) {
    const PlannedKernel *kernel = planned.lookup(launch.symbol);
    if (!kernel)
      continue;
    artifact.kernels.push_back(describeKernel(*kernel));
    vitb::KernelT &described = *artifact.kernels.back();
    described.grid.assign(std::begin(launch.grid), std::end(launch.grid));
    described.block.assign(std::begin(launch.block), std::end(launch.block));
    described.shared_memory_bytes = launch.sharedMemoryBytes;

    CudaKernelReport &row = report.cudaKernels.emplace_back();
    row.symbol = launch.symbol;
    row.dispatches = kernel->dispatches;
    row.kind = launch.kind;
    bool tensorCores =
        launch.kind == "mma_linear" || launch.kind == "flash_attention";
    row.precision = tensorCores ? cuda::toString(options.precision) : "fp32";
    row.blockTile = launch.blockTile;
    row.pipelineStages = launch.pipelineStages;
    row.threads = launch.block[0] * launch.block[1] * launch.block[2];
    row.blocks = launch.grid[0] * launch.grid[1] * launch.grid[2];
    row.registers = launch.registers;
    row.sharedMemoryBytes = launch.staticSharedMemoryBytes;
    if (launch.registers >= 0) {
      cuda::CudaTarget gpu = cuda::getCudaTarget(options.sm);
      row.residentBlocks = cuda::residentBlocks(
          gpu, row.threads, launch.registers, row.sharedMemoryBytes);
      row.occupancy = double(row.residentBlocks * row.threads) /
                      double(gpu.threadsPerMultiprocessor);
    }
  }
  report.ptxasReport = std::move(compiled->ptxasReport);
  return llvm::Error::success();
}

/// Reports an error of a step outside the pass pipeline. It is about the
/// whole model, not an op, and is reported without a location (emitting it
/// on the module would print the whole module with it).
LogicalResult reportError(ModuleOp module, const Twine &message) {
  return emitError(UnknownLoc::get(module.getContext()), message);
}

} // namespace

LogicalResult compileArtifact(ModuleOp module, const WeightSet &weights,
                              const TargetOptions &target,
                              const ArtifactDescription &description,
                              StringRef path, const CompileSession &session,
                              CompileReport &report) {
  auto progress = [&](const Twine &step) {
    if (session.progress)
      session.progress(step.str());
  };
  TimingScope noTimer;
  TimingScope &timer = session.timer ? *session.timer : noTimer;
  FailureOr<ModelFacts> facts = readFacts(module);
  if (failed(facts))
    return failure();

  // The pipeline hands over the constants and the dispatch list.
  EvaluatedConstants constants;
  std::vector<std::string> constantNames;
  ExecutionPlan plan;
  PipelineOptions options;
  options.target = target;
  options.last = target.finalPhase();
  options.constantsHook = [&](func::FuncOp function) -> LogicalResult {
    FailureOr<EvaluatedConstants> values = evaluateConstants(function, weights);
    if (failed(values))
      return failure();
    constants = std::move(*values);
    constantNames = nameConstants(function);
    return success();
  };
  options.dispatchesHook = [&](func::FuncOp entry) -> LogicalResult {
    FailureOr<ExecutionPlan> planned = planExecution(entry);
    if (failed(planned))
      return failure();
    plan = std::move(*planned);
    return success();
  };

  progress("compiling for " + target.describe());
  {
    PassManager pm(module.getContext());
    if (session.configure && failed(session.configure(pm)))
      return failure();
    TimingScope pipelineTimer = timer.nest("pipeline");
    pm.enableTiming(pipelineTimer);
    buildCompilerPipeline(pm, options);
    if (failed(pm.run(module)))
      return failure();
  }
  if (plan.kernels.empty())
    return reportError(module, "the @vit function computes nothing (it "
                               "returns its inputs or constants as they "
                               "are): there is no kernel to compile");

  vitb::ArtifactT artifact;
  artifact.format_version = vitb::kFormatVersion;
  llvm::StringMap<const PlannedKernel *> planned;
  for (const PlannedKernel &kernel : plan.kernels)
    planned[kernel.symbol] = &kernel;
  progress(target.isCuda() ? "assembling the PTX" : "emitting object code");
  TimingScope serializeTimer = timer.nest("serialize kernels");
  llvm::Error serialized =
      target.isCuda()
          ? serializeCuda(module, target.cuda, planned, artifact, report)
          : serializeCpu(module, target.cpu, planned, artifact);
  if (serialized)
    return reportError(module, llvm::toString(std::move(serialized)));
  serializeTimer.stop();

  llvm::StringMap<uint32_t> kernelIndex;
  int64_t totalMacs = 0;
  for (auto [index, kernel] : llvm::enumerate(artifact.kernels))
    kernelIndex[kernel->symbol] = index;
  for (const PlannedKernel &kernel : plan.kernels)
    totalMacs += kernel.multiplyAccumulates * kernel.dispatches;
  llvm::Expected<std::vector<std::unique_ptr<vitb::DispatchT>>> dispatches =
      describeDispatches(plan, kernelIndex);
  if (!dispatches)
    return reportError(module, llvm::toString(dispatches.takeError()));
  artifact.dispatches = std::move(*dispatches);
  artifact.arena_bytes = plan.arenaBytes;
  artifact.inputs.push_back(std::move(facts->input));
  artifact.outputs.push_back(std::move(facts->output));

  auto meta = std::make_unique<vitb::MetadataT>();
  meta->model = description.model;
  meta->parameters = facts->parameters;
  meta->multiply_accumulates_per_image =
      totalMacs / std::max<int64_t>(facts->batch, 1);
  meta->batch = facts->batch;
  meta->input_layout = facts->inputLayout;
  ModelConfig config = description.config.value_or(ModelConfig());
  meta->pixel_mean.assign(config.pixelMean.begin(), config.pixelMean.end());
  meta->pixel_std.assign(config.pixelStd.begin(), config.pixelStd.end());
  meta->labels = config.labels;
  meta->compiler_version = VITC_VERSION_STRING;
  meta->compile_options = description.compileOptions;
  meta->precision =
      target.isCuda() ? cuda::toString(target.cuda.precision) : "fp32";
  meta->config_json = description.config ? toJson(*description.config) : "{}";
  artifact.metadata = std::move(meta);

  std::vector<NamedConstant> named;
  for (auto [index, name] : llvm::enumerate(constantNames))
    named.push_back({name, constants[index]});
  progress("writing " + path);
  TimingScope writeTimer = timer.nest("write artifact");
  if (llvm::Error error = writeArtifact(artifact, named, path))
    return reportError(module, llvm::toString(std::move(error)));
  writeTimer.stop();

  report.kernels = artifact.kernels.size();
  report.dispatches = artifact.dispatches.size();
  report.constants = constants.size();
  for (size_t index = 0; index < constants.size(); ++index)
    report.constantBytes += constants[index].storageBytes();
  report.arenaBytes = plan.arenaBytes;
  report.arenaBytesWithoutReuse = plan.unplannedBytes;
  for (const auto &kernelModule : artifact.modules)
    report.moduleBytes += kernelModule->data.size();
  uint64_t size = 0;
  if (!llvm::sys::fs::file_size(path, size))
    report.artifactBytes = size;
  return success();
}

} // namespace vitc
