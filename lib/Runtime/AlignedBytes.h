//===- AlignedBytes.h - Aligned buffers for artifacts and arenas -*- C++
//-*-===//

#ifndef VITC_LIB_RUNTIME_ALIGNEDBYTES_H
#define VITC_LIB_RUNTIME_ALIGNEDBYTES_H

#include <cstddef>
#include <cstdint>
#include <memory>

namespace vitrt {

/// Bytes with the alignment the constants in them were laid out for.
///
/// Buffers of at least `kHugePage` bytes (an artifact's weights, a batch's
/// arena) start on a huge-page boundary and are advised as transparent huge
/// pages (`MADV_HUGEPAGE`, which takes effect where the system's
/// transparent_hugepage setting is `madvise` or `always`): the kernels
/// stream each linear's weights (9 MiB for ViT-B/16's fc1) once per call,
/// and with 4 KiB pages that walk misses the TLB every 4 KiB.
class AlignedBytes {
public:
  static constexpr size_t kAlignment = 64;
  static constexpr size_t kHugePage = size_t(2) << 20;

  AlignedBytes() = default;
  explicit AlignedBytes(size_t size);
  uint8_t *data() const { return storage.get(); }
  size_t size() const { return length; }

private:
  struct Free {
    void operator()(uint8_t *p) const;
  };
  std::unique_ptr<uint8_t, Free> storage;
  size_t length = 0;
};

} // namespace vitrt

#endif // VITC_LIB_RUNTIME_ALIGNEDBYTES_H
