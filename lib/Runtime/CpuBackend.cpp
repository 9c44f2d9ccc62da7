//===- CpuBackend.cpp - Running artifact kernels on the host --------------===//

#include "Backend.h"
#include "ThreadPool.h"

#include "vitc/Artifact/Format.h"
#include "vitc/Support/EscapedText.h"

#include <dlfcn.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

namespace vitrt {

namespace {

/// The CPU kernel ABI (see vitb.fbs).
using KernelFunction = void (*)(void *const *bindings, int64_t tileBegin,
                                int64_t tileEnd);

Error executionError(const std::string &message) {
  return {VITRT_ERROR_EXECUTION, message};
}

/// Whether this CPU has `feature` (a name of VITB_X86_CPU_FEATURES), or
/// nullopt if this runtime cannot tell. VITRT_CPU_FEATURES, a comma-separated
/// list, hides every feature it does not name, so that tests on any machine
/// can play a CPU that lacks some; it never adds one the CPU lacks.
std::optional<bool> hostHas(std::string_view feature) {
  if (const char *allowed = std::getenv("VITRT_CPU_FEATURES")) {
    std::string_view list = allowed;
    bool listed = false;
    for (size_t start = 0; start <= list.size();) {
      size_t end = std::min(list.find(',', start), list.size());
      listed |= list.substr(start, end - start) == feature;
      start = end + 1;
    }
    if (!listed)
      return false;
  }
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
#define VITB_TEST_FEATURE(name)                                                \
  if (feature == name)                                                         \
    return bool(__builtin_cpu_supports(name));
  VITB_X86_CPU_FEATURES(VITB_TEST_FEATURE)
#undef VITB_TEST_FEATURE
#endif
  return std::nullopt;
}

/// Refuses a shared object compiled for instruction-set extensions this CPU
/// lacks: it would die of SIGILL in the middle of a run.
Error checkCpuFeatures(const vitb::KernelModule &object) {
  if (!object.cpu_features())
    return {};
  std::string missing, unknown;
  for (const flatbuffers::String *name : *object.cpu_features()) {
    std::optional<bool> has = hostHas(name->string_view());
    std::string &list = has ? missing : unknown;
    if (!has || !*has)
      list +=
          (list.empty() ? "" : ", ") + vitc::escapedText(name->string_view());
  }
  if (missing.empty() && unknown.empty())
    return {};
  // x86-64-v3 is AVX2 with FMA and BMI2: what either development machine
  // runs, and the usual way out for an AVX-512 artifact.
  bool v3 = hostHas("avx2").value_or(false) && hostHas("fma").value_or(false) &&
            hostHas("bmi2").value_or(false);
  std::string remedy = std::string("; recompile with --target cpu:") +
                       (v3 ? "x86-64-v3" : "x86-64") + " or on this machine";
  if (!missing.empty())
    return {VITRT_ERROR_UNSUPPORTED, "this artifact needs " + missing +
                                         ", which this CPU lacks" + remedy};
  return {VITRT_ERROR_UNSUPPORTED, "this artifact needs " + unknown +
                                       ", which this runtime cannot test "
                                       "the CPU for" +
                                       remedy};
}

class CpuBackend final : public Backend {
public:
  CpuBackend(const Artifact &artifact, int numThreads)
      : artifact(artifact), pool(numThreads) {}

  ~CpuBackend() override {
    if (library)
      dlclose(library);
    if (libraryFd >= 0)
      close(libraryFd);
  }

  Error load() {
    const vitb::KernelModule *object = nullptr;
    for (const vitb::KernelModule *module : *artifact.root->modules())
      if (module->format() == vitb::ModuleFormat::ElfSharedObject &&
          module->data())
        object = module;
    if (!object)
      return {VITRT_ERROR_INVALID_ARTIFACT,
              "invalid artifact: a CPU artifact without a shared object"};
    if (Error error = checkCpuFeatures(*object))
      return error;
    if (Error error = openLibrary(*object->data()))
      return error;
    for (const vitb::Kernel *kernel : *artifact.root->kernels()) {
      void *symbol = dlsym(library, kernel->symbol()->c_str());
      if (!symbol)
        return {VITRT_ERROR_INVALID_ARTIFACT,
                "invalid artifact: kernel " + quoted(kernel->symbol()) +
                    " is missing from its shared object"};
      kernels.push_back(reinterpret_cast<KernelFunction>(symbol));
    }
    arena = AlignedBytes(artifact.root->arena_bytes());
    if (artifact.root->arena_bytes() > 0 && !arena.data())
      return executionError("cannot allocate the " +
                            std::to_string(artifact.root->arena_bytes()) +
                            "-byte arena");
    return {};
  }

