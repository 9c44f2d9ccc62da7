//===- Driver.cpp - The CUDA driver API of libcuda-emulator.so ------------===//
//
// Implements the driver entry points vitrt calls with the driver's ABI and
// documented error codes. Work is synchronous: a launch runs to completion
// inside cuLaunchKernel (or cuGraphLaunch), so a stream is only an ordering
// of calls, and stream capture records them for a graph to replay. A fault
// inside a kernel is sticky, as on a GPU: every later call returns it until
// the primary context is released.
//
// The device is configured by the environment (docs/cuda-emulator.md):
// VITC_EMULATOR_SM, VITC_EMULATOR_SM_COUNT, VITC_EMULATOR_SHARED_OPTIN,
// VITC_EMULATOR_MAX_THREADS, VITC_EMULATOR_HOST_THREADS, and
// VITC_EMULATOR_COUNTERS (a file, or - for stderr) for the counters.
//
//===----------------------------------------------------------------------===//

#define VITC_CUDA_EMULATOR_BUILDING
#include "vitc/CudaEmulator/Driver.h"

#include "vitc/CudaEmulator/Executor.h"
#include "vitc/CudaEmulator/Report.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

using namespace vitc::emulator;
using namespace vitc::cuda_abi;

namespace {

constexpr CUresult kErrorMisalignedAddress = 716;

struct FunctionHandle;

struct ModuleHandle {
  std::unique_ptr<Module> module;
  std::vector<std::unique_ptr<FunctionHandle>> functions;
};

struct FunctionHandle {
  const Kernel *kernel;
  uint32_t maxDynamicSharedBytes;
};

/// A recorded stream operation: a launch or a copy.
struct Operation {
  enum Kind { Launch, HostToDevice, DeviceToHost } kind = Launch;
  FunctionHandle *function = nullptr;
  LaunchConfig config;
  uint64_t device = 0;
  void *host = nullptr;
  size_t bytes = 0;
};

struct StreamHandle {
  bool capturing = false;
  std::vector<Operation> captured;
};

struct GraphHandle {
  std::vector<Operation> operations;
};

/// Everything the driver owns; one device, one primary context.
struct State {
  std::recursive_mutex mutex;
  bool initialized = false;
  DeviceProperties device;
  int contextReferences = 0;
  bool contextCurrent = false;
  CUresult sticky = kSuccess;
  std::unique_ptr<Memory> memory;
  std::set<ModuleHandle *> modules;
  std::set<FunctionHandle *> functions;
  std::set<StreamHandle *> streams;
  std::set<GraphHandle *> graphs, graphExecs;
  std::map<std::string, KernelCounters> counters;
  std::string lastReport;
};

State &state() {
  static State *instance = new State; // never destroyed: atexit prints from it
  return *instance;
}

// The primary context's handle: any non-null value, compared by identity.
CUcontext primaryContext() {
  static char tag;
  return reinterpret_cast<CUcontext>(&tag);
}

int environmentInt(const char *name, int fallback) {
  const char *text = std::getenv(name);
  if (!text || !*text)
    return fallback;
  char *end = nullptr;
  long value = std::strtol(text, &end, 10);
  if (*end || value <= 0) {
    std::fprintf(stderr,
                 "cuda-emulator: warning: ignoring %s=%s (not a "
                 "positive integer)\n",
                 name, text);
    return fallback;
  }
  return int(value);
}

/// The device from VITC_EMULATOR_SM and the overrides: an A100-, RTX 30-,
/// RTX 40- or H100-like part (SM counts and opt-in shared memory from the
/// CUDA C++ Programming Guide's compute capability table).
DeviceProperties deviceFromEnvironment() {
  DeviceProperties device;
  device.computeCapability = environmentInt("VITC_EMULATOR_SM", 90);
  switch (device.computeCapability) {
  case 80:
    device.multiprocessors = 108;
    device.sharedPerBlockOptin = 163 * 1024;
    break;
  case 86:
    device.multiprocessors = 84;
    device.sharedPerBlockOptin = 99 * 1024;
    break;
  case 89:
    device.multiprocessors = 128;
    device.sharedPerBlockOptin = 99 * 1024;
    break;
  default:
    device.multiprocessors = 132;
    device.sharedPerBlockOptin = 227 * 1024;
    break;
  }
  device.multiprocessors =
      environmentInt("VITC_EMULATOR_SM_COUNT", device.multiprocessors);
  device.sharedPerBlockOptin = uint32_t(environmentInt(
      "VITC_EMULATOR_SHARED_OPTIN", int(device.sharedPerBlockOptin)));
  device.maxThreadsPerBlock = uint32_t(environmentInt(
      "VITC_EMULATOR_MAX_THREADS", int(device.maxThreadsPerBlock)));
  return device;
}

void flushCounters() {
  State &s = state();
  std::lock_guard<std::recursive_mutex> lock(s.mutex);
  const char *target = std::getenv("VITC_EMULATOR_COUNTERS");
  if (!target || !*target || s.counters.empty())
    return;
  FILE *out = std::strcmp(target, "-") == 0 ? stderr : std::fopen(target, "w");
  if (!out) {
    std::fprintf(stderr,
                 "cuda-emulator: error: cannot write the counters to "
                 "%s\n",
                 target);
    return;
  }
  printCounters(out, s.counters, s.device);
  if (out != stderr)
    std::fclose(out);
  s.counters.clear();
}

/// Counters not printed by a context release are printed when the library
/// is unloaded or the process exits (a destructor, not atexit: vitrt may
/// dlclose the library before the process ends).
struct FlushCountersAtUnload {
  ~FlushCountersAtUnload() { flushCounters(); }
} flushCountersAtUnload;

/// Checks for calls that need an initialized driver and a healthy context.
CUresult ready(State &s) {
  if (!s.initialized)
    return kErrorNotInitialized;
  return s.sticky;
}

CUresult readyWithContext(State &s) {
  if (CUresult result = ready(s))
    return result;
  return s.contextCurrent && s.contextReferences > 0 ? kSuccess
                                                     : kErrorInvalidContext;
}

/// Takes `opaque`, a handle this driver gave out, out of `handles` and frees
/// it; an invalid handle if it is not (or no longer) one of them.
template <typename Handle>
CUresult destroy(std::set<Handle *> &handles, void *opaque) {
  auto *handle = static_cast<Handle *>(opaque);
  if (!handles.erase(handle))
    return kErrorInvalidHandle;
  delete handle;
  return kSuccess;
}

CUresult fail(State &s, CUresult code, const std::string &report) {
  s.lastReport = report;
  std::fprintf(stderr, "cuda-emulator: error: %s\n", report.c_str());
  return code;
}

/// Whether [pointer, pointer + bytes) lies in one live allocation; if not,
/// records why.
bool validRange(State &s, CUdeviceptr pointer, size_t bytes, const char *call) {
  if (s.memory->find(pointer, bytes))
    return true;
  s.lastReport = std::string(call) + ": " + std::to_string(bytes) +
                 " bytes at " + std::to_string(pointer) + " are " +
                 s.memory->explain(pointer, bytes);
  return false;
}

CUresult launch(State &s, FunctionHandle *function,
                const LaunchConfig &config) {
  KernelCounters counters;
  bool counting = std::getenv("VITC_EMULATOR_COUNTERS") != nullptr;
  unsigned hostThreads =
      unsigned(environmentInt("VITC_EMULATOR_HOST_THREADS", 0));
  std::optional<Fault> fault =
      execute(*function->kernel, config, *s.memory,
              counting ? &counters : nullptr, hostThreads);
  if (counting)
    s.counters[function->kernel->name].add(counters);
  if (fault) {
    s.sticky = fault->code;
    return fail(s, fault->code, fault->message);
  }
  return kSuccess;
}

CUresult perform(State &s, const Operation &operation) {
  switch (operation.kind) {
  case Operation::Launch:
    return launch(s, operation.function, operation.config);
  case Operation::HostToDevice:
    if (!validRange(s, operation.device, operation.bytes, "cuMemcpyHtoD"))
      return kErrorInvalidValue;
    std::memcpy(reinterpret_cast<void *>(operation.device), operation.host,
                operation.bytes);
    return kSuccess;
  case Operation::DeviceToHost:
    if (!validRange(s, operation.device, operation.bytes, "cuMemcpyDtoH"))
      return kErrorInvalidValue;
    std::memcpy(operation.host, reinterpret_cast<void *>(operation.device),
                operation.bytes);
    return kSuccess;
  }
  return kErrorUnknown;
}

/// Runs `operation` now, or records it if `stream` is capturing.
CUresult enqueue(State &s, CUstream stream, Operation operation) {
  if (stream) {
    auto *handle = reinterpret_cast<StreamHandle *>(stream);
    if (!s.streams.count(handle))
      return kErrorInvalidHandle;
    if (handle->capturing) {
      handle->captured.push_back(std::move(operation));
      return kSuccess;
    }
  }
  return perform(s, operation);
}

bool isCapturing(State &s) {
  for (StreamHandle *stream : s.streams)
    if (stream->capturing)
      return true;
  return false;
}

void writeLog(unsigned numOptions, int *options, void **values, int bufferKey,
              int sizeKey, const std::string &text) {
  char *buffer = nullptr;
  size_t size = 0;
  int sizeIndex = -1;
  for (unsigned i = 0; i < numOptions; ++i) {
    if (options[i] == bufferKey)
      buffer = static_cast<char *>(values[i]);
    if (options[i] == sizeKey) {
      size = reinterpret_cast<size_t>(values[i]);
      sizeIndex = int(i);
    }
  }
  if (!buffer || !size)
    return;
  size_t length = std::min(size - 1, text.size());
  std::memcpy(buffer, text.data(), length);
  buffer[length] = 0;
  values[sizeIndex] = reinterpret_cast<void *>(length + 1);
}

} // namespace

