//===- Session.cpp - The vitrt C API --------------------------------------===//

#include "Backend.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <string>

using namespace vitrt;

struct vitrt_session {
  Artifact artifact;
  std::unique_ptr<Backend> backend;
  /// Set while profiling is on: the kernels' times since it was turned on.
  std::optional<KernelTimes> kernelTimes;
};

namespace {

thread_local std::string lastError;

vitrt_status fail(const Error &error) {
  lastError = error.message;
  return error.status;
}

vitrt_status invalidArgument(const char *what) {
  return fail({VITRT_ERROR_INVALID_ARGUMENT, what});
}

vitrt_options optionsOrDefaults(const vitrt_options *options) {
  vitrt_options defaults;
  vitrt_options_init(&defaults);
  return options ? *options : defaults;
}

/// Runs `body`, the work of an entry point: an exception (out of memory, a
/// standard library failure) becomes its error, since none may cross the C
/// API.
template <typename Body> vitrt_status guarded(Body body) {
  try {
    return body();
  } catch (const std::bad_alloc &) {
    return fail({VITRT_ERROR_EXECUTION, "out of memory"});
  } catch (const std::exception &error) {
    return fail({VITRT_ERROR_EXECUTION, error.what()});
  }
}

/// The options' problem, or none.
Error checkOptions(const vitrt_options &options) {
  if (options.num_threads > VITRT_MAX_THREADS)
    return {VITRT_ERROR_INVALID_ARGUMENT,
            "num_threads is " + std::to_string(options.num_threads) +
                ", more than the " + std::to_string(VITRT_MAX_THREADS) +
                " a session takes"};
  return {};
}

vitrt_status createSession(AlignedBytes bytes, const vitrt_options &chosen,
                           vitrt_session **session) {
  auto created = std::make_unique<vitrt_session>();
  if (Error error = loadArtifact(std::move(bytes), created->artifact))
    return fail(error);
  const Artifact &artifact = created->artifact;
  vitb::TargetKind target = artifact.root->target();
  Error error = target == vitb::TargetKind::Cpu
                    ? createCpuBackend(artifact, chosen, created->backend)
                : target == vitb::TargetKind::Cuda
                    ? createCudaBackend(artifact, chosen, created->backend)
                    : Error{VITRT_ERROR_UNSUPPORTED,
                            "the artifact's target is unknown to this runtime"};
  if (error)
    return fail(error);
  *session = created.release();
  lastError.clear();
  return VITRT_OK;
}

vitrt_status tensorInfo(
    const flatbuffers::Vector<flatbuffers::Offset<vitb::TensorInfo>> *tensors,
    size_t index, vitrt_tensor_info *info) {
  if (!info || index >= tensors->size())
    return invalidArgument("tensor index out of range");
  const vitb::TensorInfo *tensor = tensors->Get(index);
  info->name = tensor->name() ? tensor->name()->c_str() : "";
  info->rank = int(tensor->dims()->size());
  info->dims = tensor->dims()->data();
  return VITRT_OK;
}

size_t copyFloats(const flatbuffers::Vector<float> *values, float *out,
                  size_t capacity) {
  if (!values)
    return 0;
  for (size_t i = 0; i < values->size() && i < capacity; ++i)
    out[i] = values->Get(i);
  return values->size();
}

const vitb::Metadata *metadata(const vitrt_session *session) {
  return session->artifact.root->metadata();
}

} // namespace

