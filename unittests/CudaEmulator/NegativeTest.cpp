//===- NegativeTest.cpp - The emulator refuses and reports bad programs ---===//
//
// Faults during a launch (out-of-bounds global and shared accesses, freed
// memory, shared-memory races, divergent barriers and warp collectives),
// PTX the emulator does not implement, cubins, launches over the limits,
// out-of-bounds copies and bad handles: each test checks the driver's error
// code and the text of the report or JIT log, and where a fault is sticky,
// that it stays until the primary context is released to zero. Most faults
// come with the same kernel run within bounds (or with the barrier), which
// must pass, so that the test is sensitive to the one thing that is wrong.
//
//===----------------------------------------------------------------------===//

#include "CudaEmulator/EmulatorFixture.h"

#include <cctype>

namespace vitc::emulator::test {
namespace {

/// Whether `text` contains `prefix` immediately followed by the number
/// `value` (and not by more digits: "line 1" is not in "line 12").
bool mentions(const std::string &text, const std::string &prefix,
              unsigned value) {
  std::string needle = prefix + std::to_string(value);
  for (size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + 1)) {
    size_t end = at + needle.size();
    if (end == text.size() || !std::isdigit((unsigned char)text[end]))
      return true;
  }
  return false;
}

const char *kFaultsPtx = R"ptx(
.version 7.8
.target sm_80
.address_size 64

.extern .shared .align 4 .b32 dynbuf[];

.visible .entry fill(.param .u64 out)
{
  .reg .b32 %r<5>;
  .reg .b64 %rd<4>;
  ld.param.u64 %rd1, [out];
  mov.u32 %r1, %tid.x;
  mov.u32 %r2, %ctaid.x;
  mov.u32 %r3, %ntid.x;
  mad.lo.u32 %r4, %r2, %r3, %r1;
  mul.wide.u32 %rd2, %r4, 4;
  add.s64 %rd3, %rd1, %rd2;
  st.global.u32 [%rd3], %r4;
  ret;
}

.visible .entry oob_store(.param .u64 out)
{
  .reg .b32 %r<6>;
  .reg .b64 %rd<4>;
  ld.param.u64 %rd1, [out];
  mov.u32 %r1, %tid.x;
  mov.u32 %r2, %tid.y;
  mov.u32 %r3, %ctaid.x;
  mad.lo.u32 %r4, %r2, 8, %r1;
  mad.lo.u32 %r5, %r3, 16, %r4;
  mul.wide.u32 %rd2, %r5, 4;
  add.s64 %rd3, %rd1, %rd2;
  st.global.u32 [%rd3], %r5; // FAULT_GLOBAL_STORE
  ret;
}

.visible .entry copy_word(.param .u64 in, .param .u64 out)
{
  .reg .b32 %r<2>;
  .reg .b64 %rd<3>;
  ld.param.u64 %rd1, [in];
  ld.param.u64 %rd2, [out];
  ld.global.u32 %r1, [%rd1]; // FAULT_GLOBAL_LOAD
  st.global.u32 [%rd2], %r1; // FAULT_COPY_STORE
  ret;
}

.visible .entry shared_read(.param .u64 out, .param .u32 extra)
{
  .shared .align 4 .b32 buf[64];
  .reg .pred %p<2>;
  .reg .b32 %r<7>;
  .reg .b64 %rd<7>;
  ld.param.u64 %rd1, [out];
  ld.param.u32 %r1, [extra];
  mov.u32 %r2, %tid.x;
  mov.u32 %r6, %ctaid.x;
  mov.u64 %rd2, buf;
  mul.wide.u32 %rd3, %r2, 4;
  add.s64 %rd4, %rd2, %rd3;
  st.shared.u32 [%rd4], %r2;
  bar.sync 0;
  setp.eq.u32 %p1, %r2, 37;
  selp.u32 %r3, %r1, 0, %p1;
  mul.lo.u32 %r3, %r3, %r6;
  add.u32 %r4, %r2, %r3;
  mul.wide.u32 %rd5, %r4, 4;
  add.s64 %rd5, %rd2, %rd5;
  ld.shared.u32 %r5, [%rd5]; // FAULT_SHARED_LOAD
  mov.u32 %r3, %ntid.x;
  mad.lo.u32 %r4, %r6, %r3, %r2;
  mul.wide.u32 %rd6, %r4, 4;
  add.s64 %rd6, %rd1, %rd6;
  st.global.u32 [%rd6], %r5;
  ret;
}

.visible .entry dyn_store(.param .u32 index)
{
  .reg .pred %p<2>;
  .reg .b32 %r<3>;
  .reg .b64 %rd<4>;
  ld.param.u32 %r1, [index];
  mov.u32 %r2, %tid.x;
  setp.ne.u32 %p1, %r2, 5;
  @%p1 bra DONE;
  mov.u64 %rd1, dynbuf;
  mul.wide.u32 %rd2, %r1, 4;
  add.s64 %rd3, %rd1, %rd2;
  st.shared.u32 [%rd3], %r2; // FAULT_SHARED_STORE
DONE:
  ret;
}

.visible .entry big_static(.param .u32 index)
{
  .shared .align 4 .b8 big[40960];
  .reg .pred %p<2>;
  .reg .b32 %r<3>;
  .reg .b64 %rd<5>;
  ld.param.u32 %r1, [index];
  mov.u32 %r2, %tid.x;
  mov.u64 %rd1, big;
  mul.wide.u32 %rd2, %r2, 4;
  add.s64 %rd3, %rd1, %rd2;
  st.shared.u32 [%rd3], %r2;
  setp.ne.u32 %p1, %r2, 0;
  @%p1 bra DONE;
  mov.u64 %rd1, dynbuf;
  mul.wide.u32 %rd2, %r1, 4;
  add.s64 %rd4, %rd1, %rd2;
  st.shared.u32 [%rd4], %r2;
DONE:
  ret;
}

.visible .entry limited(.param .u64 out) .maxntid 64, 1, 1
{
  .reg .b32 %r<2>;
  .reg .b64 %rd<4>;
  ld.param.u64 %rd1, [out];
  mov.u32 %r1, %tid.x;
  mul.wide.u32 %rd2, %r1, 4;
  add.s64 %rd3, %rd1, %rd2;
  st.global.u32 [%rd3], %r1;
  ret;
}
)ptx";

