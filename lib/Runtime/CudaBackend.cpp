//===- CudaBackend.cpp - Running artifact kernels through the CUDA driver -===//
//
// The driver is opened with dlopen so that the runtime has no link-time
// dependency on CUDA: a CPU-only machine can load the library, and asking
// for a CUDA session there fails with a clear message.
//
//===----------------------------------------------------------------------===//

#include "Backend.h"

#include "vitc/Support/CudaDriverAbi.h"
#include "vitc/Support/EscapedText.h"

#include <dlfcn.h>

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

namespace vitrt {

namespace {

using namespace vitc::cuda_abi;

/// Driver entry points: the Driver member, the exported symbol (the
/// versioned name behind the cuda.h macro) and the parameters; all return
/// CUresult. Listed once, so that a member cannot lack its symbol.
#define VITRT_CUDA_DRIVER_ENTRY_POINTS(X)                                      \
  X(init, "cuInit", (unsigned))                                                \
  X(getErrorString, "cuGetErrorString", (CUresult, const char **))             \
  X(deviceGetCount, "cuDeviceGetCount", (int *))                               \
  X(deviceGet, "cuDeviceGet", (CUdevice *, int))                               \
  X(deviceGetAttribute, "cuDeviceGetAttribute", (int *, int, CUdevice))        \
  X(primaryCtxRetain, "cuDevicePrimaryCtxRetain", (CUcontext *, CUdevice))     \
  X(primaryCtxRelease, "cuDevicePrimaryCtxRelease_v2", (CUdevice))             \
  X(ctxSetCurrent, "cuCtxSetCurrent", (CUcontext))                             \
  X(moduleLoadDataEx, "cuModuleLoadDataEx",                                    \
    (CUmodule *, const void *, unsigned, int *, void **))                      \
  X(moduleUnload, "cuModuleUnload", (CUmodule))                                \
  X(moduleGetFunction, "cuModuleGetFunction",                                  \
    (CUfunction *, CUmodule, const char *))                                    \
  X(memAlloc, "cuMemAlloc_v2", (CUdeviceptr *, size_t))                        \
  X(memFree, "cuMemFree_v2", (CUdeviceptr))                                    \
  X(memcpyHtoD, "cuMemcpyHtoD_v2", (CUdeviceptr, const void *, size_t))        \
  X(memcpyHtoDAsync, "cuMemcpyHtoDAsync_v2",                                   \
    (CUdeviceptr, const void *, size_t, CUstream))                             \
  X(memcpyDtoHAsync, "cuMemcpyDtoHAsync_v2",                                   \
    (void *, CUdeviceptr, size_t, CUstream))                                   \
  X(streamCreate, "cuStreamCreate", (CUstream *, unsigned))                    \
  X(streamDestroy, "cuStreamDestroy_v2", (CUstream))                           \
  X(streamSynchronize, "cuStreamSynchronize", (CUstream))                      \
  X(launchKernel, "cuLaunchKernel",                                            \
    (CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,   \
     unsigned, CUstream, void **, void **))                                    \
  X(streamBeginCapture, "cuStreamBeginCapture_v2", (CUstream, int))            \
  X(streamEndCapture, "cuStreamEndCapture", (CUstream, CUgraph *))             \
  X(graphInstantiate, "cuGraphInstantiateWithFlags",                           \
    (CUgraphExec *, CUgraph, unsigned long long))                              \
  X(graphLaunch, "cuGraphLaunch", (CUgraphExec, CUstream))                     \
  X(graphExecDestroy, "cuGraphExecDestroy", (CUgraphExec))                     \
  X(graphDestroy, "cuGraphDestroy", (CUgraph))

/// The driver entry points, resolved by name.
struct Driver {
  void *library = nullptr;
#define VITRT_DECLARE_ENTRY_POINT(member, symbol, parameters)                  \
  CUresult(*member) parameters;
  VITRT_CUDA_DRIVER_ENTRY_POINTS(VITRT_DECLARE_ENTRY_POINT)
#undef VITRT_DECLARE_ENTRY_POINT

  /// Opens the library at `path` (see vitrt_options::cuda_driver).
  Error open(const std::string &path) {
    library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!library)
      return {VITRT_ERROR_NO_DEVICE, "no CUDA driver found: cannot load " +
                                         path + " (" + dlerror() + ")"};
    struct Entry {
      void *target;
      const char *name;
    };
    Entry entries[] = {
#define VITRT_ENTRY(member, symbol, parameters) {&member, symbol},
        VITRT_CUDA_DRIVER_ENTRY_POINTS(VITRT_ENTRY)
#undef VITRT_ENTRY
    };
    for (Entry &entry : entries) {
      void *symbol = dlsym(library, entry.name);
      if (!symbol)
        return {VITRT_ERROR_NO_DEVICE,
                std::string("the CUDA driver is too old: it lacks ") +
                    entry.name};
      std::memcpy(entry.target, &symbol, sizeof(symbol));
    }
    return {};
  }
};

#undef VITRT_CUDA_DRIVER_ENTRY_POINTS

class CudaBackend final : public Backend {
public:
  explicit CudaBackend(const Artifact &artifact) : artifact(artifact) {}

