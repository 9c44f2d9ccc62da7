//===- Format.h - Conventions of the .vitb format beyond its schema -*- C++
//-*-===//
//
// Shared by the writer (lib/Plan) and the runtime (lib/Runtime), which
// includes nothing of MLIR or LLVM: plain C++, the schema's generated
// reader and xxhash.h (header-only here, so the runtime links no hashing
// library).
//
//===----------------------------------------------------------------------===//

#ifndef VITC_ARTIFACT_FORMAT_H
#define VITC_ARTIFACT_FORMAT_H

#include "vitc/Artifact/vitb_generated.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace vitb {

/// The .vitb layout version the writer writes and the runtime reads (see
/// vitb.fbs). Version 2 added the checksums and the CPU features, version 3
/// the plan checksum, the kernels' signatures and the class labels.
inline constexpr uint32_t kFormatVersion = 3;

/// The largest .vitb, which the writer refuses to exceed and the runtime to
/// read: FlatBuffers' offsets are 32-bit and signed, and its verifier takes
/// buffers below 2^31 - 1 bytes.
inline constexpr uint64_t kMaxArtifactBytes = FLATBUFFERS_MAX_BUFFER_SIZE - 1;

/// How readers say a file is above kMaxArtifactBytes, after its size.
inline constexpr const char kTooLargeForArtifact[] =
    "more than a .vitb can hold (2 GiB less 2 bytes)";

/// The x86 instruction-set extensions a CPU artifact records as needed
/// (KernelModule.cpu_features) when its code was compiled with them, by the
/// names LLVM's target features and __builtin_cpu_supports share: the
/// writer lists these names, the runtime expands each into a test of the
/// host. X(name) for each.
// clang-format off
#define VITB_X86_CPU_FEATURES(X)                                               \
  X("sse3") X("ssse3") X("sse4.1") X("sse4.2") X("popcnt") X("avx") X("avx2")  \
  X("fma") X("bmi") X("bmi2") X("avx512f") X("avx512cd") X("avx512bw")         \
  X("avx512dq") X("avx512vl") X("avx512vnni") X("avx512bf16")
// clang-format on

/// The checksum of a kernel module's data or of the constant data: XXH3-64
/// (xxHash), which hashes at memory speed, so verifying ViT-B/16's 330 MiB
/// of weights costs a small part of reading them.
class Checksum {
public:
  Checksum() { XXH3_64bits_reset(&state); }
  Checksum &update(const void *data, size_t size) {
    XXH3_64bits_update(&state, data, size);
    return *this;
  }
  uint64_t digest() const { return XXH3_64bits_digest(&state); }

  static uint64_t of(const void *data, size_t size) {
    return XXH3_64bits(data, size);
  }

private:
  XXH3_state_t state;
};

/// The checksum of an artifact's plan (Artifact.plan_checksum): of all its
/// `size` bytes but the elements of each kernel module's data and of the
/// constant data (their own checksums cover them) and the plan checksum
/// field itself. So it covers every table, string and offset the runtime
/// follows, and the FlatBuffers structure linking them, whatever the
/// schema adds later. `root` is the verified root of `bytes`.
inline uint64_t planChecksum(const uint8_t *bytes, size_t size,
                             const Artifact &root) {
  std::vector<std::pair<const uint8_t *, const uint8_t *>> skipped;
  auto skip = [&](const uint8_t *begin, size_t length) {
    skipped.emplace_back(begin, begin + length);
  };
  if (root.modules())
    for (const KernelModule *module : *root.modules())
      if (module->data())
        skip(module->data()->data(), module->data()->size());
  if (root.constant_data())
    skip(root.constant_data()->data(), root.constant_data()->size());
  // The generated accessors do not expose where a field is stored; the
  // table they derive from (privately) does.
  if (const uint8_t *field =
          reinterpret_cast<const flatbuffers::Table &>(root).GetAddressOf(
              Artifact::VT_PLAN_CHECKSUM))
    skip(field, sizeof(uint64_t));
  // A verified buffer keeps every range inside it, but nothing stops two
  // modules from sharing or overlapping their data.
  std::sort(skipped.begin(), skipped.end());
  Checksum checksum;
  const uint8_t *next = bytes;
  for (auto [begin, end] : skipped) {
    if (begin > next)
      checksum.update(next, begin - next);
    next = std::max(next, end);
  }
  checksum.update(next, bytes + size - next);
  return checksum.digest();
}

} // namespace vitb

#endif // VITC_ARTIFACT_FORMAT_H
