//===- Executor.cpp - Running decoded PTX kernels on the CPU --------------===//
//
// Scheduling. A block's warps run one after another, each until all of its
// lanes have exited or wait (at a barrier, or at a warp collective whose
// member mask has not fully arrived). Within a warp, the lanes at the
// lowest program counter run together, one instruction for all of them, so
// that decoding is shared by up to 32 lanes; lanes that branch apart are
// regrouped by the same rule, which lets every lane progress as independent
// thread scheduling (sm_70+) allows. When every warp waits, either all
// live threads are at a barrier (it is released and a new race epoch
// begins), or the block can never finish, which is reported.
//
// Checking. Global addresses must lie in a live allocation, shared ones in
// the block's shared size; two threads touching the same shared byte in the
// same barrier epoch, at least one writing, is a race.
//
//===----------------------------------------------------------------------===//

#include "vitc/CudaEmulator/Executor.h"

#include "vitc/Support/CudaDriverAbi.h"
#include "vitc/Support/HalfPrecision.h"

#include <algorithm>
#include <cfenv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <thread>

namespace vitc::emulator {

namespace {

using namespace vitc::cuda_abi;

/// Generic addresses of shared memory: the window starts far above any
/// host (and so any global) address.
constexpr uint64_t kSharedWindow = 1ull << 56;
constexpr uint32_t kManyReaders = ~0u;
constexpr int kErrorMisalignedAddress = 716;

enum LaneState : uint8_t { Running, AtBarrier, AtCollective, Exited };

// --- Value helpers -------------------------------------------------------

float asF32(uint64_t bits) {
  uint32_t low = uint32_t(bits);
  float value;
  std::memcpy(&value, &low, 4);
  return value;
}
uint64_t fromF32(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  return bits;
}
double asF64(uint64_t bits) {
  double value;
  std::memcpy(&value, &bits, 8);
  return value;
}
uint64_t fromF64(double value) {
  uint64_t bits;
  std::memcpy(&bits, &value, 8);
  return bits;
}
uint64_t truncateTo(uint64_t value, unsigned bytes) {
  return bytes >= 8 ? value : value & ((1ull << (8 * bytes)) - 1);
}
int64_t signExtend(uint64_t value, unsigned bytes) {
  if (bytes >= 8)
    return int64_t(value);
  unsigned shift = 64 - 8 * bytes;
  return int64_t(value << shift) >> shift;
}
float flushF32(float value) {
  return std::fpclassify(value) == FP_SUBNORMAL ? std::copysign(0.0f, value)
                                                : value;
}

/// Runs `operation` under an IEEE rounding mode other than the default.
template <typename F> auto withRounding(Rounding rounding, F operation) {
  int mode = rounding == Rounding::Rz   ? FE_TOWARDZERO
             : rounding == Rounding::Rm ? FE_DOWNWARD
             : rounding == Rounding::Rp ? FE_UPWARD
                                        : FE_TONEAREST;
  if (mode == FE_TONEAREST)
    return operation();
  std::fesetround(mode);
  auto result = operation();
  std::fesetround(FE_TONEAREST);
  return result;
}

// f32ToF16, f16ToF32, f32ToBf16 and bf16ToF32: vitc/Support/HalfPrecision.h,
// shared with the compiler, which rounds weights with them.

/// `value` rounded toward zero to a float whose last bit is set when that
/// was inexact ("round to odd"). Rounding the result once more to a format
/// with at least two fewer significand bits (f16, bf16) gives what rounding
/// `value` directly would (Boldo and Melquiond, "When double rounding is
/// odd", 2005), so f32ToF16 and f32ToBf16 stay the only roundings to 16 bits.
float roundToOdd(double value) {
  float nearest = float(value);
  if (double(nearest) == value || std::isnan(value))
    return nearest;
  float truncated = std::fabs(double(nearest)) > std::fabs(value)
                        ? std::nextafter(nearest, 0.0f)
                        : nearest;
  return asF32(fromF32(truncated) | 1);
}

uint16_t f64ToF16(double value) { return f32ToF16(roundToOdd(value)); }
uint16_t f64ToBf16(double value) { return f32ToBf16(roundToOdd(value)); }

/// cvt.{rna,rn,rz}.tf32.f32: the f32 rounded to a 10-bit significand, its
/// low 13 bits zero; infinities kept, NaN canonical.
uint32_t f32ToTf32(uint32_t bits, Rounding rounding) {
  if ((bits & 0x7fffffff) > 0x7f800000)
    return 0x7fffe000;
  if ((bits & 0x7f800000) != 0x7f800000) {
    // Adding half a unit of the kept part to the bits carries into the
    // exponent where it must, up to infinity.
    if (rounding == Rounding::Rna)
      bits += 0x1000;
    else if (rounding == Rounding::Rn)
      bits += 0xfff + ((bits >> 13) & 1);
  }
  return bits & 0xffffe000;
}

/// An element of an mma fragment: f16 and bf16 in the low 16 bits of
/// `bits`; of a tf32 register the tensor cores read the upper 19 bits only.
double mmaElement(Type type, uint32_t bits) {
  switch (type) {
  case Type::F16:
    return f16ToF32(uint16_t(bits));
  case Type::BF16:
    return bf16ToF32(uint16_t(bits));
  case Type::TF32:
    return asF32(bits & 0xffffe000);
  default:
    return asF32(bits);
  }
}

template <typename T> T roundIntegral(T value, Rounding rounding) {
  switch (rounding) {
  case Rounding::Rzi:
    return std::trunc(value);
  case Rounding::Rmi:
    return std::floor(value);
  case Rounding::Rpi:
    return std::ceil(value);
  default:
    return std::nearbyint(value); // ties to even
  }
}

/// Float to integer: rounded, then clamped to the destination's range;
/// NaN gives 0 (PTX cvt semantics).
uint64_t floatToInteger(double value, Rounding rounding, Type type) {
  if (std::isnan(value))
    return 0;
  value = roundIntegral(value, rounding);
  unsigned bytes = sizeOf(type);
  if (isSigned(type)) {
    double limit = std::ldexp(1.0, 8 * bytes - 1);
    int64_t highest = bytes >= 8 ? INT64_MAX : (1ll << (8 * bytes - 1)) - 1;
    if (value >= limit)
      return truncateTo(uint64_t(highest), bytes);
    if (value < -limit)
      return truncateTo(uint64_t(-highest - 1), bytes);
    return truncateTo(uint64_t(int64_t(value)), bytes);
  }
  double high = std::ldexp(1.0, 8 * bytes);
  if (value <= 0)
    return 0;
  if (value >= high)
    return bytes >= 8 ? UINT64_MAX : (1ull << (8 * bytes)) - 1;
  return uint64_t(value);
}

// --- Per-block state -------------------------------------------------------

struct Warp {
  uint32_t pc[32];
  uint8_t state[32];
  uint32_t validMask = 0;
  uint32_t firstThread = 0;
  /// Completed bar.warp.sync count: shared accesses of one warp's lanes
  /// made at different generations are ordered.
  uint32_t syncGeneration = 0;
  std::vector<uint64_t> registers;
};

/// The last write and the reads of one shared byte in the current barrier
/// epoch, with the accessing warp's bar.warp.sync generation, and the
/// thread (plus one) whose cp.async to the byte has not completed.
struct Shadow {
  uint32_t writeEpoch = 0, writer = 0, writeGeneration = 0;
  uint32_t readEpoch = 0, reader = 0, readGeneration = 0;
  uint32_t asyncWriter = 0;
};

/// One cp.async in flight: the source bytes were read when it was issued
/// (zero-filled past src-size); they land in shared memory when its group
/// completes.
struct AsyncCopy {
  uint32_t offset = 0;
  uint8_t size = 0;
  uint8_t data[16] = {};
};
using AsyncGroup = std::vector<AsyncCopy>;

/// A thread's cp.async state: the copies since its last commit_group, and
/// its committed groups, oldest first.
struct AsyncCopies {
  AsyncGroup open;
  std::vector<AsyncGroup> committed;
};

/// Whether `opcode` is a .sync.aligned warp instruction: all 32 lanes of a
/// full warp execute it together, none exited, under one predicate value.
bool isAlignedCollective(Opcode opcode) {
  return opcode == Opcode::Ldmatrix || opcode == Opcode::Mma;
}

const char *mnemonic(Opcode opcode) {
  return opcode == Opcode::Mma ? "mma.sync" : "ldmatrix";
}

class BlockRunner {
public:
  BlockRunner(const Kernel &kernel, const LaunchConfig &config, Memory &memory,
              bool counting)
      : kernel(kernel), config(config), memory(memory), counting(counting) {
    threadsPerBlock = config.block[0] * config.block[1] * config.block[2];
    unsigned numWarps = (threadsPerBlock + 31) / 32;
    warps.resize(numWarps);
    for (unsigned w = 0; w < numWarps; ++w) {
      warps[w].firstThread = w * 32;
      unsigned lanes = std::min(32u, threadsPerBlock - w * 32);
      warps[w].validMask = lanes == 32 ? ~0u : (1u << lanes) - 1;
      warps[w].registers.assign(size_t(kernel.numRegisters) * 32, 0);
      for (auto [index, bits] : kernel.constantRegisters)
        std::fill_n(warps[w].registers.begin() + size_t(index) * 32, 32, bits);
    }
    sharedBytes = kernel.dynamicSharedOffset + config.dynamicSharedBytes;
    if (!config.dynamicSharedBytes)
      sharedBytes = kernel.staticSharedBytes;
    shared.resize(sharedBytes);
    shadow.resize(sharedBytes);
    if (kernel.usesAsyncCopies)
      asyncCopies.resize(threadsPerBlock);
  }