  ~CudaBackend() override {
    if (!driver.library)
      return;
    if (graphExec)
      driver.graphExecDestroy(graphExec);
    if (graph)
      driver.graphDestroy(graph);
    for (CUdeviceptr buffer : allocations)
      driver.memFree(buffer);
    for (CUmodule module : modules)
      driver.moduleUnload(module);
    if (stream)
      driver.streamDestroy(stream);
    if (context)
      driver.primaryCtxRelease(device);
    dlclose(driver.library);
  }

  Error load(int ordinal, const std::string &driverPath) {
    if (Error error = driver.open(driverPath))
      return error;
    int count = 0;
    if (driver.init(0) != kSuccess ||
        driver.deviceGetCount(&count) != kSuccess || count == 0)
      return {VITRT_ERROR_NO_DEVICE,
              "the CUDA driver was found but reports no usable GPU"};
    if (ordinal < 0 || ordinal >= count)
      return {VITRT_ERROR_INVALID_ARGUMENT,
              "CUDA device " + std::to_string(ordinal) + " does not exist (" +
                  std::to_string(count) + " found)"};
    if (Error error = check(driver.deviceGet(&device, ordinal), "cuDeviceGet"))
      return error;
    if (Error error = check(driver.primaryCtxRetain(&context, device),
                            "cuDevicePrimaryCtxRetain"))
      return error;
    if (Error error = check(driver.ctxSetCurrent(context), "cuCtxSetCurrent"))
      return error;
    if (Error error = check(driver.streamCreate(&stream, kStreamNonBlocking),
                            "cuStreamCreate"))
      return error;
    if (Error error = loadKernels())
      return error;
    if (Error error = allocateBuffers())
      return error;
    return captureGraph();
  }

  /// A run replays one captured graph: its kernels are not timed apart.
  bool timesKernels() const override { return false; }

  Error run(const float *const *inputs, float *const *outputs,
            KernelTimes *) override {
    if (Error error = check(driver.ctxSetCurrent(context), "cuCtxSetCurrent"))
      return error;
    const auto &inputInfos = *artifact.root->inputs();
    for (size_t i = 0; i < inputInfos.size(); ++i)
      if (Error error =
              check(driver.memcpyHtoDAsync(
                        inputBuffers[i], inputs[i],
                        tensorBytes(inputInfos.Get(i)->dims()), stream),
                    "cuMemcpyHtoDAsync"))
        return error;
    if (Error error =
            check(driver.graphLaunch(graphExec, stream), "cuGraphLaunch"))
      return error;
    const auto &outputInfos = *artifact.root->outputs();
    for (size_t i = 0; i < outputInfos.size(); ++i)
      if (Error error =
              check(driver.memcpyDtoHAsync(
                        outputs[i], outputBuffers[i],
                        tensorBytes(outputInfos.Get(i)->dims()), stream),
                    "cuMemcpyDtoHAsync"))
        return error;
    return check(driver.streamSynchronize(stream), "cuStreamSynchronize");
  }

private:
  Error check(CUresult result, const char *call) {
    if (result == kSuccess)
      return {};
    const char *text = nullptr;
    driver.getErrorString(result, &text);
    return {VITRT_ERROR_EXECUTION, std::string(call) + " failed: " +
                                       (text ? text : "unknown CUDA error")};
  }

  /// The modules to try, best first: a cubin built for this GPU (compute
  /// capability `deviceSm`), then PTX, which the driver compiles for it. A
  /// driver that cannot load the cubin (a newer GPU revision, or the
  /// PTX-only driver emulator) gets the PTX.
  std::vector<const vitb::KernelModule *> candidateModules(int deviceSm) {
    std::string sm = "sm_" + std::to_string(deviceSm);
    std::vector<const vitb::KernelModule *> cubins, ptx;
    for (const vitb::KernelModule *module : *artifact.root->modules()) {
      if (!module->data() || !module->target())
        continue;
      if (module->format() == vitb::ModuleFormat::Cubin &&
          module->target()->str() == sm)
        cubins.push_back(module);
      else if (module->format() == vitb::ModuleFormat::Ptx)
        ptx.push_back(module);
    }
    cubins.insert(cubins.end(), ptx.begin(), ptx.end());
    return cubins;
  }

