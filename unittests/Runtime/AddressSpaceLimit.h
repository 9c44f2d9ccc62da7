//===- AddressSpaceLimit.h - Make starting threads fail ---------*- C++ -*-===//
//
// Tests of what the runtime does when the system refuses a thread limit the
// address space of a death test's child: a thread's stack is mapped when it
// starts, so once the limit is reached pthread_create fails with EAGAIN, as
// it does for a pool larger than the system's thread or memory limits.
//
//===----------------------------------------------------------------------===//

#ifndef VITC_UNITTESTS_RUNTIME_ADDRESSSPACELIMIT_H
#define VITC_UNITTESTS_RUNTIME_ADDRESSSPACELIMIT_H

#include <sys/resource.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <fstream>

// A sanitizer reserves terabytes of shadow memory: under a limit on the
// address space it cannot work, so these tests skip themselves there.
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) ||     \
    __has_feature(memory_sanitizer)
#define VITRT_TEST_SANITIZED 1
#endif
#endif

namespace vitrt_test {

/// Lets this process map `extra` bytes beyond what it maps now; false if
/// the limit could not be set. For a death test's child only.
inline bool limitAddressSpace(size_t extra) {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0;
  statm >> pages;
  if (pages == 0)
    return false;
  rlimit limit;
  limit.rlim_cur = limit.rlim_max = pages * sysconf(_SC_PAGESIZE) + extra;
  return setrlimit(RLIMIT_AS, &limit) == 0;
}

/// In a death test's child: limits the address space to `extra` bytes more
/// (exit status 2 if it cannot) and ends the child after 30 s, since
/// stopping a pool wrongly can hang (a condition variable destroyed while
/// workers wait on it).
inline void limitChildAddressSpace(size_t extra) {
  alarm(30);
  if (!limitAddressSpace(extra))
    std::_Exit(2);
}

} // namespace vitrt_test

#endif // VITC_UNITTESTS_RUNTIME_ADDRESSSPACELIMIT_H
