//===- ThreadPool.cpp - Fixed worker threads for tile ranges --------------===//

#include "ThreadPool.h"

#include <algorithm>

namespace vitrt {

namespace {
/// Chunk `index` of `chunks` near-equal parts of [0, count).
std::pair<int64_t, int64_t> chunkOf(int64_t count, int chunks, int index) {
  return {count * index / chunks, count * (index + 1) / chunks};
}
} // namespace

ThreadPool::ThreadPool(int numThreads) {
  for (int worker = 1; worker < std::max(numThreads, 1); ++worker)
    workers.emplace_back([this, worker] { workerLoop(worker); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex);
    stopping = true;
  }
  wake.notify_all();
  for (std::thread &worker : workers)
    worker.join();
}

void ThreadPool::parallelFor(
    int64_t count, const std::function<void(int64_t, int64_t)> &body) {
  int numChunks = int(std::min<int64_t>(count, size()));
  if (numChunks <= 1) {
    if (count > 0)
      body(0, count);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex);
    job = &body;
    jobCount = count;
    chunks = numChunks;
    pending = numChunks - 1;
    ++generation;
  }
  wake.notify_all();
  auto [begin, end] = chunkOf(count, numChunks, 0);
  body(begin, end);
  std::unique_lock<std::mutex> lock(mutex);
  done.wait(lock, [this] { return pending == 0; });
  job = nullptr;
}

void ThreadPool::workerLoop(int worker) {
  uint64_t seen = 0;
  while (true) {
    std::unique_lock<std::mutex> lock(mutex);
    wake.wait(lock, [&] { return stopping || generation != seen; });
    if (stopping)
      return;
    seen = generation;
    // Workers beyond the chunk count sit this job out.
    if (worker >= chunks)
      continue;
    const auto *body = job;
    auto [begin, end] = chunkOf(jobCount, chunks, worker);
    lock.unlock();
    (*body)(begin, end);
    lock.lock();
    if (--pending == 0)
      done.notify_one();
  }
}

} // namespace vitrt
