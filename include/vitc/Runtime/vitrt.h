/*===- vitrt.h - The vitc runtime: run compiled .vitb artifacts -*- C -*-===*\
 *
 * A session loads one artifact, verifies it, prepares its kernels (CPU:
 * the embedded shared object; CUDA: the PTX/cubin modules through the
 * driver API, opened at run time) and runs the model on host buffers.
 * The library links neither MLIR nor LLVM, nor the CUDA runtime.
 *
 * Every function returning vitrt_status returns VITRT_OK on success; on
 * failure vitrt_last_error() describes the problem in one line.
 *
 * Threads: sessions are independent. Several may be created, run and
 * destroyed at once on different threads; each runs its CPU kernels on its
 * own pool of num_threads threads. A session runs one vitrt_session_run at
 * a time: a run uses the session's single arena, thread pool and (CUDA)
 * stream, so calls on one session must not overlap. Any thread may make
 * them, one after another (a mutex suffices); to run one model on several
 * threads at once, give each thread a session. The accessors (input info,
 * names, ...) only read, and may be called at any time while the session
 * exists. vitrt_last_error() is per thread. On the CPU a run is
 * deterministic: one input gives the same bits on every run, from any
 * thread and with any num_threads (a tile is computed by one thread,
 * whichever it is).
 *
\*===----------------------------------------------------------------------===*/

#ifndef VITRT_H
#define VITRT_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define VITRT_API __attribute__((visibility("default")))
#else
#define VITRT_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vitrt_status {
  VITRT_OK = 0,
  /* The artifact file could not be read. */
  VITRT_ERROR_IO = 1,
  /* The bytes are not a valid .vitb artifact (corrupt, truncated, or
     inconsistent). */
  VITRT_ERROR_INVALID_ARTIFACT = 2,
  /* A valid artifact this runtime cannot run (newer format version,
     unknown target). */
  VITRT_ERROR_UNSUPPORTED = 3,
  /* The artifact targets CUDA and no usable driver or GPU was found. */
  VITRT_ERROR_NO_DEVICE = 4,
  /* A caller mistake: null pointer, index out of range. */
  VITRT_ERROR_INVALID_ARGUMENT = 5,
  /* Loading or running kernels failed. */
  VITRT_ERROR_EXECUTION = 6,
} vitrt_status;

typedef struct vitrt_session vitrt_session;

/* The most CPU worker threads a session takes: as many as the CPUs of the
   largest machine Linux supports (NR_CPUS is at most 8192 on x86-64); more
   could only wait for each other. */
#define VITRT_MAX_THREADS 8192

typedef struct vitrt_options {
  /* CPU worker threads; 0 uses every hardware thread. At most
     VITRT_MAX_THREADS: a session asked for more is refused with
     VITRT_ERROR_INVALID_ARGUMENT, one whose threads the system cannot
     start with VITRT_ERROR_EXECUTION. */
  int num_threads;
  /* CUDA device ordinal. */
  int device;
  /* Path of the libcuda-compatible library to run CUDA artifacts with (e.g.
     a driver emulator). NULL: the VITRT_CUDA_DRIVER environment variable if
     it is set and not empty, else the system's libcuda.so.1. */
  const char *cuda_driver;
} vitrt_options;

typedef struct vitrt_tensor_info {
  const char *name;
  int rank;
  const int64_t *dims;
} vitrt_tensor_info;

/* Fills `options` with the defaults. */
VITRT_API void vitrt_options_init(vitrt_options *options);

/* The message of the last failure on this thread ("" if none). */
VITRT_API const char *vitrt_last_error(void);

VITRT_API vitrt_status vitrt_session_create_from_file(
    const char *path, const vitrt_options *options, vitrt_session **session);
/* `data` is copied; the caller may free it after the call. */
VITRT_API vitrt_status vitrt_session_create_from_memory(
    const void *data, size_t size, const vitrt_options *options,
    vitrt_session **session);
