//===- Reseal.h - Recompute the checksums of a .vitb artifact ---*- C++ -*-===//
//
// After a deliberate edit of an artifact's bytes (the sensitivity tests of
// tools/vitb-reseal, the resealing fuzzer of fuzz/), its checksums no longer
// match and the runtime refuses it; resealing stores the checksums of the
// current contents. Header-only over the generated schema code and Format.h
// so that both users build without a library.
//
//===----------------------------------------------------------------------===//

#ifndef VITC_ARTIFACT_RESEAL_H
#define VITC_ARTIFACT_RESEAL_H

#include "vitc/Artifact/Format.h"
#include "vitc/Artifact/vitb_generated.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace vitb {

/// Stores the checksums of every kernel module's data, of the constant data
/// and of the plan of the artifact `bytes` in place. Returns an empty string,
/// or what stopped it: not a structurally valid artifact, another format
/// version, or a checksum field missing (FlatBuffers leaves a field that holds
/// its default value out, and only a present field can be overwritten in
/// place). `codeEdited`, if given, is set when a kernel module's data did not
/// match its stored checksum, i.e. its code was edited.
inline std::string resealArtifact(uint8_t *bytes, size_t size,
                                  bool *codeEdited = nullptr) {
  auto structurallyValid = [&] {
    flatbuffers::Verifier::Options options;
    options.max_tables = 100000000;
    flatbuffers::Verifier verifier(bytes, size, options);
    return size >= 8 &&
           flatbuffers::BufferHasIdentifier(bytes, ArtifactIdentifier()) &&
           VerifyArtifactBuffer(verifier);
  };
  if (!structurallyValid())
    return "not a structurally valid .vitb artifact";
  const Artifact *root = GetArtifact(bytes);
  if (root->format_version() != kFormatVersion)
    return "format version " + std::to_string(root->format_version()) +
           ", not " + std::to_string(kFormatVersion);
  // Where each checksum goes and what it is, all found before any is
  // written: a damaged file may lay one field over another table's offsets,
  // and a field looked up after such a write could lie anywhere.
  auto fieldOf = [](const void *table, flatbuffers::voffset_t field) {
    return const_cast<uint8_t *>(
        reinterpret_cast<const flatbuffers::Table *>(table)->GetAddressOf(
            field));
  };
  std::vector<std::pair<uint8_t *, uint64_t>> writes;
  if (root->modules())
    for (const KernelModule *module : *root->modules()) {
      const flatbuffers::Vector<uint8_t> *data = module->data();
      if (!data)
        continue;
      uint64_t checksum = Checksum::of(data->data(), data->size());
      if (codeEdited && checksum != module->checksum())
        *codeEdited = true;
      uint8_t *field = fieldOf(module, KernelModule::VT_CHECKSUM);
      if (!field)
        return "a kernel module has no checksum field";
      writes.emplace_back(field, checksum);
    }
  if (const flatbuffers::Vector<uint8_t> *constants = root->constant_data()) {
    uint8_t *field = fieldOf(root, Artifact::VT_CONSTANT_DATA_CHECKSUM);
    if (!field)
      return "the artifact has no constant-data checksum field";
    writes.emplace_back(field,
                        Checksum::of(constants->data(), constants->size()));
  }
  for (auto [field, checksum] : writes)
    flatbuffers::WriteScalar(field, checksum);
  // Last the plan, which covers the fields just stored, read from a buffer
  // that must still verify (those writes may have changed what they
  // overlapped).
  if (!structurallyValid())
    return "the checksum fields overlap the artifact's structure";
  Artifact *written = GetMutableArtifact(bytes);
  if (!written->mutate_plan_checksum(planChecksum(bytes, size, *written)))
    return "the artifact has no plan checksum field";
  return {};
}

} // namespace vitb

#endif // VITC_ARTIFACT_RESEAL_H