const char *kRacesPtx = R"ptx(
.version 7.8
.target sm_80
.address_size 64

.visible .entry neighbour_race(.param .u64 out)
{
  .shared .align 4 .b32 cells[64];
  .reg .b32 %r<4>;
  .reg .b64 %rd<7>;
  ld.param.u64 %rd1, [out];
  mov.u32 %r1, %tid.x;
  mov.u64 %rd2, cells;
  mul.wide.u32 %rd3, %r1, 4;
  add.s64 %rd4, %rd2, %rd3;
  st.shared.u32 [%rd4], %r1; // RACE_WRITE
  xor.b32 %r2, %r1, 1;
  mul.wide.u32 %rd5, %r2, 4;
  add.s64 %rd5, %rd2, %rd5;
  ld.shared.u32 %r3, [%rd5]; // RACE_READ
  add.s64 %rd6, %rd1, %rd3;
  st.global.u32 [%rd6], %r3;
  ret;
}

.visible .entry neighbour_synced(.param .u64 out)
{
  .shared .align 4 .b32 cells[64];
  .reg .b32 %r<4>;
  .reg .b64 %rd<7>;
  ld.param.u64 %rd1, [out];
  mov.u32 %r1, %tid.x;
  mov.u64 %rd2, cells;
  mul.wide.u32 %rd3, %r1, 4;
  add.s64 %rd4, %rd2, %rd3;
  st.shared.u32 [%rd4], %r1;
  bar.sync 0;
  xor.b32 %r2, %r1, 1;
  mul.wide.u32 %rd5, %r2, 4;
  add.s64 %rd5, %rd2, %rd5;
  ld.shared.u32 %r3, [%rd5];
  add.s64 %rd6, %rd1, %rd3;
  st.global.u32 [%rd6], %r3;
  ret;
}

.visible .entry cross_warp_race(.param .u64 out)
{
  .shared .align 4 .b32 cells[64];
  .reg .b32 %r<4>;
  .reg .b64 %rd<7>;
  ld.param.u64 %rd1, [out];
  mov.u32 %r1, %tid.x;
  mov.u64 %rd2, cells;
  mul.wide.u32 %rd3, %r1, 4;
  add.s64 %rd4, %rd2, %rd3;
  st.shared.u32 [%rd4], %r1; // FAR_WRITE
  add.u32 %r2, %r1, 32;
  and.b32 %r2, %r2, 63;
  mul.wide.u32 %rd5, %r2, 4;
  add.s64 %rd5, %rd2, %rd5;
  ld.shared.u32 %r3, [%rd5]; // FAR_READ
  add.s64 %rd6, %rd1, %rd3;
  st.global.u32 [%rd6], %r3;
  ret;
}

.visible .entry early_exit(.param .u64 out)
{
  .reg .pred %p<2>;
  .reg .b32 %r<2>;
  .reg .b64 %rd<4>;
  ld.param.u64 %rd1, [out];
  mov.u32 %r1, %tid.x;
  setp.lt.u32 %p1, %r1, 16;
  @%p1 bra DONE;
  bar.sync 0; // DIVERGENT_BARRIER
  mul.wide.u32 %rd2, %r1, 4;
  add.s64 %rd3, %rd1, %rd2;
  st.global.u32 [%rd3], %r1;
DONE:
  ret;
}

.visible .entry shfl_vs_barrier(.param .u64 out)
{
  .reg .pred %p<2>;
  .reg .b32 %r<3>;
  .reg .b64 %rd<4>;
  ld.param.u64 %rd1, [out];
  mov.u32 %r1, %tid.x;
  mov.u32 %r2, 0;
  setp.ge.u32 %p1, %r1, 16;
  @%p1 bra WAIT;
  shfl.sync.idx.b32 %r2, %r1, 0, 0x1f, 0xffffffff; // DEADLOCK_SHFL
  bra STORE;
WAIT:
  bar.sync 0; // DEADLOCK_BARRIER
STORE:
  mul.wide.u32 %rd2, %r1, 4;
  add.s64 %rd3, %rd1, %rd2;
  st.global.u32 [%rd3], %r2;
  ret;
}
)ptx";

/// The fixture with kFaultsPtx loaded.
class EmulatorFaultTest : public EmulatorTest {
protected:
  void SetUp() override {
    EmulatorTest::SetUp();
    ASSERT_EQ(loadModule(kFaultsPtx, &faults), abi::kSuccess) << jitLog;
  }

  CUfunction get(const char *name, CUmodule module = nullptr) {
    CUfunction function = nullptr;
    EXPECT_EQ(cuModuleGetFunction(&function, module ? module : faults, name),
              abi::kSuccess)
        << name;
    return function;
  }

