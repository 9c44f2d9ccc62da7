//===- Artifact.h - Loading and verifying .vitb artifacts -------*- C++ -*-===//

#ifndef VITC_LIB_RUNTIME_ARTIFACT_H
#define VITC_LIB_RUNTIME_ARTIFACT_H

#include "AlignedBytes.h"

#include "vitc/Artifact/Format.h"
#include "vitc/Runtime/vitrt.h"

#include <cstdint>
#include <memory>
#include <string>

namespace vitrt {

/// The failure of a runtime step: the C API's status and message.
struct Error {
  vitrt_status status = VITRT_OK;
  std::string message;

  explicit operator bool() const { return status != VITRT_OK; }
};

/// A verified artifact: every index and byte range in it is in bounds.
struct Artifact {
  AlignedBytes bytes;
  const vitb::Artifact *root = nullptr;

  const uint8_t *constantData(const vitb::TensorInfo &constant) const {
    return root->constant_data()->data() + constant.offset();
  }
};

/// "2306867200 bytes, more than a .vitb can hold (2 GiB less 2 bytes)", for
/// an artifact of `size` bytes above vitb::kMaxArtifactBytes.
std::string tooLargeForArtifact(uint64_t size);

/// Takes ownership of `bytes` and verifies them: their size, FlatBuffers
/// structure, identifier, format version, the consistency of kernels,
/// dispatches, bindings, shapes, constant ranges and metadata, then the
/// checksums of the plan, the kernel modules and the constant data.
Error loadArtifact(AlignedBytes bytes, Artifact &artifact);

/// `name`, which comes from the file, in single quotes and escaped so that
/// a message stays one line; '?' if there is none.
std::string quoted(const flatbuffers::String *name);

/// Bytes of a dense tensor with `dims` of `type` (inputs and outputs: fp32),
/// or -1 if a dimension is negative or the count overflows int64_t, which a
/// verified artifact rules out.
int64_t tensorBytes(const flatbuffers::Vector<int64_t> *dims,
                    vitb::ElementType type = vitb::ElementType::F32);

} // namespace vitrt

#endif // VITC_LIB_RUNTIME_ARTIFACT_H
