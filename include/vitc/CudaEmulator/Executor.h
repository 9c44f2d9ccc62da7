//===- Executor.h - Running decoded PTX kernels on the CPU ----------------===//
//
// Executes a grid of a decoded kernel with CUDA semantics: warps of 32 lanes
// scheduled with independent thread scheduling (a warp collective completes
// when every lane of its member mask has arrived), per-block shared memory,
// bar.sync over all threads of a block. Every global access is checked
// against the live allocations, every shared access against the block's
// shared size, and shared-memory accesses are checked for races between
// barriers. Blocks run on several host threads.
//
//===----------------------------------------------------------------------===//

#ifndef VITC_CUDAEMULATOR_EXECUTOR_H
#define VITC_CUDAEMULATOR_EXECUTOR_H

#include "vitc/CudaEmulator/Ptx.h"

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace vitc::emulator {

/// Device memory: host allocations whose addresses are the device pointers.
/// Freed ranges are remembered so that a stale pointer is named as such.
class Memory {
public:
  struct Allocation {
    uint64_t base = 0, size = 0;
    /// One bit per 32-byte sector, set by accesses while counting.
    std::vector<std::atomic<uint64_t>> *touched = nullptr;
  };

  ~Memory();
  /// Returns 0 when `size` cannot be allocated.
  uint64_t allocate(uint64_t size);
  /// Frees the allocation that starts at `base`; false if there is none.
  bool release(uint64_t base);
  /// The live allocation holding [address, address + size), or null.
  const Allocation *find(uint64_t address, uint64_t size) const;
  /// Why [address, address + size) is not accessible, for messages.
  std::string explain(uint64_t address, uint64_t size) const;

  /// Unique-sector tracking for the counters.
  void startCountingSectors();
  uint64_t countTouchedBytes() const;

private:
  std::map<uint64_t, Allocation> live;
  std::map<uint64_t, uint64_t> freed;
};

/// The emulated device (see docs/cuda-emulator.md for the environment
/// variables that set it).
struct DeviceProperties {
  int computeCapability = 90;
  int multiprocessors = 132;
  uint32_t maxThreadsPerBlock = 1024;
  uint32_t sharedPerBlock = 48 * 1024;
  uint32_t sharedPerBlockOptin = 227 * 1024;
};

/// Input types of tensor-core MMAs, as the counters split them.
enum class TensorInput : uint8_t { F16, BF16, TF32, Count };

/// Per-kernel counters, summed over launches.
struct KernelCounters {
  uint64_t launches = 0;
  uint64_t threadInstructions[size_t(InstructionClass::Count)] = {};
  uint64_t warpInstructions = 0;
  uint64_t fp32Flops = 0;
  uint64_t globalLoadRequests = 0, globalStoreRequests = 0;
  uint64_t globalLoadSectors = 0, globalStoreSectors = 0;
  uint64_t sharedRequests = 0, sharedWavefronts = 0;
  uint64_t barriers = 0;
  /// Bytes of distinct 32-byte global sectors touched, per launch, summed.
  uint64_t uniqueGlobalBytes = 0;
  /// mma.sync warp instructions and their multiply-adds (16 * 8 * k each),
  /// by input type.
  uint64_t mmaInstructions[size_t(TensorInput::Count)] = {};
  uint64_t mmaMacs[size_t(TensorInput::Count)] = {};
  /// ldmatrix warp instructions, the 8x8 matrices they load, and their
  /// shared wavefronts (also in sharedRequests/sharedWavefronts): one per
  /// matrix without bank conflicts.
  uint64_t ldmatrixRequests = 0, ldmatrixMatrices = 0, ldmatrixWavefronts = 0;
  /// cp.async warp instructions, the global bytes they read (src-size), and
  /// the distinct 32-byte sectors of each, summed.
  uint64_t asyncCopyRequests = 0, asyncCopyBytes = 0, asyncCopySectors = 0;

  /// Multiply-adds on tensor cores.
  uint64_t tensorMacs() const {
    uint64_t total = 0;
    for (uint64_t macs : mmaMacs)
      total += macs;
    return total;
  }
  /// Multiply-adds on the fp32 units: fma.f32 and mad.f32, one per thread.
  uint64_t fp32Macs() const {
    return threadInstructions[size_t(InstructionClass::Fp32Fma)];
  }
  /// ldmatrix wavefronts beyond the ideal one per matrix.
  uint64_t ldmatrixBankConflicts() const {
    return ldmatrixWavefronts - ldmatrixMatrices;
  }

  void add(const KernelCounters &other);
};

struct LaunchConfig {
  uint32_t grid[3] = {1, 1, 1};
  uint32_t block[3] = {1, 1, 1};
  uint32_t dynamicSharedBytes = 0;
  /// The kernel's parameters, laid out as Kernel::parameters says.
  std::vector<uint8_t> parameters;
};

/// A launch that stopped: the driver's error code and a one-line report
/// (kernel, block, thread, PTX line, what happened).
struct Fault {
  int code;
  std::string message;
};

/// Runs `kernel` over the grid on `hostThreads` threads (0: one per core).
/// `counters`, when given, receives this launch's counts.
std::optional<Fault> execute(const Kernel &kernel, const LaunchConfig &config,
                             Memory &memory, KernelCounters *counters,
                             unsigned hostThreads);

} // namespace vitc::emulator

#endif // VITC_CUDAEMULATOR_EXECUTOR_H