extern "C" {

CUresult cuInit(unsigned flags) {
  State &s = state();
  std::lock_guard<std::recursive_mutex> lock(s.mutex);
  if (flags != 0)
    return kErrorInvalidValue;
  // The device is read again while no context exists, so that a process
  // can emulate another device after releasing the first.
  if (s.contextReferences == 0)
    s.device = deviceFromEnvironment();
  s.initialized = true;
  return kSuccess;
}

CUresult cuDriverGetVersion(int *version) {
  if (!version)
    return kErrorInvalidValue;
  *version = 12080; // the PTX ISA 8.7 generation, enough for LLVM 22's PTX
  return kSuccess;
}

} // extern "C"

namespace {
struct ErrorText {
  const char *name, *description;
};

/// The driver's name and description of each code the emulator returns.
const ErrorText *errorText(CUresult error) {
  static const std::map<CUresult, ErrorText> texts = {
      {kSuccess, {"CUDA_SUCCESS", "no error"}},
      {kErrorInvalidValue, {"CUDA_ERROR_INVALID_VALUE", "invalid argument"}},
      {kErrorOutOfMemory, {"CUDA_ERROR_OUT_OF_MEMORY", "out of memory"}},
      {kErrorNotInitialized,
       {"CUDA_ERROR_NOT_INITIALIZED", "initialization error"}},
      {kErrorNoDevice,
       {"CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"}},
      {kErrorInvalidDevice,
       {"CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal"}},
      {kErrorInvalidImage,
       {"CUDA_ERROR_INVALID_IMAGE", "device kernel image is invalid"}},
      {kErrorInvalidContext,
       {"CUDA_ERROR_INVALID_CONTEXT", "invalid device context"}},
      {kErrorNoBinaryForGpu,
       {"CUDA_ERROR_NO_BINARY_FOR_GPU",
        "no kernel image is available for execution on the device"}},
      {kErrorInvalidPtx,
       {"CUDA_ERROR_INVALID_PTX", "a PTX JIT compilation failed"}},
      {kErrorInvalidHandle,
       {"CUDA_ERROR_INVALID_HANDLE", "invalid resource handle"}},
      {kErrorIllegalState,
       {"CUDA_ERROR_ILLEGAL_STATE",
        "the operation cannot be performed in the present state"}},
      {kErrorNotFound, {"CUDA_ERROR_NOT_FOUND", "named symbol not found"}},
      {kErrorIllegalAddress,
       {"CUDA_ERROR_ILLEGAL_ADDRESS",
        "an illegal memory access was encountered"}},
      {kErrorLaunchOutOfResources,
       {"CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES",
        "too many resources requested for launch"}},
      {kErrorMisalignedAddress,
       {"CUDA_ERROR_MISALIGNED_ADDRESS", "misaligned address"}},
      {kErrorLaunchFailed,
       {"CUDA_ERROR_LAUNCH_FAILED", "unspecified launch failure"}},
      {kErrorStreamCaptureUnsupported,
       {"CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED",
        "operation not permitted when stream is capturing"}},
      {kErrorStreamCaptureInvalidated,
       {"CUDA_ERROR_STREAM_CAPTURE_INVALIDATED",
        "operation failed due to a previous error during capture"}},
      {kErrorUnknown, {"CUDA_ERROR_UNKNOWN", "unknown error"}}};
  auto found = texts.find(error);
  return found == texts.end() ? nullptr : &found->second;
}
} // namespace