  /// Checks the parts every launch report has.
  void expectReport(const std::string &what, const char *kernelName,
                    unsigned line, const std::string &block,
                    const std::string &thread) {
    std::string text = report();
    EXPECT_TRUE(contains(text, what)) << text;
    EXPECT_TRUE(contains(text, std::string("kernel '") + kernelName + "'"))
        << text;
    EXPECT_NE(line, 0u);
    EXPECT_TRUE(mentions(text, "PTX line ", line)) << line << ": " << text;
    if (!block.empty())
      EXPECT_TRUE(contains(text, "block " + block)) << text;
    if (!thread.empty())
      EXPECT_TRUE(contains(text, "thread " + thread)) << text;
  }

  CUmodule faults = nullptr;
};

//===----------------------------------------------------------------------===//
// Faults during a launch
//===----------------------------------------------------------------------===//

TEST_F(EmulatorFaultTest, GlobalStoreOnePastTheEnd) {
  CUfunction f = get("oob_store");
  // 2 blocks of 8x2 threads store 32 words; thread (7,1,0) of block
  // (1,0,0) stores word 31. A buffer of 32 words holds them all...
  CUdeviceptr fits = allocate(32 * 4);
  ASSERT_EQ(launch(f, {2}, {8, 2}, 0, fits), abi::kSuccess) << report();
  std::vector<uint32_t> words = download<uint32_t>(fits, 32);
  for (uint32_t i = 0; i < 32; ++i)
    EXPECT_EQ(words[i], i);
  // ...and one of 31 words does not. (In a fresh context, so that the
  // word past it cannot belong to another allocation.)
  recreateContext();
  ASSERT_EQ(loadModule(kFaultsPtx, &faults), abi::kSuccess) << jitLog;
  f = get("oob_store");
  CUdeviceptr small = allocate(31 * 4);
  EXPECT_EQ(launch(f, {2}, {8, 2}, 0, small), abi::kErrorIllegalAddress);
  expectReport("out-of-bounds global store", "oob_store",
               lineOf(kFaultsPtx, "FAULT_GLOBAL_STORE"), "(1,0,0)", "(7,1,0)");
}

TEST_F(EmulatorFaultTest, GlobalLoadThroughNull) {
  CUfunction f = get("copy_word");
  CUdeviceptr out = allocate(4);
  EXPECT_EQ(launch(f, {1}, {1}, 0, CUdeviceptr(0), out),
            abi::kErrorIllegalAddress);
  expectReport("out-of-bounds global load", "copy_word",
               lineOf(kFaultsPtx, "FAULT_GLOBAL_LOAD"), "(0,0,0)", "(0,0,0)");
}

TEST_F(EmulatorFaultTest, AccessToFreedMemory) {
  CUfunction f = get("copy_word");
  CUdeviceptr in = upload(std::vector<uint32_t>{42});
  CUdeviceptr out = allocate(4);
  ASSERT_EQ(launch(f, {1}, {1}, 0, in, out), abi::kSuccess) << report();
  EXPECT_EQ(download<uint32_t>(out, 1)[0], 42u);
  ASSERT_EQ(cuMemFree_v2(out), abi::kSuccess);
  forget(out);
  EXPECT_EQ(launch(f, {1}, {1}, 0, in, out), abi::kErrorIllegalAddress);
  expectReport("global store", "copy_word",
               lineOf(kFaultsPtx, "FAULT_COPY_STORE"), "(0,0,0)", "(0,0,0)");
}

TEST_F(EmulatorFaultTest, SharedLoadOnePastTheEnd) {
  CUfunction f = get("shared_read");
  // Thread 37 of block 1 reads buf[37 + extra]; buf has 64 words.
  CUdeviceptr out = allocate(2 * 64 * 4);
  uint32_t extra = 26;
  ASSERT_EQ(launch(f, {2}, {64}, 0, out, extra), abi::kSuccess) << report();
  EXPECT_EQ(download<uint32_t>(out, 128)[64 + 37], 63u);
  extra = 27;
  EXPECT_EQ(launch(f, {2}, {64}, 0, out, extra), abi::kErrorIllegalAddress);
  expectReport("out-of-bounds shared load", "shared_read",
               lineOf(kFaultsPtx, "FAULT_SHARED_LOAD"), "(1,0,0)", "(37,0,0)");
}

TEST_F(EmulatorFaultTest, SharedStorePastTheDynamicSize) {
  CUfunction f = get("dyn_store");
  // 128 bytes of dynamic shared memory: word 31 is the last one.
  uint32_t index = 31;
  ASSERT_EQ(launch(f, {1}, {32}, 128, index), abi::kSuccess) << report();
  index = 32;
  EXPECT_EQ(launch(f, {1}, {32}, 128, index), abi::kErrorIllegalAddress);
  expectReport("out-of-bounds shared store", "dyn_store",
               lineOf(kFaultsPtx, "FAULT_SHARED_STORE"), "(0,0,0)", "(5,0,0)");
}

TEST_F(EmulatorFaultTest, SharedRaceWithoutBarrier) {
  CUmodule races = nullptr;
  ASSERT_EQ(loadModule(kRacesPtx, &races), abi::kSuccess) << jitLog;
  CUdeviceptr out = allocate(64 * 4);
  // With the barrier: no race, and each thread sees its neighbour's value.
  ASSERT_EQ(launch(get("neighbour_synced", races), {1}, {64}, 0, out),
            abi::kSuccess)
      << report();
  std::vector<uint32_t> values = download<uint32_t>(out, 64);
  for (uint32_t t = 0; t < 64; ++t)
    EXPECT_EQ(values[t], t ^ 1);
  // Without it, the write of one thread and the read of its neighbour race.
  EXPECT_EQ(launch(get("neighbour_race", races), {1}, {64}, 0, out),
            abi::kErrorLaunchFailed);
  std::string text = report();
  EXPECT_TRUE(contains(text, "shared-memory race")) << text;
  EXPECT_TRUE(contains(text, "kernel 'neighbour_race'")) << text;
  // Either access may be the one that finds the race.
  EXPECT_TRUE(mentions(text, "PTX line ", lineOf(kRacesPtx, "RACE_WRITE")) ||
              mentions(text, "PTX line ", lineOf(kRacesPtx, "RACE_READ")))
      << text;
  EXPECT_TRUE(contains(text, "block (0,0,0)")) << text;
  EXPECT_TRUE(contains(text, "thread (")) << text;
}

