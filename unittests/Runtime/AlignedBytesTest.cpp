//===- AlignedBytesTest.cpp - Buffers for artifacts and arenas ------------===//
//
// Small buffers are aligned for the constants in them; large ones start on a
// huge page and carry the MADV_HUGEPAGE advice, which the kernel shows as
// the "hg" flag of the buffer's mapping in /proc/self/smaps whatever the
// system's transparent_hugepage setting; sizes no machine has give a null
// buffer, not a crash.
//
//===----------------------------------------------------------------------===//

#include "AlignedBytes.h"

#include "gtest/gtest.h"

#include <cstdint>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

using namespace vitrt;

namespace {

/// The VmFlags line of the mapping of /proc/self/smaps that holds `address`.
std::string vmFlagsOf(const void *address) {
  auto target = reinterpret_cast<uintptr_t>(address);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inMapping = false;
  while (std::getline(smaps, line)) {
    uintptr_t begin, end;
    char dash;
    std::istringstream range(line);
    if (range >> std::hex >> begin >> dash >> end && dash == '-' &&
        line.find(':') > line.find(' ')) {
      inMapping = begin <= target && target < end;
      continue;
    }
    if (inMapping && line.rfind("VmFlags:", 0) == 0)
      return line;
  }
  return "";
}

bool hasFlag(const std::string &vmFlags, const std::string &flag) {
  return (vmFlags + " ").find(" " + flag + " ") != std::string::npos;
}

TEST(AlignedBytes, SmallBuffersAreAlignedForConstants) {
  AlignedBytes bytes(1000);
  ASSERT_NE(bytes.data(), nullptr);
  EXPECT_EQ(bytes.size(), 1000u);
  EXPECT_EQ(
      reinterpret_cast<uintptr_t>(bytes.data()) % AlignedBytes::kAlignment, 0u);
}

TEST(AlignedBytes, LargeBuffersAreAdvisedAsHugePages) {
  AlignedBytes bytes(3 * AlignedBytes::kHugePage + 5);
  ASSERT_NE(bytes.data(), nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(bytes.data()) % AlignedBytes::kHugePage,
            0u);
  std::string flags = vmFlagsOf(bytes.data());
  ASSERT_NE(flags, "") << "no mapping of /proc/self/smaps holds the buffer";
  EXPECT_TRUE(hasFlag(flags, "hg")) << flags;
  // The last byte is in the same advised mapping.
  EXPECT_TRUE(hasFlag(vmFlagsOf(bytes.data() + bytes.size() - 1), "hg"));
}

TEST(AlignedBytes, SmallBuffersAreNotAdvised) {
  AlignedBytes bytes(4096);
  ASSERT_NE(bytes.data(), nullptr);
  std::string flags = vmFlagsOf(bytes.data());
  ASSERT_NE(flags, "");
  EXPECT_FALSE(hasFlag(flags, "hg")) << flags;
}

TEST(AlignedBytes, ImpossibleSizesGiveNoBuffer) {
  EXPECT_EQ(AlignedBytes(std::numeric_limits<size_t>::max()).data(), nullptr);
  EXPECT_EQ(AlignedBytes(size_t(1) << 60).data(), nullptr);
}

} // namespace