extern "C" {

CUresult cuGetErrorString(CUresult error, const char **text) {
  if (!text)
    return kErrorInvalidValue;
  const ErrorText *known = errorText(error);
  *text = known ? known->description : nullptr;
  return known ? kSuccess : kErrorInvalidValue;
}

CUresult cuGetErrorName(CUresult error, const char **text) {
  if (!text)
    return kErrorInvalidValue;
  const ErrorText *known = errorText(error);
  *text = known ? known->name : nullptr;
  return known ? kSuccess : kErrorInvalidValue;
}

CUresult cuDeviceGetCount(int *count) {
  State &s = state();
  std::lock_guard<std::recursive_mutex> lock(s.mutex);
  if (!count)
    return kErrorInvalidValue;
  if (!s.initialized)
    return kErrorNotInitialized;
  *count = 1;
  return kSuccess;
}

CUresult cuDeviceGet(CUdevice *device, int ordinal) {
  State &s = state();
  std::lock_guard<std::recursive_mutex> lock(s.mutex);
  if (!s.initialized)
    return kErrorNotInitialized;
  if (!device)
    return kErrorInvalidValue;
  if (ordinal != 0)
    return kErrorInvalidDevice;
  *device = 0;
  return kSuccess;
}

CUresult cuDeviceGetName(char *name, int length, CUdevice device) {
  State &s = state();
  std::lock_guard<std::recursive_mutex> lock(s.mutex);
  if (!s.initialized)
    return kErrorNotInitialized;
  if (device != 0)
    return kErrorInvalidDevice;
  if (!name || length <= 0)
    return kErrorInvalidValue;
  std::snprintf(name, size_t(length), "vitc CUDA emulator (sm_%d)",
                s.device.computeCapability);
  return kSuccess;
}

CUresult cuDeviceGetAttribute(int *value, int attribute, CUdevice device) {
  State &s = state();
  std::lock_guard<std::recursive_mutex> lock(s.mutex);
  if (!s.initialized)
    return kErrorNotInitialized;
  if (device != 0)
    return kErrorInvalidDevice;
  if (!value)
    return kErrorInvalidValue;
  const DeviceProperties &d = s.device;
  switch (attribute) {
  case kAttributeMaxThreadsPerBlock:
    *value = int(d.maxThreadsPerBlock);
    return kSuccess;
  case 2: // max block dim x
  case 3: // max block dim y
    *value = 1024;
    return kSuccess;
  case 4: // max block dim z
    *value = 64;
    return kSuccess;
  case 5: // max grid dim x
    *value = 2147483647;
    return kSuccess;
  case 6: // max grid dim y
  case 7: // max grid dim z
    *value = 65535;
    return kSuccess;
  case kAttributeMaxSharedMemoryPerBlock:
    *value = int(d.sharedPerBlock);
    return kSuccess;
  case kAttributeWarpSize:
    *value = 32;
    return kSuccess;
  case kAttributeMultiprocessorCount:
    *value = d.multiprocessors;
    return kSuccess;
  case kAttributeComputeCapabilityMajor:
    *value = d.computeCapability / 10;
    return kSuccess;
  case kAttributeComputeCapabilityMinor:
    *value = d.computeCapability % 10;
    return kSuccess;
  case kAttributeMaxSharedMemoryPerBlockOptin:
    *value = int(d.sharedPerBlockOptin);
    return kSuccess;
  default:
    return kErrorInvalidValue;
  }
}

CUresult cuDevicePrimaryCtxRetain(CUcontext *context, CUdevice device) {
  State &s = state();
  std::lock_guard<std::recursive_mutex> lock(s.mutex);
  if (!s.initialized)
    return kErrorNotInitialized;
  if (device != 0)
    return kErrorInvalidDevice;
  if (!context)
    return kErrorInvalidValue;
  if (s.contextReferences++ == 0) {
    s.device = deviceFromEnvironment();
    s.memory = std::make_unique<Memory>();
    s.sticky = kSuccess;
  }
  *context = primaryContext();
  return kSuccess;
}

CUresult cuDevicePrimaryCtxRelease_v2(CUdevice device) {
  State &s = state();
  std::lock_guard<std::recursive_mutex> lock(s.mutex);
  if (!s.initialized)
    return kErrorNotInitialized;
  if (device != 0)
    return kErrorInvalidDevice;
  if (s.contextReferences == 0)
    return kErrorInvalidContext;
  if (--s.contextReferences == 0) {
    // The context's resources go with it, as on a GPU.
    for (ModuleHandle *module : s.modules) {
      for (auto &function : module->functions)
        s.functions.erase(function.get());
      delete module;
    }
    s.modules.clear();
    for (StreamHandle *stream : s.streams)
      delete stream;
    s.streams.clear();
    for (GraphHandle *graph : s.graphs)
      delete graph;
    for (GraphHandle *graph : s.graphExecs)
      delete graph;
    s.graphs.clear();
    s.graphExecs.clear();
    s.memory.reset();
    s.sticky = kSuccess;
    s.contextCurrent = false;
    flushCounters();
  }
  return kSuccess;
}

CUresult cuCtxSetCurrent(CUcontext context) {
  State &s = state();
  std::lock_guard<std::recursive_mutex> lock(s.mutex);
  if (CUresult result = ready(s))
    return result;
  if (!context) {
    s.contextCurrent = false;
    return kSuccess;
  }
  if (context != primaryContext() || s.contextReferences == 0)
    return kErrorInvalidContext;
  s.contextCurrent = true;
  return kSuccess;
}

CUresult cuCtxGetCurrent(CUcontext *context) {
  State &s = state();
  std::lock_guard<std::recursive_mutex> lock(s.mutex);
  if (!s.initialized)
    return kErrorNotInitialized;
  if (!context)
    return kErrorInvalidValue;
  *context = s.contextCurrent ? primaryContext() : nullptr;
  return kSuccess;
}

CUresult cuCtxSynchronize() {
  State &s = state();
  std::lock_guard<std::recursive_mutex> lock(s.mutex);
  return readyWithContext(s);
}

CUresult cuModuleLoadDataEx(CUmodule *module, const void *image,
                            unsigned numOptions, int *options, void **values) {
  State &s = state();
  std::lock_guard<std::recursive_mutex> lock(s.mutex);
  if (CUresult result = readyWithContext(s))
    return result;
  if (!module || !image || (numOptions && (!options || !values)))
    return kErrorInvalidValue;
  auto refuse = [&](CUresult code, const std::string &log) {
    s.lastReport = log;
    writeLog(numOptions, options, values, kJitErrorLogBuffer,
             kJitErrorLogBufferSizeBytes, log);
    return code;
  };
  const auto *bytes = static_cast<const unsigned char *>(image);
  if (bytes[0] == 0x7f && bytes[1] == 'E' && bytes[2] == 'L' && bytes[3] == 'F')
    return refuse(kErrorNoBinaryForGpu,
                  "libcuda-emulator runs PTX only: this image is a cubin "
                  "(ELF); load the module's PTX instead");
  uint32_t magic;
  std::memcpy(&magic, bytes, 4);
  if (magic == 0xba55ed50u || magic == 0x466243b1u)
    return refuse(kErrorNoBinaryForGpu,
                  "libcuda-emulator runs PTX only: this image is a fat "
                  "binary; load the module's PTX instead");
  std::string error;
  std::unique_ptr<Module> parsed =
      parsePtx(static_cast<const char *>(image), error);
  if (!parsed)
    return refuse(kErrorInvalidPtx, "ptx: " + error);
  // A driver compiles the PTX ISA versions up to its own; the emulator
  // reads them all unless VITC_EMULATOR_PTX_ISA plays an older driver.
  if (const char *newest = std::getenv("VITC_EMULATOR_PTX_ISA")) {
    int newestMajor = 0, newestMinor = 0, major = 0, minor = 0;
    if (std::sscanf(newest, "%d.%d", &newestMajor, &newestMinor) == 2 &&
        std::sscanf(parsed->version.c_str(), "%d.%d", &major, &minor) == 2 &&
        std::make_pair(major, minor) > std::make_pair(newestMajor, newestMinor))
      return refuse(kErrorUnsupportedPtxVersion,
                    "ptx: .version " + parsed->version +
                        " is newer than the PTX ISA " + newest +
                        " this driver compiles");
  }
  int ptxSm = 0;
  if (std::sscanf(parsed->target.c_str(), "sm_%d", &ptxSm) != 1)
    return refuse(kErrorInvalidPtx,
                  "ptx: unsupported .target '" + parsed->target + "'");
  if (ptxSm > s.device.computeCapability)
    return refuse(kErrorInvalidPtx,
                  "ptx: the module targets sm_" + std::to_string(ptxSm) +
                      " but the device is sm_" +
                      std::to_string(s.device.computeCapability));
  auto *handle = new ModuleHandle;
  handle->module = std::move(parsed);
  for (const Kernel &kernel : handle->module->kernels) {
    handle->functions.push_back(std::make_unique<FunctionHandle>(
        FunctionHandle{&kernel, s.device.sharedPerBlock -
                                    std::min(s.device.sharedPerBlock,
                                             kernel.staticSharedBytes)}));
    s.functions.insert(handle->functions.back().get());
  }
  s.modules.insert(handle);
  writeLog(numOptions, options, values, kJitInfoLogBuffer,
           kJitInfoLogBufferSizeBytes,
           "libcuda-emulator: decoded " +
               std::to_string(handle->module->kernels.size()) + " kernels");
  *module = reinterpret_cast<CUmodule>(handle);
  return kSuccess;
}

CUresult cuModuleLoadData(CUmodule *module, const void *image) {
  return cuModuleLoadDataEx(module, image, 0, nullptr, nullptr);
}

CUresult cuModuleUnload(CUmodule module) {
  State &s = state();
  std::lock_guard<std::recursive_mutex> lock(s.mutex);
  if (!s.initialized)
    return kErrorNotInitialized;
  auto *handle = reinterpret_cast<ModuleHandle *>(module);
  if (!s.modules.erase(handle))
    return kErrorInvalidHandle;
  for (auto &function : handle->functions)
    s.functions.erase(function.get());
  delete handle;
  return kSuccess;
}

CUresult cuModuleGetFunction(CUfunction *function, CUmodule module,
                             const char *name) {
  State &s = state();
  std::lock_guard<std::recursive_mutex> lock(s.mutex);
  if (CUresult result = readyWithContext(s))
    return result;
  auto *handle = reinterpret_cast<ModuleHandle *>(module);
  if (!s.modules.count(handle))
    return kErrorInvalidHandle;
  if (!function || !name)
    return kErrorInvalidValue;
  for (auto &candidate : handle->functions)
    if (candidate->kernel->name == name && candidate->kernel->isEntry) {
      *function = reinterpret_cast<CUfunction>(candidate.get());
      return kSuccess;
    }
  return kErrorNotFound;
}

CUresult cuFuncSetAttribute(CUfunction function, int attribute, int value) {
  State &s = state();
  std::lock_guard<std::recursive_mutex> lock(s.mutex);
  if (CUresult result = readyWithContext(s))
    return result;
  auto *handle = reinterpret_cast<FunctionHandle *>(function);
  if (!s.functions.count(handle))
    return kErrorInvalidHandle;
  if (attribute != kFunctionAttributeMaxDynamicSharedBytes)
    return kErrorInvalidValue;
  if (value < 0 || uint64_t(value) + handle->kernel->staticSharedBytes >
                       s.device.sharedPerBlockOptin)
    return kErrorInvalidValue;
  handle->maxDynamicSharedBytes = uint32_t(value);
  return kSuccess;
}

CUresult cuFuncGetAttribute(int *value, int attribute, CUfunction function) {
  State &s = state();
  std::lock_guard<std::recursive_mutex> lock(s.mutex);
  if (CUresult result = readyWithContext(s))
    return result;
  auto *handle = reinterpret_cast<FunctionHandle *>(function);
  if (!s.functions.count(handle))
    return kErrorInvalidHandle;
  if (!value)
    return kErrorInvalidValue;
  switch (attribute) {
  case kFunctionAttributeMaxThreadsPerBlock:
    *value =
        int(handle->kernel->maxThreads ? std::min(handle->kernel->maxThreads,
                                                  s.device.maxThreadsPerBlock)
                                       : s.device.maxThreadsPerBlock);
    return kSuccess;
  case kFunctionAttributeSharedSizeBytes:
    *value = int(handle->kernel->staticSharedBytes);
    return kSuccess;
  case kFunctionAttributeMaxDynamicSharedBytes:
    *value = int(handle->maxDynamicSharedBytes);
    return kSuccess;
  default:
    return kErrorInvalidValue;
  }
}

CUresult cuMemAlloc_v2(CUdeviceptr *pointer, size_t bytes) {
  State &s = state();
  std::lock_guard<std::recursive_mutex> lock(s.mutex);
  if (CUresult result = readyWithContext(s))
    return result;
  if (!pointer || bytes == 0)
    return kErrorInvalidValue;
  uint64_t base = s.memory->allocate(bytes);
  if (!base)
    return kErrorOutOfMemory;
  *pointer = base;
  return kSuccess;
}

CUresult cuMemFree_v2(CUdeviceptr pointer) {
  State &s = state();
  std::lock_guard<std::recursive_mutex> lock(s.mutex);
  if (!s.initialized)
    return kErrorNotInitialized;
  if (!s.memory)
    return kErrorInvalidContext;
  if (!s.memory->release(pointer))
    return kErrorInvalidValue;
  return kSuccess;
}

CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr destination, const void *source,
                              size_t bytes, CUstream stream) {
  State &s = state();
  std::lock_guard<std::recursive_mutex> lock(s.mutex);
  if (CUresult result = readyWithContext(s))
    return result;
  if (!source)
    return kErrorInvalidValue;
  if (!validRange(s, destination, bytes, "cuMemcpyHtoD"))
    return kErrorInvalidValue;
  Operation operation;
  operation.kind = Operation::HostToDevice;
  operation.device = destination;
  operation.host = const_cast<void *>(source);
  operation.bytes = bytes;
  return enqueue(s, stream, operation);
}

