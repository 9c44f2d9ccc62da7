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
  flatbuffers::Verifier::Options options;
  options.max_tables = 100000000;
  flatbuffers::Verifier verifier(bytes, size, options);
  if (size < 8 ||
      !flatbuffers::BufferHasIdentifier(bytes, ArtifactIdentifier()) ||
      !VerifyArtifactBuffer(verifier))
    return "not a structurally valid .vitb artifact";
  Artifact *root = GetMutableArtifact(bytes);
  if (root->format_version() != kFormatVersion)
    return "format version " + std::to_string(root->format_version()) +
           ", not " + std::to_string(kFormatVersion);
  if (auto *modules = root->mutable_modules())
    for (flatbuffers::uoffset_t m = 0; m < modules->size(); ++m) {
      KernelModule *module = modules->GetMutableObject(m);
      const flatbuffers::Vector<uint8_t> *data = module->data();
      if (!data)
        continue;
      uint64_t checksum = Checksum::of(data->data(), data->size());
      if (codeEdited && checksum != module->checksum())
        *codeEdited = true;
      if (!module->mutate_checksum(checksum))
        return "a kernel module has no checksum field";
    }
  if (const flatbuffers::Vector<uint8_t> *constants = root->constant_data())
    if (!root->mutate_constant_data_checksum(
            Checksum::of(constants->data(), constants->size())))
      return "the artifact has no constant-data checksum field";
  // Last: the plan covers the fields stored above.
  if (!root->mutate_plan_checksum(planChecksum(bytes, size, *root)))
    return "the artifact has no plan checksum field";
  return {};
}

} // namespace vitb

#endif // VITC_ARTIFACT_RESEAL_H