  /// The PTX ISA version of NUL-terminated PTX text, from its `.version`
  /// directive, for messages.
  static std::string ptxVersion(const std::vector<uint8_t> &ptx) {
    std::string_view text(reinterpret_cast<const char *>(ptx.data()));
    size_t at = text.find(".version");
    if (at == std::string_view::npos)
      return "?";
    std::string_view rest = text.substr(at + 8);
    rest.remove_prefix(std::min(rest.find_first_not_of(" \t"), rest.size()));
    return vitc::escapedText(rest.substr(0, rest.find_first_of(" \t\r\n")));
  }

  /// Loads `chosen`; on failure returns the driver's error and JIT log.
  Error loadModule(const vitb::KernelModule &chosen, CUmodule &module) {
    std::vector<uint8_t> image(chosen.data()->begin(), chosen.data()->end());
    if (chosen.format() == vitb::ModuleFormat::Ptx)
      image.push_back(0);
    std::vector<char> log(1 << 14, 0);
    int options[] = {kJitErrorLogBuffer, kJitErrorLogBufferSizeBytes};
    void *values[] = {log.data(), reinterpret_cast<void *>(log.size())};
    CUresult result =
        driver.moduleLoadDataEx(&module, image.data(), 2, options, values);
    if (result == kSuccess)
      return {};
    if (result == kErrorUnsupportedPtxVersion)
      return {VITRT_ERROR_UNSUPPORTED,
              "this CUDA driver is too old for the artifact's PTX (ISA " +
                  ptxVersion(image) +
                  "); update the NVIDIA driver, or recompile with a vitc "
                  "whose LLVM emits an older PTX ISA"};
    Error error = check(result, "cuModuleLoadDataEx");
    error.message +=
        std::string(" (") +
        (chosen.format() == vitb::ModuleFormat::Ptx ? "PTX" : "cubin") +
        " for " + vitc::escapedText(chosen.target()->string_view()) +
        "): " + log.data();
    return error;
  }

  /// The compute capability of the selected GPU, as 90 for sm_90.
  int deviceComputeCapability() {
    int major = 0, minor = 0;
    driver.deviceGetAttribute(&major, kAttributeComputeCapabilityMajor, device);
    driver.deviceGetAttribute(&minor, kAttributeComputeCapabilityMinor, device);
    return major * 10 + minor;
  }

  /// Refuses a GPU (compute capability `sm`) older than every module was
  /// compiled for: the driver would only fail to JIT the PTX, with ptxas'
  /// words. PTX for sm_NN runs on sm_NN and newer; "a" targets (sm_90a)
  /// only on their own.
  Error checkComputeCapability(
      int sm, const std::vector<const vitb::KernelModule *> &candidates) {
    std::string needed;
    for (const vitb::KernelModule *module : candidates) {
      std::string_view target = module->target()->string_view();
      int moduleSm = 0;
      bool parsed = target.size() > 3 && target.substr(0, 3) == "sm_";
      size_t i = 3;
      for (; parsed && i < target.size() && std::isdigit(target[i]); ++i)
        moduleSm = moduleSm * 10 + (target[i] - '0');
      bool archSpecific = parsed && i < target.size() && target[i] == 'a';
      if (!parsed || moduleSm == sm || (moduleSm < sm && !archSpecific))
        return {};
      needed = vitc::escapedText(target);
    }
    return {VITRT_ERROR_UNSUPPORTED,
            "this artifact's kernels are compiled for " + needed +
                ", which this GPU (sm_" + std::to_string(sm) +
                ") cannot run; recompile with --target cuda:sm_" +
                std::to_string(sm)};
  }

  Error loadKernels() {
    int sm = deviceComputeCapability();
    std::vector<const vitb::KernelModule *> candidates = candidateModules(sm);
    if (candidates.empty())
      return {VITRT_ERROR_INVALID_ARTIFACT,
              "invalid artifact: no PTX or matching cubin module"};
    if (Error error = checkComputeCapability(sm, candidates))
      return error;
    CUmodule module = nullptr;
    Error failures;
    bool loaded = false;
    for (const vitb::KernelModule *candidate : candidates) {
      Error attempt = loadModule(*candidate, module);
      if ((loaded = !attempt))
        break;
      // A driver too old for the PTX says all there is to say.
      if (attempt.status == VITRT_ERROR_UNSUPPORTED)
        return attempt;
      failures.status = attempt.status;
      failures.message +=
          (failures.message.empty() ? "" : "; then ") + attempt.message;
    }
    if (!loaded)
      return failures;
    modules.push_back(module);
    for (const vitb::Kernel *kernel : *artifact.root->kernels()) {
      CUfunction function = nullptr;
      if (driver.moduleGetFunction(&function, module,
                                   kernel->symbol()->c_str()) != kSuccess)
        return {VITRT_ERROR_INVALID_ARTIFACT,
                "invalid artifact: kernel " + quoted(kernel->symbol()) +
                    " is missing from its CUDA module"};
      functions.push_back(function);
    }
    return {};
  }