CUresult cuMemcpyDtoHAsync_v2(void *destination, CUdeviceptr source,
                              size_t bytes, CUstream stream) {
  State &s = state();
  std::lock_guard<std::recursive_mutex> lock(s.mutex);
  if (CUresult result = readyWithContext(s))
    return result;
  if (!destination)
    return kErrorInvalidValue;
  if (!validRange(s, source, bytes, "cuMemcpyDtoH"))
    return kErrorInvalidValue;
  Operation operation;
  operation.kind = Operation::DeviceToHost;
  operation.device = source;
  operation.host = destination;
  operation.bytes = bytes;
  return enqueue(s, stream, operation);
}

CUresult cuMemcpyHtoD_v2(CUdeviceptr destination, const void *source,
                         size_t bytes) {
  State &s = state();
  std::lock_guard<std::recursive_mutex> lock(s.mutex);
  if (isCapturing(s))
    return kErrorStreamCaptureUnsupported;
  return cuMemcpyHtoDAsync_v2(destination, source, bytes, nullptr);
}

CUresult cuMemcpyDtoH_v2(void *destination, CUdeviceptr source, size_t bytes) {
  State &s = state();
  std::lock_guard<std::recursive_mutex> lock(s.mutex);
  if (isCapturing(s))
    return kErrorStreamCaptureUnsupported;
  return cuMemcpyDtoHAsync_v2(destination, source, bytes, nullptr);
}

