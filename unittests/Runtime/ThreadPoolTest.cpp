//===- ThreadPoolTest.cpp - The runtime's tile scheduler ------------------===//
//
// The pool splits a kernel's tiles between threads, each starting on its
// own share and stealing from the others when done. Every tile must run
// exactly once, in calls on disjoint ranges, whatever the thread and tile
// counts; a slowed thread's tiles must move to the others; and jobs that
// follow each other (spinning workers) or come after a pause (sleeping
// workers) must all run. A thread the system refuses must be an exception
// the runtime can catch, not a termination. The sanitizer script runs these
// under TSan.
//
//===----------------------------------------------------------------------===//

#include "ThreadPool.h"
#include "AddressSpaceLimit.h"

#include "gtest/gtest.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <set>
#include <system_error>
#include <thread>
#include <vector>

using namespace vitrt;

namespace {

/// Runs `count` tiles on `pool` and checks that each ran exactly once and
/// that no two calls overlapped.
void expectEveryTileOnce(ThreadPool &pool, int64_t count) {
  std::unique_ptr<std::atomic<int>[]> runs(new std::atomic<int>[count]);
  for (int64_t tile = 0; tile < count; ++tile)
    runs[tile] = 0;
  std::atomic<int> calls{0};
  pool.parallelFor(count, [&](int64_t begin, int64_t end) {
    ASSERT_LE(0, begin);
    ASSERT_LT(begin, end);
    ASSERT_LE(end, count);
    calls.fetch_add(1);
    for (int64_t tile = begin; tile < end; ++tile)
      runs[tile].fetch_add(1);
  });
  for (int64_t tile = 0; tile < count; ++tile)
    ASSERT_EQ(runs[tile].load(), 1) << "tile " << tile << " of " << count
                                    << " on " << pool.size() << " threads";
  EXPECT_LE(calls.load(), count);
}

TEST(ThreadPool, RunsEveryTileExactlyOnce) {
  for (int threads : {1, 2, 3, 5, 8}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    for (int64_t count : {1, 2, 3, 7, 8, 64, 197, 1000})
      expectEveryTileOnce(pool, count);
  }
}

TEST(ThreadPool, NoTilesRunsNothing) {
  ThreadPool pool(2);
  bool called = false;
  pool.parallelFor(0, [&](int64_t, int64_t) { called = true; });
  EXPECT_FALSE(called);
}

TEST(ThreadPool, ConsecutiveJobsAndJobsAfterAPause) {
  ThreadPool pool(3);
  // Back to back, workers are still spinning when the next job comes.
  for (int job = 0; job < 2000; ++job)
    expectEveryTileOnce(pool, 1 + job % 40);
  // After a pause longer than the spin, they have gone to sleep.
  for (int job = 0; job < 5; ++job) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    expectEveryTileOnce(pool, 50);
  }
}

TEST(ThreadPool, ASlowThreadsTilesMoveToTheOthers) {
  // Two threads, 100 tiles: the caller's share is [0, 50). Its first tile
  // takes long, so the worker, done with its own share, must take most of
  // the caller's; without stealing it would run exactly tiles 50 to 99.
  ThreadPool pool(2);
  std::mutex mutex;
  std::set<int64_t> workerTiles;
  std::thread::id caller = std::this_thread::get_id();
  pool.parallelFor(100, [&](int64_t begin, int64_t end) {
    if (begin == 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (std::this_thread::get_id() == caller)
      return;
    std::lock_guard<std::mutex> lock(mutex);
    for (int64_t tile = begin; tile < end; ++tile)
      workerTiles.insert(tile);
  });
  int64_t stolen = 0;
  for (int64_t tile : workerTiles)
    stolen += tile < 50;
  EXPECT_GE(stolen, 20) << "the worker ran " << workerTiles.size() << " tiles, "
                        << stolen << " of the caller's share";
}

TEST(ThreadPool, ARefusedThreadThrowsAfterStoppingTheOthers) {
#ifdef VITRT_TEST_SANITIZED
  GTEST_SKIP() << "a sanitizer cannot run under an address-space limit";
#endif
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  // 8000 thread stacks do not fit in 256 MiB: some workers start, then one
  // is refused. The pool must stop those it started before it throws (a
  // running std::thread destroyed calls std::terminate).
  EXPECT_EXIT(
      {
        vitrt_test::limitChildAddressSpace(size_t(256) << 20);
        try {
          ThreadPool pool(8000);
        } catch (const std::system_error &error) {
          std::fprintf(stderr, "refused: %s\n", error.code().message().c_str());
          std::_Exit(3);
        }
        std::_Exit(4);
      },
      testing::ExitedWithCode(3), "refused: Resource temporarily unavailable");
  // And in this process, without the limit, pools still start and run.
  ThreadPool pool(3);
  expectEveryTileOnce(pool, 100);
}

} // namespace