extern "C" {

void vitrt_options_init(vitrt_options *options) {
  if (options)
    *options = vitrt_options{0, 0, nullptr};
}

const char *vitrt_last_error(void) { return lastError.c_str(); }

vitrt_status vitrt_session_create_from_memory(const void *data, size_t size,
                                              const vitrt_options *options,
                                              vitrt_session **session) {
  if ((!data && size > 0) || !session)
    return invalidArgument("null data or session pointer");
  return guarded([&] {
    vitrt_options chosen = optionsOrDefaults(options);
    if (Error error = checkOptions(chosen))
      return fail(error);
    // The size first: loadArtifact would refuse it, after the copy.
    if (size > vitb::kMaxArtifactBytes)
      return fail({VITRT_ERROR_INVALID_ARTIFACT,
                   "invalid artifact: " + tooLargeForArtifact(size)});
    AlignedBytes bytes(size);
    if (size > 0 && !bytes.data())
      return fail({VITRT_ERROR_EXECUTION, "cannot allocate " +
                                              std::to_string(size) +
                                              " bytes for the artifact"});
    if (size > 0)
      std::memcpy(bytes.data(), data, size);
    return createSession(std::move(bytes), chosen, session);
  });
}

vitrt_status vitrt_session_create_from_file(const char *path,
                                            const vitrt_options *options,
                                            vitrt_session **session) {
  if (!path || !session)
    return invalidArgument("null path or session pointer");
  return guarded([&] {
    vitrt_options chosen = optionsOrDefaults(options);
    if (Error error = checkOptions(chosen))
      return fail(error);
    auto ioError = [&](const std::string &what) {
      return fail({VITRT_ERROR_IO, std::string(path) + ": " + what});
    };
    // O_NONBLOCK, or opening a FIFO would wait for a writer; reads of a
    // regular file ignore it.
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
      return ioError(std::strerror(errno));
    std::unique_ptr<int, void (*)(int *)> closer(&fd,
                                                 [](int *fd) { close(*fd); });
    struct stat info;
    if (fstat(fd, &info) != 0)
      return ioError(std::strerror(errno));
    // A directory cannot be read, a device or FIFO may never end (/dev/zero)
    // or block: refused before any read.
    if (!S_ISREG(info.st_mode))
      return ioError("not a regular file");
    // Before reading: a larger file cannot be a .vitb, however it ends.
    uint64_t size = info.st_size;
    if (size > vitb::kMaxArtifactBytes)
      return fail({VITRT_ERROR_INVALID_ARTIFACT,
                   std::string(path) + ": " + tooLargeForArtifact(size)});
    AlignedBytes bytes(size);
    if (size > 0 && !bytes.data())
      return ioError("cannot allocate " + std::to_string(size) +
                     " bytes to read it");
    for (size_t done = 0; done < size;) {
      ssize_t count = read(fd, bytes.data() + done, size - done);
      if (count < 0 && errno == EINTR)
        continue;
      if (count < 0)
        return ioError(std::string("read failed: ") + std::strerror(errno));
      if (count == 0)
        return ioError("read failed: the file shrank while it was read");
      done += count;
    }
    return createSession(std::move(bytes), chosen, session);
  });
}

void vitrt_session_destroy(vitrt_session *session) { delete session; }

size_t vitrt_session_input_count(const vitrt_session *session) {
  return session ? session->artifact.root->inputs()->size() : 0;
}

size_t vitrt_session_output_count(const vitrt_session *session) {
  return session ? session->artifact.root->outputs()->size() : 0;
}

vitrt_status vitrt_session_input_info(const vitrt_session *session,
                                      size_t index, vitrt_tensor_info *info) {
  if (!session)
    return invalidArgument("null session");
  return tensorInfo(session->artifact.root->inputs(), index, info);
}

vitrt_status vitrt_session_output_info(const vitrt_session *session,
                                       size_t index, vitrt_tensor_info *info) {
  if (!session)
    return invalidArgument("null session");
  return tensorInfo(session->artifact.root->outputs(), index, info);
}

const char *vitrt_session_target_kind(const vitrt_session *session) {
  return session->artifact.root->target() == vitb::TargetKind::Cuda ? "cuda"
                                                                    : "cpu";
}

const char *vitrt_session_target_name(const vitrt_session *session) {
  const flatbuffers::String *name = session->artifact.root->target_name();
  return name ? name->c_str() : "";
}

const char *vitrt_session_model_name(const vitrt_session *session) {
  const vitb::Metadata *meta = metadata(session);
  return meta && meta->model() ? meta->model()->c_str() : "";
}

const char *vitrt_session_input_layout(const vitrt_session *session) {
  const vitb::Metadata *meta = metadata(session);
  return meta && meta->input_layout() ? meta->input_layout()->c_str() : "";
}

int64_t vitrt_session_macs_per_image(const vitrt_session *session) {
  const vitb::Metadata *meta = metadata(session);
  return meta ? meta->multiply_accumulates_per_image() : 0;
}

const char *vitrt_session_precision(const vitrt_session *session) {
  const vitb::Metadata *meta = metadata(session);
  return meta && meta->precision() ? meta->precision()->c_str() : "fp32";
}

size_t vitrt_session_pixel_mean(const vitrt_session *session, float *mean,
                                size_t capacity) {
  const vitb::Metadata *meta = metadata(session);
  return meta ? copyFloats(meta->pixel_mean(), mean, capacity) : 0;
}

size_t vitrt_session_pixel_std(const vitrt_session *session, float *std,
                               size_t capacity) {
  const vitb::Metadata *meta = metadata(session);
  return meta ? copyFloats(meta->pixel_std(), std, capacity) : 0;
}

size_t vitrt_session_label_count(const vitrt_session *session) {
  const vitb::Metadata *meta = metadata(session);
  return meta && meta->labels() ? meta->labels()->size() : 0;
}

const char *vitrt_session_label(const vitrt_session *session, size_t index) {
  if (index >= vitrt_session_label_count(session))
    return nullptr;
  return metadata(session)->labels()->Get(index)->c_str();
}

vitrt_status vitrt_session_run(vitrt_session *session,
                               const float *const *inputs,
                               float *const *outputs) {
  if (!session || !inputs || !outputs)
    return invalidArgument("null session, inputs or outputs");
  for (size_t i = 0; i < vitrt_session_input_count(session); ++i)
    if (!inputs[i])
      return invalidArgument("null input buffer");
  for (size_t i = 0; i < vitrt_session_output_count(session); ++i)
    if (!outputs[i])
      return invalidArgument("null output buffer");
  KernelTimes *times = session->kernelTimes ? &*session->kernelTimes : nullptr;
  return guarded([&] {
    if (Error error = session->backend->run(inputs, outputs, times))
      return fail(error);
    return VITRT_OK;
  });
}

vitrt_status vitrt_session_set_profiling(vitrt_session *session, int enabled) {
  if (!session)
    return invalidArgument("null session");
  if (!enabled) {
    session->kernelTimes.reset();
    return VITRT_OK;
  }
  if (!session->backend->timesKernels())
    return fail({VITRT_ERROR_UNSUPPORTED,
                 "kernel profiling needs a CPU session: a CUDA run replays "
                 "one captured graph"});
  size_t kernels = vitrt_session_kernel_count(session);
  session->kernelTimes = KernelTimes(kernels);
  return VITRT_OK;
}

size_t vitrt_session_kernel_count(const vitrt_session *session) {
  return session ? session->artifact.root->kernels()->size() : 0;
}

vitrt_status vitrt_session_kernel_profile(const vitrt_session *session,
                                          size_t index,
                                          vitrt_kernel_profile *profile) {
  if (!session || !profile)
    return invalidArgument("null session or profile");
  if (index >= vitrt_session_kernel_count(session))
    return invalidArgument("kernel index out of range");
  const vitb::Kernel *kernel = session->artifact.root->kernels()->Get(index);
  profile->name = kernel->name() ? kernel->name()->c_str() : "";
  profile->multiply_accumulates = kernel->multiply_accumulates();
  profile->bytes_bound = 0;
  for (int64_t bytes : *kernel->binding_bytes())
    profile->bytes_bound += bytes;
  const std::optional<KernelTimes> &times = session->kernelTimes;
  KernelTime time = times ? (*times)[index] : KernelTime();
  profile->dispatches = time.dispatches;
  profile->seconds = time.seconds;
  return VITRT_OK;
}

} // extern "C"