CUresult cuMemcpyDtoD_v2(CUdeviceptr destination, CUdeviceptr source,
                         size_t bytes) {
  State &s = state();
  std::lock_guard<std::recursive_mutex> lock(s.mutex);
  if (CUresult result = readyWithContext(s))
    return result;
  if (!validRange(s, source, bytes, "cuMemcpyDtoD") ||
      !validRange(s, destination, bytes, "cuMemcpyDtoD"))
    return kErrorInvalidValue;
  std::memmove(reinterpret_cast<void *>(destination),
               reinterpret_cast<void *>(source), bytes);
  return kSuccess;
}

CUresult cuMemsetD8_v2(CUdeviceptr destination, unsigned char value,
                       size_t count) {
  State &s = state();
  std::lock_guard<std::recursive_mutex> lock(s.mutex);
  if (CUresult result = readyWithContext(s))
    return result;
  if (!validRange(s, destination, count, "cuMemsetD8"))
    return kErrorInvalidValue;
  std::memset(reinterpret_cast<void *>(destination), value, count);
  return kSuccess;
}

CUresult cuStreamCreate(CUstream *stream, unsigned flags) {
  State &s = state();
  std::lock_guard<std::recursive_mutex> lock(s.mutex);
  if (CUresult result = readyWithContext(s))
    return result;
  if (!stream || flags > kStreamNonBlocking)
    return kErrorInvalidValue;
  auto *handle = new StreamHandle;
  s.streams.insert(handle);
  *stream = reinterpret_cast<CUstream>(handle);
  return kSuccess;
}

