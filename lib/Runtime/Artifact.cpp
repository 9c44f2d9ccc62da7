//===- Artifact.cpp - Loading and verifying .vitb artifacts ---------------===//

#include "Artifact.h"

#include "vitc/Artifact/Format.h"
#include "vitc/Support/EscapedText.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>

namespace vitrt {

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

std::string tooLargeForArtifact(uint64_t size) {
  return std::to_string(size) + " bytes, " + vitb::kTooLargeForArtifact;
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

/// Launch limits of every NVIDIA GPU since sm_70 (CUDA C Programming Guide,
/// "Features and Technical Specifications"): a launch beyond them fails, a
/// shared-memory size beyond them would not load.
constexpr int64_t kMaxGridX = (int64_t(1) << 31) - 1, kMaxGridYZ = 65535;
constexpr int64_t kMaxBlockThreads = 1024, kMaxBlockZ = 64;
constexpr int64_t kMaxSharedMemoryBytes = 227 * 1024;

/// More tiles than any kernel vitc emits (one per row block of a batch of
/// thousands of images), fewer than would make the thread pool's loop
/// run for hours.
constexpr int64_t kMaxTiles = int64_t(1) << 31;

/// What is wrong with `kernel`'s tiles or launch configuration, or nullptr.
const char *checkKernel(const vitb::Kernel &kernel) {
  if (kernel.num_tiles() < 1 || kernel.num_tiles() > kMaxTiles)
    return " has a tile count outside [1, 2^31]";
  if (!kernel.binding_bytes() || !isAligned(kernel.binding_bytes()))
    return " has no signature";
  const auto *grid = kernel.grid(), *block = kernel.block();
  if (!grid || !block || grid->size() != 3 || block->size() != 3)
    return " has no 3-dimensional launch configuration";
  if (!isAligned(grid) || !isAligned(block))
    return " has a misaligned launch configuration";
  for (size_t i = 0; i < 3; ++i)
    if (grid->Get(i) < 1 || grid->Get(i) > (i == 0 ? kMaxGridX : kMaxGridYZ))
      return " has a grid dimension outside the GPU's limits";
  for (int64_t threads : *block)
    if (threads < 1 || threads > kMaxBlockThreads)
      return " has a block dimension outside [1, 1024]";
  if (block->Get(0) * block->Get(1) * block->Get(2) > kMaxBlockThreads ||
      block->Get(2) > kMaxBlockZ)
    return " has more threads per block than a GPU runs";
  if (kernel.shared_memory_bytes() < 0 ||
      kernel.shared_memory_bytes() > kMaxSharedMemoryBytes)
    return " has a shared memory size outside [0, 227 KiB]";
  return nullptr;
}

/// What is wrong with `dispatch` as a call of `kernel`, or an empty string.
/// A correct kernel touches only the bytes its signature names, so bindings
/// of those sizes keep it inside its buffers; an output written over an
/// input the caller owns, a constant or its own operands would still
/// corrupt what others read.
std::string checkSignature(const vitb::Dispatch &dispatch,
                           const vitb::Kernel &kernel) {
  const auto &bindings = *dispatch.bindings();
  const auto &expected = *kernel.binding_bytes();
  std::string name = "kernel " + quoted(kernel.symbol());
  if (bindings.size() != expected.size())
    return std::to_string(bindings.size()) + " bindings for " + name +
           ", which takes " + std::to_string(expected.size());
  for (size_t i = 0; i < bindings.size(); ++i)
    if (bindings.Get(i)->size() != expected.Get(i))
      return "binding " + std::to_string(i) + " has " +
             std::to_string(bindings.Get(i)->size()) + " bytes, " + name +
             " takes " + std::to_string(expected.Get(i));
  const vitb::Binding &output = *bindings.Get(bindings.size() - 1);
  if (output.kind() != vitb::BindingKind::Arena &&
      output.kind() != vitb::BindingKind::Output)
    return "the output is bound to an input or a constant";
  if (output.kind() == vitb::BindingKind::Arena)
    for (size_t i = 0; i + 1 < bindings.size(); ++i) {
      const vitb::Binding &input = *bindings.Get(i);
      // In bounds (checked): no sum overflows.
      if (input.kind() == vitb::BindingKind::Arena &&
          input.offset() < output.offset() + output.size() &&
          output.offset() < input.offset() + input.size())
        return "the output overlaps input " + std::to_string(i);
    }
  return {};
}

/// What is inconsistent in the metadata vit-run and applications read to
/// prepare inputs, or an empty string.
std::string checkMetadata(const vitb::Artifact &root) {
  const vitb::Metadata *meta = root.metadata();
  if (!meta)
    return {};
  if (meta->batch() < 0)
    return "the metadata's batch is negative";
  if (meta->labels() && meta->labels()->size() != 0) {
    // One name per class: per element of the first output's last axis.
    const flatbuffers::Vector<int64_t> *dims =
        root.outputs()->size() ? root.outputs()->Get(0)->dims() : nullptr;
    int64_t classes = dims && dims->size() ? dims->Get(dims->size() - 1) : 0;
    if (int64_t(meta->labels()->size()) != classes)
      return "the metadata has " + std::to_string(meta->labels()->size()) +
             " labels for " + std::to_string(classes) + " classes";
  }
  if (root.inputs()->size() != 1)
    return {};
  const auto &dims = *root.inputs()->Get(0)->dims();
  if (meta->batch() > 0 && dims.size() > 0 && dims.Get(0) != meta->batch())
    return "the metadata's batch " + std::to_string(meta->batch()) +
           " is not the input's " + std::to_string(dims.Get(0));
  std::string layout =
      meta->input_layout() ? meta->input_layout()->str() : std::string();
  if (layout.empty())
    return {};
  if ((layout != "nchw" && layout != "nhwc") || dims.size() != 4)
    return "input layout " + quoted(meta->input_layout()) +
           " does not describe a 4-dimensional image input";
  int64_t channels = dims.Get(layout == "nchw" ? 1 : 3);
  for (const auto *stats : {meta->pixel_mean(), meta->pixel_std()})
    if (stats && stats->size() != 0 && int64_t(stats->size()) != channels)
      return "the metadata has " + std::to_string(stats->size()) +
             " pixel statistics for " + std::to_string(channels) + " channels";
  if (meta->pixel_std())
    for (float std : *meta->pixel_std())
      if (!(std > 0) || !std::isfinite(std))
        return "a pixel standard deviation is not positive and finite";
  return {};
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
  // The writer aligns the constants for the kernels' vector loads; an empty
  // vector has nothing to align (FlatBuffers places it as it comes).
  if (root.constant_data()->size() > 0 &&
      !isAligned(root.constant_data(), AlignedBytes::kAlignment))
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
    if (!kernel->symbol())
      return invalid("a kernel has no symbol");
    if (const char *problem = checkKernel(*kernel))
      return invalid("kernel " + quoted(kernel->symbol()) + problem);
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
    if (std::string problem =
            checkSignature(*dispatch, *root.kernels()->Get(dispatch->kernel()));
        !problem.empty())
      return invalid(where + problem);
  }
  if (std::string problem = checkMetadata(root); !problem.empty())
    return invalid(problem);
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
  // Before the verifier, which asserts it and could not tell this from a
  // truncated file.
  if (bytes.size() > vitb::kMaxArtifactBytes)
    return invalid(tooLargeForArtifact(bytes.size()));
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
  // Consistency first: it is safe on any verified buffer, and names what a
  // hand-made or resealed file got wrong, which the checksums cannot.
  if (Error error = checkConsistency(*root))
    return error;
  if (vitb::planChecksum(bytes.data(), bytes.size(), *root) !=
      root->plan_checksum())
    return invalid("the tables (kernels, dispatches, tensors, metadata, "
                   "checksums) do not match their checksum: the file is "
                   "corrupt");
  if (Error error = checkChecksums(*root))
    return error;
  artifact.bytes = std::move(bytes);
  artifact.root = root;
  return {};
}

} // namespace vitrt
