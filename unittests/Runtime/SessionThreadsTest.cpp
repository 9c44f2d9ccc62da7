//===- SessionThreadsTest.cpp - Sessions and threads, as vitrt.h allows ---===//
//
// What vitrt.h promises of threads: sessions are independent, so several
// may be created and run at once from different threads, each on its own
// thread pool; a session runs one vitrt_session_run at a time, from any
// thread. Every run of one input must give bit-identical logits, whatever
// the thread and the pool size. The ThreadSanitizer build
// (VITC_SANITIZE=thread, docs/robustness.md) runs these tests to check the
// pool's synchronisation.
//
// The artifact is compiled by vitc before the tests (the lit test
// test/tools/vit-run/session-threads.test, or the runtime-only build's
// CTest fixture) and named by VITRT_TEST_ARTIFACT; without it the tests
// are skipped.
//
//===----------------------------------------------------------------------===//

#include "vitc/Runtime/vitrt.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using Session = std::unique_ptr<vitrt_session, void (*)(vitrt_session *)>;

Session open(const char *path, int threads) {
  vitrt_options options;
  vitrt_options_init(&options);
  options.num_threads = threads;
  vitrt_session *session = nullptr;
  vitrt_status status =
      vitrt_session_create_from_file(path, &options, &session);
  EXPECT_EQ(status, VITRT_OK) << vitrt_last_error();
  return Session(status == VITRT_OK ? session : nullptr, vitrt_session_destroy);
}

size_t elements(const vitrt_tensor_info &info) {
  size_t count = 1;
  for (int d = 0; d < info.rank; ++d)
    count *= static_cast<size_t>(info.dims[d]);
  return count;
}

class SessionThreads : public ::testing::Test {
protected:
  void SetUp() override {
    path = std::getenv("VITRT_TEST_ARTIFACT");
    if (!path || !*path)
      GTEST_SKIP() << "VITRT_TEST_ARTIFACT names no compiled CPU artifact";
    Session session = open(path, 1);
    ASSERT_TRUE(session);
    ASSERT_EQ(vitrt_session_input_count(session.get()), 1u);
    ASSERT_EQ(vitrt_session_output_count(session.get()), 1u);
    vitrt_tensor_info info;
    ASSERT_EQ(vitrt_session_input_info(session.get(), 0, &info), VITRT_OK);
    input.resize(elements(info));
    for (size_t i = 0; i < input.size(); ++i)
      input[i] = static_cast<float>(std::sin(0.37 * double(i)));
    ASSERT_EQ(vitrt_session_output_info(session.get(), 0, &info), VITRT_OK);
    outputElements = elements(info);
    expected = run(session.get());
  }

  /// The logits of one run of `input`.
  std::vector<float> run(vitrt_session *session) const {
    std::vector<float> logits(outputElements);
    const float *inputs[] = {input.data()};
    float *outputs[] = {logits.data()};
    EXPECT_EQ(vitrt_session_run(session, inputs, outputs), VITRT_OK)
        << vitrt_last_error();
    return logits;
  }

  /// Whether `logits` are the reference run's, bit for bit.
  bool identical(const std::vector<float> &logits) const {
    return logits.size() == expected.size() &&
           std::memcmp(logits.data(), expected.data(),
                       logits.size() * sizeof(float)) == 0;
  }

  const char *path = nullptr;
  std::vector<float> input, expected;
  size_t outputElements = 0;
};

constexpr int kThreads = 3;
constexpr int kRunsPerThread = 20;

TEST_F(SessionThreads, IndependentSessionsRunAtOnce) {
  // Each thread creates its own session (the CPU backend's memfd and dlopen
  // at once) with its own pool of two, and runs it.
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      Session session = open(path, 2);
      if (!session) {
        mismatches[t] = kRunsPerThread;
        return;
      }
      for (int r = 0; r < kRunsPerThread; ++r)
        mismatches[t] += !identical(run(session.get()));
    });
  for (std::thread &thread : threads)
    thread.join();
  for (int t = 0; t < kThreads; ++t)
    EXPECT_EQ(mismatches[t], 0) << "thread " << t;
}

TEST_F(SessionThreads, OneSessionRunsFromEveryThreadInTurn) {
  // One run at a time (the mutex), from whichever thread holds it: the pool
  // is driven by different callers.
  Session session = open(path, kThreads);
  ASSERT_TRUE(session);
  std::mutex turn;
  int mismatches = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&] {
      for (int r = 0; r < kRunsPerThread; ++r) {
        std::lock_guard<std::mutex> lock(turn);
        mismatches += !identical(run(session.get()));
      }
    });
  for (std::thread &thread : threads)
    thread.join();
  EXPECT_EQ(mismatches, 0);
}

TEST_F(SessionThreads, PoolSizeDoesNotChangeTheLogits) {
  // A tile is computed by one thread, whichever it is: any split of the
  // tiles over the pool gives the same bits.
  for (int threads : {2, 3, 5, 8}) {
    Session session = open(path, threads);
    ASSERT_TRUE(session);
    EXPECT_TRUE(identical(run(session.get()))) << threads << " threads";
  }
}

} // namespace