CUresult cuStreamDestroy_v2(CUstream stream) {
  State &s = state();
  std::lock_guard<std::recursive_mutex> lock(s.mutex);
  return destroy(s.streams, stream);
}

CUresult cuStreamSynchronize(CUstream stream) {
  State &s = state();
  std::lock_guard<std::recursive_mutex> lock(s.mutex);
  if (CUresult result = readyWithContext(s))
    return result;
  if (stream && !s.streams.count(reinterpret_cast<StreamHandle *>(stream)))
    return kErrorInvalidHandle;
  return kSuccess;
}

CUresult cuLaunchKernel(CUfunction function, unsigned gridX, unsigned gridY,
                        unsigned gridZ, unsigned blockX, unsigned blockY,
                        unsigned blockZ, unsigned sharedBytes, CUstream stream,
                        void **parameters, void **extra) {
  State &s = state();
  std::lock_guard<std::recursive_mutex> lock(s.mutex);
  if (CUresult result = readyWithContext(s))
    return result;
  auto *handle = reinterpret_cast<FunctionHandle *>(function);
  if (!s.functions.count(handle))
    return kErrorInvalidHandle;
  const Kernel &kernel = *handle->kernel;
  auto refuse = [&](const std::string &why) {
    s.lastReport = "cuLaunchKernel of '" + kernel.name + "': " + why;
    return kErrorInvalidValue;
  };
  if (extra)
    return refuse("the 'extra' parameter form is not supported");
  if (!gridX || !gridY || !gridZ || !blockX || !blockY || !blockZ)
    return refuse("a grid or block dimension is zero");
  if (gridY > 65535 || gridZ > 65535 || gridX > 2147483647u)
    return refuse("the grid is larger than the device allows");
  uint64_t threads = uint64_t(blockX) * blockY * blockZ;
  if (blockX > 1024 || blockY > 1024 || blockZ > 64 ||
      threads > s.device.maxThreadsPerBlock)
    return refuse(std::to_string(threads) +
                  " threads per block exceed the device's limit of " +
                  std::to_string(s.device.maxThreadsPerBlock));
  if (kernel.maxThreads && threads > kernel.maxThreads)
    return refuse(std::to_string(threads) +
                  " threads per block exceed the kernel's .maxntid of " +
                  std::to_string(kernel.maxThreads));
  if (sharedBytes > handle->maxDynamicSharedBytes)
    return refuse(std::to_string(sharedBytes) +
                  " bytes of dynamic shared memory exceed the function's "
                  "limit of " +
                  std::to_string(handle->maxDynamicSharedBytes) +
                  " (raise it with CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_"
                  "BYTES)");
  if (kernel.parameterBytes && !parameters)
    return refuse("the kernel has parameters but none were given");
  Operation operation;
  operation.kind = Operation::Launch;
  operation.function = handle;
  LaunchConfig &config = operation.config;
  config.grid[0] = gridX, config.grid[1] = gridY, config.grid[2] = gridZ;
  config.block[0] = blockX, config.block[1] = blockY, config.block[2] = blockZ;
  config.dynamicSharedBytes = sharedBytes;
  config.parameters.assign(kernel.parameterBytes, 0);
  for (size_t i = 0; i < kernel.parameters.size(); ++i) {
    if (!parameters[i])
      return refuse("parameter " + std::to_string(i) + " is null");
    std::memcpy(config.parameters.data() + kernel.parameters[i].offset,
                parameters[i], kernel.parameters[i].size);
  }
  return enqueue(s, stream, std::move(operation));
}