TEST_F(EmulatorFaultTest, SharedRaceAcrossWarps) {
  CUmodule races = nullptr;
  ASSERT_EQ(loadModule(kRacesPtx, &races), abi::kSuccess) << jitLog;
  CUdeviceptr out = allocate(64 * 4);
  EXPECT_EQ(launch(get("cross_warp_race", races), {1}, {64}, 0, out),
            abi::kErrorLaunchFailed);
  std::string text = report();
  EXPECT_TRUE(contains(text, "shared-memory race")) << text;
  EXPECT_TRUE(contains(text, "kernel 'cross_warp_race'")) << text;
  EXPECT_TRUE(mentions(text, "PTX line ", lineOf(kRacesPtx, "FAR_WRITE")) ||
              mentions(text, "PTX line ", lineOf(kRacesPtx, "FAR_READ")))
      << text;
}

TEST_F(EmulatorFaultTest, BarrierNotReachedByAllThreads) {
  CUmodule races = nullptr;
  ASSERT_EQ(loadModule(kRacesPtx, &races), abi::kSuccess) << jitLog;
  CUdeviceptr out = allocate(64 * 4);
  EXPECT_EQ(launch(get("early_exit", races), {1}, {64}, 0, out),
            abi::kErrorLaunchFailed);
  std::string text = report();
  EXPECT_TRUE(contains(text, "barrier")) << text;
  EXPECT_TRUE(contains(text, "kernel 'early_exit'")) << text;
  EXPECT_TRUE(
      mentions(text, "PTX line ", lineOf(kRacesPtx, "DIVERGENT_BARRIER")))
      << text;
  EXPECT_TRUE(contains(text, "block (0,0,0)")) << text;
}

TEST_F(EmulatorFaultTest, WarpCollectiveDeadlocksWithBarrier) {
  CUmodule races = nullptr;
  ASSERT_EQ(loadModule(kRacesPtx, &races), abi::kSuccess) << jitLog;
  CUdeviceptr out = allocate(32 * 4);
  // Lanes 0-15 wait at a shfl that names all 32 lanes; lanes 16-31 wait at
  // a bar.sync that needs lanes 0-15: neither can complete.
  EXPECT_EQ(launch(get("shfl_vs_barrier", races), {1}, {32}, 0, out),
            abi::kErrorLaunchFailed);
  std::string text = report();
  EXPECT_TRUE(contains(text, "kernel 'shfl_vs_barrier'")) << text;
  EXPECT_TRUE(
      mentions(text, "PTX line ", lineOf(kRacesPtx, "DEADLOCK_SHFL")) ||
      mentions(text, "PTX line ", lineOf(kRacesPtx, "DEADLOCK_BARRIER")))
      << text;
  EXPECT_TRUE(contains(text, "block (0,0,0)")) << text;
}

//===----------------------------------------------------------------------===//
// Sticky errors
//===----------------------------------------------------------------------===//

TEST_F(EmulatorFaultTest, FaultIsStickyUntilPrimaryContextReleasedToZero) {
  CUdeviceptr out = allocate(31 * 4);
  std::vector<uint32_t> host(31, 0);
  // A second reference to the primary context.
  CUcontext second = nullptr;
  ASSERT_EQ(cuDevicePrimaryCtxRetain(&second, device), abi::kSuccess);
  EXPECT_EQ(second, context);
  CUfunction fill = get("fill");

  ASSERT_EQ(launch(get("oob_store"), {2}, {8, 2}, 0, out),
            abi::kErrorIllegalAddress);
  // Every later call in the context fails the same way.
  CUdeviceptr other = 0;
  EXPECT_EQ(cuMemAlloc_v2(&other, 64), abi::kErrorIllegalAddress);
  EXPECT_EQ(cuMemcpyHtoD_v2(out, host.data(), 4), abi::kErrorIllegalAddress);
  EXPECT_EQ(cuMemcpyDtoH_v2(host.data(), out, 4), abi::kErrorIllegalAddress);
  EXPECT_EQ(launch(fill, {1}, {31}, 0, out), abi::kErrorIllegalAddress);
  EXPECT_EQ(cuCtxSynchronize(), abi::kErrorIllegalAddress);
  EXPECT_EQ(cuStreamSynchronize(stream), abi::kErrorIllegalAddress);
  CUmodule module = nullptr;
  EXPECT_EQ(loadModule(kFaultsPtx, &module), abi::kErrorIllegalAddress);

  // Releasing one of two references keeps the context and its error.
  ASSERT_EQ(cuDevicePrimaryCtxRelease_v2(device), abi::kSuccess);
  EXPECT_EQ(cuMemAlloc_v2(&other, 64), abi::kErrorIllegalAddress);

  // Releasing the last one ends it; the next retain gives a working one.
  recreateContext();
  CUdeviceptr fresh = allocate(31 * 4);
  ASSERT_EQ(loadModule(kFaultsPtx, &faults), abi::kSuccess) << jitLog;
  ASSERT_EQ(launch(get("fill"), {1}, {31}, 0, fresh), abi::kSuccess)
      << report();
  std::vector<uint32_t> words = download<uint32_t>(fresh, 31);
  for (uint32_t i = 0; i < 31; ++i)
    EXPECT_EQ(words[i], i);
  EXPECT_EQ(cuCtxSynchronize(), abi::kSuccess);
}

