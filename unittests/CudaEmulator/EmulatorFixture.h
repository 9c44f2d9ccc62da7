//===- EmulatorFixture.h - Driving libcuda-emulator in unit tests ---------===//
//
// A GoogleTest fixture that uses the emulator exactly as a CUDA program uses
// the driver: cuInit, the primary context of device 0, a stream, PTX text
// loaded with cuModuleLoadDataEx (with a JIT error log), device buffers
// filled and read back with cuMemcpy*, and cuLaunchKernel. TearDown releases
// the primary context, so that every test starts with a fresh context (and
// no sticky error).
//
// Every PTX snippet in these tests is real PTX: it passes
// `ptxas -arch=sm_80` (the snippets are delimited R"ptx(...)ptx" so that a
// script can extract and check them; the one deliberately malformed snippet
// uses another delimiter).
//
//===----------------------------------------------------------------------===//

#ifndef VITC_UNITTESTS_CUDAEMULATOR_EMULATORFIXTURE_H
#define VITC_UNITTESTS_CUDAEMULATOR_EMULATORFIXTURE_H

#include "vitc/CudaEmulator/Driver.h"
#include "vitc/Support/HalfPrecision.h"

#include "gtest/gtest.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace vitc::emulator::test {

namespace abi = vitc::cuda_abi;

struct Dim3 {
  unsigned x = 1, y = 1, z = 1;
};

/// The bits of a float, and the float of some bits (one owner:
/// vitc/Support/HalfPrecision.h).
using vitc::bitsOfF32;
using vitc::f32FromBits;

/// The 1-based number of the only line of `text` that contains `marker`
/// (0 if none or several do).
inline unsigned lineOf(const std::string &text, const std::string &marker) {
  unsigned line = 1, found = 0, count = 0;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos)
      end = text.size();
    if (text.substr(start, end - start).find(marker) != std::string::npos) {
      found = line;
      ++count;
    }
    start = end + 1;
    ++line;
  }
  return count == 1 ? found : 0;
}

/// Sets (or, with null, unsets) an environment variable for a scope.
class ScopedEnvironment {
public:
  ScopedEnvironment(const char *name, const char *value) : name(name) {
    const char *old = std::getenv(name);
    hadValue = old != nullptr;
    if (old)
      saved = old;
    set(value);
  }
  ~ScopedEnvironment() { set(hadValue ? saved.c_str() : nullptr); }
  void set(const char *value) {
    if (value)
      setenv(name, value, 1);
    else
      unsetenv(name);
  }

private:
  const char *name;
  bool hadValue = false;
  std::string saved;
};

inline bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