  /// Runs block `ctaid`; returns false after recording a fault.
  bool run(const uint32_t ctaid[3], std::optional<Fault> &fault) {
    std::copy(ctaid, ctaid + 3, this->ctaid);
    this->fault = &fault;
    // Shared memory starts with all-ones bytes, like global memory.
    std::fill(shared.begin(), shared.end(), 0xff);
    std::fill(shadow.begin(), shadow.end(), Shadow{});
    // Copies that the previous block's threads never waited for never
    // complete: nothing can wait for them once their thread has exited.
    for (AsyncCopies &copies : asyncCopies) {
      copies.open.clear();
      copies.committed.clear();
    }
    epoch = 1;
    for (Warp &warp : warps) {
      std::fill(warp.pc, warp.pc + 32, 0);
      warp.syncGeneration = 0;
      for (unsigned lane = 0; lane < 32; ++lane)
        warp.state[lane] =
            (warp.validMask >> lane) & 1 ? Running : uint8_t(Exited);
    }
    for (;;) {
      for (Warp &warp : warps)
        if (!runWarp(warp))
          return false;
      unsigned exited = 0, atCollective = 0;
      const Warp *collectiveWarp = nullptr;
      uint32_t barrierPc = 0, exitedThread = 0;
      for (const Warp &warp : warps)
        for (unsigned lane = 0; lane < 32; ++lane) {
          if (!((warp.validMask >> lane) & 1))
            continue;
          switch (warp.state[lane]) {
          case Exited:
            exitedThread = warp.firstThread + lane;
            ++exited;
            break;
          case AtBarrier:
            barrierPc = warp.pc[lane];
            break;
          case AtCollective:
            collectiveWarp = &warp;
            ++atCollective;
            break;
          }
        }
      if (exited == threadsPerBlock)
        return true;
      if (atCollective)
        return stuckCollective(*collectiveWarp);
      if (exited) {
        return report(kErrorLaunchFailed,
                      "divergent barrier: thread " + threadText(exitedThread) +
                          " exited without reaching the bar.sync that the "
                          "block's other threads wait at",
                      kernel.code[barrierPc].line, firstWaiter());
      }
      // Every live thread waits at a barrier: release them all.
      if (counting)
        ++counters.barriers;
      ++epoch;
      for (Warp &warp : warps)
        for (unsigned lane = 0; lane < 32; ++lane)
          if (warp.state[lane] == AtBarrier) {
            warp.state[lane] = Running;
            ++warp.pc[lane];
          }
    }
  }

  KernelCounters counters;

private:
  // --- Reporting -----------------------------------------------------------
  std::string threadText(uint32_t linear) const {
    uint32_t x = linear % config.block[0];
    uint32_t y = (linear / config.block[0]) % config.block[1];
    uint32_t z = linear / (config.block[0] * config.block[1]);
    return "(" + std::to_string(x) + "," + std::to_string(y) + "," +
           std::to_string(z) + ")";
  }

  uint32_t firstWaiter() const {
    for (const Warp &warp : warps)
      for (unsigned lane = 0; lane < 32; ++lane)
        if (((warp.validMask >> lane) & 1) && warp.state[lane] == AtBarrier)
          return warp.firstThread + lane;
    return 0;
  }

  bool report(int code, const std::string &what, uint32_t line,
              uint32_t thread) {
    std::string message =
        what + " in kernel '" + kernel.name + "' at PTX line " +
        std::to_string(line) + ", block (" + std::to_string(ctaid[0]) + "," +
        std::to_string(ctaid[1]) + "," + std::to_string(ctaid[2]) +
        "), thread " + threadText(thread);
    *fault = Fault{code, message};
    return false;
  }

  bool stuckCollective(const Warp &warp) {
    for (unsigned lane = 0; lane < 32; ++lane)
      if (warp.state[lane] == AtCollective) {
        const Instruction &instruction = kernel.code[warp.pc[lane]];
        return report(kErrorLaunchFailed,
                      "deadlock: a warp collective waits for lanes of its "
                      "member mask that exited or wait at a barrier",
                      instruction.line, warp.firstThread + lane);
      }
    return false;
  }

  // --- Operands ------------------------------------------------------------
  uint64_t &reg(int32_t index, unsigned lane) {
    return current->registers[size_t(index) * 32 + lane];
  }

  uint64_t special(uint8_t which, unsigned lane) const {
    uint32_t linear = current->firstThread + lane;
    switch (which) {
    case TidX:
      return linear % config.block[0];
    case TidY:
      return (linear / config.block[0]) % config.block[1];
    case TidZ:
      return linear / (config.block[0] * config.block[1]);
    case NtidX:
    case NtidY:
    case NtidZ:
      return config.block[which - NtidX];
    case CtaidX:
    case CtaidY:
    case CtaidZ:
      return ctaid[which - CtaidX];
    case NctaidX:
    case NctaidY:
    case NctaidZ:
      return config.grid[which - NctaidX];
    case LaneId:
      return linear % 32;
    case WarpId:
      return linear / 32;
    case NWarpId:
      return warps.size();
    }
    return 0;
  }

  uint64_t value(const Operand &operand, unsigned lane) {
    switch (operand.kind) {
    case Operand::Register:
      return reg(operand.reg, lane);
    case Operand::NotRegister:
      return reg(operand.reg, lane) == 0;
    case Operand::Immediate:
      return operand.bits;
    case Operand::Special:
      return special(operand.special, lane);
    default:
      return 0;
    }
  }

  void write(const Operand &operand, unsigned lane, uint64_t bits) {
    if (operand.kind == Operand::Register)
      reg(operand.reg, lane) = bits;
  }

  template <typename F> static void forLanes(uint32_t mask, F body) {
    if (mask == ~0u) {
      for (unsigned lane = 0; lane < 32; ++lane)
        body(lane);
      return;
    }
    while (mask) {
      unsigned lane = unsigned(__builtin_ctz(mask));
      mask &= mask - 1;
      body(lane);
    }
  }

  uint32_t guardMask(const Instruction &instruction, uint32_t group) {
    if (instruction.guard < 0)
      return group;
    uint32_t mask = 0;
    forLanes(group, [&](unsigned lane) {
      bool predicate = reg(instruction.guard, lane) != 0;
      if (predicate != instruction.guardNegated)
        mask |= 1u << lane;
    });
    return mask;
  }

  // --- Warp scheduling -----------------------------------------------------
  bool runWarp(Warp &warp) {
    current = &warp;
    for (;;) {
      uint32_t minPc = UINT32_MAX;
      for (unsigned lane = 0; lane < 32; ++lane)
        if (warp.state[lane] == Running)
          minPc = std::min(minPc, warp.pc[lane]);
      if (minPc == UINT32_MAX) {
        // Lanes waiting at a collective for lanes that have since exited
        // can go on: only non-exited members take part.
        switch (retryCollectives(warp)) {
        case Retry::NoneReady:
          return true;
        case Retry::Faulted:
          return false;
        case Retry::Completed:
          continue;
        }
      }
      uint32_t group = 0, othersMin = UINT32_MAX;
      for (unsigned lane = 0; lane < 32; ++lane) {
        if (warp.pc[lane] == minPc &&
            (warp.state[lane] == Running || warp.state[lane] == AtCollective))
          group |= 1u << lane;
        else if (warp.state[lane] == Running)
          othersMin = std::min(othersMin, warp.pc[lane]);
      }
      if (!runGroup(warp, group, minPc, othersMin))
        return false;
    }
  }

  uint32_t exitedLanes(const Warp &warp) const {
    uint32_t mask = 0;
    for (unsigned lane = 0; lane < 32; ++lane)
      if (warp.state[lane] == Exited)
        mask |= 1u << lane;
    return mask;
  }

  /// The lanes a collective with member mask `members` waits for.
  uint32_t requiredLanes(const Warp &warp, uint32_t members) const {
    return members & warp.validMask & ~exitedLanes(warp);
  }

  enum class Retry { NoneReady, Completed, Faulted };

  /// Completes the first waiting collective whose remaining members have
  /// all arrived (Faulted: ldmatrix's accesses recorded a fault).
  Retry retryCollectives(Warp &warp) {
    for (unsigned first = 0; first < 32; ++first) {
      if (warp.state[first] != AtCollective)
        continue;
      uint32_t pc = warp.pc[first], group = 0;
      for (unsigned lane = 0; lane < 32; ++lane)
        if (warp.state[lane] == AtCollective && warp.pc[lane] == pc)
          group |= 1u << lane;
      const Instruction &instruction = kernel.code[pc];
      // An aligned instruction completes once all 32 lanes have arrived,
      // in one group or in several that diverged before it (each waited
      // for the others); lanes that exited leave it waiting for ever.
      if (isAlignedCollective(instruction.opcode)) {
        if (group != ~0u)
          continue;
      } else {
        uint32_t members = uint32_t(
            value(instruction.operands[instruction.numOperands - 1], first));
        if (requiredLanes(warp, members) & ~group)
          continue;
      }
      if (!completeCollective(warp, instruction, group))
        return Retry::Faulted;
      forLanes(group, [&](unsigned lane) {
        warp.state[lane] = Running;
        warp.pc[lane] = pc + 1;
      });
      return Retry::Completed;
    }
    return Retry::NoneReady;
  }

