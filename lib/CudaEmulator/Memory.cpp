//===- Memory.cpp - Device memory of the CUDA driver emulator -------------===//

#include "vitc/CudaEmulator/Executor.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace vitc::emulator {

namespace {
constexpr uint64_t kAlignment = 256; // as cuMemAlloc guarantees
constexpr uint64_t kSectorBytes = 32;
} // namespace

Memory::~Memory() {
  for (auto &[base, allocation] : live) {
    delete allocation.touched;
    std::free(reinterpret_cast<void *>(base));
  }
}

uint64_t Memory::allocate(uint64_t size) {
  uint64_t rounded = (size + kAlignment - 1) / kAlignment * kAlignment;
  void *pointer = std::aligned_alloc(kAlignment, rounded ? rounded : 256);
  if (!pointer)
    return 0;
  // Fresh device memory is not zeroed on a GPU; all-ones bytes make a read
  // of memory nobody wrote show up as NaN instead of a plausible zero.
  std::memset(pointer, 0xff, rounded);
  uint64_t base = reinterpret_cast<uint64_t>(pointer);
  live[base] = Allocation{base, size, nullptr};
  freed.erase(base);
  return base;
}

bool Memory::release(uint64_t base) {
  auto found = live.find(base);
  if (found == live.end())
    return false;
  delete found->second.touched;
  freed[base] = found->second.size;
  live.erase(found);
  std::free(reinterpret_cast<void *>(base));
  return true;
}

const Memory::Allocation *Memory::find(uint64_t address, uint64_t size) const {
  auto after = live.upper_bound(address);
  if (after == live.begin())
    return nullptr;
  const Allocation &allocation = std::prev(after)->second;
  if (address - allocation.base > allocation.size ||
      allocation.size - (address - allocation.base) < size)
    return nullptr;
  return &allocation;
}

std::string Memory::explain(uint64_t address, uint64_t size) const {
  char text[160];
  auto after = freed.upper_bound(address);
  if (after != freed.begin()) {
    auto [base, bytes] = *std::prev(after);
    if (address - base < bytes) {
      std::snprintf(text, sizeof(text),
                    "inside the freed allocation of %llu bytes at 0x%llx",
                    (unsigned long long)bytes, (unsigned long long)base);
      return text;
    }
  }
  auto next = live.upper_bound(address);
  if (next != live.begin()) {
    const Allocation &allocation = std::prev(next)->second;
    if (address - allocation.base <= allocation.size + 4096) {
      std::snprintf(text, sizeof(text),
                    "%llu bytes past the end of the %llu-byte allocation at "
                    "0x%llx",
                    (unsigned long long)(address + size - allocation.base -
                                         allocation.size),
                    (unsigned long long)allocation.size,
                    (unsigned long long)allocation.base);
      return text;
    }
  }
  return "outside every allocation";
}

void Memory::startCountingSectors() {
  for (auto &[base, allocation] : live) {
    size_t words = (allocation.size / kSectorBytes + 64) / 64;
    if (!allocation.touched)
      allocation.touched = new std::vector<std::atomic<uint64_t>>(words);
    for (std::atomic<uint64_t> &word : *allocation.touched)
      word.store(0, std::memory_order_relaxed);
  }
}

uint64_t Memory::countTouchedBytes() const {
  uint64_t sectors = 0;
  for (const auto &[base, allocation] : live)
    if (allocation.touched)
      for (const std::atomic<uint64_t> &word : *allocation.touched)
        sectors += __builtin_popcountll(word.load(std::memory_order_relaxed));
  return sectors * kSectorBytes;
}

void KernelCounters::add(const KernelCounters &other) {
  launches += other.launches;
  for (size_t i = 0; i < size_t(InstructionClass::Count); ++i)
    threadInstructions[i] += other.threadInstructions[i];
  warpInstructions += other.warpInstructions;
  fp32Flops += other.fp32Flops;
  globalLoadRequests += other.globalLoadRequests;
  globalStoreRequests += other.globalStoreRequests;
  globalLoadSectors += other.globalLoadSectors;
  globalStoreSectors += other.globalStoreSectors;
  sharedRequests += other.sharedRequests;
  sharedWavefronts += other.sharedWavefronts;
  barriers += other.barriers;
  uniqueGlobalBytes += other.uniqueGlobalBytes;
  for (size_t i = 0; i < size_t(TensorInput::Count); ++i) {
    mmaInstructions[i] += other.mmaInstructions[i];
    mmaMacs[i] += other.mmaMacs[i];
  }
  ldmatrixRequests += other.ldmatrixRequests;
  ldmatrixMatrices += other.ldmatrixMatrices;
  ldmatrixWavefronts += other.ldmatrixWavefronts;
  asyncCopyRequests += other.asyncCopyRequests;
  asyncCopyBytes += other.asyncCopyBytes;
  asyncCopySectors += other.asyncCopySectors;
}

} // namespace vitc::emulator
