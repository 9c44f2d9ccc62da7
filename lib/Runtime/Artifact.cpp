//===- Artifact.cpp - Loading and verifying .vitb artifacts ---------------===//

#include "Artifact.h"

#include "vitc/Artifact/Format.h"
#include "vitc/Support/EscapedText.h"

#include <cstdint>
#include <cstdlib>

namespace vitrt {

AlignedBytes::AlignedBytes(size_t size)
    : storage(static_cast<uint8_t *>(std::aligned_alloc(
          kAlignment, (size + kAlignment - 1) / kAlignment * kAlignment))),
      length(size) {}

void AlignedBytes::Free::operator()(uint8_t *p) const { std::free(p); }

std::string quoted(const flatbuffers::String *name) {
  return "'" + (name ? vitc::escapedText(name->string_view()) : "?") + "'";
}

int64_t tensorBytes(const flatbuffers::Vector<int64_t> *dims,
                    vitb::ElementType type) {
  int64_t bytes = type == vitb::ElementType::F32 ? 4 : 2;
  for (int64_t dim : *dims)
    if (dim < 0 || __builtin_mul_overflow(bytes, dim, &bytes))
      return -1;
  return bytes;
}

namespace {

Error invalid(const std::string &message) {
  return {VITRT_ERROR_INVALID_ARTIFACT, "invalid artifact: " + message};
}

/// "input 'image'", for messages.
std::string describe(const char *kind, const vitb::TensorInfo &tensor) {
  return std::string(kind) + " " + quoted(tensor.name());
}

/// Whether the elements of `vector` (if any) are aligned to `alignment`.
/// FlatBuffers 2.0's verifier checks only the alignment of a vector's
/// 4-byte length, so the 8-byte elements after it may be misaligned, and
/// reading them is undefined behaviour.
template <typename T>
bool isAligned(const flatbuffers::Vector<T> *vector,
               size_t alignment = sizeof(int64_t)) {
  return !vector ||
         reinterpret_cast<uintptr_t>(vector->Data()) % alignment == 0;
}

/// What is wrong with the shape of `tensor` of `type`, or nullptr. Inputs
/// and outputs need every dimension positive (`minDim` 1): callers size
/// their buffers by them and count images by the first.
const char *checkShape(const vitb::TensorInfo &tensor, vitb::ElementType type,
                       int64_t minDim) {
  if (!tensor.dims())
    return " has no shape";
  if (!isAligned(tensor.dims()))
    return " has a misaligned shape";
  for (int64_t dim : *tensor.dims())
    if (dim < minDim)
      return minDim > 0 ? " has a dimension below 1"
                        : " has a negative dimension";
  if (tensorBytes(tensor.dims(), type) < 0)
    return " has more bytes than an int64_t counts";
  return nullptr;
}

/// What is wrong with `binding`, or nullptr if it is in bounds.
const char *checkBinding(const vitb::Artifact &root,
                         const vitb::Binding &binding) {
  int64_t index = binding.index();
  auto tensorMatches = [&](const auto *tensors) {
    return index >= 0 && index < int64_t(tensors->size()) &&
           binding.size() == tensorBytes(tensors->Get(index)->dims());
  };
  switch (binding.kind()) {
  case vitb::BindingKind::Input:
    return tensorMatches(root.inputs()) ? nullptr : "bad input binding";
  case vitb::BindingKind::Output:
    return tensorMatches(root.outputs()) ? nullptr : "bad output binding";
  case vitb::BindingKind::Constant:
    return index >= 0 && index < int64_t(root.constants()->size()) &&
                   binding.size() == root.constants()->Get(index)->size()
               ? nullptr
               : "bad constant binding";
  case vitb::BindingKind::Arena:
    // Differences, not sums: no overflow whatever the fields hold.
    return binding.offset() >= 0 && binding.size() >= 0 &&
                   binding.offset() <= root.arena_bytes() &&
                   binding.size() <= root.arena_bytes() - binding.offset()
               ? nullptr
               : "arena binding outside the arena";
  }
  // Enum values in structs are not checked by the FlatBuffers verifier.
  return "unknown binding kind";
}

/// Checks the parts FlatBuffers' verifier cannot: indices and byte ranges
/// that refer to other parts of the artifact.
Error checkConsistency(const vitb::Artifact &root) {
  if (!root.kernels() || !root.dispatches() || !root.inputs() ||
      !root.outputs() || !root.constants() || !root.constant_data() ||
      !root.modules())
    return invalid("a required table is missing");
  if (root.arena_bytes() < 0)
    return invalid("the arena size is negative");
  // Inputs and outputs are fp32 whatever their element_type field says.
  for (const vitb::TensorInfo *tensor : *root.inputs())
    if (const char *problem = checkShape(*tensor, vitb::ElementType::F32, 1))
      return invalid(describe("input", *tensor) + problem);
  for (const vitb::TensorInfo *tensor : *root.outputs())
    if (const char *problem = checkShape(*tensor, vitb::ElementType::F32, 1))
      return invalid(describe("output", *tensor) + problem);
  // The writer aligns the constants for the kernels' vector loads.
  if (!isAligned(root.constant_data(), AlignedBytes::kAlignment))
    return invalid("the constant data is not " +
                   std::to_string(AlignedBytes::kAlignment) + "-byte aligned");
  int64_t blobSize = root.constant_data()->size();
  for (const vitb::TensorInfo *constant : *root.constants()) {
    // Enum fields are not checked by the FlatBuffers verifier either.
    if (constant->element_type() > vitb::ElementType::MAX)
      return invalid(describe("constant", *constant) +
                     " has an unknown element type");
    if (const char *problem =
            checkShape(*constant, constant->element_type(), 0))
      return invalid(describe("constant", *constant) + problem);
    if (constant->offset() < 0 ||
        constant->offset() % AlignedBytes::kAlignment != 0 ||
        constant->size() !=
            tensorBytes(constant->dims(), constant->element_type()) ||
        constant->offset() > blobSize ||
        constant->size() > blobSize - constant->offset())
      return invalid(describe("constant", *constant) +
                     " lies outside the constant data");
  }
  for (const vitb::Kernel *kernel : *root.kernels()) {
    if (!kernel->symbol() || kernel->num_tiles() < 1)
      return invalid("a kernel has no symbol or no tiles");
    if (!isAligned(kernel->grid()) || !isAligned(kernel->block()))
      return invalid("kernel " + quoted(kernel->symbol()) +
                     " has a misaligned launch configuration");
  }
  for (size_t d = 0; d < root.dispatches()->size(); ++d) {
    const vitb::Dispatch *dispatch = root.dispatches()->Get(d);
    std::string where = "dispatch " + std::to_string(d) + ": ";
    if (dispatch->kernel() >= root.kernels()->size())
      return invalid(where + "kernel index out of range");
    if (!dispatch->bindings() || dispatch->bindings()->size() == 0)
      return invalid(where + "no bindings");
    if (!isAligned(dispatch->bindings(), alignof(vitb::Binding)))
      return invalid(where + "misaligned bindings");
    for (const vitb::Binding *binding : *dispatch->bindings())
      if (const char *problem = checkBinding(root, *binding))
        return invalid(where + problem);
  }
  return {};
}

/// Compares the stored checksums with the contents: a flipped bit in code
/// or weights would otherwise run (or crash) instead of being reported.
Error checkChecksums(const vitb::Artifact &root) {
  for (size_t m = 0; m < root.modules()->size(); ++m) {
    const vitb::KernelModule *module = root.modules()->Get(m);
    const flatbuffers::Vector<uint8_t> *data = module->data();
    if (data &&
        vitb::Checksum::of(data->data(), data->size()) != module->checksum())
      return invalid("kernel module " + std::to_string(m) + " (" +
                     (module->target()
                          ? vitc::escapedText(module->target()->string_view())
                          : "?") +
                     ") does not match its checksum: the file is corrupt");
  }
  const flatbuffers::Vector<uint8_t> *constants = root.constant_data();
  if (vitb::Checksum::of(constants->data(), constants->size()) !=
      root.constant_data_checksum())
    return invalid("the constant data (weights) does not match its "
                   "checksum: the file is corrupt");
  return {};
}

} // namespace

Error loadArtifact(AlignedBytes bytes, Artifact &artifact) {
  if (bytes.size() < 8 || !flatbuffers::BufferHasIdentifier(
                              bytes.data(), vitb::ArtifactIdentifier()))
    return invalid("not a .vitb file (missing the VITB identifier)");
  flatbuffers::Verifier::Options options;
  options.max_tables = 100000000;
  flatbuffers::Verifier verifier(bytes.data(), bytes.size(), options);
  if (!vitb::VerifyArtifactBuffer(verifier))
    return invalid("the FlatBuffers structure is corrupt or truncated");
  const vitb::Artifact *root = vitb::GetArtifact(bytes.data());
  if (root->format_version() != vitb::kFormatVersion)
    return {VITRT_ERROR_UNSUPPORTED,
            "artifact format version " +
                std::to_string(root->format_version()) +
                " is not supported by this runtime (it reads version " +
                std::to_string(vitb::kFormatVersion) + ")"};
  if (Error error = checkConsistency(*root))
    return error;
  if (Error error = checkChecksums(*root))
    return error;
  artifact.bytes = std::move(bytes);
  artifact.root = root;
  return {};
}

} // namespace vitrt
