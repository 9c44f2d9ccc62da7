//===- vitb-reseal.cpp - Recompute a .vitb artifact's checksums -----------===//
//
// The runtime refuses an artifact whose kernel modules or constant data do
// not match their checksums. Tests that break a kernel on purpose (to show
// that the numerics checks catch it) and fuzzers that mutate artifacts past
// the checksums edit the bytes, then run this to store the new checksums:
//
//   vitb-reseal ARTIFACT      rewrites ARTIFACT in place
//
// Nothing else needs it: vitc writes correct checksums. Plain C++ over
// include/vitc/Artifact/Reseal.h, which the resealing fuzzer shares, and
// vit-run's file helpers (tools/vit-run/Support.h).
//
//===----------------------------------------------------------------------===//

#include "Support.h"
#include "vitc/Artifact/Reseal.h"

#include <cstdio>
#include <string>

namespace {

int fail(const std::string &message) {
  std::fprintf(stderr, "vitb-reseal: error: %s\n", message.c_str());
  return 1;
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 2 || std::string(argv[1]) == "--help" ||
      std::string(argv[1]) == "-h") {
    std::fprintf(argc == 2 ? stdout : stderr,
                 "usage: vitb-reseal ARTIFACT\n\n"
                 "Recomputes the checksums of the kernel modules and the "
                 "constant data of a .vitb\nartifact after a deliberate edit, "
                 "in place.\n");
    return argc == 2 ? 0 : 1;
  }
  std::string path = argv[1], bytes, error;
  // The size before anything is read.
  if (!vitrun::readFile(path, bytes, error, vitb::kMaxArtifactBytes,
                        vitb::kTooLargeForArtifact))
    return fail(error);
  if (std::string problem = vitb::resealArtifact(
          reinterpret_cast<uint8_t *>(bytes.data()), bytes.size());
      !problem.empty())
    return fail(path + ": " + problem);
  if (!vitrun::writeFile(path, {bytes}, error))
    return fail(error);
  return 0;
}