CUresult cuStreamBeginCapture_v2(CUstream stream, int mode) {
  State &s = state();
  std::lock_guard<std::recursive_mutex> lock(s.mutex);
  if (CUresult result = readyWithContext(s))
    return result;
  auto *handle = reinterpret_cast<StreamHandle *>(stream);
  if (!stream)
    return kErrorStreamCaptureUnsupported; // the legacy stream cannot capture
  if (!s.streams.count(handle))
    return kErrorInvalidHandle;
  if (mode < kCaptureModeGlobal || mode > kCaptureModeRelaxed)
    return kErrorInvalidValue;
  if (handle->capturing)
    return kErrorIllegalState;
  handle->capturing = true;
  handle->captured.clear();
  return kSuccess;
}

CUresult cuStreamEndCapture(CUstream stream, CUgraph *graph) {
  State &s = state();
  std::lock_guard<std::recursive_mutex> lock(s.mutex);
  if (!s.initialized)
    return kErrorNotInitialized;
  auto *handle = reinterpret_cast<StreamHandle *>(stream);
  if (!s.streams.count(handle))
    return kErrorInvalidHandle;
  if (!graph)
    return kErrorInvalidValue;
  if (!handle->capturing)
    return kErrorIllegalState;
  handle->capturing = false;
  auto *recorded = new GraphHandle{std::move(handle->captured)};
  handle->captured.clear();
  s.graphs.insert(recorded);
  *graph = reinterpret_cast<CUgraph>(recorded);
  return s.sticky;
}