TEST_F(EmulatorFaultTest, LaunchFailureIsSticky) {
  CUmodule races = nullptr;
  ASSERT_EQ(loadModule(kRacesPtx, &races), abi::kSuccess) << jitLog;
  CUdeviceptr out = allocate(64 * 4);
  CUfunction synced = get("neighbour_synced", races);
  ASSERT_EQ(launch(get("neighbour_race", races), {1}, {64}, 0, out),
            abi::kErrorLaunchFailed);
  CUdeviceptr other = 0;
  EXPECT_EQ(cuMemAlloc_v2(&other, 64), abi::kErrorLaunchFailed);
  EXPECT_EQ(launch(synced, {1}, {64}, 0, out), abi::kErrorLaunchFailed);
  EXPECT_EQ(cuCtxSynchronize(), abi::kErrorLaunchFailed);
  recreateContext();
  EXPECT_EQ(cuCtxSynchronize(), abi::kSuccess);
  CUdeviceptr fresh = allocate(64);
  EXPECT_NE(fresh, 0u);
}

//===----------------------------------------------------------------------===//
// Module loading
//===----------------------------------------------------------------------===//

const char *kUnsupportedPtx = R"ptx(
.version 7.8
.target sm_80
.address_size 64

.visible .entry supported(.param .u64 out)
{
  .reg .b32 %r<2>;
  .reg .b64 %rd<2>;
  ld.param.u64 %rd1, [out];
  mov.u32 %r1, 1;
  st.global.u32 [%rd1], %r1;
  ret;
}

.visible .entry counter(.param .u64 out)
{
  .reg .b32 %r<3>;
  .reg .b64 %rd<2>;
  ld.param.u64 %rd1, [out];
  mov.u32 %r1, 1;
  atom.global.add.u32 %r2, [%rd1], %r1; // UNSUPPORTED
  ret;
}
)ptx";

TEST_F(EmulatorTest, UnsupportedInstructionRefusedAtLoad) {
  CUmodule module = nullptr;
  EXPECT_EQ(loadModule(kUnsupportedPtx, &module), abi::kErrorInvalidPtx);
  unsigned line = lineOf(kUnsupportedPtx, "UNSUPPORTED");
  ASSERT_NE(line, 0u);
  EXPECT_TRUE(mentions(jitLog, "line ", line)) << line << ": " << jitLog;
  EXPECT_TRUE(contains(jitLog, "atom.global.add.u32")) << jitLog;
  // The report of the last failed load says the same.
  EXPECT_TRUE(mentions(report(), "line ", line)) << report();
  // The refusal is not sticky.
  EXPECT_EQ(loadModule(kFaultsPtx, &module), abi::kSuccess) << jitLog;
  CUdeviceptr pointer = 0;
  EXPECT_EQ(cuMemAlloc_v2(&pointer, 16), abi::kSuccess);
  if (pointer)
    allocations.push_back(pointer);
}

// A kernel around one instruction (in place of INSTRUCTION): a template,
// not PTX, hence the delimiter.
const char *kOneInstructionTemplate = R"template(
.version 7.8
.target sm_80
.address_size 64

.visible .entry one(.param .u64 out)
{
  .reg .pred %p<2>;
  .reg .b16 %rs<2>;
  .reg .b32 %r<5>;
  .reg .f32 %f<9>;
  .reg .b64 %rd<3>;
  ld.param.u64 %rd1, [out];
  INSTRUCTION
  ret;
}
)template";

TEST_F(EmulatorTest, UnsupportedFormsOfSupportedInstructionsRefusedAtLoad) {
  // PTX the emulator does not implement (the m8n8k4 and s8 mma, cp.async
  // with ignore-src, cvt.rz and .relu to 16 bits all pass ptxas) or that is
  // malformed (the others): each is refused with its line, never run by
  // guess.
  struct Case {
    const char *instruction, *why;
  };
  const Case cases[] = {
      {"mma.sync.aligned.m8n8k4.row.col.f32.f16.f16.f32 {%f1, %f2, %f3, %f4, "
       "%f5, %f6, %f7, %f8}, {%r1, %r2}, {%r3, %r4}, {%f1, %f2, %f3, %f4, %f5, "
       "%f6, %f7, %f8};",
       "unsupported shape"},
      {"mma.sync.aligned.m16n8k16.row.col.s32.s8.s8.s32 {%r1, %r2, %r3, %r4}, "
       "{%r1, %r2}, {%r3}, {%r1, %r2, %r3, %r4};",
       "unsupported type combination"},
      {"ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%r1, %r2}, [%rd1];",
       "unsupported operands"},
      {"cp.async.ca.shared.global [%rd1], [%rd2], 4, %p1;",
       "unsupported ignore-src predicate"},
      {"cp.async.cg.shared.global [%rd1], [%rd2], 8;",
       "unsupported .cg with a cp-size other than 16"},
      {"cvt.rz.f16.f32 %rs1, %f1;", "unsupported rounding to a 16-bit float"},
      {"cvt.rn.relu.bf16.f32 %rs1, %f1;", "unsupported modifier '.relu'"},
      {"cvt.rna.f32.f64 %f1, %rd1;", "unsupported rounding .rna"},
  };
  for (const Case &c : cases) {
    std::string ptx = kOneInstructionTemplate;
    ptx.replace(ptx.find("INSTRUCTION"), 11, c.instruction);
    EXPECT_EQ(loadModule(ptx), abi::kErrorInvalidPtx) << c.instruction;
    EXPECT_TRUE(mentions(jitLog, "line ", lineOf(ptx, c.instruction)))
        << jitLog;
    EXPECT_TRUE(contains(jitLog, c.why)) << jitLog;
  }
}

