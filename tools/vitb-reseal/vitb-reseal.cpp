//===- vitb-reseal.cpp - Recompute a .vitb artifact's checksums -----------===//
//
// The runtime refuses an artifact whose kernel modules or constant data do
// not match their checksums. Tests that break a kernel on purpose (to show
// that the numerics checks catch it) and fuzzers that mutate artifacts past
// the checksums edit the bytes, then run this to store the new checksums:
//
//   vitb-reseal ARTIFACT      rewrites ARTIFACT in place
//
// Nothing else needs it: vitc writes correct checksums. Plain C++ over the
// generated FlatBuffers code and include/vitc/Artifact/Format.h.
//
//===----------------------------------------------------------------------===//

#include "vitc/Artifact/Format.h"
#include "vitc/Artifact/vitb_generated.h"

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

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
  std::string path = argv[1];
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return fail(path + ": cannot open");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  flatbuffers::Verifier::Options options;
  options.max_tables = 100000000;
  flatbuffers::Verifier verifier(bytes.data(), bytes.size(), options);
  if (!flatbuffers::BufferHasIdentifier(bytes.data(),
                                        vitb::ArtifactIdentifier()) ||
      !vitb::VerifyArtifactBuffer(verifier))
    return fail(path + ": not a structurally valid .vitb artifact");
  vitb::Artifact *root = vitb::GetMutableArtifact(bytes.data());
  if (root->format_version() != vitb::kFormatVersion)
    return fail(path + ": format version " +
                std::to_string(root->format_version()) + ", not " +
                std::to_string(vitb::kFormatVersion));
  // The fields exist (vitc writes non-zero checksums), so they can be
  // overwritten in place without moving anything.
  if (auto *modules = root->mutable_modules())
    for (flatbuffers::uoffset_t m = 0; m < modules->size(); ++m) {
      vitb::KernelModule *module = modules->GetMutableObject(m);
      const flatbuffers::Vector<uint8_t> *data = module->data();
      if (data && !module->mutate_checksum(
                      vitb::Checksum::of(data->data(), data->size())))
        return fail(path + ": a kernel module has no checksum field");
    }
  if (const flatbuffers::Vector<uint8_t> *constants = root->constant_data())
    if (!root->mutate_constant_data_checksum(
            vitb::Checksum::of(constants->data(), constants->size())))
      return fail(path + ": the artifact has no constant-data checksum field");
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char *>(bytes.data()), bytes.size());
  if (!out.flush())
    return fail(path + ": cannot write");
  return 0;
}