CUresult cuGraphInstantiateWithFlags(CUgraphExec *exec, CUgraph graph,
                                     unsigned long long flags) {
  State &s = state();
  std::lock_guard<std::recursive_mutex> lock(s.mutex);
  if (CUresult result = readyWithContext(s))
    return result;
  auto *handle = reinterpret_cast<GraphHandle *>(graph);
  if (!s.graphs.count(handle))
    return kErrorInvalidHandle;
  if (!exec || flags != 0)
    return kErrorInvalidValue;
  auto *instance = new GraphHandle{handle->operations};
  s.graphExecs.insert(instance);
  *exec = reinterpret_cast<CUgraphExec>(instance);
  return kSuccess;
}

CUresult cuGraphLaunch(CUgraphExec exec, CUstream stream) {
  State &s = state();
  std::lock_guard<std::recursive_mutex> lock(s.mutex);
  if (CUresult result = readyWithContext(s))
    return result;
  auto *handle = reinterpret_cast<GraphHandle *>(exec);
  if (!s.graphExecs.count(handle))
    return kErrorInvalidHandle;
  if (stream && !s.streams.count(reinterpret_cast<StreamHandle *>(stream)))
    return kErrorInvalidHandle;
  for (const Operation &operation : handle->operations)
    if (CUresult result = perform(s, operation))
      return result;
  return kSuccess;
}

CUresult cuGraphExecDestroy(CUgraphExec exec) {
  State &s = state();
  std::lock_guard<std::recursive_mutex> lock(s.mutex);
  return destroy(s.graphExecs, exec);
}

CUresult cuGraphDestroy(CUgraph graph) {
  State &s = state();
  std::lock_guard<std::recursive_mutex> lock(s.mutex);
  return destroy(s.graphs, graph);
}

const char *vitcEmulatorLastReport() {
  State &s = state();
  std::lock_guard<std::recursive_mutex> lock(s.mutex);
  return s.lastReport.c_str();
}

bool vitcEmulatorKernelCounters(const char *name, KernelCounters *counters) {
  State &s = state();
  std::lock_guard<std::recursive_mutex> lock(s.mutex);
  auto found = name && counters ? s.counters.find(name) : s.counters.end();
  if (found == s.counters.end())
    return false;
  *counters = found->second;
  return true;
}

} // extern "C"