  Error run(const float *const *inputs, float *const *outputs,
            KernelTimes *times) override {
    std::vector<void *> bindings;
    for (const vitb::Dispatch *dispatch : *artifact.root->dispatches()) {
      bindings.clear();
      for (const vitb::Binding *binding : *dispatch->bindings())
        bindings.push_back(resolve(*binding, inputs, outputs));
      KernelFunction kernel = kernels[dispatch->kernel()];
      const void *const *args = bindings.data();
      auto start = std::chrono::steady_clock::now();
      pool.parallelFor(
          artifact.root->kernels()->Get(dispatch->kernel())->num_tiles(),
          [&](int64_t begin, int64_t end) {
            kernel(const_cast<void *const *>(args), begin, end);
          });
      if (times) {
        std::chrono::duration<double> elapsed =
            std::chrono::steady_clock::now() - start;
        KernelTime &time = (*times)[dispatch->kernel()];
        time.dispatches += 1;
        time.seconds += elapsed.count();
      }
    }
    return {};
  }

  bool timesKernels() const override { return true; }

private:
  /// dlopen needs a file: an anonymous in-memory one avoids temp files.
  /// The descriptor stays open as long as the library is loaded: dlopen
  /// returns an already loaded library whose path matches, so had it been
  /// closed, the next session's memfd could reuse its number, and that
  /// session would get this one's kernels instead of its own.
  Error openLibrary(const flatbuffers::Vector<uint8_t> &bytes) {
    libraryFd = memfd_create("vitrt-kernels", MFD_CLOEXEC);
    if (libraryFd < 0)
      return executionError(std::string("memfd_create failed: ") +
                            std::strerror(errno));
    bool written =
        write(libraryFd, bytes.data(), bytes.size()) == ssize_t(bytes.size());
    std::string path = "/proc/self/fd/" + std::to_string(libraryFd);
    library = written ? dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL) : nullptr;
    if (!library)
      return executionError(std::string("cannot load the kernels: ") +
                            (written ? dlerror() : "write failed"));
    return {};
  }

  void *resolve(const vitb::Binding &binding, const float *const *inputs,
                float *const *outputs) const {
    switch (binding.kind()) {
    case vitb::BindingKind::Input:
      return const_cast<float *>(inputs[binding.index()]);
    case vitb::BindingKind::Output:
      return outputs[binding.index()];
    case vitb::BindingKind::Constant:
      return const_cast<uint8_t *>(artifact.constantData(
          *artifact.root->constants()->Get(binding.index())));
    case vitb::BindingKind::Arena:
      return arena.data() + binding.offset();
    }
  }

  const Artifact &artifact;
  ThreadPool pool;
  int libraryFd = -1;
  void *library = nullptr;
  std::vector<KernelFunction> kernels;
  AlignedBytes arena;
};

} // namespace

Error createCpuBackend(const Artifact &artifact, const vitrt_options &options,
                       std::unique_ptr<Backend> &backend) {
  int threads = options.num_threads > 0
                    ? options.num_threads
                    : int(std::max(1u, std::thread::hardware_concurrency()));
  std::unique_ptr<CpuBackend> cpu;
  try {
    cpu = std::make_unique<CpuBackend>(artifact, threads);
  } catch (const std::system_error &error) {
    // No exception may cross the C API: a refused thread (EAGAIN, from a
    // limit on threads or memory) is a failed session like any other.
    return executionError("cannot start " + std::to_string(threads) +
                          " worker threads: " + error.code().message());
  }
  if (Error error = cpu->load())
    return error;
  backend = std::move(cpu);
  return {};
}

} // namespace vitrt