  Error allocate(size_t bytes, CUdeviceptr &buffer) {
    if (Error error = check(driver.memAlloc(&buffer, bytes > 0 ? bytes : 1),
                            "cuMemAlloc"))
      return error;
    allocations.push_back(buffer);
    return {};
  }

  Error allocateBuffers() {
    const vitb::Artifact &root = *artifact.root;
    if (Error error = allocate(root.arena_bytes(), arena))
      return error;
    // Constants are uploaded once, as one block.
    const auto &blob = *root.constant_data();
    if (Error error = allocate(blob.size(), constants))
      return error;
    if (Error error =
            check(driver.memcpyHtoD(constants, blob.data(), blob.size()),
                  "cuMemcpyHtoD"))
      return error;
    for (const vitb::TensorInfo *input : *root.inputs())
      if (Error error =
              allocate(tensorBytes(input->dims()), inputBuffers.emplace_back()))
        return error;
    for (const vitb::TensorInfo *output : *root.outputs())
      if (Error error = allocate(tensorBytes(output->dims()),
                                 outputBuffers.emplace_back()))
        return error;
    return {};
  }

  CUdeviceptr resolve(const vitb::Binding &binding) const {
    switch (binding.kind()) {
    case vitb::BindingKind::Input:
      return inputBuffers[binding.index()];
    case vitb::BindingKind::Output:
      return outputBuffers[binding.index()];
    case vitb::BindingKind::Constant:
      return constants +
             artifact.root->constants()->Get(binding.index())->offset();
    case vitb::BindingKind::Arena:
      return arena + binding.offset();
    }
  }

  /// Records every launch once; runs replay the graph.
  Error captureGraph() {
    if (Error error =
            check(driver.streamBeginCapture(stream, kCaptureModeGlobal),
                  "cuStreamBeginCapture"))
      return error;
    for (const vitb::Dispatch *dispatch : *artifact.root->dispatches()) {
      const vitb::Kernel *kernel =
          artifact.root->kernels()->Get(dispatch->kernel());
      std::vector<CUdeviceptr> pointers;
      for (const vitb::Binding *binding : *dispatch->bindings())
        pointers.push_back(resolve(*binding));
      std::vector<void *> parameters;
      for (CUdeviceptr &pointer : pointers)
        parameters.push_back(&pointer);
      auto dim = [](const flatbuffers::Vector<int64_t> *dims, int i) {
        return dims && int(dims->size()) > i ? unsigned(dims->Get(i)) : 1u;
      };
      CUresult result = driver.launchKernel(
          functions[dispatch->kernel()], dim(kernel->grid(), 0),
          dim(kernel->grid(), 1), dim(kernel->grid(), 2),
          dim(kernel->block(), 0), dim(kernel->block(), 1),
          dim(kernel->block(), 2), /*sharedMemBytes=*/0, stream,
          parameters.data(), nullptr);
      if (result != kSuccess) {
        CUgraph aborted = nullptr;
        driver.streamEndCapture(stream, &aborted);
        if (aborted)
          driver.graphDestroy(aborted);
        return check(result, "cuLaunchKernel");
      }
    }
    if (Error error = check(driver.streamEndCapture(stream, &graph),
                            "cuStreamEndCapture"))
      return error;
    return check(driver.graphInstantiate(&graphExec, graph, 0),
                 "cuGraphInstantiate");
  }

  const Artifact &artifact;
  Driver driver;
  CUdevice device = 0;
  CUcontext context = nullptr;
  CUstream stream = nullptr;
  std::vector<CUmodule> modules;
  std::vector<CUfunction> functions;
  std::vector<CUdeviceptr> allocations;
  CUdeviceptr arena = 0, constants = 0;
  std::vector<CUdeviceptr> inputBuffers, outputBuffers;
  CUgraph graph = nullptr;
  CUgraphExec graphExec = nullptr;
};

/// The driver library to open: the option, else VITRT_CUDA_DRIVER, else
/// the system's driver.
std::string driverPath(const vitrt_options &options) {
  if (options.cuda_driver && *options.cuda_driver)
    return options.cuda_driver;
  if (const char *path = std::getenv("VITRT_CUDA_DRIVER"); path && *path)
    return path;
  return "libcuda.so.1";
}

} // namespace

Error createCudaBackend(const Artifact &artifact, const vitrt_options &options,
                        std::unique_ptr<Backend> &backend) {
  auto cuda = std::make_unique<CudaBackend>(artifact);
  if (Error error = cuda->load(options.device, driverPath(options)))
    return error;
  backend = std::move(cuda);
  return {};
}

} // namespace vitrt