  /// Returns false after recording a fault (of ldmatrix's accesses).
  bool completeCollective(Warp &warp, const Instruction &instruction,
                          uint32_t lanes) {
    switch (instruction.opcode) {
    case Opcode::BarWarpSync:
      ++warp.syncGeneration; // orders the members' shared accesses
      return true;
    case Opcode::Ldmatrix:
      return ldmatrix(instruction);
    case Opcode::Mma:
      mma(instruction);
      return true;
    default:
      collective(instruction, lanes);
      return true;
    }
  }

  /// Runs the lanes in `group`, all at `pc`, until they reach another
  /// group's lanes, diverge, wait or exit; leaves their program counters
  /// and states in `warp`.
  bool runGroup(Warp &warp, uint32_t group, uint32_t pc, uint32_t othersMin) {
    auto storePc = [&](uint32_t mask, uint32_t value) {
      forLanes(mask, [&](unsigned lane) { warp.pc[lane] = value; });
    };
    for (;;) {
      if (pc >= kernel.code.size()) {
        // Falling off the end of the body is a return.
        forLanes(group, [&](unsigned lane) { warp.state[lane] = Exited; });
        return true;
      }
      const Instruction &instruction = kernel.code[pc];
      uint32_t active = guardMask(instruction, group);
      if (counting && active) {
        ++counters.warpInstructions;
        counters.threadInstructions[size_t(instruction.cost)] +=
            __builtin_popcount(active);
      }
      switch (instruction.opcode) {
      case Opcode::Bra: {
        if (active == group || active == 0) {
          pc = active ? instruction.target : pc + 1;
          if (pc >= othersMin) {
            storePc(group, pc);
            return true;
          }
          continue;
        }
        storePc(active, instruction.target);
        storePc(group & ~active, pc + 1);
        return true;
      }
      case Opcode::Ret:
      case Opcode::Exit:
        forLanes(active, [&](unsigned lane) { warp.state[lane] = Exited; });
        storePc(group & ~active, pc + 1);
        return true;
      case Opcode::BarSync:
        forLanes(active, [&](unsigned lane) { warp.state[lane] = AtBarrier; });
        storePc(active, pc);
        storePc(group & ~active, pc + 1);
        return true;
      case Opcode::BarWarpSync:
      case Opcode::Shfl:
      case Opcode::Vote: {
        if (!active) {
          ++pc;
          break;
        }
        const Operand &maskOperand =
            instruction.operands[instruction.numOperands - 1];
        uint32_t members =
            uint32_t(value(maskOperand, unsigned(__builtin_ctz(active))));
        if (active & ~members) {
          unsigned lane = unsigned(__builtin_ctz(active & ~members));
          return report(kErrorLaunchFailed,
                        "a lane executes a warp collective whose member mask "
                        "excludes it",
                        instruction.line, warp.firstThread + lane);
        }
        if (requiredLanes(warp, members) & ~active) {
          // Not everyone is here yet: wait for the others.
          forLanes(active,
                   [&](unsigned lane) { warp.state[lane] = AtCollective; });
          storePc(group, pc);
          storePc(group & ~active, pc + 1);
          forLanes(group & ~active,
                   [&](unsigned lane) { warp.state[lane] = Running; });
          return true;
        }
        completeCollective(warp, instruction, active);
        forLanes(group, [&](unsigned lane) { warp.state[lane] = Running; });
        ++pc;
        break;
      }
      case Opcode::Ldmatrix:
      case Opcode::Mma: {
        if (!active) {
          ++pc;
          break;
        }
        if (warp.validMask != ~0u)
          return report(kErrorLaunchFailed,
                        std::string(mnemonic(instruction.opcode)) +
                            " needs all 32 lanes of a warp, and this warp "
                            "has " +
                            std::to_string(__builtin_popcount(warp.validMask)) +
                            " threads",
                        instruction.line, warp.firstThread);
        if (active != group) {
          unsigned lane = unsigned(__builtin_ctz(group & ~active));
          return report(kErrorLaunchFailed,
                        std::string(mnemonic(instruction.opcode)) +
                            " is .aligned, but its guard predicate is false "
                            "for some lanes of the warp and true for others",
                        instruction.line, warp.firstThread + lane);
        }
        if (active != ~0u) {
          // Not everyone is here yet: wait for the others.
          forLanes(active,
                   [&](unsigned lane) { warp.state[lane] = AtCollective; });
          storePc(group, pc);
          return true;
        }
        if (!completeCollective(warp, instruction, active))
          return false;
        forLanes(group, [&](unsigned lane) { warp.state[lane] = Running; });
        ++pc;
        break;
      }
      default:
        if (active && !execute(instruction, active))
          return false;
        ++pc;
        break;
      }
      if (pc >= othersMin) {
        storePc(group, pc);
        return true;
      }
    }
  }

  void collective(const Instruction &instruction, uint32_t active) {
    const Operand *operands = instruction.operands;
    switch (instruction.opcode) {
    case Opcode::Shfl: {
      // shfl.sync d|p, a, b, c, membermask: the source lane from the mode,
      // b, and c's clamp (bits 0-4) and segment mask (bits 8-12).
      uint64_t source[32];
      for (unsigned lane = 0; lane < 32; ++lane)
        source[lane] = value(operands[2], lane);
      forLanes(active, [&](unsigned lane) {
        int32_t b = int32_t(value(operands[3], lane) & 0x1f);
        uint32_t c = uint32_t(value(operands[4], lane));
        int32_t clamp = int32_t(c & 0x1f), segment = int32_t((c >> 8) & 0x1f);
        int32_t self = int32_t(lane);
        int32_t maxLane = (self & segment) | (clamp & ~segment);
        int32_t minLane = self & segment;
        int32_t j = self;
        bool inRange = false;
        switch (instruction.shflMode) {
        case ShflMode::Up:
          j = self - b;
          inRange = j >= maxLane;
          break;
        case ShflMode::Down:
          j = self + b;
          inRange = j <= maxLane;
          break;
        case ShflMode::Bfly:
          j = self ^ b;
          inRange = j <= maxLane;
          break;
        case ShflMode::Idx:
          j = minLane | (b & ~segment);
          inRange = j <= maxLane;
          break;
        }
        if (!inRange)
          j = self;
        write(operands[0], lane, truncateTo(source[j & 31], 4));
        write(operands[1], lane, inRange);
      });
      break;
    }
    case Opcode::Vote: {
      uint32_t ballot = 0;
      forLanes(active, [&](unsigned lane) {
        if (value(operands[1], lane) != 0)
          ballot |= 1u << lane;
      });
      forLanes(active, [&](unsigned lane) {
        uint64_t result = 0;
        switch (instruction.voteMode) {
        case VoteMode::All:
          result = ballot == active;
          break;
        case VoteMode::Any:
          result = ballot != 0;
          break;
        case VoteMode::Uni:
          result = ballot == 0 || ballot == active;
          break;
        case VoteMode::Ballot:
          result = ballot;
          break;
        }
        write(operands[0], lane, result);
      });
      break;
    }
    default: // bar.warp.sync: arrival of the member mask is all it does.
      break;
    }
  }

  // --- Ordinary instructions -----------------------------------------------
  bool execute(const Instruction &instruction, uint32_t active);
  bool memoryAccess(const Instruction &instruction, uint32_t active);
  /// Checks a shared access of `lane` (`access` names it in reports).
  bool checkShared(const Instruction &instruction, unsigned lane,
                   uint64_t offset, unsigned bytes, bool isStore,
                   const char *access);
  bool checkGlobal(const Instruction &instruction, unsigned lane,
                   uint64_t address, unsigned bytes, bool isStore);
  bool misaligned(const Instruction &instruction, unsigned lane,
                  const char *access, unsigned bytes, uint64_t address);
  /// Counts a shared request; returns its wavefronts.
  uint64_t countShared(const uint64_t *addresses, uint32_t active,
                       unsigned bytes);
  void countGlobal(const uint64_t *addresses, uint32_t active, unsigned bytes,
                   bool isStore);

  // --- Tensor cores and asynchronous copies -------------------------------
  bool ldmatrix(const Instruction &instruction);
  void mma(const Instruction &instruction);
  bool asyncCopy(const Instruction &instruction, uint32_t active);
  bool waitAsyncCopies(const Instruction &instruction, uint32_t active);
  bool completeAsyncCopy(const Instruction &instruction, unsigned lane,
                         const AsyncCopy &copy);

