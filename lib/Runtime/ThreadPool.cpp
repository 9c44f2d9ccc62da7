//===- ThreadPool.cpp - Fixed worker threads for tile ranges --------------===//

#include "ThreadPool.h"

#include <algorithm>
#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace vitrt {

namespace {
/// How long a thread spins before it sleeps: a kernel of ViT-B/16 follows
/// the previous one within microseconds, a sleeping thread takes tens of
/// microseconds to wake (more on a busy VM), and a pool idle for longer
/// than this should not hold its cores.
constexpr std::chrono::microseconds kSpin(200);

uint64_t pack(int64_t begin, int64_t end) {
  return uint64_t(begin) << 32 | uint64_t(end);
}
int64_t beginOf(uint64_t range) { return int64_t(range >> 32); }
int64_t endOf(uint64_t range) { return int64_t(range & 0xffffffffu); }

void pause() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

/// Spins until `ready()` or kSpin has passed; returns `ready()`.
template <typename Ready> bool spinUntil(Ready ready) {
  auto start = std::chrono::steady_clock::now();
  for (int i = 1;; ++i) {
    if (ready())
      return true;
    pause();
    if (i % 64 == 0 && std::chrono::steady_clock::now() - start > kSpin)
      return ready();
  }
}
} // namespace

ThreadPool::ThreadPool(int numThreads)
    : shares(new Share[std::max(numThreads, 1)]) {
  try {
    workers.reserve(std::max(numThreads, 1) - 1);
    for (int worker = 1; worker < std::max(numThreads, 1); ++worker)
      workers.emplace_back([this, worker] { workerLoop(worker); });
  } catch (...) {
    // The system refused a thread (EAGAIN: a limit on threads or memory).
    // No destructor runs for a constructor that throws, and a joinable
    // std::thread destroyed would call std::terminate: stop the workers
    // started so far first.
    stop();
    throw;
  }
}

ThreadPool::~ThreadPool() { stop(); }

void ThreadPool::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex);
    stopping.store(true, std::memory_order_relaxed);
    generation.fetch_add(1, std::memory_order_release);
  }
  wake.notify_all();
  for (std::thread &worker : workers)
    worker.join();
  workers.clear();
}

void ThreadPool::parallelFor(
    int64_t count, const std::function<void(int64_t, int64_t)> &body) {
  if (count <= 0)
    return;
  if (workers.empty() || count == 1) {
    body(0, count);
    return;
  }
  int threads = size();
  {
    std::lock_guard<std::mutex> lock(mutex);
    job = &body;
    for (int thread = 0; thread < threads; ++thread)
      shares[thread].range.store(
          pack(count * thread / threads, count * (thread + 1) / threads),
          std::memory_order_relaxed);
    pending.store(threads - 1, std::memory_order_relaxed);
    generation.fetch_add(1, std::memory_order_release);
  }
  wake.notify_all();
  runTiles(0);
  auto finished = [this] {
    return pending.load(std::memory_order_acquire) == 0;
  };
  if (!spinUntil(finished)) {
    std::unique_lock<std::mutex> lock(mutex);
    done.wait(lock, finished);
  }
  job = nullptr;
}

bool ThreadPool::nextRange(int self, int64_t &begin, int64_t &end) {
  // The front half of what is left of the thread's own share (one call
  // then runs many tiles, and the back half stays for thieves).
  std::atomic<uint64_t> &own = shares[self].range;
  uint64_t range = own.load(std::memory_order_acquire);
  while (beginOf(range) < endOf(range)) {
    int64_t take = (endOf(range) - beginOf(range) + 1) / 2;
    if (own.compare_exchange_weak(range,
                                  pack(beginOf(range) + take, endOf(range)),
                                  std::memory_order_acq_rel)) {
      begin = beginOf(range);
      end = begin + take;
      return true;
    }
  }
  // The thread's share is done: take the back half of the largest share
  // left, and make it the thread's own.
  int threads = size();
  while (true) {
    int victim = -1;
    int64_t largest = 0;
    uint64_t victimRange = 0;
    for (int other = 0; other < threads; ++other) {
      uint64_t candidate = shares[other].range.load(std::memory_order_acquire);
      int64_t left = endOf(candidate) - beginOf(candidate);
      if (other != self && left > largest) {
        victim = other;
        largest = left;
        victimRange = candidate;
      }
    }
    if (victim < 0)
      return false;
    int64_t first = beginOf(victimRange), last = endOf(victimRange);
    int64_t middle = first + (last - first) / 2;
    if (!shares[victim].range.compare_exchange_strong(
            victimRange, pack(first, middle), std::memory_order_acq_rel))
      continue;
    own.store(pack(middle, last), std::memory_order_release);
    return nextRange(self, begin, end);
  }
}

void ThreadPool::runTiles(int self) {
  int64_t begin, end;
  while (nextRange(self, begin, end))
    (*job)(begin, end);
}

void ThreadPool::workerLoop(int worker) {
  uint64_t seen = 0;
  while (true) {
    auto started = [&] {
      return generation.load(std::memory_order_acquire) != seen;
    };
    if (!spinUntil(started)) {
      std::unique_lock<std::mutex> lock(mutex);
      wake.wait(lock, started);
    }
    seen = generation.load(std::memory_order_acquire);
    if (stopping.load(std::memory_order_relaxed))
      return;
    runTiles(worker);
    if (pending.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(mutex);
      done.notify_one();
    }
  }
}

} // namespace vitrt