const char *kMalformedPtx = R"bad(
.version 7.8
.target sm_80
.address_size 64

.visible .entry broken(.param .u64 out)
{
  .reg .b32 %r<2>;
  mov.u32 %r1, %tid.x
  ret;
}
)bad";

TEST_F(EmulatorTest, MalformedPtxRefusedWithALine) {
  EXPECT_EQ(loadModule(kMalformedPtx), abi::kErrorInvalidPtx);
  EXPECT_TRUE(contains(jitLog, "line ")) << jitLog;
}

TEST_F(EmulatorTest, SmallLogBufferIsNotOverrun) {
  char log[64];
  std::memset(log, 'x', sizeof(log));
  int options[] = {abi::kJitErrorLogBuffer, abi::kJitErrorLogBufferSizeBytes};
  void *values[] = {log, reinterpret_cast<void *>(uintptr_t(16))};
  CUmodule module = nullptr;
  EXPECT_EQ(cuModuleLoadDataEx(&module, kUnsupportedPtx, 2, options, values),
            abi::kErrorInvalidPtx);
  EXPECT_NE(std::memchr(log, '\0', 16), nullptr) << "not terminated";
  for (size_t i = 16; i < sizeof(log); ++i)
    EXPECT_EQ(log[i], 'x') << "byte " << i << " written";
}

TEST_F(EmulatorTest, CubinRefused) {
  // The start of an ELF64 image, as a cubin begins.
  std::vector<char> cubin(256, '\0');
  const char header[] = "\x7f"
                        "ELF\x02\x01\x01";
  std::memcpy(cubin.data(), header, sizeof(header) - 1);
  EXPECT_EQ(loadImage(cubin.data()), abi::kErrorNoBinaryForGpu);
  EXPECT_TRUE(contains(jitLog, "PTX")) << jitLog;
  CUmodule module = nullptr;
  EXPECT_EQ(cuModuleLoadData(&module, cubin.data()), abi::kErrorNoBinaryForGpu);
}

TEST_F(EmulatorFaultTest, UnknownFunctionName) {
  CUfunction function = nullptr;
  EXPECT_EQ(cuModuleGetFunction(&function, faults, "no_such_kernel"),
            abi::kErrorNotFound);
  EXPECT_EQ(cuModuleGetFunction(&function, faults, "oob"), abi::kErrorNotFound);
  EXPECT_EQ(cuModuleGetFunction(&function, faults, "oob_store_"),
            abi::kErrorNotFound);
  EXPECT_EQ(cuModuleGetFunction(&function, faults, "oob_store"), abi::kSuccess);
}

//===----------------------------------------------------------------------===//
// Launch limits (not sticky)
//===----------------------------------------------------------------------===//

TEST_F(EmulatorFaultTest, TooManyThreadsPerBlock) {
  CUfunction f = get("fill");
  CUdeviceptr out = allocate(2048 * 4);
  EXPECT_EQ(launch(f, {1}, {1025}, 0, out), abi::kErrorInvalidValue);
  EXPECT_EQ(launch(f, {1}, {32, 32, 2}, 0, out), abi::kErrorInvalidValue);
  // Not sticky: the largest block runs.
  ASSERT_EQ(launch(f, {1}, {1024}, 0, out), abi::kSuccess) << report();
  std::vector<uint32_t> words = download<uint32_t>(out, 1024);
  EXPECT_EQ(words[1023], 1023u);
  ASSERT_EQ(launch(f, {2}, {1024}, 0, out), abi::kSuccess) << report();
  EXPECT_EQ(download<uint32_t>(out, 2048)[2047], 2047u);
}

TEST_F(EmulatorFaultTest, MaxntidIsEnforced) {
  CUfunction f = get("limited");
  int value = 0;
  EXPECT_EQ(
      cuFuncGetAttribute(&value, abi::kFunctionAttributeMaxThreadsPerBlock, f),
      abi::kSuccess);
  EXPECT_EQ(value, 64);
  CUdeviceptr out = allocate(128 * 4);
  EXPECT_EQ(launch(f, {1}, {65}, 0, out), abi::kErrorInvalidValue);
  EXPECT_EQ(launch(f, {1}, {8, 9}, 0, out), abi::kErrorInvalidValue);
  EXPECT_EQ(launch(f, {1}, {64}, 0, out), abi::kSuccess) << report();
  EXPECT_EQ(launch(f, {1}, {8, 8}, 0, out), abi::kSuccess) << report();
}

TEST_F(EmulatorFaultTest, DynamicSharedMemoryLimit) {
  CUfunction f = get("dyn_store");
  uint32_t index = 0;
  // 48 KiB is the default limit; more needs the attribute.
  EXPECT_EQ(launch(f, {1}, {32}, 48 * 1024, index), abi::kSuccess) << report();
  EXPECT_EQ(launch(f, {1}, {32}, 64 * 1024, index), abi::kErrorInvalidValue);
  ASSERT_EQ(cuFuncSetAttribute(f, abi::kFunctionAttributeMaxDynamicSharedBytes,
                               64 * 1024),
            abi::kSuccess);
  index = 64 * 1024 / 4 - 1; // the last word is usable
  EXPECT_EQ(launch(f, {1}, {32}, 64 * 1024, index), abi::kSuccess) << report();
  EXPECT_EQ(launch(f, {1}, {32}, 64 * 1024 + 4, index),
            abi::kErrorInvalidValue);
  // The attribute cannot exceed what the device offers (227 KiB on sm_90).
  if (!std::getenv("VITC_EMULATOR_SM")) {
    EXPECT_EQ(cuFuncSetAttribute(
                  f, abi::kFunctionAttributeMaxDynamicSharedBytes, 228 * 1024),
              abi::kErrorInvalidValue);
    ASSERT_EQ(cuFuncSetAttribute(
                  f, abi::kFunctionAttributeMaxDynamicSharedBytes, 227 * 1024),
              abi::kSuccess);
    EXPECT_EQ(launch(f, {1}, {32}, 227 * 1024, index), abi::kSuccess)
        << report();
  }
}