class EmulatorTest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_EQ(cuInit(0), abi::kSuccess);
    ASSERT_EQ(cuDeviceGet(&device, 0), abi::kSuccess);
    acquireContext();
  }

  void TearDown() override {
    // After a sticky error these calls fail; releasing the context to zero
    // frees everything anyway.
    for (CUdeviceptr pointer : allocations)
      cuMemFree_v2(pointer);
    for (CUmodule module : modules)
      cuModuleUnload(module);
    if (stream)
      cuStreamDestroy_v2(stream);
    if (context)
      EXPECT_EQ(cuDevicePrimaryCtxRelease_v2(device), abi::kSuccess);
    allocations.clear();
    modules.clear();
    stream = nullptr;
    context = nullptr;
  }

  /// Retains the primary context, makes it current and creates a stream.
  void acquireContext() {
    ASSERT_EQ(cuDevicePrimaryCtxRetain(&context, device), abi::kSuccess);
    ASSERT_NE(context, nullptr);
    ASSERT_EQ(cuCtxSetCurrent(context), abi::kSuccess);
    ASSERT_EQ(cuStreamCreate(&stream, 0), abi::kSuccess);
  }

  /// Releases the primary context to refcount 0 without freeing anything
  /// first (the context's destruction frees it), then acquires it again.
  void recreateContext() {
    allocations.clear();
    modules.clear();
    stream = nullptr;
    context = nullptr;
    ASSERT_EQ(cuDevicePrimaryCtxRelease_v2(device), abi::kSuccess);
    acquireContext();
  }

  /// Loads `ptx` with an error log; the log is left in `jitLog`.
  CUresult loadModule(const std::string &ptx, CUmodule *result = nullptr) {
    return loadImage(ptx.c_str(), result);
  }

  CUresult loadImage(const void *image, CUmodule *result = nullptr) {
    char log[8192] = {};
    int options[] = {abi::kJitErrorLogBuffer, abi::kJitErrorLogBufferSizeBytes};
    void *values[] = {log, reinterpret_cast<void *>(uintptr_t(sizeof(log)))};
    CUmodule module = nullptr;
    CUresult status = cuModuleLoadDataEx(&module, image, 2, options, values);
    jitLog.assign(log, strnlen(log, sizeof(log)));
    if (status == abi::kSuccess)
      modules.push_back(module);
    if (result)
      *result = module;
    return status;
  }

  /// Loads `ptx`, which must be accepted, and returns its kernel `name`.
  CUfunction kernel(const std::string &ptx, const char *name) {
    CUmodule module = nullptr;
    CUresult status = loadModule(ptx, &module);
    EXPECT_EQ(status, abi::kSuccess) << jitLog;
    if (status != abi::kSuccess)
      return nullptr;
    CUfunction function = nullptr;
    EXPECT_EQ(cuModuleGetFunction(&function, module, name), abi::kSuccess)
        << name;
    return function;
  }

  /// A device buffer of `bytes`, filled with `fill`.
  CUdeviceptr allocate(size_t bytes, unsigned char fill = 0) {
    CUdeviceptr pointer = 0;
    EXPECT_EQ(cuMemAlloc_v2(&pointer, bytes), abi::kSuccess);
    EXPECT_NE(pointer, 0u);
    if (!pointer)
      return 0;
    allocations.push_back(pointer);
    EXPECT_EQ(cuMemsetD8_v2(pointer, fill, bytes), abi::kSuccess);
    return pointer;
  }

  /// A device buffer holding `values`.
  template <typename T> CUdeviceptr upload(const std::vector<T> &values) {
    CUdeviceptr pointer = allocate(values.size() * sizeof(T));
    if (pointer)
      EXPECT_EQ(
          cuMemcpyHtoD_v2(pointer, values.data(), values.size() * sizeof(T)),
          abi::kSuccess);
    return pointer;
  }

  /// Forgets `pointer` (the test freed it).
  void forget(CUdeviceptr pointer) {
    for (auto it = allocations.begin(); it != allocations.end(); ++it)
      if (*it == pointer) {
        allocations.erase(it);
        return;
      }
  }

  /// `count` values of type T read back from `pointer`.
  template <typename T>
  std::vector<T> download(CUdeviceptr pointer, size_t count) {
    std::vector<T> values(count);
    EXPECT_EQ(cuStreamSynchronize(stream), abi::kSuccess);
    EXPECT_EQ(cuMemcpyDtoH_v2(values.data(), pointer, count * sizeof(T)),
              abi::kSuccess);
    return values;
  }

  /// Launches `function` on the fixture's stream with `args` as its
  /// parameters (each argument's C++ type must have the size of the PTX
  /// parameter) and returns what cuLaunchKernel returns.
  template <typename... Args>
  CUresult launch(CUfunction function, Dim3 grid, Dim3 block,
                  unsigned sharedBytes, Args... args) {
    void *parameters[] = {static_cast<void *>(&args)..., nullptr};
    return cuLaunchKernel(function, grid.x, grid.y, grid.z, block.x, block.y,
                          block.z, sharedBytes, stream, parameters, nullptr);
  }

  std::string report() {
    const char *text = vitcEmulatorLastReport();
    return text ? text : "";
  }

  CUdevice device = 0;
  CUcontext context = nullptr;
  CUstream stream = nullptr;
  std::string jitLog;
  std::vector<CUdeviceptr> allocations;
  std::vector<CUmodule> modules;
};

} // namespace vitc::emulator::test

#endif // VITC_UNITTESTS_CUDAEMULATOR_EMULATORFIXTURE_H
