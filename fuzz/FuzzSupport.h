//===- FuzzSupport.h - Checks shared by the fuzz harnesses ------*- C++ -*-===//
//
// Besides crashes and sanitizer reports, the harnesses check the promise
// every reader of untrusted bytes makes: a failure is one printable line
// naming what was wrong. A violation aborts, so libFuzzer records the input
// like a crash.
//
//===----------------------------------------------------------------------===//

#ifndef VITC_FUZZ_FUZZSUPPORT_H
#define VITC_FUZZ_FUZZSUPPORT_H

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace vitc::fuzz {

/// Aborts with `reason` and the offending text.
[[noreturn]] inline void violated(const char *reason, std::string_view text) {
  std::fprintf(stderr, "fuzz check failed: %s: \"%.*s\"\n", reason,
               static_cast<int>(text.size()), text.data());
  std::abort();
}

/// Checks that `message` is a non-empty line without control characters: a
/// name copied raw from the input (a tensor, a kernel, a dtype) must be
/// escaped, or a newline in it would forge a second line of output.
inline void checkErrorMessage(std::string_view message) {
  if (message.empty())
    violated("empty error message", message);
  for (unsigned char c : message)
    if (c < 0x20 || c == 0x7f)
      violated("error message is not one printable line", message);
}

} // namespace vitc::fuzz

#endif // VITC_FUZZ_FUZZSUPPORT_H
