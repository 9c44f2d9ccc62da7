//===- Backend.h - What a session runs on -----------------------*- C++ -*-===//

#ifndef VITC_LIB_RUNTIME_BACKEND_H
#define VITC_LIB_RUNTIME_BACKEND_H

#include "Artifact.h"

#include <memory>
#include <vector>

namespace vitrt {

/// Dispatches of one kernel and the wall time they took.
struct KernelTime {
  int64_t dispatches = 0;
  double seconds = 0.0;
};

/// One KernelTime per kernel of an artifact, indexed like its kernels.
using KernelTimes = std::vector<KernelTime>;

/// Executes the dispatches of one verified artifact.
class Backend {
public:
  virtual ~Backend() = default;
  /// `inputs`/`outputs`: dense host buffers, one per model input/output.
  /// With `times`, each dispatch's wall time is added to its kernel's.
  virtual Error run(const float *const *inputs, float *const *outputs,
                    KernelTimes *times) = 0;
  /// Whether run() can time its dispatches one by one.
  virtual bool timesKernels() const = 0;
};

/// Loads the artifact's shared object and runs kernels on a thread pool.
Error createCpuBackend(const Artifact &artifact, const vitrt_options &options,
                       std::unique_ptr<Backend> &backend);

/// Opens the CUDA driver (libcuda.so.1) at run time, loads the kernels and
/// uploads the constants once; runs are replays of a captured CUDA graph.
Error createCudaBackend(const Artifact &artifact, const vitrt_options &options,
                        std::unique_ptr<Backend> &backend);

} // namespace vitrt

#endif // VITC_LIB_RUNTIME_BACKEND_H
