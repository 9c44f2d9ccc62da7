//===- AlignedBytes.cpp - Aligned buffers for artifacts and arenas --------===//

#include "AlignedBytes.h"

#include <cstdlib>
#include <sys/mman.h>

namespace vitrt {

AlignedBytes::AlignedBytes(size_t size) : length(size) {
  size_t alignment = size >= kHugePage ? kHugePage : kAlignment;
  size_t rounded;
  if (__builtin_add_overflow(size, alignment - 1, &rounded))
    return; // no machine has that much: data() stays null
  rounded -= rounded % alignment;
  storage.reset(static_cast<uint8_t *>(std::aligned_alloc(alignment, rounded)));
  // Advice only: a kernel without transparent huge pages refuses it, and
  // the buffer works the same with 4 KiB pages.
  if (storage && alignment == kHugePage)
    madvise(storage.get(), rounded, MADV_HUGEPAGE);
}

void AlignedBytes::Free::operator()(uint8_t *p) const { std::free(p); }

} // namespace vitrt
