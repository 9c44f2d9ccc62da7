//===- ThreadPool.h - Fixed worker threads for tile ranges ------*- C++ -*-===//

#ifndef VITC_LIB_RUNTIME_THREADPOOL_H
#define VITC_LIB_RUNTIME_THREADPOOL_H

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace vitrt {

/// Runs a range of tiles on a fixed set of threads. Each thread starts on
/// its own contiguous share of the range, so consecutive tiles (which share
/// a block of a linear's weight) stay on one core; a thread that finishes
/// its share takes the back half of the largest share left, so a thread
/// the machine slows down (another process, a busy vCPU) is relieved. The
/// calling thread takes part, so a pool of N threads has N - 1 workers.
/// Between jobs, workers spin briefly before they sleep: a model's
/// kernels follow each other within microseconds, far sooner than a
/// sleeping thread wakes.
class ThreadPool {
public:
  /// Starts `numThreads` - 1 workers (none for 1 or less). Throws
  /// std::system_error if the system cannot start one of them, after
  /// stopping those it started.
  explicit ThreadPool(int numThreads);
  ~ThreadPool();
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;

  int size() const { return int(workers.size()) + 1; }

  /// Calls `body(begin, end)` on disjoint ranges covering [0, count) and
  /// returns when all are done. `count` is below 2^32.
  void parallelFor(int64_t count,
                   const std::function<void(int64_t, int64_t)> &body);

private:
  /// Stops and joins every worker.
  void stop();

  /// The tiles [begin, end) a thread has yet to run, packed into one word
  /// so that its owner (from the front) and thieves (from the back) update
  /// it with one compare-and-swap.
  struct alignas(64) Share {
    std::atomic<uint64_t> range{0};
  };

  void workerLoop(int worker);
  /// Runs the tiles of share `self`, then steals until none are left.
  void runTiles(int self);
  /// The next tiles [begin, end) for thread `self` to run: from its own
  /// share, else from the back half of the largest other share, which
  /// becomes its own; false when every share is empty.
  bool nextRange(int self, int64_t &begin, int64_t &end);

  std::vector<std::thread> workers;
  std::unique_ptr<Share[]> shares;
  std::mutex mutex;
  std::condition_variable wake, done;
  const std::function<void(int64_t, int64_t)> *job = nullptr;
  /// Bumped for every job so each worker runs it exactly once.
  std::atomic<uint64_t> generation{0};
  std::atomic<int> pending{0};
  /// Set (with a generation bump) when the pool is destroyed.
  std::atomic<bool> stopping{false};
};

} // namespace vitrt

#endif // VITC_LIB_RUNTIME_THREADPOOL_H