  const Kernel &kernel;
  const LaunchConfig &config;
  Memory &memory;
  bool counting;
  uint32_t threadsPerBlock = 0, sharedBytes = 0;
  std::vector<Warp> warps;
  std::vector<uint8_t> shared;
  std::vector<Shadow> shadow;
  std::vector<AsyncCopies> asyncCopies; ///< per thread, if the kernel has any
  uint32_t epoch = 1;
  uint32_t ctaid[3] = {0, 0, 0};
  Warp *current = nullptr;
  std::optional<Fault> *fault = nullptr;
  const Memory::Allocation *lastAllocation = nullptr;
};

// --- Arithmetic --------------------------------------------------------------

/// Floating-point result of a binary f32 operation with PTX modifiers.
float f32Binary(const Instruction &instruction, float a, float b) {
  if (instruction.ftz)
    a = flushF32(a), b = flushF32(b);
  float result = withRounding(instruction.rounding, [&] {
    volatile float x = a, y = b;
    switch (instruction.opcode) {
    case Opcode::Add:
      return float(x + y);
    case Opcode::Sub:
      return float(x - y);
    case Opcode::Mul:
      return float(x * y);
    default: // Div
      if (instruction.approx)
        return float(double(x) / double(y));
      return float(x / y);
    }
  });
  if (instruction.ftz)
    result = flushF32(result);
  if (instruction.saturate)
    result = std::isnan(result) ? 0.0f : std::clamp(result, 0.0f, 1.0f);
  return result;
}

double f64Binary(const Instruction &instruction, double a, double b) {
  return withRounding(instruction.rounding, [&] {
    volatile double x = a, y = b;
    switch (instruction.opcode) {
    case Opcode::Add:
      return double(x + y);
    case Opcode::Sub:
      return double(x - y);
    case Opcode::Mul:
      return double(x * y);
    default:
      return double(x / y);
    }
  });
}

/// .approx special functions are computed in double and rounded once: well
/// within the PTX ISA's documented error of each (docs/cuda-emulator.md).
double specialFunction(Opcode opcode, double x) {
  switch (opcode) {
  case Opcode::Rcp:
    return 1.0 / x;
  case Opcode::Sqrt:
    return std::sqrt(x);
  case Opcode::Rsqrt:
    return 1.0 / std::sqrt(x);
  case Opcode::Ex2:
    return std::exp2(x);
  case Opcode::Lg2:
    return std::log2(x);
  case Opcode::Sin:
    return std::sin(x);
  case Opcode::Cos:
    return std::cos(x);
  default: // Tanh
    return std::tanh(x);
  }
}

bool compareFloat(Compare compare, double a, double b) {
  bool unordered = std::isnan(a) || std::isnan(b);
  switch (compare) {
  case Compare::Eq:
    return !unordered && a == b;
  case Compare::Ne:
    return !unordered && a != b;
  case Compare::Lt:
    return !unordered && a < b;
  case Compare::Le:
    return !unordered && a <= b;
  case Compare::Gt:
    return !unordered && a > b;
  case Compare::Ge:
    return !unordered && a >= b;
  case Compare::Equ:
    return unordered || a == b;
  case Compare::Neu:
    return unordered || a != b;
  case Compare::Ltu:
    return unordered || a < b;
  case Compare::Leu:
    return unordered || a <= b;
  case Compare::Gtu:
    return unordered || a > b;
  case Compare::Geu:
    return unordered || a >= b;
  case Compare::Num:
    return !unordered;
  case Compare::Nan:
    return unordered;
  default:
    return false;
  }
}

bool compareInteger(Compare compare, Type type, uint64_t a, uint64_t b) {
  unsigned bytes = sizeOf(type);
  int64_t sa = signExtend(a, bytes), sb = signExtend(b, bytes);
  uint64_t ua = truncateTo(a, bytes), ub = truncateTo(b, bytes);
  bool isSignedType = isSigned(type);
  switch (compare) {
  case Compare::Eq:
    return ua == ub;
  case Compare::Ne:
    return ua != ub;
  case Compare::Lt:
    return isSignedType ? sa < sb : ua < ub;
  case Compare::Le:
    return isSignedType ? sa <= sb : ua <= ub;
  case Compare::Gt:
    return isSignedType ? sa > sb : ua > ub;
  case Compare::Ge:
    return isSignedType ? sa >= sb : ua >= ub;
  case Compare::Lo:
    return ua < ub;
  case Compare::Ls:
    return ua <= ub;
  case Compare::Hi:
    return ua > ub;
  case Compare::Hs:
    return ua >= ub;
  default:
    return false;
  }
}

uint64_t integerBinary(const Instruction &instruction, uint64_t a, uint64_t b) {
  Type type = instruction.type;
  unsigned bytes = sizeOf(type);
  bool isSignedType = isSigned(type);
  int64_t sa = signExtend(a, bytes), sb = signExtend(b, bytes);
  uint64_t ua = truncateTo(a, bytes), ub = truncateTo(b, bytes);
  switch (instruction.opcode) {
  case Opcode::Add:
    return truncateTo(ua + ub, bytes);
  case Opcode::Sub:
    return truncateTo(ua - ub, bytes);
  case Opcode::Mul:
    switch (instruction.mulMode) {
    case MulMode::Wide:
      return isSignedType ? uint64_t(sa * sb) : ua * ub;
    case MulMode::Hi:
      if (bytes == 8)
        return isSignedType ? uint64_t((__int128(sa) * __int128(sb)) >> 64)
                            : uint64_t((unsigned __int128)ua * ub >> 64);
      return truncateTo(isSignedType ? uint64_t((sa * sb) >> (8 * bytes))
                                     : (ua * ub) >> (8 * bytes),
                        bytes);
    default:
      return truncateTo(ua * ub, bytes);
    }
  case Opcode::Div:
    if (ub == 0)
      return truncateTo(~0ull, bytes);
    if (isSignedType)
      return sb == -1 ? truncateTo(uint64_t(0) - ua, bytes)
                      : truncateTo(uint64_t(sa / sb), bytes);
    return ua / ub;
  case Opcode::Rem:
    if (ub == 0)
      return ua;
    if (isSignedType)
      return sb == -1 ? 0 : truncateTo(uint64_t(sa % sb), bytes);
    return ua % ub;
  case Opcode::Min:
    return isSignedType ? truncateTo(uint64_t(std::min(sa, sb)), bytes)
                        : std::min(ua, ub);
  case Opcode::Max:
    return isSignedType ? truncateTo(uint64_t(std::max(sa, sb)), bytes)
                        : std::max(ua, ub);
  case Opcode::And:
    return type == Type::Pred ? uint64_t((a != 0) && (b != 0)) : ua & ub;
  case Opcode::Or:
    return type == Type::Pred ? uint64_t((a != 0) || (b != 0)) : ua | ub;
  case Opcode::Xor:
    return type == Type::Pred ? uint64_t((a != 0) != (b != 0)) : ua ^ ub;
  case Opcode::Shl: {
    uint64_t amount = truncateTo(b, 4);
    return amount >= 8 * bytes ? 0 : truncateTo(ua << amount, bytes);
  }
  case Opcode::Shr: {
    uint64_t amount = std::min<uint64_t>(truncateTo(b, 4), 8 * bytes - 1 + 1);
    if (isSignedType)
      return truncateTo(uint64_t(sa >> std::min<uint64_t>(amount, 63)), bytes);
    return amount >= 8 * bytes ? 0 : ua >> amount;
  }
  default:
    return 0;
  }
}

/// cvt between any two supported types.
uint64_t convert(const Instruction &instruction, uint64_t bits) {
  Type to = instruction.type, from = instruction.sourceType;
  unsigned toBytes = sizeOf(to), fromBytes = sizeOf(from);
  if (!isFloat(from) && !isFloat(to)) {
    if (instruction.saturate) {
      // Clamp to the destination's range.
      if (isSigned(from)) {
        int64_t v = signExtend(bits, fromBytes);
        int64_t low =
            isSigned(to)
                ? (toBytes >= 8 ? INT64_MIN : -(1ll << (8 * toBytes - 1)))
                : 0;
        int64_t high =
            isSigned(to)
                ? (toBytes >= 8 ? INT64_MAX : (1ll << (8 * toBytes - 1)) - 1)
                : (toBytes >= 8 ? INT64_MAX
                                : int64_t((1ull << (8 * toBytes)) - 1));
        return truncateTo(uint64_t(std::clamp(v, low, high)), toBytes);
      }
      uint64_t v = truncateTo(bits, fromBytes);
      uint64_t high =
          isSigned(to)
              ? (1ull << (8 * toBytes - 1)) - 1
              : (toBytes >= 8 ? UINT64_MAX : (1ull << (8 * toBytes)) - 1);
      return std::min(v, high);
    }
    uint64_t value = isSigned(from) ? uint64_t(signExtend(bits, fromBytes))
                                    : truncateTo(bits, fromBytes);
    return truncateTo(value, toBytes);
  }
  if (!isFloat(from)) {
    // Integer to float: one rounding, from the exact integer.
    int64_t s = signExtend(bits, fromBytes);
    uint64_t u = truncateTo(bits, fromBytes);
    return withRounding(instruction.rounding, [&]() -> uint64_t {
      switch (to) {
      case Type::F64:
        return fromF64(isSigned(from) ? double(s) : double(u));
      case Type::F32:
        return fromF32(isSigned(from) ? float(s) : float(u));
      case Type::F16:
        return f32ToF16(isSigned(from) ? float(s) : float(u));
      default:
        return f32ToBf16(isSigned(from) ? float(s) : float(u));
      }
    });
  }
  // Read the source as a double (exact for every supported source).
  double source;
  switch (from) {
  case Type::F16:
    source = f16ToF32(uint16_t(bits));
    break;
  case Type::BF16:
    source = bf16ToF32(uint16_t(bits));
    break;
  case Type::F32:
    source = asF32(bits);
    if (instruction.ftz)
      source = flushF32(float(source));
    break;
  default:
    source = asF64(bits);
    break;
  }
  if (!isFloat(to))
    return floatToInteger(source, instruction.rounding, to);
  bool integral = instruction.rounding == Rounding::Rni ||
                  instruction.rounding == Rounding::Rzi ||
                  instruction.rounding == Rounding::Rmi ||
                  instruction.rounding == Rounding::Rpi;
  if (integral)
    source = roundIntegral(source, instruction.rounding);
  switch (to) {
  case Type::F64:
    return fromF64(source);
  case Type::F32: {
    float result = withRounding(
        from == Type::F64 && !integral ? instruction.rounding : Rounding::Rn,
        [&] {
          volatile double x = source;
          return float(x);
        });
    if (instruction.ftz)
      result = flushF32(result);
    if (instruction.saturate)
      result = std::isnan(result) ? 0.0f : std::clamp(result, 0.0f, 1.0f);
    return fromF32(result);
  }
  case Type::F16:
    return f64ToF16(source);
  case Type::TF32:
    return f32ToTf32(uint32_t(bits), instruction.rounding);
  default:
    return f64ToBf16(source);
  }
}

} // namespace

// --- BlockRunner: instructions
// -------------------------------------------------

namespace {

bool BlockRunner::execute(const Instruction &instruction, uint32_t active) {
  const Operand *operands = instruction.operands;
  const Operand &d = operands[0];
  Type type = instruction.type;
  unsigned bytes = sizeOf(type);
  switch (instruction.opcode) {
  case Opcode::Ld:
  case Opcode::St:
    return memoryAccess(instruction, active);
  case Opcode::Mov:
    if (d.kind == Operand::Vector) {
      // Unpack: mov.b64 {%r1, %r2}, %rd1.
      unsigned part = bytes / d.count;
      forLanes(active, [&](unsigned lane) {
        uint64_t source = value(operands[1], lane);
        for (unsigned i = 0; i < d.count; ++i) {
          int32_t index = kernel.vectorRegisters[d.reg + i];
          if (index >= 0)
            reg(index, lane) = truncateTo(source >> (8 * part * i), part);
        }
      });
    } else if (operands[1].kind == Operand::Vector) {
      const Operand &s = operands[1];
      unsigned part = bytes / s.count;
      forLanes(active, [&](unsigned lane) {
        uint64_t packed = 0;
        for (unsigned i = 0; i < s.count; ++i)
          packed |=
              truncateTo(reg(kernel.vectorRegisters[s.reg + i], lane), part)
              << (8 * part * i);
        write(d, lane, packed);
      });
    } else {
      forLanes(active, [&](unsigned lane) {
        write(d, lane, truncateTo(value(operands[1], lane), bytes));
      });
    }
    return true;
  case Opcode::Cvta:
    forLanes(active, [&](unsigned lane) {
      uint64_t address = value(operands[1], lane);
      write(d, lane,
            instruction.space == Space::Shared ? address + kSharedWindow
                                               : address);
    });
    return true;
  case Opcode::CvtaTo:
    forLanes(active, [&](unsigned lane) {
      uint64_t address = value(operands[1], lane);
      write(d, lane,
            instruction.space == Space::Shared ? address - kSharedWindow
                                               : address);
    });
    return true;
  case Opcode::Cvt:
    if (type == Type::F16x2 || type == Type::BF16x2) {
      // d = {convert(a) in the upper half, convert(b) in the lower half}.
      auto half = [&](uint64_t bits) -> uint64_t {
        float source = asF32(bits);
        return type == Type::F16x2 ? f32ToF16(source) : f32ToBf16(source);
      };
      forLanes(active, [&](unsigned lane) {
        write(d, lane,
              half(value(operands[1], lane)) << 16 |
                  half(value(operands[2], lane)));
      });
      return true;
    }
    forLanes(active, [&](unsigned lane) {
      write(d, lane, convert(instruction, value(operands[1], lane)));
    });
    return true;
  case Opcode::Setp:
    forLanes(active, [&](unsigned lane) {
      uint64_t a = value(operands[1], lane), b = value(operands[2], lane);
      bool result;
      if (type == Type::F32) {
        float x = asF32(a), y = asF32(b);
        if (instruction.ftz)
          x = flushF32(x), y = flushF32(y);
        result = compareFloat(instruction.compare, x, y);
      } else if (type == Type::F64) {
        result = compareFloat(instruction.compare, asF64(a), asF64(b));
      } else {
        result = compareInteger(instruction.compare, type, a, b);
      }
      if (instruction.boolOp != BoolOp::None) {
        bool c = value(operands[3], lane) != 0;
        result = instruction.boolOp == BoolOp::And  ? result && c
                 : instruction.boolOp == BoolOp::Or ? result || c
                                                    : result != c;
      }
      write(d, lane, result);
    });
    return true;
  case Opcode::Selp:
    forLanes(active, [&](unsigned lane) {
      write(d, lane,
            value(operands[3], lane) ? value(operands[1], lane)
                                     : value(operands[2], lane));
    });
    return true;
  case Opcode::Fence:
    return true;
  case Opcode::CpAsync:
    return asyncCopy(instruction, active);
  case Opcode::CpAsyncCommit:
    forLanes(active, [&](unsigned lane) {
      AsyncCopies &copies = asyncCopies[current->firstThread + lane];
      copies.committed.push_back(std::move(copies.open));
      copies.open.clear();
    });
    return true;
  case Opcode::CpAsyncWaitGroup:
  case Opcode::CpAsyncWaitAll:
    return waitAsyncCopies(instruction, active);
  default:
    break;
  }

  if (type == Type::F32) {
    switch (instruction.opcode) {
    case Opcode::Add:
    case Opcode::Sub:
    case Opcode::Mul:
    case Opcode::Div:
      if (counting && instruction.opcode != Opcode::Div)
        counters.fp32Flops += __builtin_popcount(active);
      forLanes(active, [&](unsigned lane) {
        write(d, lane,
              fromF32(f32Binary(instruction, asF32(value(operands[1], lane)),
                                asF32(value(operands[2], lane)))));
      });
      return true;
    case Opcode::Fma:
    case Opcode::Mad:
      if (counting)
        counters.fp32Flops += 2 * __builtin_popcount(active);
      forLanes(active, [&](unsigned lane) {
        float a = asF32(value(operands[1], lane));
        float b = asF32(value(operands[2], lane));
        float c = asF32(value(operands[3], lane));
        if (instruction.ftz)
          a = flushF32(a), b = flushF32(b), c = flushF32(c);
        float result = withRounding(instruction.rounding,
                                    [&] { return std::fmaf(a, b, c); });
        if (instruction.ftz)
          result = flushF32(result);
        if (instruction.saturate)
          result = std::isnan(result) ? 0.0f : std::clamp(result, 0.0f, 1.0f);
        write(d, lane, fromF32(result));
      });
      return true;
    case Opcode::Min:
    case Opcode::Max:
      forLanes(active, [&](unsigned lane) {
        float a = asF32(value(operands[1], lane));
        float b = asF32(value(operands[2], lane));
        if (instruction.ftz)
          a = flushF32(a), b = flushF32(b);
        float result;
        if (instruction.propagateNan && (std::isnan(a) || std::isnan(b)))
          result = std::numeric_limits<float>::quiet_NaN();
        else
          result = instruction.opcode == Opcode::Min ? std::fmin(a, b)
                                                     : std::fmax(a, b);
        write(d, lane, fromF32(result));
      });
      return true;
    case Opcode::Abs:
      forLanes(active, [&](unsigned lane) {
        float a = asF32(value(operands[1], lane));
        write(d, lane,
              fromF32(instruction.ftz ? flushF32(std::fabs(a)) : std::fabs(a)));
      });
      return true;
    case Opcode::Neg:
      forLanes(active, [&](unsigned lane) {
        float a = asF32(value(operands[1], lane));
        write(d, lane, fromF32(instruction.ftz ? flushF32(-a) : -a));
      });
      return true;
    case Opcode::Rcp:
    case Opcode::Sqrt:
    case Opcode::Rsqrt:
    case Opcode::Ex2:
    case Opcode::Lg2:
    case Opcode::Sin:
    case Opcode::Cos:
    case Opcode::Tanh:
      forLanes(active, [&](unsigned lane) {
        float a = asF32(value(operands[1], lane));
        if (instruction.ftz)
          a = flushF32(a);
        float result;
        if (instruction.opcode == Opcode::Sqrt && !instruction.approx)
          result = withRounding(instruction.rounding, [&] {
            volatile float x = a;
            return std::sqrt(float(x));
          });
        else if (instruction.opcode == Opcode::Rcp && !instruction.approx)
          result = withRounding(instruction.rounding, [&] {
            volatile float x = a;
            return 1.0f / x;
          });
        else
          result = float(specialFunction(instruction.opcode, a));
        if (instruction.ftz)
          result = flushF32(result);
        write(d, lane, fromF32(result));
      });
      return true;
    default:
      break;
    }
  } else if (type == Type::F64) {
    forLanes(active, [&](unsigned lane) {
      double a = asF64(value(operands[1], lane));
      double b =
          instruction.numOperands > 2 ? asF64(value(operands[2], lane)) : 0.0;
      double result = 0;
      switch (instruction.opcode) {
      case Opcode::Add:
      case Opcode::Sub:
      case Opcode::Mul:
      case Opcode::Div:
        result = f64Binary(instruction, a, b);
        break;
      case Opcode::Fma:
      case Opcode::Mad:
        result = withRounding(instruction.rounding, [&] {
          return std::fma(a, b, asF64(value(operands[3], lane)));
        });
        break;
      case Opcode::Min:
        result = std::fmin(a, b);
        break;
      case Opcode::Max:
        result = std::fmax(a, b);
        break;
      case Opcode::Abs:
        result = std::fabs(a);
        break;
      case Opcode::Neg:
        result = -a;
        break;
      case Opcode::Sqrt:
        result = std::sqrt(a);
        break;
      case Opcode::Rcp:
        result = 1.0 / a;
        break;
      case Opcode::Rsqrt:
        result = 1.0 / std::sqrt(a);
        break;
      default:
        break;
      }
      write(d, lane, fromF64(result));
    });
    return true;
  }

  // Integer and bit operations.
  switch (instruction.opcode) {
  case Opcode::Mad:
    forLanes(active, [&](unsigned lane) {
      Instruction multiply = instruction;
      multiply.opcode = Opcode::Mul;
      uint64_t product = integerBinary(multiply, value(operands[1], lane),
                                       value(operands[2], lane));
      unsigned resultBytes =
          instruction.mulMode == MulMode::Wide ? 2 * bytes : bytes;
      write(d, lane,
            truncateTo(product + value(operands[3], lane), resultBytes));
    });
    return true;
  case Opcode::Abs:
  case Opcode::Neg:
    forLanes(active, [&](unsigned lane) {
      int64_t a = signExtend(value(operands[1], lane), bytes);
      int64_t result = instruction.opcode == Opcode::Neg ? -a : a < 0 ? -a : a;
      write(d, lane, truncateTo(uint64_t(result), bytes));
    });
    return true;
  case Opcode::Not:
    forLanes(active, [&](unsigned lane) {
      uint64_t a = value(operands[1], lane);
      write(d, lane,
            type == Type::Pred ? uint64_t(a == 0) : truncateTo(~a, bytes));
    });
    return true;
  case Opcode::Popc:
  case Opcode::Clz:
    forLanes(active, [&](unsigned lane) {
      uint64_t a = truncateTo(value(operands[1], lane), bytes);
      uint64_t result;
      if (instruction.opcode == Opcode::Popc)
        result = __builtin_popcountll(a);
      else
        result = a == 0 ? 8 * bytes : __builtin_clzll(a) - (64 - 8 * bytes);
      write(d, lane, result);
    });
    return true;
  case Opcode::Bfe:
    forLanes(active, [&](unsigned lane) {
      uint64_t a = truncateTo(value(operands[1], lane), bytes);
      unsigned position = unsigned(value(operands[2], lane) & 0xff);
      unsigned length = unsigned(value(operands[3], lane) & 0xff);
      unsigned msb = 8 * bytes - 1;
      bool signBit = false;
      if (isSigned(type) && length > 0) {
        unsigned bit = std::min(position + length - 1, msb);
        signBit = (a >> bit) & 1;
      }
      uint64_t result = 0;
      for (unsigned i = 0; i <= msb; ++i) {
        bool bit = i < length && position + i <= msb ? (a >> (position + i)) & 1
                                                     : signBit;
        result |= uint64_t(bit) << i;
      }
      write(d, lane, result);
    });
    return true;
  default:
    forLanes(active, [&](unsigned lane) {
      write(d, lane,
            integerBinary(instruction, value(operands[1], lane),
                          value(operands[2], lane)));
    });
    return true;
  }
}

// --- BlockRunner: memory
// ------------------------------------------------------

bool BlockRunner::checkShared(const Instruction &instruction, unsigned lane,
                              uint64_t offset, unsigned bytes, bool isStore,
                              const char *access) {
  uint32_t thread = current->firstThread + lane;
  if (offset > sharedBytes || sharedBytes - offset < bytes) {
    char what[192];
    std::snprintf(what, sizeof(what),
                  "out-of-bounds shared %s of %u bytes at offset %lld (the "
                  "block has %u bytes of shared memory)",
                  access, bytes, (long long)offset, sharedBytes);
    return report(kErrorIllegalAddress, what, instruction.line, thread);
  }
  // Accesses of another thread conflict unless a barrier, or a
  // bar.warp.sync of their common warp, lies between.
  uint32_t generation = current->syncGeneration;
  auto conflicts = [&](uint32_t other, uint32_t otherGeneration) {
    return other != thread &&
           !(other != kManyReaders && other / 32 == thread / 32 &&
             otherGeneration < generation);
  };
  for (unsigned i = 0; i < bytes; ++i) {
    Shadow &cell = shadow[offset + i];
    // Bytes a cp.async will write are off limits to everyone until the
    // issuing thread waits for its group.
    if (cell.asyncWriter) {
      char what[320];
      std::snprintf(what, sizeof(what),
                    "shared %s of bytes still being written by cp.async of "
                    "thread %s (missing cp.async.wait_group?): %u bytes at "
                    "offset %llu",
                    access, threadText(cell.asyncWriter - 1).c_str(), bytes,
                    (unsigned long long)offset);
      return report(kErrorLaunchFailed, what, instruction.line, thread);
    }
    uint32_t other = kManyReaders;
    const char *hazard = nullptr;
    if (cell.writeEpoch == epoch &&
        conflicts(cell.writer, cell.writeGeneration)) {
      other = cell.writer;
      hazard = isStore ? "write after write" : "read after write";
    } else if (isStore && cell.readEpoch == epoch &&
               conflicts(cell.reader, cell.readGeneration)) {
      other = cell.reader;
      hazard = "write after read";
    }
    if (hazard) {
      char what[256];
      std::snprintf(what, sizeof(what),
                    "shared-memory race (%s, no barrier between): %s of %u "
                    "bytes at offset %llu conflicts with %s",
                    hazard, access, bytes, (unsigned long long)offset,
                    other == kManyReaders
                        ? "loads of several threads"
                        : ("thread " + threadText(other)).c_str());
      return report(kErrorLaunchFailed, what, instruction.line, thread);
    }
    if (isStore) {
      cell.writeEpoch = epoch;
      cell.writer = thread;
      cell.writeGeneration = generation;
    } else if (cell.readEpoch == epoch &&
               conflicts(cell.reader, cell.readGeneration)) {
      cell.reader = kManyReaders;
    } else {
      cell.readEpoch = epoch;
      cell.reader = thread;
      cell.readGeneration = generation;
    }
  }
  return true;
}

bool BlockRunner::checkGlobal(const Instruction &instruction, unsigned lane,
                              uint64_t address, unsigned bytes, bool isStore) {
  const Memory::Allocation *allocation = lastAllocation;
  if (!allocation || address < allocation->base ||
      address - allocation->base > allocation->size ||
      allocation->size - (address - allocation->base) < bytes) {
    allocation = memory.find(address, bytes);
    if (!allocation) {
      char what[320];
      std::snprintf(what, sizeof(what),
                    "out-of-bounds global %s of %u bytes at 0x%llx (%s)",
                    isStore ? "store" : "load", bytes,
                    (unsigned long long)address,
                    memory.explain(address, bytes).c_str());
      return report(kErrorIllegalAddress, what, instruction.line,
                    current->firstThread + lane);
    }
    lastAllocation = allocation;
  }
  if (counting && allocation->touched) {
    uint64_t first = (address - allocation->base) / 32;
    uint64_t last = (address + bytes - 1 - allocation->base) / 32;
    for (uint64_t sector = first; sector <= last; ++sector)
      (*allocation->touched)[sector / 64].fetch_or(1ull << (sector % 64),
                                                   std::memory_order_relaxed);
  }
  return true;
}

bool BlockRunner::memoryAccess(const Instruction &instruction,
                               uint32_t active) {
  bool isStore = instruction.opcode == Opcode::St;
  const Operand &data = instruction.operands[isStore ? 1 : 0];
  const Operand &address = instruction.operands[isStore ? 0 : 1];
  unsigned elementBytes = sizeOf(instruction.type);
  unsigned width = instruction.vectorWidth;
  unsigned bytes = elementBytes * width;
  uint64_t addresses[32];
  Space space = instruction.space;
  forLanes(active, [&](unsigned lane) {
    addresses[lane] =
        (address.reg >= 0 ? reg(address.reg, lane) : 0) + address.bits;
  });
  // Generic addresses are decided per lane: the shared window, else global
  // memory (a warp may mix both).
  bool anyShared = false, anyGlobal = false;
  bool ok = true;
  {
    forLanes(active, [&](unsigned lane) {
      if (!ok)
        return;
      uint64_t a = addresses[lane];
      Space laneSpace = space;
      if (space == Space::Generic) {
        laneSpace = a >= kSharedWindow && a - kSharedWindow < (1ull << 32)
                        ? Space::Shared
                        : Space::Global;
        if (laneSpace == Space::Shared)
          a -= kSharedWindow;
      }
      if (a % std::min(bytes, 16u) != 0 && laneSpace != Space::Param) {
        ok =
            misaligned(instruction, lane, isStore ? "store" : "load", bytes, a);
        return;
      }
      uint8_t *pointer;
      if (laneSpace == Space::Param) {
        if (a > config.parameters.size() ||
            config.parameters.size() - a < bytes) {
          ok = report(kErrorIllegalAddress,
                      "parameter load outside the kernel's parameters",
                      instruction.line, current->firstThread + lane);
          return;
        }
        pointer = const_cast<uint8_t *>(config.parameters.data()) + a;
      } else if (laneSpace == Space::Shared) {
        anyShared = true;
        if (!checkShared(instruction, lane, a, bytes, isStore,
                         isStore ? "store" : "load")) {
          ok = false;
          return;
        }
        pointer = shared.data() + a;
      } else {
        anyGlobal = true;
        if (!checkGlobal(instruction, lane, a, bytes, isStore)) {
          ok = false;
          return;
        }
        pointer = reinterpret_cast<uint8_t *>(a);
      }
      for (unsigned i = 0; i < width; ++i) {
        int32_t vectorReg = -1;
        if (data.kind == Operand::Vector)
          vectorReg = kernel.vectorRegisters[data.reg + i];
        uint8_t *at = pointer + i * elementBytes;
        if (isStore) {
          uint64_t bits = data.kind == Operand::Vector
                              ? (vectorReg >= 0 ? reg(vectorReg, lane) : 0)
                              : value(data, lane);
          std::memcpy(at, &bits, elementBytes);
        } else {
          uint64_t bits = 0;
          std::memcpy(&bits, at, elementBytes);
          if (isSigned(instruction.type))
            bits = uint64_t(signExtend(bits, elementBytes));
          if (data.kind == Operand::Vector) {
            if (vectorReg >= 0)
              reg(vectorReg, lane) = bits;
          } else {
            write(data, lane, bits);
          }
        }
      }
    });
    if (!ok)
      return false;
  }
  if (counting) {
    if (anyShared)
      countShared(addresses, active, bytes);
    if (anyGlobal)
      countGlobal(addresses, active, bytes, isStore);
  }
  return true;
}

/// Shared-memory wavefronts of one warp request: 32 banks of 4 bytes; lanes
/// reading the same word share it (broadcast); 8- and 16-byte accesses are
/// served by half and quarter warps (docs/cuda-emulator.md).
uint64_t BlockRunner::countShared(const uint64_t *addresses, uint32_t active,
                                  unsigned bytes) {
  unsigned lanesPerPhase = bytes <= 4 ? 32 : bytes == 8 ? 16 : 8;
  unsigned wordsPerLane = std::max(1u, bytes / 4);
  uint64_t wavefronts = 0;
  for (unsigned phase = 0; phase < 32; phase += lanesPerPhase) {
    uint64_t words[32 * 4];
    unsigned count = 0;
    for (unsigned lane = phase; lane < phase + lanesPerPhase; ++lane)
      if ((active >> lane) & 1)
        for (unsigned w = 0; w < wordsPerLane; ++w)
          words[count++] = (addresses[lane] % kSharedWindow) / 4 + w;
    if (!count)
      continue;
    std::sort(words, words + count);
    count = unsigned(std::unique(words, words + count) - words);
    unsigned perBank[32] = {};
    unsigned worst = 0;
    for (unsigned i = 0; i < count; ++i)
      worst = std::max(worst, ++perBank[words[i] % 32]);
    wavefronts += worst;
  }
  ++counters.sharedRequests;
  counters.sharedWavefronts += wavefronts;
  return wavefronts;
}

/// The distinct 32-byte sectors of the lanes' accesses of `bytes[lane]`
/// (at most 16) bytes.
unsigned distinctSectors(const uint64_t *addresses, const unsigned *bytes,
                         uint32_t lanes) {
  uint64_t sectors[64];
  unsigned count = 0;
  while (lanes) {
    unsigned lane = unsigned(__builtin_ctz(lanes));
    lanes &= lanes - 1;
    sectors[count++] = addresses[lane] / 32;
    if ((addresses[lane] + bytes[lane] - 1) / 32 != addresses[lane] / 32)
      sectors[count++] = (addresses[lane] + bytes[lane] - 1) / 32;
  }
  std::sort(sectors, sectors + count);
  return unsigned(std::unique(sectors, sectors + count) - sectors);
}

bool BlockRunner::misaligned(const Instruction &instruction, unsigned lane,
                             const char *access, unsigned bytes,
                             uint64_t address) {
  char what[128];
  std::snprintf(what, sizeof(what), "misaligned %s of %u bytes at 0x%llx",
                access, bytes, (unsigned long long)address);
  return report(kErrorMisalignedAddress, what, instruction.line,
                current->firstThread + lane);
}

void BlockRunner::countGlobal(const uint64_t *addresses, uint32_t active,
                              unsigned bytes, bool isStore) {
  unsigned laneBytes[32];
  std::fill(laneBytes, laneBytes + 32, bytes);
  unsigned count = distinctSectors(addresses, laneBytes, active);
  if (isStore) {
    ++counters.globalStoreRequests;
    counters.globalStoreSectors += count;
  } else {
    ++counters.globalLoadRequests;
    counters.globalLoadSectors += count;
  }
}

// --- BlockRunner: tensor cores and asynchronous copies
// --------------------------------

/// ldmatrix.sync.aligned.m8n8.{x1,x2,x4}{.trans}.b16 (PTX ISA, "ldmatrix"):
/// lanes 8i..8i+7 give the addresses of the eight 16-byte rows of matrix
/// i; lane t receives in register i the elements (t/4, 2(t%4)) and
/// (t/4, 2(t%4)+1) of matrix i, the first in the low half, or with .trans
/// those of the transposed matrix. The row reads count as loads of the lane
/// that gives the row's address.
bool BlockRunner::ldmatrix(const Instruction &instruction) {
  unsigned matrices = instruction.vectorWidth;
  uint32_t providers = matrices == 4 ? ~0u : (1u << (8 * matrices)) - 1;
  const Operand &address = instruction.operands[1];
  uint64_t rows[32];
  bool ok = true;
  forLanes(providers, [&](unsigned lane) {
    if (!ok)
      return;
    uint64_t a = (address.reg >= 0 ? reg(address.reg, lane) : 0) + address.bits;
    if (instruction.space == Space::Generic) {
      if (a < kSharedWindow || a - kSharedWindow >= (1ull << 32)) {
        char what[128];
        std::snprintf(what, sizeof(what),
                      "ldmatrix row address 0x%llx is not in shared memory",
                      (unsigned long long)a);
        ok = report(kErrorIllegalAddress, what, instruction.line,
                    current->firstThread + lane);
        return;
      }
      a -= kSharedWindow;
    }
    if (a % 16 != 0) {
      ok = misaligned(instruction, lane, "ldmatrix load", 16, a);
      return;
    }
    ok = checkShared(instruction, lane, a, 16, false, "ldmatrix load");
    rows[lane] = a;
  });
  if (!ok)
    return false;
  auto element = [&](unsigned matrix, unsigned row, unsigned column) {
    uint16_t bits;
    std::memcpy(&bits, &shared[rows[8 * matrix + row] + 2 * column], 2);
    return uint64_t(bits);
  };
  const Operand &d = instruction.operands[0];
  for (unsigned i = 0; i < matrices; ++i) {
    int32_t target = kernel.vectorRegisters[d.reg + i];
    if (target < 0)
      continue;
    for (unsigned lane = 0; lane < 32; ++lane) {
      unsigned row = lane / 4, column = 2 * (lane % 4);
      uint64_t low = instruction.transpose ? element(i, column, row)
                                           : element(i, row, column);
      uint64_t high = instruction.transpose ? element(i, column + 1, row)
                                            : element(i, row, column + 1);
      reg(target, lane) = low | high << 16;
    }
  }
  if (counting) {
    uint64_t wavefronts = countShared(rows, providers, 16);
    ++counters.ldmatrixRequests;
    counters.ldmatrixMatrices += matrices;
    counters.ldmatrixWavefronts += wavefronts;
  }
  return true;
}

/// mma.sync.aligned.m16n8k{16,8}.row.col: D = A * B + C with the fragment
/// layouts of the PTX ISA ("Matrix Fragments for mma.m16n8k16 with floating
/// point type", "... for mma.m16n8k8"), for groupID g = lane / 4 and
/// threadID_in_group t = lane % 4. Each product of two f16, bf16 or tf32
/// values is exact in double; the products and C are summed in double and
/// rounded once to D's type. The hardware's order and precision of the sum
/// are unspecified, so the emulator is at least as accurate.
void BlockRunner::mma(const Instruction &instruction) {
  constexpr unsigned M = 16, N = 8;
  const unsigned K = instruction.mmaK;
  Type input = instruction.sourceType;
  bool tf32 = input == Type::TF32;
  double a[M][16], b[16][N], c[M][N];
  const Operand *operands = instruction.operands;
  // Element i of a lane's fragment: register i/2, half i%2 for 16-bit types;
  // register i for tf32 and f32; C and D in f16 pack two per register too.
  auto fragment = [&](const Operand &operand, Type type, unsigned lane,
                      unsigned i) {
    bool packed = type == Type::F16 || type == Type::BF16;
    int32_t index = kernel.vectorRegisters[operand.reg + (packed ? i / 2 : i)];
    uint32_t bits = uint32_t(reg(index, lane));
    return mmaElement(type, packed ? bits >> (16 * (i % 2)) : bits);
  };
  for (unsigned lane = 0; lane < 32; ++lane) {
    unsigned g = lane / 4, t = lane % 4;
    for (unsigned i = 0; i < K / 2; ++i) {
      unsigned row = tf32 ? g + 8 * (i % 2) : g + 8 * ((i / 2) % 2);
      unsigned column = tf32 ? t + 4 * (i / 2) : 2 * t + i % 2 + 8 * (i / 4);
      a[row][column] = fragment(operands[1], input, lane, i);
    }
    for (unsigned i = 0; i < K / 4; ++i) {
      unsigned row = tf32 ? t + 4 * i : 2 * t + i % 2 + 8 * (i / 2);
      b[row][g] = fragment(operands[2], input, lane, i);
    }
    for (unsigned i = 0; i < 4; ++i)
      c[g + 8 * (i / 2)][2 * t + i % 2] =
          fragment(operands[3], instruction.accumulatorType, lane, i);
  }
  double sums[M][N];
  for (unsigned row = 0; row < M; ++row)
    for (unsigned column = 0; column < N; ++column) {
      double sum = c[row][column];
      for (unsigned k = 0; k < K; ++k)
        sum += a[row][k] * b[k][column];
      sums[row][column] = sum;
    }
  // D may share registers with A, B or C: written after all were read.
  const Operand &d = operands[0];
  bool halfResult = instruction.type == Type::F16;
  for (unsigned lane = 0; lane < 32; ++lane) {
    unsigned g = lane / 4, t = lane % 4;
    uint64_t results[4] = {};
    for (unsigned i = 0; i < 4; ++i) {
      double sum = sums[g + 8 * (i / 2)][2 * t + i % 2];
      if (halfResult)
        results[i / 2] |= uint64_t(f64ToF16(sum)) << (16 * (i % 2));
      else
        results[i] = fromF32(float(sum));
    }
    for (unsigned i = 0; i < d.count; ++i)
      if (int32_t target = kernel.vectorRegisters[d.reg + i]; target >= 0)
        reg(target, lane) = results[i];
  }
  if (counting) {
    TensorInput kind = input == Type::F16    ? TensorInput::F16
                       : input == Type::BF16 ? TensorInput::BF16
                                             : TensorInput::TF32;
    ++counters.mmaInstructions[size_t(kind)];
    counters.mmaMacs[size_t(kind)] += M * N * K;
  }
}

/// cp.async.{ca,cg}.shared.global [dst], [src], cp-size{, src-size}: reads
/// src-size bytes of global memory now (none, and no check, for 0) and
/// queues cp-size bytes, zero-filled past them, in the thread's open group.
/// Until the group completes, the destination bytes belong to the copy.
bool BlockRunner::asyncCopy(const Instruction &instruction, uint32_t active) {
  const Operand *operands = instruction.operands;
  unsigned size = unsigned(operands[2].bits);
  uint64_t destinations[32], sources[32];
  unsigned sourceBytes[32];
  uint32_t reading = 0;
  bool ok = true;
  forLanes(active, [&](unsigned lane) {
    if (!ok)
      return;
    auto addressOf = [&](const Operand &address) {
      return (address.reg >= 0 ? reg(address.reg, lane) : 0) + address.bits;
    };
    uint64_t destination = addressOf(operands[0]);
    uint64_t source = addressOf(operands[1]);
    unsigned count = instruction.numOperands == 4
                         ? unsigned(truncateTo(value(operands[3], lane), 4))
                         : size;
    if (count > size) {
      ok = report(kErrorLaunchFailed,
                  "cp.async src-size " + std::to_string(count) +
                      " exceeds its cp-size " + std::to_string(size),
                  instruction.line, current->firstThread + lane);
      return;
    }
    if (destination % size != 0) {
      ok = misaligned(instruction, lane, "cp.async write", size, destination);
      return;
    }
    if (count && source % size != 0) {
      ok = misaligned(instruction, lane, "cp.async read", size, source);
      return;
    }
    if ((count && !checkGlobal(instruction, lane, source, count, false)) ||
        !checkShared(instruction, lane, destination, size, true,
                     "cp.async write")) {
      ok = false;
      return;
    }
    uint32_t thread = current->firstThread + lane;
    AsyncCopy copy;
    copy.offset = uint32_t(destination);
    copy.size = uint8_t(size);
    std::memcpy(copy.data, reinterpret_cast<const void *>(source), count);
    for (unsigned i = 0; i < size; ++i)
      shadow[destination + i].asyncWriter = thread + 1;
    asyncCopies[thread].open.push_back(copy);
    destinations[lane] = destination;
    sources[lane] = source;
    sourceBytes[lane] = count;
    if (count)
      reading |= 1u << lane;
  });
  if (!ok)
    return false;
  if (counting) {
    countShared(destinations, active, size);
    ++counters.asyncCopyRequests;
    forLanes(reading, [&](unsigned lane) {
      counters.asyncCopyBytes += sourceBytes[lane];
    });
    counters.asyncCopySectors += distinctSectors(sources, sourceBytes, reading);
  }
  return true;
}

/// cp.async.wait_group N completes all but the newest N committed groups of
/// each thread; cp.async.wait_all completes every copy, committed or not.
bool BlockRunner::waitAsyncCopies(const Instruction &instruction,
                                  uint32_t active) {
  bool all = instruction.opcode == Opcode::CpAsyncWaitAll;
  uint64_t keep = all ? 0 : instruction.operands[0].bits;
  bool ok = true;
  forLanes(active, [&](unsigned lane) {
    AsyncCopies &copies = asyncCopies[current->firstThread + lane];
    if (all) {
      copies.committed.push_back(std::move(copies.open));
      copies.open.clear();
    }
    size_t oldest = copies.committed.size() > keep
                        ? size_t(copies.committed.size() - keep)
                        : 0;
    for (size_t group = 0; group < oldest; ++group)
      for (const AsyncCopy &copy : copies.committed[group])
        if (ok)
          ok = completeAsyncCopy(instruction, lane, copy);
    copies.committed.erase(copies.committed.begin(),
                           copies.committed.begin() + oldest);
  });
  return ok;
}

/// The copy's bytes land; for the race checker they are a store of the
/// issuing thread now, so that other threads need a barrier after the wait.
bool BlockRunner::completeAsyncCopy(const Instruction &instruction,
                                    unsigned lane, const AsyncCopy &copy) {
  for (unsigned i = 0; i < copy.size; ++i)
    shadow[copy.offset + i].asyncWriter = 0;
  if (!checkShared(instruction, lane, copy.offset, copy.size, true,
                   "cp.async write"))
    return false;
  std::memcpy(&shared[copy.offset], copy.data, copy.size);
  return true;
}

} // namespace

// --- Grids -----------------------------------------------------------------

std::optional<Fault> execute(const Kernel &kernel, const LaunchConfig &config,
                             Memory &memory, KernelCounters *counters,
                             unsigned hostThreads) {
  uint64_t blocks = uint64_t(config.grid[0]) * config.grid[1] * config.grid[2];
  if (!hostThreads)
    hostThreads = std::max(1u, std::thread::hardware_concurrency());
  hostThreads = unsigned(std::min<uint64_t>(hostThreads, blocks));
  bool counting = counters != nullptr;
  if (counting)
    memory.startCountingSectors();

  std::atomic<uint64_t> nextBlock{0};
  std::atomic<bool> stop{false};
  std::mutex merge;
  std::optional<Fault> firstFault;
  uint64_t faultBlock = UINT64_MAX;
  KernelCounters total;
  auto worker = [&] {
    BlockRunner runner(kernel, config, memory, counting);
    for (;;) {
      uint64_t block = nextBlock.fetch_add(1);
      if (block >= blocks || stop.load(std::memory_order_relaxed))
        break;
      uint32_t ctaid[3] = {
          uint32_t(block % config.grid[0]),
          uint32_t(block / config.grid[0] % config.grid[1]),
          uint32_t(block / (uint64_t(config.grid[0]) * config.grid[1]))};
      std::optional<Fault> fault;
      if (!runner.run(ctaid, fault)) {
        std::lock_guard<std::mutex> lock(merge);
        // Report the fault of the lowest block, so that runs with any
        // number of host threads say the same.
        if (block < faultBlock) {
          faultBlock = block;
          firstFault = fault;
        }
        stop = true;
        break;
      }
    }
    std::lock_guard<std::mutex> lock(merge);
    total.add(runner.counters);
  };
  if (hostThreads <= 1) {
    worker();
  } else {
    std::vector<std::thread> threads;
    for (unsigned i = 0; i < hostThreads; ++i)
      threads.emplace_back(worker);
    for (std::thread &thread : threads)
      thread.join();
  }
  if (counting) {
    total.launches = 1;
    total.uniqueGlobalBytes = memory.countTouchedBytes();
    *counters = total;
  }
  return firstFault;
}

} // namespace vitc::emulator