TEST_F(EmulatorFaultTest, StaticAndDynamicSharedMemoryCountTogether) {
  CUfunction f = get("big_static"); // 40 KiB static
  uint32_t index = 0;
  EXPECT_EQ(launch(f, {1}, {32}, 8 * 1024, index), abi::kSuccess) << report();
  EXPECT_EQ(launch(f, {1}, {32}, 8 * 1024 + 4, index), abi::kErrorInvalidValue);
  ASSERT_EQ(cuFuncSetAttribute(f, abi::kFunctionAttributeMaxDynamicSharedBytes,
                               16 * 1024),
            abi::kSuccess);
  index = 16 * 1024 / 4 - 1;
  EXPECT_EQ(launch(f, {1}, {32}, 16 * 1024, index), abi::kSuccess) << report();
}

TEST_F(EmulatorFaultTest, EnvironmentChoosesTheDevice) {
  // The device is read from the environment when the primary context is
  // created.
  {
    ScopedEnvironment sm("VITC_EMULATOR_SM", "80");
    ScopedEnvironment count("VITC_EMULATOR_SM_COUNT", "7");
    recreateContext();
    auto attribute = [&](int which) {
      int value = -1;
      EXPECT_EQ(cuDeviceGetAttribute(&value, which, device), abi::kSuccess);
      return value;
    };
    EXPECT_EQ(attribute(abi::kAttributeComputeCapabilityMajor), 8);
    EXPECT_EQ(attribute(abi::kAttributeComputeCapabilityMinor), 0);
    EXPECT_EQ(attribute(abi::kAttributeMultiprocessorCount), 7);
    EXPECT_EQ(attribute(abi::kAttributeMaxSharedMemoryPerBlock), 48 * 1024);
    EXPECT_EQ(attribute(abi::kAttributeMaxSharedMemoryPerBlockOptin),
              163 * 1024);
    ASSERT_EQ(loadModule(kFaultsPtx, &faults), abi::kSuccess) << jitLog;
    CUfunction f = get("dyn_store");
    EXPECT_EQ(cuFuncSetAttribute(
                  f, abi::kFunctionAttributeMaxDynamicSharedBytes, 164 * 1024),
              abi::kErrorInvalidValue);
    ASSERT_EQ(cuFuncSetAttribute(
                  f, abi::kFunctionAttributeMaxDynamicSharedBytes, 163 * 1024),
              abi::kSuccess);
    uint32_t index = 163 * 1024 / 4 - 1;
    EXPECT_EQ(launch(f, {1}, {32}, 163 * 1024, index), abi::kSuccess)
        << report();
  }
  // Back to the default device in the next context.
  recreateContext();
  if (!std::getenv("VITC_EMULATOR_SM")) {
    int major = 0;
    EXPECT_EQ(cuDeviceGetAttribute(
                  &major, abi::kAttributeComputeCapabilityMajor, device),
              abi::kSuccess);
    EXPECT_EQ(major, 9);
  }
}

//===----------------------------------------------------------------------===//
// Memory API
//===----------------------------------------------------------------------===//

TEST_F(EmulatorTest, CopiesOutOfBoundsAreRefused) {
  CUdeviceptr p = allocate(64);
  char host[128] = {};
  EXPECT_EQ(cuMemcpyHtoD_v2(p, host, 65), abi::kErrorInvalidValue);
  EXPECT_EQ(cuMemcpyHtoD_v2(p + 60, host, 8), abi::kErrorInvalidValue);
  EXPECT_EQ(cuMemcpyDtoH_v2(host, p + 64, 1), abi::kErrorInvalidValue);
  EXPECT_EQ(cuMemcpyDtoH_v2(host, p - 1, 2), abi::kErrorInvalidValue);
  EXPECT_EQ(cuMemcpyDtoD_v2(p, p + 32, 40), abi::kErrorInvalidValue);
  EXPECT_EQ(cuMemcpyDtoD_v2(p + 32, p, 40), abi::kErrorInvalidValue);
  EXPECT_EQ(cuMemsetD8_v2(p + 1, 0, 64), abi::kErrorInvalidValue);
  EXPECT_EQ(cuMemcpyHtoDAsync_v2(p, host, 65, stream), abi::kErrorInvalidValue);
  EXPECT_EQ(cuMemcpyDtoHAsync_v2(host, p + 1, 64, stream),
            abi::kErrorInvalidValue);
  // Not sticky, and the copies within bounds work.
  for (int i = 0; i < 64; ++i)
    host[i] = char(i);
  EXPECT_EQ(cuMemcpyHtoD_v2(p + 32, host, 32), abi::kSuccess);
  EXPECT_EQ(cuMemcpyDtoD_v2(p, p + 32, 32), abi::kSuccess);
  char back[64] = {};
  EXPECT_EQ(cuMemcpyDtoH_v2(back, p, 64), abi::kSuccess);
  for (int i = 0; i < 64; ++i)
    EXPECT_EQ(back[i], char(i % 32));
}

