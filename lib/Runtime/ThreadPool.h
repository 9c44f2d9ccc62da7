//===- ThreadPool.h - Fixed worker threads for tile ranges ------*- C++ -*-===//

#ifndef VITC_LIB_RUNTIME_THREADPOOL_H
#define VITC_LIB_RUNTIME_THREADPOOL_H

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace vitrt {

/// Splits a range of tiles into one contiguous chunk per thread. The
/// calling thread works on the first chunk, so a pool of N threads has N - 1
/// workers.
class ThreadPool {
public:
  explicit ThreadPool(int numThreads);
  ~ThreadPool();
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;

  int size() const { return int(workers.size()) + 1; }

  /// Calls `body(begin, end)` on disjoint chunks covering [0, count) and
  /// returns when all are done.
  void parallelFor(int64_t count,
                   const std::function<void(int64_t, int64_t)> &body);

private:
  void workerLoop(int worker);

  std::vector<std::thread> workers;
  std::mutex mutex;
  std::condition_variable wake, done;
  const std::function<void(int64_t, int64_t)> *job = nullptr;
  int64_t jobCount = 0;
  int chunks = 0;
  /// Bumped for every job so each worker runs it exactly once.
  uint64_t generation = 0;
  int pending = 0;
  bool stopping = false;
};

} // namespace vitrt

#endif // VITC_LIB_RUNTIME_THREADPOOL_H
