//===- Format.h - Conventions of the .vitb format beyond its schema -*- C++
//-*-===//
//
// Shared by the writer (lib/Plan) and the runtime (lib/Runtime), which
// includes nothing of MLIR or LLVM: plain C++ and xxhash.h (header-only
// here, so the runtime links no hashing library).
//
//===----------------------------------------------------------------------===//

#ifndef VITC_ARTIFACT_FORMAT_H
#define VITC_ARTIFACT_FORMAT_H

#include <cstddef>
#include <cstdint>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace vitb {

/// The .vitb layout version the writer writes and the runtime reads (see
/// vitb.fbs). Version 2 added the checksums and the CPU features.
inline constexpr uint32_t kFormatVersion = 2;

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

} // namespace vitb

#endif // VITC_ARTIFACT_FORMAT_H