TEST_F(EmulatorTest, FreedAndForeignPointersAreRefused) {
  CUdeviceptr p = allocate(64);
  CUdeviceptr keep = allocate(64);
  char host[64] = {};
  ASSERT_EQ(cuMemFree_v2(p), abi::kSuccess);
  forget(p);
  EXPECT_EQ(cuMemcpyHtoD_v2(p, host, 4), abi::kErrorInvalidValue);
  EXPECT_EQ(cuMemcpyDtoH_v2(host, p, 4), abi::kErrorInvalidValue);
  EXPECT_EQ(cuMemcpyDtoD_v2(keep, p, 4), abi::kErrorInvalidValue);
  EXPECT_EQ(cuMemsetD8_v2(p, 0, 4), abi::kErrorInvalidValue);
  EXPECT_EQ(cuMemFree_v2(p), abi::kErrorInvalidValue);        // twice
  EXPECT_EQ(cuMemFree_v2(keep + 8), abi::kErrorInvalidValue); // interior
  EXPECT_EQ(cuMemFree_v2(CUdeviceptr(0x1234)), abi::kErrorInvalidValue);
  // A host pointer is not a device pointer.
  EXPECT_EQ(cuMemcpyDtoH_v2(host, CUdeviceptr(uintptr_t(host)), 4),
            abi::kErrorInvalidValue);
  // Not sticky.
  EXPECT_EQ(cuMemcpyHtoD_v2(keep, host, 64), abi::kSuccess);
}

//===----------------------------------------------------------------------===//
// Handles
//===----------------------------------------------------------------------===//

TEST_F(EmulatorFaultTest, NullAndGarbageHandles) {
  // Readable memory that is not a handle the emulator gave out.
  alignas(64) static unsigned char junk[512];
  std::memset(junk, 0xab, sizeof(junk));
  CUmodule badModule = reinterpret_cast<CUmodule>(junk);
  CUfunction badFunction = reinterpret_cast<CUfunction>(junk + 64);
  CUstream badStream = reinterpret_cast<CUstream>(junk + 128);
  CUgraph badGraph = reinterpret_cast<CUgraph>(junk + 192);
  CUgraphExec badExec = reinterpret_cast<CUgraphExec>(junk + 256);

  CUfunction function = nullptr;
  EXPECT_EQ(cuModuleGetFunction(&function, nullptr, "fill"),
            abi::kErrorInvalidHandle);
  EXPECT_EQ(cuModuleGetFunction(&function, badModule, "fill"),
            abi::kErrorInvalidHandle);
  EXPECT_EQ(cuModuleUnload(nullptr), abi::kErrorInvalidHandle);
  EXPECT_EQ(cuModuleUnload(badModule), abi::kErrorInvalidHandle);

  CUdeviceptr out = allocate(64);
  void *parameters[] = {&out};
  EXPECT_EQ(
      cuLaunchKernel(nullptr, 1, 1, 1, 1, 1, 1, 0, stream, parameters, nullptr),
      abi::kErrorInvalidHandle);
  EXPECT_EQ(cuLaunchKernel(badFunction, 1, 1, 1, 1, 1, 1, 0, stream, parameters,
                           nullptr),
            abi::kErrorInvalidHandle);
  EXPECT_EQ(cuLaunchKernel(get("fill"), 1, 1, 1, 1, 1, 1, 0, badStream,
                           parameters, nullptr),
            abi::kErrorInvalidHandle);
  int value = 0;
  EXPECT_EQ(cuFuncGetAttribute(&value, 0, nullptr), abi::kErrorInvalidHandle);
  EXPECT_EQ(cuFuncSetAttribute(badFunction, 8, 1024), abi::kErrorInvalidHandle);

  EXPECT_EQ(cuStreamSynchronize(badStream), abi::kErrorInvalidHandle);
  EXPECT_EQ(cuStreamDestroy_v2(badStream), abi::kErrorInvalidHandle);
  CUgraphExec exec = nullptr;
  EXPECT_EQ(cuGraphInstantiateWithFlags(&exec, nullptr, 0),
            abi::kErrorInvalidHandle);
  EXPECT_EQ(cuGraphInstantiateWithFlags(&exec, badGraph, 0),
            abi::kErrorInvalidHandle);
  EXPECT_EQ(cuGraphLaunch(nullptr, stream), abi::kErrorInvalidHandle);
  EXPECT_EQ(cuGraphLaunch(badExec, stream), abi::kErrorInvalidHandle);
  EXPECT_EQ(cuGraphExecDestroy(badExec), abi::kErrorInvalidHandle);
  EXPECT_EQ(cuGraphDestroy(badGraph), abi::kErrorInvalidHandle);

  // Handles that were valid once: an unloaded module, a destroyed stream.
  CUmodule module = nullptr;
  ASSERT_EQ(loadModule(kFaultsPtx, &module), abi::kSuccess) << jitLog;
  modules.pop_back();
  ASSERT_EQ(cuModuleUnload(module), abi::kSuccess);
  EXPECT_EQ(cuModuleGetFunction(&function, module, "fill"),
            abi::kErrorInvalidHandle);
  EXPECT_EQ(cuModuleUnload(module), abi::kErrorInvalidHandle);
  CUstream extra = nullptr;
  ASSERT_EQ(cuStreamCreate(&extra, 0), abi::kSuccess);
  ASSERT_EQ(cuStreamDestroy_v2(extra), abi::kSuccess);
  EXPECT_EQ(cuStreamSynchronize(extra), abi::kErrorInvalidHandle);

  // None of this is sticky.
  EXPECT_EQ(launch(get("fill"), {1}, {16}, 0, out), abi::kSuccess) << report();
}

} // namespace
} // namespace vitc::emulator::test