VITRT_API void vitrt_session_destroy(vitrt_session *session);

VITRT_API size_t vitrt_session_input_count(const vitrt_session *session);
VITRT_API size_t vitrt_session_output_count(const vitrt_session *session);
VITRT_API vitrt_status vitrt_session_input_info(const vitrt_session *session,
                                                size_t index,
                                                vitrt_tensor_info *info);
VITRT_API vitrt_status vitrt_session_output_info(const vitrt_session *session,
                                                 size_t index,
                                                 vitrt_tensor_info *info);

/* "cpu" or "cuda", and the compiled target ("x86_64", "sm_90"). */
VITRT_API const char *vitrt_session_target_kind(const vitrt_session *session);
VITRT_API const char *vitrt_session_target_name(const vitrt_session *session);
/* Model name, input layout ("nchw"/"nhwc") and multiply-accumulates per
   image, from the artifact's metadata. */
VITRT_API const char *vitrt_session_model_name(const vitrt_session *session);
VITRT_API const char *vitrt_session_input_layout(const vitrt_session *session);
VITRT_API int64_t vitrt_session_macs_per_image(const vitrt_session *session);
/* What the model's matmuls compute in: "fp32", "tf32", "bf16" or "fp16".
   Inputs and outputs are fp32 whatever it is. */
VITRT_API const char *vitrt_session_precision(const vitrt_session *session);
/* Per-channel normalisation of [0, 1] pixels the model expects; writes up
   to `capacity` values and returns the channel count. */
VITRT_API size_t vitrt_session_pixel_mean(const vitrt_session *session,
                                          float *mean, size_t capacity);
VITRT_API size_t vitrt_session_pixel_std(const vitrt_session *session,
                                         float *std, size_t capacity);
/* The class names the artifact embeds (vitc --labels or the model's own),
   one per class of the first output, or none: their count, and the name of
   class `index` (NULL past the end). Names are as the model gives them:
   escape control characters before printing them. */
VITRT_API size_t vitrt_session_label_count(const vitrt_session *session);
VITRT_API const char *vitrt_session_label(const vitrt_session *session,
                                          size_t index);

/* Runs the model. `inputs[i]` and `outputs[i]` are dense row-major fp32
   host buffers with the shapes of input/output i. Not to be called while
   another call runs the same session (see Threads above). */
VITRT_API vitrt_status vitrt_session_run(vitrt_session *session,
                                         const float *const *inputs,
                                         float *const *outputs);

/* Kernel profiling (CPU sessions). While it is on, every run adds the wall
   time of each dispatch (all its threads, from start to the last tile's
   end) to its kernel's total; turning it on (again) resets the totals,
   turning it off discards them. A CUDA session refuses it with
   VITRT_ERROR_UNSUPPORTED: its runs replay one captured graph. Timing adds
   two clock reads per dispatch. */
VITRT_API vitrt_status vitrt_session_set_profiling(vitrt_session *session,
                                                   int enabled);

typedef struct vitrt_kernel_profile {
  /* The kernel's name in the compiler's IR ("blocks.*.mlp.fc1": a kernel
     shared by identical layers has one name for all of them). */
  const char *name;
  /* Multiply-accumulates of one dispatch of it. */
  int64_t multiply_accumulates;
  /* Bytes of the buffers one dispatch of it binds: its inputs (activations
     and weights), read at least once, and its output, written once. */
  int64_t bytes_bound;
  /* Dispatches of it timed, and their total wall time in seconds, since
     profiling was turned on (0 while it is off). */
  int64_t dispatches;
  double seconds;
} vitrt_kernel_profile;

/* The artifact's distinct kernels; a run dispatches each one or more times. */
VITRT_API size_t vitrt_session_kernel_count(const vitrt_session *session);
VITRT_API vitrt_status vitrt_session_kernel_profile(
    const vitrt_session *session, size_t index, vitrt_kernel_profile *profile);

#ifdef __cplusplus
}
#endif

#endif /* VITRT_H */
