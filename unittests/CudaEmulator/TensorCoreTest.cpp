//===- TensorCoreTest.cpp - ldmatrix, mma.sync and cp.async ---------------===//
//
// The instructions of tensor-core GEMMs and flash attention on sm_80/sm_90,
// each against the PTX ISA computed independently here: the fragment
// layouts of ldmatrix and mma.sync written out from the ISA's tables,
// mma.sync against a double-precision reference (and a swapped fragment
// register that the same comparison must reject), cp.async with zero fill
// and its group semantics (a read before the wait is an error, a read after
// the wait and a barrier is not), the packed conversions around them, the
// misuse of .aligned warp instructions, and the counters.
//
//===----------------------------------------------------------------------===//

#include "CudaEmulator/EmulatorFixture.h"

#include "vitc/CudaEmulator/Executor.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <sstream>
#include <utility>

namespace vitc::emulator::test {
namespace {

/// CUDA_ERROR_MISALIGNED_ADDRESS (vitrt itself never needs it).
constexpr CUresult kErrorMisalignedAddress = 716;

/// Deterministic pseudo-random 32-bit values.
class Random {
public:
  explicit Random(uint32_t seed) : state(seed) {}
  uint32_t next() {
    state = state * 1664525u + 1013904223u;
    return state >> 8 ^ state << 13;
  }
  /// An integer in [low, high].
  int between(int low, int high) {
    return low + int(next() % uint32_t(high - low + 1));
  }

private:
  uint32_t state;
};

//===----------------------------------------------------------------------===//
// ldmatrix
//===----------------------------------------------------------------------===//

const char *kLdmatrixPtx = R"ptx(
.version 7.8
.target sm_80
.address_size 64

.visible .entry ldmatrix_forms(.param .u64 in, .param .u64 offsets,
                               .param .u64 out, .param .u32 form)
{
  .shared .align 16 .b8 tile[1024];
  .reg .pred %p<7>;
  .reg .b32 %r<18>;
  .reg .b64 %rd<14>;
  ld.param.u64 %rd1, [in];
  ld.param.u64 %rd2, [offsets];
  ld.param.u64 %rd3, [out];
  ld.param.u32 %r1, [form];
  cvta.to.global.u64 %rd1, %rd1;
  cvta.to.global.u64 %rd2, %rd2;
  cvta.to.global.u64 %rd3, %rd3;
  mov.u32 %r2, %tid.x;
  // Each of the 32 threads fills 32 bytes of the tile.
  mul.wide.u32 %rd4, %r2, 32;
  add.s64 %rd5, %rd1, %rd4;
  ld.global.v4.u32 {%r3, %r4, %r5, %r6}, [%rd5];
  ld.global.v4.u32 {%r7, %r8, %r9, %r10}, [%rd5+16];
  mov.u64 %rd6, tile;
  add.s64 %rd7, %rd6, %rd4;
  st.shared.v4.u32 [%rd7], {%r3, %r4, %r5, %r6};
  st.shared.v4.u32 [%rd7+16], {%r7, %r8, %r9, %r10};
  bar.sync 0;
  // This lane's row address, as a 32-bit shared address.
  mul.wide.u32 %rd8, %r2, 4;
  add.s64 %rd9, %rd2, %rd8;
  ld.global.u32 %r11, [%rd9];
  mov.u32 %r12, tile;
  add.u32 %r13, %r12, %r11;
  mov.b32 %r14, 0;
  mov.b32 %r15, 0;
  mov.b32 %r16, 0;
  mov.b32 %r17, 0;
  setp.eq.u32 %p1, %r1, 1;
  @%p1 bra.uni FORM_X2;
  setp.eq.u32 %p2, %r1, 2;
  @%p2 bra.uni FORM_X4;
  setp.eq.u32 %p3, %r1, 3;
  @%p3 bra.uni FORM_X1_TRANS;
  setp.eq.u32 %p4, %r1, 4;
  @%p4 bra.uni FORM_X2_TRANS;
  setp.eq.u32 %p5, %r1, 5;
  @%p5 bra.uni FORM_X4_TRANS;
  setp.eq.u32 %p6, %r1, 6;
  @%p6 bra.uni FORM_X4_GENERIC;
  ldmatrix.sync.aligned.m8n8.x1.shared.b16 {%r14}, [%r13];
  bra.uni STORE;
FORM_X2:
  ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%r14, %r15}, [%r13];
  bra.uni STORE;
FORM_X4:
  ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%r14, %r15, %r16, %r17}, [%r13]; // LDMATRIX_X4
  bra.uni STORE;
FORM_X1_TRANS:
  ldmatrix.sync.aligned.m8n8.x1.trans.shared.b16 {%r14}, [%r13];
  bra.uni STORE;
FORM_X2_TRANS:
  ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%r14, %r15}, [%r13];
  bra.uni STORE;
FORM_X4_TRANS:
  ldmatrix.sync.aligned.m8n8.x4.trans.shared::cta.b16 {%r14, %r15, %r16, %r17}, [%r13];
  bra.uni STORE;
FORM_X4_GENERIC:
  cvt.u64.u32 %rd10, %r13;
  cvta.shared.u64 %rd11, %rd10;
  ldmatrix.sync.aligned.m8n8.x4.b16 {%r14, %r15, %r16, %r17}, [%rd11];
STORE:
  mul.wide.u32 %rd12, %r2, 16;
  add.s64 %rd13, %rd3, %rd12;
  st.global.v4.u32 [%rd13], {%r14, %r15, %r16, %r17};
  ret;
}
)ptx";

enum LdmatrixForm : uint32_t {
  X1,
  X2,
  X4,
  X1Trans,
  X2Trans,
  X4Trans,
  X4Generic
};

class LdmatrixTest : public EmulatorTest {
protected:
  /// The tile's 512 16-bit values: all distinct.
  static std::vector<uint16_t> tileValues() {
    std::vector<uint16_t> values(512);
    for (unsigned i = 0; i < 512; ++i)
      values[i] = uint16_t(0x4000 + 37 * i);
    return values;
  }

  /// Runs `form` with lane l giving the row address tile + offsets[l];
  /// returns the four registers of each lane (zero where not loaded).
  std::vector<uint32_t> run(LdmatrixForm form,
                            const std::vector<uint32_t> &offsets) {
    CUfunction f = kernel(kLdmatrixPtx, "ldmatrix_forms");
    if (!f)
      return {};
    CUdeviceptr in = upload(tileValues());
    CUdeviceptr rows = upload(offsets);
    CUdeviceptr out = allocate(32 * 16);
    CUresult status = launch(f, {1}, {32}, 0, in, rows, out, uint32_t(form));
    EXPECT_EQ(status, abi::kSuccess) << report();
    if (status != abi::kSuccess)
      return {};
    return download<uint32_t>(out, 32 * 4);
  }

  /// The registers the PTX ISA specifies: "Each address corresponds to the
  /// start of a matrix row. Addresses addr0-addr7 correspond to the rows of
  /// the first matrix, addresses addr8-addr15 to the rows of the second
  /// matrix, and so on"; "each thread in a warp loads fragments of a row,
  /// with thread 0 receiving the first fragment in its register r": thread
  /// t holds elements 2(t%4) and 2(t%4)+1 of row t/4 of matrix i in
  /// register i, the first in the low half. With .trans the matrix is read
  /// column-major: the elements of column t/4, rows 2(t%4) and 2(t%4)+1.
  static std::vector<uint32_t> expected(unsigned matrices, bool transpose,
                                        const std::vector<uint32_t> &offsets) {
    std::vector<uint16_t> tile = tileValues();
    auto element = [&](unsigned matrix, unsigned row, unsigned column) {
      return uint32_t(tile[(offsets[8 * matrix + row] + 2 * column) / 2]);
    };
    std::vector<uint32_t> registers(32 * 4, 0);
    for (unsigned thread = 0; thread < 32; ++thread)
      for (unsigned matrix = 0; matrix < matrices; ++matrix) {
        unsigned group = thread / 4, pair = 2 * (thread % 4);
        uint32_t first = transpose ? element(matrix, pair, group)
                                   : element(matrix, group, pair);
        uint32_t second = transpose ? element(matrix, pair + 1, group)
                                    : element(matrix, group, pair + 1);
        registers[4 * thread + matrix] = first | second << 16;
      }
    return registers;
  }
};

/// Row addresses scattered over the tile: lane l gives 16-byte slot
/// (5l mod 64), so that consecutive rows are not contiguous.
std::vector<uint32_t> scatteredRows() {
  std::vector<uint32_t> offsets(32);
  for (uint32_t lane = 0; lane < 32; ++lane)
    offsets[lane] = (5 * lane % 64) * 16;
  return offsets;
}

TEST_F(LdmatrixTest, FragmentsFollowTheIsaLayout) {
  struct Case {
    LdmatrixForm form;
    unsigned matrices;
    bool transpose;
  };
  const Case cases[] = {{X1, 1, false},       {X2, 2, false},
                        {X4, 4, false},       {X1Trans, 1, true},
                        {X2Trans, 2, true},   {X4Trans, 4, true},
                        {X4Generic, 4, false}};
  for (const Case &c : cases) {
    std::vector<uint32_t> offsets = scatteredRows();
    // Lanes past those that give row addresses are ignored (sm_80+): give
    // them addresses outside the tile.
    for (unsigned lane = 8 * c.matrices; lane < 32; ++lane)
      offsets[lane] = 1u << 20;
    EXPECT_EQ(run(c.form, offsets), expected(c.matrices, c.transpose, offsets))
        << "form " << c.form;
  }
}

TEST_F(LdmatrixTest, MisalignedAndOutOfBoundsRowsAreReported) {
  CUfunction f = kernel(kLdmatrixPtx, "ldmatrix_forms");
  ASSERT_NE(f, nullptr);
  CUdeviceptr in = upload(tileValues());
  CUdeviceptr out = allocate(32 * 16);
  std::vector<uint32_t> offsets = scatteredRows();
  offsets[13] += 8;
  CUdeviceptr rows = upload(offsets);
  EXPECT_EQ(launch(f, {1}, {32}, 0, in, rows, out, uint32_t(X4)),
            kErrorMisalignedAddress);
  std::string text = report();
  EXPECT_TRUE(contains(text, "misaligned ldmatrix load of 16 bytes")) << text;
  EXPECT_TRUE(contains(
      text, "PTX line " + std::to_string(lineOf(kLdmatrixPtx, "LDMATRIX_X4"))))
      << text;
  EXPECT_TRUE(contains(text, "thread (13,0,0)")) << text;

  recreateContext();
  f = kernel(kLdmatrixPtx, "ldmatrix_forms");
  ASSERT_NE(f, nullptr);
  in = upload(tileValues());
  out = allocate(32 * 16);
  offsets = scatteredRows();
  offsets[20] = 1024;
  rows = upload(offsets);
  EXPECT_EQ(launch(f, {1}, {32}, 0, in, rows, out, uint32_t(X4)),
            abi::kErrorIllegalAddress);
  text = report();
  EXPECT_TRUE(contains(text, "out-of-bounds shared ldmatrix load of 16 bytes "
                             "at offset 1024"))
      << text;
  EXPECT_TRUE(contains(text, "thread (20,0,0)")) << text;
}

//===----------------------------------------------------------------------===//
// mma.sync
//===----------------------------------------------------------------------===//

// Every lane loads four A, two B and four C registers (the forms with fewer
// use the first ones) and stores four D registers.
const char *kMmaPtx = R"ptx(
.version 7.8
.target sm_80
.address_size 64

.visible .entry mma_bf16_m16n8k16(.param .u64 a, .param .u64 b,
                                  .param .u64 c, .param .u64 d)
{
  .reg .b32 %r<8>;
  .reg .f32 %f<10>;
  .reg .b64 %rd<14>;
  ld.param.u64 %rd1, [a];
  ld.param.u64 %rd2, [b];
  ld.param.u64 %rd3, [c];
  ld.param.u64 %rd4, [d];
  mov.u32 %r1, %tid.x;
  mul.wide.u32 %rd5, %r1, 16;
  mul.wide.u32 %rd6, %r1, 8;
  add.s64 %rd7, %rd1, %rd5;
  add.s64 %rd8, %rd2, %rd6;
  add.s64 %rd9, %rd3, %rd5;
  add.s64 %rd10, %rd4, %rd5;
  ld.global.v4.b32 {%r2, %r3, %r4, %r5}, [%rd7];
  ld.global.v2.b32 {%r6, %r7}, [%rd8];
  ld.global.v4.f32 {%f1, %f2, %f3, %f4}, [%rd9];
  mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
      {%f5, %f6, %f7, %f8},
      {%r2, %r3, %r4, %r5},
      {%r6, %r7},
      {%f1, %f2, %f3, %f4};
  // An fp32 FMA beside the MMA, for the counters (x * 1 + -0 is x).
  fma.rn.f32 %f9, %f5, 0f3F800000, 0f80000000;
  st.global.v4.f32 [%rd10], {%f9, %f6, %f7, %f8};
  ret;
}

.visible .entry mma_f16_m16n8k16(.param .u64 a, .param .u64 b,
                                 .param .u64 c, .param .u64 d)
{
  .reg .b32 %r<16>;
  .reg .b64 %rd<11>;
  ld.param.u64 %rd1, [a];
  ld.param.u64 %rd2, [b];
  ld.param.u64 %rd3, [c];
  ld.param.u64 %rd4, [d];
  mov.u32 %r1, %tid.x;
  mul.wide.u32 %rd5, %r1, 16;
  mul.wide.u32 %rd6, %r1, 8;
  add.s64 %rd7, %rd1, %rd5;
  add.s64 %rd8, %rd2, %rd6;
  add.s64 %rd9, %rd3, %rd5;
  add.s64 %rd10, %rd4, %rd5;
  ld.global.v4.b32 {%r2, %r3, %r4, %r5}, [%rd7];
  ld.global.v2.b32 {%r6, %r7}, [%rd8];
  ld.global.v4.b32 {%r8, %r9, %r10, %r11}, [%rd9];
  // f32 accumulators in .b32 registers, as LLVM emits them.
  mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
      {%r12, %r13, %r14, %r15},
      {%r2, %r3, %r4, %r5},
      {%r6, %r7},
      {%r8, %r9, %r10, %r11};
  add.s64 %rd10, %rd4, %rd5;
  st.global.v4.b32 [%rd10], {%r12, %r13, %r14, %r15};
  ret;
}

.visible .entry mma_tf32_m16n8k8(.param .u64 a, .param .u64 b,
                                 .param .u64 c, .param .u64 d)
{
  .reg .b32 %r<8>;
  .reg .f32 %f<9>;
  .reg .b64 %rd<11>;
  ld.param.u64 %rd1, [a];
  ld.param.u64 %rd2, [b];
  ld.param.u64 %rd3, [c];
  ld.param.u64 %rd4, [d];
  mov.u32 %r1, %tid.x;
  mul.wide.u32 %rd5, %r1, 16;
  mul.wide.u32 %rd6, %r1, 8;
  add.s64 %rd7, %rd1, %rd5;
  add.s64 %rd8, %rd2, %rd6;
  add.s64 %rd9, %rd3, %rd5;
  add.s64 %rd10, %rd4, %rd5;
  ld.global.v4.b32 {%r2, %r3, %r4, %r5}, [%rd7];
  ld.global.v2.b32 {%r6, %r7}, [%rd8];
  ld.global.v4.f32 {%f1, %f2, %f3, %f4}, [%rd9];
  mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%f5, %f6, %f7, %f8}, {%r2, %r3, %r4, %r5}, {%r6, %r7}, {%f1, %f2, %f3, %f4};
  st.global.v4.f32 [%rd10], {%f5, %f6, %f7, %f8};
  ret;
}

.visible .entry mma_bf16_m16n8k8(.param .u64 a, .param .u64 b,
                                 .param .u64 c, .param .u64 d)
{
  .reg .b32 %r<8>;
  .reg .f32 %f<9>;
  .reg .b64 %rd<11>;
  ld.param.u64 %rd1, [a];
  ld.param.u64 %rd2, [b];
  ld.param.u64 %rd3, [c];
  ld.param.u64 %rd4, [d];
  mov.u32 %r1, %tid.x;
  mul.wide.u32 %rd5, %r1, 16;
  mul.wide.u32 %rd6, %r1, 8;
  add.s64 %rd7, %rd1, %rd5;
  add.s64 %rd8, %rd2, %rd6;
  add.s64 %rd9, %rd3, %rd5;
  add.s64 %rd10, %rd4, %rd5;
  ld.global.v4.b32 {%r2, %r3, %r4, %r5}, [%rd7];
  ld.global.v2.b32 {%r6, %r7}, [%rd8];
  ld.global.v4.f32 {%f1, %f2, %f3, %f4}, [%rd9];
  mma.sync.aligned.m16n8k8.row.col.f32.bf16.bf16.f32 {%f5, %f6, %f7, %f8}, {%r2, %r3}, {%r6}, {%f1, %f2, %f3, %f4};
  st.global.v4.f32 [%rd10], {%f5, %f6, %f7, %f8};
  ret;
}

.visible .entry mma_f16_m16n8k16_f16(.param .u64 a, .param .u64 b,
                                     .param .u64 c, .param .u64 d)
{
  .reg .b32 %r<12>;
  .reg .b64 %rd<11>;
  ld.param.u64 %rd1, [a];
  ld.param.u64 %rd2, [b];
  ld.param.u64 %rd3, [c];
  ld.param.u64 %rd4, [d];
  mov.u32 %r1, %tid.x;
  mul.wide.u32 %rd5, %r1, 16;
  mul.wide.u32 %rd6, %r1, 8;
  add.s64 %rd7, %rd1, %rd5;
  add.s64 %rd8, %rd2, %rd6;
  add.s64 %rd9, %rd3, %rd5;
  add.s64 %rd10, %rd4, %rd5;
  ld.global.v4.b32 {%r2, %r3, %r4, %r5}, [%rd7];
  ld.global.v2.b32 {%r6, %r7}, [%rd8];
  ld.global.v2.b32 {%r8, %r9}, [%rd9];
  mma.sync.aligned.m16n8k16.row.col.f16.f16.f16.f16 {%r10, %r11}, {%r2, %r3, %r4, %r5}, {%r6, %r7}, {%r8, %r9};
  st.global.v2.b32 [%rd10], {%r10, %r11};
  ret;
}
)ptx";

enum class Input { BF16, F16, TF32 };

struct MmaForm {
  const char *kernel;
  Input input;
  unsigned k;
  bool halfAccumulators; ///< C and D in f16 (else f32)
};

const MmaForm kMmaForms[] = {
    {"mma_bf16_m16n8k16", Input::BF16, 16, false},
    {"mma_f16_m16n8k16", Input::F16, 16, false},
    {"mma_tf32_m16n8k8", Input::TF32, 8, false},
    {"mma_bf16_m16n8k8", Input::BF16, 8, false},
    {"mma_f16_m16n8k16_f16", Input::F16, 16, true},
};

/// A random value with `mantissaBits` fraction bits and a small exponent:
/// exactly representable in f16, bf16, tf32 and f32 alike when they have
/// that many fraction bits.
double randomValue(Random &random, unsigned mantissaBits) {
  double fraction =
      double(random.next() % (1u << mantissaBits)) / double(1u << mantissaBits);
  double value = std::ldexp(1.0 + fraction, random.between(-4, 3));
  return random.next() & 1 ? -value : value;
}

/// The encodings of values that randomValue made for the type.
uint32_t encodeF32(double value) { return bitsOfF32(float(value)); }
uint16_t encodeBf16(double value) { return uint16_t(encodeF32(value) >> 16); }
uint16_t encodeF16(double value) {
  if (value == 0)
    return 0;
  int exponent;
  double fraction = std::frexp(std::fabs(value), &exponent); // [0.5, 1)
  uint32_t mantissa = uint32_t(std::ldexp(fraction, 11)) - 1024;
  return uint16_t((value < 0 ? 0x8000 : 0) | (exponent - 1 + 15) << 10 |
                  mantissa);
}
double decodeF16(uint16_t bits) {
  int exponent = (bits >> 10) & 0x1f;
  double magnitude = exponent ? std::ldexp(1024 + (bits & 0x3ff), exponent - 25)
                              : std::ldexp(bits & 0x3ff, -24);
  return bits & 0x8000 ? -magnitude : magnitude;
}

/// A, B and C of one mma, and the registers of every lane holding them.
struct MmaProblem {
  double a[16][16] = {}, b[16][8] = {}, c[16][8] = {};
  uint32_t aRegisters[32][4] = {}, bRegisters[32][2] = {};
  uint32_t cRegisters[32][4] = {};
};

/// Fills A, B and C with random values of the form's types and places them
/// in the lanes' registers as the PTX ISA's fragment tables say ("Matrix
/// Fragments for mma.m16n8k16 with floating point type" and "... for
/// mma.m16n8k8"), with groupID = laneid >> 2 and threadID_in_group =
/// laneid % 4.
MmaProblem makeProblem(const MmaForm &form, uint32_t seed) {
  MmaProblem p;
  Random random(seed);
  unsigned bits = form.input == Input::BF16 ? 7 : 10;
  for (unsigned row = 0; row < 16; ++row)
    for (unsigned k = 0; k < form.k; ++k)
      p.a[row][k] = randomValue(random, bits);
  for (unsigned k = 0; k < form.k; ++k)
    for (unsigned column = 0; column < 8; ++column)
      p.b[k][column] = randomValue(random, bits);
  for (unsigned row = 0; row < 16; ++row)
    for (unsigned column = 0; column < 8; ++column)
      p.c[row][column] =
          randomValue(random, form.halfAccumulators ? 10 : 20) * 4;
  auto encode16 = [&](double value) -> uint32_t {
    return form.input == Input::BF16 ? encodeBf16(value) : encodeF16(value);
  };
  for (unsigned lane = 0; lane < 32; ++lane) {
    unsigned groupID = lane >> 2, threadID_in_group = lane % 4;
    if (form.input == Input::TF32) {
      // row = groupID for a0 and a2, groupID + 8 for a1 and a3;
      // col = threadID_in_group for a0 and a1, + 4 for a2 and a3. The low 13
      // bits of each register are noise the tensor cores must ignore.
      for (unsigned i = 0; i < 4; ++i) {
        unsigned row = i == 0 || i == 2 ? groupID : groupID + 8;
        unsigned col = i < 2 ? threadID_in_group : threadID_in_group + 4;
        p.aRegisters[lane][i] =
            encodeF32(p.a[row][col]) | (random.next() & 0x1fff);
      }
      // row = threadID_in_group for b0, + 4 for b1; col = groupID.
      for (unsigned i = 0; i < 2; ++i) {
        unsigned row = i == 0 ? threadID_in_group : threadID_in_group + 4;
        p.bRegisters[lane][i] =
            encodeF32(p.b[row][groupID]) | (random.next() & 0x1fff);
      }
    } else {
      // ai, i < k/2, two per register, low half first: row = groupID for
      // 0 <= i < 2 || 4 <= i < 6, groupID + 8 otherwise; col =
      // threadID_in_group * 2 + (i & 1), + 8 for i >= 4.
      for (unsigned i = 0; i < form.k / 2; ++i) {
        unsigned row = i < 2 || (4 <= i && i < 6) ? groupID : groupID + 8;
        unsigned col = threadID_in_group * 2 + (i & 1) + (i >= 4 ? 8 : 0);
        p.aRegisters[lane][i / 2] |= encode16(p.a[row][col]) << 16 * (i % 2);
      }
      // bi, i < k/4: row = threadID_in_group * 2 + (i & 1), + 8 for i >= 2;
      // col = groupID.
      for (unsigned i = 0; i < form.k / 4; ++i) {
        unsigned row = threadID_in_group * 2 + (i & 1) + (i >= 2 ? 8 : 0);
        p.bRegisters[lane][i / 2] |= encode16(p.b[row][groupID])
                                     << 16 * (i % 2);
      }
    }
    // ci: row = groupID for c0 and c1, groupID + 8 for c2 and c3; col =
    // threadID_in_group * 2 + (i & 1). f16 accumulators: two per register.
    for (unsigned i = 0; i < 4; ++i) {
      double value =
          p.c[i < 2 ? groupID : groupID + 8][threadID_in_group * 2 + (i & 1)];
      if (form.halfAccumulators)
        p.cRegisters[lane][i / 2] |= uint32_t(encodeF16(value)) << 16 * (i % 2);
      else
        p.cRegisters[lane][i] = encodeF32(value);
    }
  }
  return p;
}

/// D's element (row, col) from the lanes' D registers (the C/D table).
double resultAt(const MmaForm &form, const std::vector<uint32_t> &d,
                unsigned row, unsigned col) {
  unsigned lane = (row % 8) * 4 + col / 2;
  unsigned i = (row >= 8 ? 2 : 0) + col % 2;
  if (form.halfAccumulators)
    return decodeF16(uint16_t(d[4 * lane + i / 2] >> 16 * (i % 2)));
  return f32FromBits(d[4 * lane + i]);
}

/// Checks D against A * B + C computed in double (the products are exact;
/// summed in an order the emulator does not use: C last, k descending).
/// Bound: half a unit in the last place of D's type from rounding the
/// result once, plus 2^-45 of the sum of the magnitudes of the terms for
/// the double sums of 17 exact terms (each within 17 * 2^-53 of that, in
/// the emulator and here). Hardware that accumulates in lower precision
/// would need a wider bound; a layout error moves elements by the order of
/// the terms themselves.
::testing::AssertionResult matchesReference(const MmaForm &form,
                                            const MmaProblem &p,
                                            const std::vector<uint32_t> &d) {
  for (unsigned row = 0; row < 16; ++row)
    for (unsigned col = 0; col < 8; ++col) {
      double reference = 0, magnitudes = std::fabs(p.c[row][col]);
      for (unsigned k = form.k; k-- > 0;) {
        reference += p.a[row][k] * p.b[k][col];
        magnitudes += std::fabs(p.a[row][k] * p.b[k][col]);
      }
      reference += p.c[row][col];
      int exponent = reference == 0 ? -1000 : std::ilogb(reference);
      double ulp = form.halfAccumulators
                       ? std::ldexp(1.0, std::max(exponent, -14) - 10)
                       : std::ldexp(1.0, std::max(exponent, -126) - 23);
      double actual = resultAt(form, d, row, col);
      if (!(std::fabs(actual - reference) <=
            ulp / 2 + std::ldexp(magnitudes, -45)))
        return ::testing::AssertionFailure()
               << form.kernel << ": D[" << row << "][" << col
               << "] = " << actual << ", reference " << reference;
    }
  return ::testing::AssertionSuccess();
}

class MmaTest : public EmulatorTest {
protected:
  /// Runs the form on the problem's registers; returns the lanes' four D
  /// registers.
  std::vector<uint32_t> run(const MmaForm &form, const MmaProblem &p) {
    CUfunction f = kernel(kMmaPtx, form.kernel);
    if (!f)
      return {};
    auto flatten = [](const auto &registers) {
      std::vector<uint32_t> words;
      for (const auto &lane : registers)
        words.insert(words.end(), std::begin(lane), std::end(lane));
      return words;
    };
    CUdeviceptr a = upload(flatten(p.aRegisters));
    CUdeviceptr b = upload(flatten(p.bRegisters));
    CUdeviceptr c = upload(flatten(p.cRegisters));
    CUdeviceptr d = allocate(32 * 16);
    CUresult status = launch(f, {1}, {32}, 0, a, b, c, d);
    EXPECT_EQ(status, abi::kSuccess) << report();
    if (status != abi::kSuccess)
      return {};
    return download<uint32_t>(d, 32 * 4);
  }
};

TEST_F(MmaTest, ResultsMatchDoublePrecisionReference) {
  for (const MmaForm &form : kMmaForms)
    for (uint32_t seed : {1u, 2u, 3u}) {
      MmaProblem p = makeProblem(form, seed);
      std::vector<uint32_t> d = run(form, p);
      ASSERT_EQ(d.size(), 32u * 4) << form.kernel;
      EXPECT_TRUE(matchesReference(form, p, d)) << "seed " << seed;
    }
}

TEST_F(MmaTest, SwappedFragmentRegistersAreRejected) {
  // The comparison above is sensitive to the layout: exchanging two A
  // registers (rows g and g + 8) or the two B registers (k 0-7 and 8-15) of
  // every lane must fail it.
  const MmaForm &form = kMmaForms[0];
  MmaProblem p = makeProblem(form, 1);
  ASSERT_TRUE(matchesReference(form, p, run(form, p)));
  MmaProblem swappedA = p, swappedB = p;
  for (unsigned lane = 0; lane < 32; ++lane) {
    std::swap(swappedA.aRegisters[lane][0], swappedA.aRegisters[lane][1]);
    std::swap(swappedB.bRegisters[lane][0], swappedB.bRegisters[lane][1]);
  }
  EXPECT_FALSE(matchesReference(form, p, run(form, swappedA)));
  EXPECT_FALSE(matchesReference(form, p, run(form, swappedB)));
}

TEST_F(MmaTest, RoundsOnceFromTheExactSum) {
  // C = 1 and one product of 2^-24 (bf16: 2^-12 * 2^-12) with the other
  // products zero: 1 + 2^-24 is a tie in f32 and rounds to even, 1. A second
  // product of 2^-40 puts the exact sum above the tie: 1 + 2^-23. Summing in
  // f32 would lose the 2^-40 and give 1.
  const MmaForm &form = kMmaForms[0];
  for (bool above : {false, true}) {
    MmaProblem p;
    p.a[0][0] = std::ldexp(1.0, -12);
    p.b[0][0] = std::ldexp(1.0, -12);
    p.a[0][1] = std::ldexp(1.0, -20);
    p.b[1][0] = above ? std::ldexp(1.0, -20) : 0.0;
    p.c[0][0] = 1.0;
    // Lane 0 holds A[0][0..1] in a0/a1, B[0..1][0] in b0/b1, C[0][0] in c0.
    p.aRegisters[0][0] =
        uint32_t(encodeBf16(p.a[0][0])) | uint32_t(encodeBf16(p.a[0][1])) << 16;
    p.bRegisters[0][0] =
        uint32_t(encodeBf16(p.b[0][0])) | uint32_t(encodeBf16(p.b[1][0])) << 16;
    p.cRegisters[0][0] = encodeF32(1.0);
    std::vector<uint32_t> d = run(form, p);
    ASSERT_EQ(d.size(), 32u * 4);
    EXPECT_EQ(d[0], above ? 0x3f800001u : 0x3f800000u);
  }
}

// What LLVM 22 emits for sm_80 (verbatim) from a gpu.func that copies A
// (16x16 f16, row-major) and B (16x8 f16, row-major k x n) to workgroup
// memory with nvgpu.device_async_copy, waits, loads A with nvgpu.ldmatrix
// (x4; lane l gives row l % 16, column 8 (l / 16)) and B with a transposing
// x2 (lane l gives row l % 16), multiplies with nvgpu.mma.sync 16x8x16 and
// stores D (16x8 f32), through mlir-opt's convert-nvgpu-to-nvvm,
// convert-gpu-to-nvvm, nvvm-attach-target{chip=sm_80 O=3} and
// gpu-module-to-binary{format=isa}.
const char *kLlvmGemmPtx = R"ptx(
//
// Generated by LLVM NVPTX Back-End
//

.version 7.0
.target sm_80
.address_size 64

	// .globl	gemm
// __wg_gemm_0 has been demoted
// __wg_gemm_1 has been demoted

.visible .entry gemm(
	.param .u64 .ptr .align 1 gemm_param_0,
	.param .u64 .ptr .align 1 gemm_param_1,
	.param .u64 .ptr .align 1 gemm_param_2
)
{
	.reg .b32 	%r<13>;
	.reg .b64 	%rd<27>;
	// demoted variable
	.shared .align 2 .b8 __wg_gemm_0[512];
	// demoted variable
	.shared .align 2 .b8 __wg_gemm_1[256];
	ld.param.b64 	%rd1, [gemm_param_0];
	cvta.to.global.u64 	%rd2, %rd1;
	ld.param.b64 	%rd3, [gemm_param_1];
	cvta.to.global.u64 	%rd4, %rd3;
	ld.param.b64 	%rd5, [gemm_param_2];
	cvta.to.global.u64 	%rd6, %rd5;
	mov.u32 	%r1, %tid.x;
	cvt.u64.u32 	%rd7, %r1;
	mul.wide.u32 	%rd8, %r1, 8;
	mul.wide.u32 	%rd9, %r1, 16;
	mov.b64 	%rd10, __wg_gemm_0;
	add.s64 	%rd11, %rd10, %rd9;
	add.s64 	%rd12, %rd2, %rd9;
	cp.async.ca.shared.global [%rd11], [%rd12], 16;
	mov.b64 	%rd13, __wg_gemm_1;
	add.s64 	%rd14, %rd13, %rd8;
	add.s64 	%rd15, %rd4, %rd8;
	cp.async.ca.shared.global [%rd14], [%rd15], 8;
	cp.async.commit_group;
	cp.async.wait_group 	0;
	bar.sync 	0;
	and.b64 	%rd16, %rd7, 15;
	shl.b64 	%rd17, %rd16, 5;
	add.s64 	%rd18, %rd10, %rd17;
	and.b64 	%rd19, %rd7, 1008;
	add.s64 	%rd20, %rd18, %rd19;
	ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%r2, %r3, %r4, %r5}, [%rd20];
	shl.b64 	%rd21, %rd16, 4;
	add.s64 	%rd22, %rd13, %rd21;
	ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%r6, %r7}, [%rd22];
	mov.b32 	%r8, 0f00000000;
	mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
		{%r9, %r10, %r11, %r12},
		{%r2, %r3, %r4, %r5},
		{%r6, %r7},
		{%r8, %r8, %r8, %r8};
	and.b64 	%rd23, %rd8, 8160;
	add.s64 	%rd24, %rd6, %rd23;
	and.b64 	%rd25, %rd8, 24;
	add.s64 	%rd26, %rd24, %rd25;
	st.global.b32 	[%rd26], %r9;
	st.global.b32 	[%rd26+4], %r10;
	st.global.b32 	[%rd26+256], %r11;
	st.global.b32 	[%rd26+260], %r12;
	ret;

}
)ptx";

TEST_F(EmulatorTest, LlvmEmittedGemmComputesTheProduct) {
  CUfunction f = kernel(kLlvmGemmPtx, "gemm");
  ASSERT_NE(f, nullptr);
  // Small integers: every product and sum is exact in f16 inputs and f32.
  int a[16][16], b[16][8];
  std::vector<uint16_t> aHalves, bHalves;
  for (int row = 0; row < 16; ++row)
    for (int k = 0; k < 16; ++k) {
      a[row][k] = (row * 7 + k * 3) % 11 - 5;
      aHalves.push_back(encodeF16(a[row][k]));
    }
  for (int k = 0; k < 16; ++k)
    for (int col = 0; col < 8; ++col) {
      b[k][col] = (col * 5 + k * 2) % 9 - 4;
      bHalves.push_back(encodeF16(b[k][col]));
    }
  CUdeviceptr da = upload(aHalves), db = upload(bHalves);
  CUdeviceptr dd = allocate(16 * 8 * 4);
  ASSERT_EQ(launch(f, {1}, {32}, 0, da, db, dd), abi::kSuccess) << report();
  std::vector<float> d = download<float>(dd, 16 * 8);
  for (int row = 0; row < 16; ++row)
    for (int col = 0; col < 8; ++col) {
      int sum = 0;
      for (int k = 0; k < 16; ++k)
        sum += a[row][k] * b[k][col];
      EXPECT_EQ(d[row * 8 + col], float(sum)) << row << ", " << col;
    }
}

//===----------------------------------------------------------------------===//
// Misuse of .sync.aligned warp instructions
//===----------------------------------------------------------------------===//

const char *kAlignedPtx = R"ptx(
.version 7.8
.target sm_80
.address_size 64

.visible .entry aligned_misuse(.param .u64 out, .param .u32 mode)
{
  .reg .pred %p<6>;
  .reg .b32 %r<8>;
  .reg .f32 %f<9>;
  .reg .b64 %rd<4>;
  ld.param.u64 %rd1, [out];
  ld.param.u32 %r1, [mode];
  mov.u32 %r2, %tid.x;
  mov.b32 %r3, 0;
  mov.f32 %f1, 0f00000000;
  setp.lt.u32 %p1, %r2, 16;
  // Mode 1: half of the lanes skip the mma by predicate.
  setp.eq.u32 %p2, %r1, 1;
  and.pred %p3, %p1, %p2;
  // Mode 2: lanes 16-31 exit first.
  setp.eq.u32 %p2, %r1, 2;
  not.pred %p1, %p1;
  and.pred %p1, %p1, %p2;
  @%p1 ret;
  // Mode 3 (valid): lanes 0-15 take a detour laid out after the mma (where
  // LLVM puts a loop body's conditional block) and rejoin before it, so the
  // warp reaches the mma in two groups that complete it together.
  setp.lt.u32 %p4, %r2, 16;
  setp.eq.u32 %p5, %r1, 3;
  and.pred %p4, %p4, %p5;
  @%p4 bra DETOUR;
REJOIN:
  setp.ne.u32 %p2, %r1, 1;
  or.pred %p3, %p3, %p2;
  @%p3 mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%f5, %f6, %f7, %f8}, {%r3, %r3, %r3, %r3}, {%r3, %r3}, {%f1, %f1, %f1, %f1}; // ALIGNED_MMA
  mul.wide.u32 %rd2, %r2, 4;
  add.s64 %rd3, %rd1, %rd2;
  st.global.f32 [%rd3], %f5;
  ret;
DETOUR:
  mov.b32 %r3, 0;
  bra.uni REJOIN;
}
)ptx";

TEST_F(EmulatorTest, AlignedWarpInstructionsNeedTheWholeWarp) {
  CUfunction f = kernel(kAlignedPtx, "aligned_misuse");
  ASSERT_NE(f, nullptr);
  unsigned line = lineOf(kAlignedPtx, "ALIGNED_MMA");
  CUdeviceptr out = allocate(32 * 4);
  ASSERT_EQ(launch(f, {1}, {32}, 0, out, 0u), abi::kSuccess) << report();
  EXPECT_EQ(download<float>(out, 32), std::vector<float>(32, 0.0f));
  // Lanes that diverged and rejoined complete the mma together.
  out = allocate(32 * 4);
  ASSERT_EQ(launch(f, {1}, {32}, 0, out, 3u), abi::kSuccess) << report();
  EXPECT_EQ(download<float>(out, 32), std::vector<float>(32, 0.0f));

  struct Case {
    unsigned threads;
    uint32_t mode;
    const char *text;
  };
  const Case cases[] = {
      {16, 0,
       "mma.sync needs all 32 lanes of a warp, and this warp has 16 "
       "threads"},
      {32, 1,
       "mma.sync is .aligned, but its guard predicate is false for "
       "some lanes of the warp and true for others"},
      {32, 2, "deadlock: a warp collective waits for lanes"},
  };
  for (const Case &c : cases) {
    recreateContext();
    f = kernel(kAlignedPtx, "aligned_misuse");
    ASSERT_NE(f, nullptr);
    out = allocate(32 * 4);
    EXPECT_EQ(launch(f, {1}, {c.threads}, 0, out, c.mode),
              abi::kErrorLaunchFailed);
    std::string text = report();
    EXPECT_TRUE(contains(text, c.text)) << text;
    EXPECT_TRUE(contains(text, "PTX line " + std::to_string(line))) << text;
  }
}

//===----------------------------------------------------------------------===//
// cp.async
//===----------------------------------------------------------------------===//

const char *kCpAsyncPtx = R"ptx(
.version 7.8
.target sm_80
.address_size 64

// Thread t copies 16 bytes (src-size t % 17), 8 bytes (src-size 3) and 4
// bytes, waits, and after a barrier reads what thread 31 - t copied.
.visible .entry cp_async_sizes(.param .u64 src, .param .u64 out)
{
  .shared .align 16 .b8 buf16[512];
  .shared .align 8 .b8 buf8[256];
  .shared .align 4 .b8 buf4[128];
  .reg .b32 %r<16>;
  .reg .b64 %rd<24>;
  ld.param.u64 %rd1, [src];
  ld.param.u64 %rd2, [out];
  cvta.to.global.u64 %rd1, %rd1;
  cvta.to.global.u64 %rd2, %rd2;
  mov.u32 %r1, %tid.x;
  rem.u32 %r2, %r1, 17;
  mul.wide.u32 %rd3, %r1, 16;
  mul.wide.u32 %rd4, %r1, 8;
  mul.wide.u32 %rd5, %r1, 4;
  mov.u64 %rd6, buf16;
  mov.u64 %rd7, buf8;
  mov.u64 %rd8, buf4;
  add.s64 %rd9, %rd6, %rd3;
  add.s64 %rd10, %rd1, %rd3;
  cp.async.cg.shared.global [%rd9], [%rd10], 16, %r2;
  add.s64 %rd11, %rd7, %rd4;
  add.s64 %rd12, %rd1, %rd4;
  cp.async.ca.shared.global [%rd11], [%rd12+512], 8, 3;
  add.s64 %rd13, %rd8, %rd5;
  add.s64 %rd14, %rd1, %rd5;
  cp.async.ca.shared::cta.global [%rd13], [%rd14+768], 4;
  cp.async.commit_group;
  cp.async.wait_group 0;
  bar.sync 0;
  mov.u32 %r3, 31;
  sub.u32 %r4, %r3, %r1;
  mul.wide.u32 %rd15, %r4, 16;
  mul.wide.u32 %rd16, %r4, 8;
  mul.wide.u32 %rd17, %r4, 4;
  add.s64 %rd18, %rd6, %rd15;
  add.s64 %rd19, %rd7, %rd16;
  add.s64 %rd20, %rd8, %rd17;
  ld.shared.v4.u32 {%r5, %r6, %r7, %r8}, [%rd18];
  ld.shared.v2.u32 {%r9, %r10}, [%rd19];
  ld.shared.u32 %r11, [%rd20];
  mul.wide.u32 %rd21, %r1, 32;
  add.s64 %rd22, %rd2, %rd21;
  st.global.v4.u32 [%rd22], {%r5, %r6, %r7, %r8};
  st.global.v2.u32 [%rd22+16], {%r9, %r10};
  st.global.u32 [%rd22+24], %r11;
  ret;
}

// Groups: A and B committed, C not. Mode 0 reads A after wait_group 1, and
// B and C after wait_all; mode 1 reads B after wait_group 1; mode 2 reads
// its neighbour's A without a barrier after the wait, mode 3 with one. (The
// barrier before the wait orders nothing about the copies: they land at
// the wait.)
.visible .entry cp_async_groups(.param .u64 src, .param .u64 out,
                                .param .u32 mode)
{
  .shared .align 4 .b8 bufA[128];
  .shared .align 4 .b8 bufB[128];
  .shared .align 4 .b8 bufC[128];
  .reg .pred %p<4>;
  .reg .b32 %r<12>;
  .reg .b64 %rd<16>;
  ld.param.u64 %rd1, [src];
  ld.param.u64 %rd2, [out];
  ld.param.u32 %r1, [mode];
  mov.u32 %r2, %tid.x;
  mul.wide.u32 %rd3, %r2, 4;
  add.s64 %rd4, %rd1, %rd3;
  mov.u64 %rd5, bufA;
  mov.u64 %rd6, bufB;
  mov.u64 %rd7, bufC;
  add.s64 %rd8, %rd5, %rd3;
  add.s64 %rd9, %rd6, %rd3;
  add.s64 %rd10, %rd7, %rd3;
  cp.async.ca.shared.global [%rd8], [%rd4], 4;
  cp.async.commit_group;
  cp.async.ca.shared.global [%rd9], [%rd4+128], 4;
  cp.async.commit_group;
  cp.async.ca.shared.global [%rd10], [%rd4+256], 4;
  bar.sync 0;
  cp.async.wait_group 1;
  mul.wide.u32 %rd11, %r2, 16;
  add.s64 %rd12, %rd2, %rd11;
  add.u32 %r3, %r2, 1;
  and.b32 %r4, %r3, 31;
  mul.wide.u32 %rd13, %r4, 4;
  add.s64 %rd14, %rd5, %rd13;
  setp.eq.u32 %p1, %r1, 1;
  @%p1 bra.uni READ_B;
  setp.eq.u32 %p2, %r1, 2;
  @%p2 bra.uni NEIGHBOUR;
  setp.eq.u32 %p3, %r1, 3;
  @%p3 bra.uni NEIGHBOUR_SYNCED;
  ld.shared.u32 %r5, [%rd8];
  cp.async.wait_all;
  ld.shared.u32 %r6, [%rd9];
  ld.shared.u32 %r7, [%rd10];
  st.global.v4.u32 [%rd12], {%r5, %r6, %r7, %r7};
  ret;
READ_B:
  ld.shared.u32 %r5, [%rd9]; // READ_PENDING
  st.global.u32 [%rd12], %r5;
  ret;
NEIGHBOUR:
  ld.shared.u32 %r5, [%rd14]; // READ_UNSYNCED
  st.global.u32 [%rd12], %r5;
  ret;
NEIGHBOUR_SYNCED:
  bar.sync 0;
  ld.shared.u32 %r5, [%rd14];
  st.global.u32 [%rd12], %r5;
  ret;
}

// Thread t copies 16 bytes from src + 16t (src-size `size`) to 16t + shift.
.visible .entry cp_async_checked(.param .u64 src, .param .u64 out,
                                 .param .u32 size, .param .u32 shift)
{
  .shared .align 16 .b8 buf[528];
  .reg .b32 %r<8>;
  .reg .b64 %rd<10>;
  ld.param.u64 %rd1, [src];
  ld.param.u64 %rd2, [out];
  ld.param.u32 %r1, [size];
  ld.param.u32 %r2, [shift];
  mov.u32 %r3, %tid.x;
  mul.wide.u32 %rd3, %r3, 16;
  add.s64 %rd4, %rd1, %rd3;
  mov.u64 %rd5, buf;
  cvt.u64.u32 %rd6, %r2;
  add.s64 %rd7, %rd5, %rd6;
  add.s64 %rd8, %rd7, %rd3;
  cp.async.cg.shared.global [%rd8], [%rd4], 16, %r1; // CHECKED_COPY
  cp.async.wait_all;
  ld.shared.v4.u32 {%r4, %r5, %r6, %r7}, [%rd8];
  add.s64 %rd9, %rd2, %rd3;
  st.global.v4.u32 [%rd9], {%r4, %r5, %r6, %r7};
  ret;
}
)ptx";

/// Bytes 0, 1, 2, ... of a source buffer.
std::vector<uint8_t> sourceBytes(size_t count) {
  std::vector<uint8_t> bytes(count);
  for (size_t i = 0; i < count; ++i)
    bytes[i] = uint8_t(i * 7 + 1);
  return bytes;
}

TEST_F(EmulatorTest, CpAsyncCopiesAndZeroFills) {
  CUfunction f = kernel(kCpAsyncPtx, "cp_async_sizes");
  ASSERT_NE(f, nullptr);
  std::vector<uint8_t> source = sourceBytes(1024);
  CUdeviceptr src = upload(source);
  CUdeviceptr out = allocate(32 * 32);
  ASSERT_EQ(launch(f, {1}, {32}, 0, src, out), abi::kSuccess) << report();
  std::vector<uint8_t> result = download<uint8_t>(out, 32 * 32);
  for (unsigned t = 0; t < 32; ++t) {
    unsigned from = 31 - t;
    // 16 bytes, of which the first from % 17 come from the source.
    for (unsigned i = 0; i < 16; ++i)
      EXPECT_EQ(result[32 * t + i], i < from % 17 ? source[16 * from + i] : 0)
          << "thread " << t << " byte " << i;
    // 8 bytes, src-size 3.
    for (unsigned i = 0; i < 8; ++i)
      EXPECT_EQ(result[32 * t + 16 + i], i < 3 ? source[512 + 8 * from + i] : 0)
          << "thread " << t << " byte " << 16 + i;
    for (unsigned i = 0; i < 4; ++i)
      EXPECT_EQ(result[32 * t + 24 + i], source[768 + 4 * from + i])
          << "thread " << t << " byte " << 24 + i;
  }
}

TEST_F(EmulatorTest, CpAsyncGroupsCompleteOnlyWhenWaitedFor) {
  std::vector<uint32_t> source(96);
  for (uint32_t i = 0; i < 96; ++i)
    source[i] = 1000 + i;
  CUfunction f = kernel(kCpAsyncPtx, "cp_async_groups");
  ASSERT_NE(f, nullptr);
  CUdeviceptr src = upload(source);
  CUdeviceptr out = allocate(32 * 16);
  // Mode 0: A after wait_group 1, B and C (uncommitted) after wait_all.
  ASSERT_EQ(launch(f, {1}, {32}, 0, src, out, 0u), abi::kSuccess) << report();
  std::vector<uint32_t> values = download<uint32_t>(out, 32 * 4);
  for (uint32_t t = 0; t < 32; ++t) {
    EXPECT_EQ(values[4 * t], 1000 + t);
    EXPECT_EQ(values[4 * t + 1], 1032 + t);
    EXPECT_EQ(values[4 * t + 2], 1064 + t);
  }
  // Mode 3: the neighbour's completed copy, after a barrier. The threads
  // exit with B and C pending, which nothing reads: no error.
  ASSERT_EQ(launch(f, {1}, {32}, 0, src, out, 3u), abi::kSuccess) << report();
  values = download<uint32_t>(out, 32 * 4);
  for (uint32_t t = 0; t < 32; ++t)
    EXPECT_EQ(values[4 * t], 1000 + (t + 1) % 32);

  // Mode 1: wait_group 1 leaves the newest group, B, pending.
  EXPECT_EQ(launch(f, {1}, {32}, 0, src, out, 1u), abi::kErrorLaunchFailed);
  std::string text = report();
  EXPECT_TRUE(contains(text, "shared load of bytes still being written by "
                             "cp.async of thread (0,0,0) (missing "
                             "cp.async.wait_group?)"))
      << text;
  EXPECT_TRUE(contains(
      text, "PTX line " + std::to_string(lineOf(kCpAsyncPtx, "READ_PENDING"))))
      << text;

  // Mode 2: the wait makes the copy visible to its own thread only.
  recreateContext();
  f = kernel(kCpAsyncPtx, "cp_async_groups");
  ASSERT_NE(f, nullptr);
  src = upload(source);
  out = allocate(32 * 16);
  EXPECT_EQ(launch(f, {1}, {32}, 0, src, out, 2u), abi::kErrorLaunchFailed);
  text = report();
  EXPECT_TRUE(contains(text, "shared-memory race (read after write, no "
                             "barrier between): load of 4 bytes"))
      << text;
  EXPECT_TRUE(contains(
      text, "PTX line " + std::to_string(lineOf(kCpAsyncPtx, "READ_UNSYNCED"))))
      << text;
}

TEST_F(EmulatorTest, CpAsyncSourceIsCheckedUnlessNothingIsRead) {
  CUfunction f = kernel(kCpAsyncPtx, "cp_async_checked");
  ASSERT_NE(f, nullptr);
  unsigned line = lineOf(kCpAsyncPtx, "CHECKED_COPY");
  // 31 rows of 16 bytes and half a row: thread 31 may read 8 bytes.
  std::vector<uint8_t> source = sourceBytes(31 * 16 + 8);
  CUdeviceptr src = upload(source);
  CUdeviceptr out = allocate(32 * 16);
  ASSERT_EQ(launch(f, {1}, {32}, 0, src, out, 8u, 0u), abi::kSuccess)
      << report();
  std::vector<uint8_t> result = download<uint8_t>(out, 32 * 16);
  for (unsigned i = 0; i < 32 * 16; ++i)
    EXPECT_EQ(result[i], i % 16 < 8 ? source[i] : 0) << "byte " << i;
  // src-size 0 reads nothing: an address outside every allocation is fine,
  // and the destination is all zeros.
  ASSERT_EQ(launch(f, {1}, {32}, 0, CUdeviceptr(16), out, 0u, 0u),
            abi::kSuccess)
      << report();
  EXPECT_EQ(download<uint8_t>(out, 32 * 16), std::vector<uint8_t>(32 * 16, 0));

  // 16 bytes from thread 31 run past the allocation.
  EXPECT_EQ(launch(f, {1}, {32}, 0, src, out, 16u, 0u),
            abi::kErrorIllegalAddress);
  std::string text = report();
  EXPECT_TRUE(contains(text, "out-of-bounds global load of 16 bytes")) << text;
  EXPECT_TRUE(contains(text, "PTX line " + std::to_string(line))) << text;
  EXPECT_TRUE(contains(text, "thread (31,0,0)")) << text;

  struct Case {
    uint32_t size, shift;
    CUresult code;
    const char *text;
  };
  const Case cases[] = {
      {16, 8, kErrorMisalignedAddress,
       "misaligned cp.async write of 16 bytes at 0x8"},
      {17, 0, abi::kErrorLaunchFailed,
       "cp.async src-size 17 exceeds its cp-size 16"},
  };
  for (const Case &c : cases) {
    recreateContext();
    f = kernel(kCpAsyncPtx, "cp_async_checked");
    ASSERT_NE(f, nullptr);
    src = upload(sourceBytes(32 * 16));
    out = allocate(32 * 16);
    EXPECT_EQ(launch(f, {1}, {32}, 0, src, out, c.size, c.shift), c.code);
    text = report();
    EXPECT_TRUE(contains(text, c.text)) << text;
    EXPECT_TRUE(contains(text, "PTX line " + std::to_string(line))) << text;
  }
}

//===----------------------------------------------------------------------===//
// Conversions and moves around the tensor-core instructions
//===----------------------------------------------------------------------===//

const char *kPackedPtx = R"ptx(
.version 7.8
.target sm_80
.address_size 64

.visible .entry packed(.param .u64 in, .param .u64 out)
{
  .reg .b16 %rs<5>;
  .reg .b32 %r<10>;
  .reg .f32 %f<3>;
  .reg .b64 %rd<7>;
  ld.param.u64 %rd1, [in];
  ld.param.u64 %rd2, [out];
  mov.u32 %r1, %tid.x;
  mul.wide.u32 %rd3, %r1, 8;
  add.s64 %rd4, %rd1, %rd3;
  ld.global.v2.f32 {%f1, %f2}, [%rd4];
  cvt.rn.f16x2.f32 %r2, %f1, %f2;
  cvt.rn.bf16x2.f32 %r3, %f1, %f2;
  cvt.rna.tf32.f32 %r4, %f1;
  cvt.rn.bf16.f32 %rs1, %f1;
  cvt.rn.bf16.f32 %rs2, %f2;
  mov.b32 %r5, {%rs1, %rs2};
  { .reg .b16 tmp; mov.b32 {tmp, %rs3}, %r3; }
  cvt.u32.u16 %r6, %rs3;
  mov.b32 {%rs4, _}, %r2;
  cvt.u32.u16 %r7, %rs4;
  mul.wide.u32 %rd5, %r1, 32;
  add.s64 %rd6, %rd2, %rd5;
  st.global.v4.u32 [%rd6], {%r2, %r3, %r4, %r5};
  st.global.v2.u32 [%rd6+16], {%r6, %r7};
  ret;
}

.visible .entry f64_to_f16(.param .u64 in, .param .u64 out)
{
  .reg .b16 %rs<2>;
  .reg .b32 %r<2>;
  .reg .f64 %fd<2>;
  .reg .b64 %rd<7>;
  ld.param.u64 %rd1, [in];
  ld.param.u64 %rd2, [out];
  mov.u32 %r1, %tid.x;
  mul.wide.u32 %rd3, %r1, 8;
  add.s64 %rd4, %rd1, %rd3;
  ld.global.f64 %fd1, [%rd4];
  cvt.rn.f16.f64 %rs1, %fd1;
  mul.wide.u32 %rd5, %r1, 2;
  add.s64 %rd6, %rd2, %rd5;
  st.global.b16 [%rd6], %rs1;
  ret;
}
)ptx";

TEST_F(EmulatorTest, PackedHalfAndTf32Conversions) {
  CUfunction f = kernel(kPackedPtx, "packed");
  ASSERT_NE(f, nullptr);
  // f32 bits and their conversions, worked out by hand (ties marked).
  struct Case {
    uint32_t in;
    uint16_t f16, bf16;
    uint32_t tf32; // cvt.rna: ties away from zero
  };
  const Case cases[] = {
      {0x3f808000, 0x3c04, 0x3f80, 0x3f808000}, // bf16 tie down to even
      {0x3f818000, 0x3c0c, 0x3f82, 0x3f818000}, // bf16 tie up to even
      {0x3f801000, 0x3c00, 0x3f80, 0x3f802000}, // tf32 tie: away
      {0x3f803000, 0x3c02, 0x3f80, 0x3f804000}, // tf32 tie: away (odd)
      {0xbf801000, 0xbc00, 0xbf80, 0xbf802000}, // negative tie: away
      {0x3f800fff, 0x3c00, 0x3f80, 0x3f800000}, // below the tie
      {0x477ff000, 0x7c00, 0x4780, 0x47800000}, // 65520: f16 overflow
      {0x7f7fffff, 0x7c00, 0x7f80, 0x7f800000}, // FLT_MAX: tf32 to inf
      {0x3dcccccd, 0x2e66, 0x3dcd, 0x3dccc000}, // 0.1
      {0xff800000, 0xfc00, 0xff80, 0xff800000}, // -inf
  };
  size_t n = std::size(cases);
  std::vector<uint32_t> in;
  for (size_t i = 0; i < n; ++i) {
    in.push_back(cases[i].in);
    in.push_back(cases[(i + 1) % n].in);
  }
  CUdeviceptr input = upload(in);
  CUdeviceptr output = allocate(n * 32);
  ASSERT_EQ(launch(f, {1}, {unsigned(n)}, 0, input, output), abi::kSuccess)
      << report();
  std::vector<uint32_t> out = download<uint32_t>(output, n * 8);
  for (size_t i = 0; i < n; ++i) {
    const Case &a = cases[i], &b = cases[(i + 1) % n];
    const uint32_t *r = &out[8 * i];
    // .f16x2/.bf16x2: a in the upper half, b in the lower.
    EXPECT_EQ(r[0], uint32_t(a.f16) << 16 | b.f16) << std::hex << a.in;
    EXPECT_EQ(r[1], uint32_t(a.bf16) << 16 | b.bf16) << std::hex << a.in;
    EXPECT_EQ(r[2], a.tf32) << std::hex << a.in;
    // mov.b32 d, {lo, hi}, and its inverse in a scoped block and with a sink.
    EXPECT_EQ(r[3], uint32_t(b.bf16) << 16 | a.bf16) << std::hex << a.in;
    EXPECT_EQ(r[4], a.bf16) << std::hex << a.in;
    EXPECT_EQ(r[5], b.f16) << std::hex << a.in;
  }
}

TEST_F(EmulatorTest, NaNConvertsToPackedAndTf32NaN) {
  CUfunction f = kernel(kPackedPtx, "packed");
  ASSERT_NE(f, nullptr);
  CUdeviceptr input = upload(std::vector<uint32_t>{0x7fc00001, 0x7f800001});
  CUdeviceptr output = allocate(32);
  ASSERT_EQ(launch(f, {1}, {1}, 0, input, output), abi::kSuccess) << report();
  std::vector<uint32_t> r = download<uint32_t>(output, 8);
  auto f16NaN = [](uint32_t bits) {
    return (bits & 0x7c00) == 0x7c00 && (bits & 0x3ff);
  };
  auto bf16NaN = [](uint32_t bits) {
    return (bits & 0x7f80) == 0x7f80 && (bits & 0x7f);
  };
  EXPECT_TRUE(f16NaN(r[0] >> 16) && f16NaN(r[0] & 0xffff)) << std::hex << r[0];
  EXPECT_TRUE(bf16NaN(r[1] >> 16) && bf16NaN(r[1] & 0xffff))
      << std::hex << r[1];
  EXPECT_TRUE(std::isnan(f32FromBits(r[2])) && (r[2] & 0x1fff) == 0)
      << std::hex << r[2];
}

TEST_F(EmulatorTest, F64ToF16RoundsOnce) {
  CUfunction f = kernel(kPackedPtx, "f64_to_f16");
  ASSERT_NE(f, nullptr);
  // 1 + 2^-11 is the f16 tie between 1 and 1 + 2^-10. Just above it, by
  // 2^-40, it must round up; through f32 (which drops the 2^-40) it would
  // round to even, down.
  const double one = 1.0, tie = 1.0 + std::ldexp(1.0, -11);
  std::vector<double> in = {tie, tie + std::ldexp(1.0, -40),
                            -(tie + std::ldexp(1.0, -40)),
                            tie - std::ldexp(1.0, -40), one};
  CUdeviceptr input = upload(in);
  CUdeviceptr output = allocate(in.size() * 2);
  ASSERT_EQ(launch(f, {1}, {unsigned(in.size())}, 0, input, output),
            abi::kSuccess)
      << report();
  EXPECT_EQ(download<uint16_t>(output, in.size()),
            (std::vector<uint16_t>{0x3c00, 0x3c01, 0xbc01, 0x3c00, 0x3c00}));
}

//===----------------------------------------------------------------------===//
// Counters
//===----------------------------------------------------------------------===//

class TensorCountersTest : public LdmatrixTest {
protected:
  std::string countersFile =
      ::testing::TempDir() + "vitc_emulator_tensor_counters.txt";
  ScopedEnvironment counting{"VITC_EMULATOR_COUNTERS", countersFile.c_str()};

  KernelCounters countersOf(const char *name) {
    KernelCounters counters;
    EXPECT_TRUE(vitcEmulatorKernelCounters(name, &counters)) << name;
    return counters;
  }
};

TEST_F(TensorCountersTest, LdmatrixWavefrontsCountBankConflicts) {
  // Conflict-free: the rows of each matrix are 8 consecutive 16-byte rows,
  // all 32 banks once. Conflicting: rows 128 bytes apart, all in banks 0-3
  // (lane l: row l % 8 of matrix l / 8), eight wavefronts per matrix.
  std::vector<uint32_t> consecutive(32), strided(32);
  for (uint32_t lane = 0; lane < 32; ++lane) {
    consecutive[lane] = 16 * lane;
    strided[lane] = 128 * (lane % 8) + 16 * (lane / 8);
  }
  EXPECT_EQ(run(X4, consecutive), expected(4, false, consecutive));
  KernelCounters counters = countersOf("ldmatrix_forms");
  EXPECT_EQ(counters.ldmatrixRequests, 1u);
  EXPECT_EQ(counters.ldmatrixMatrices, 4u);
  EXPECT_EQ(counters.ldmatrixWavefronts, 4u);
  EXPECT_EQ(counters.ldmatrixBankConflicts(), 0u);
  EXPECT_EQ(run(X4, strided), expected(4, false, strided));
  counters = countersOf("ldmatrix_forms");
  EXPECT_EQ(counters.ldmatrixRequests, 2u);
  EXPECT_EQ(counters.ldmatrixMatrices, 8u);
  EXPECT_EQ(counters.ldmatrixWavefronts, 4u + 32u);
  EXPECT_EQ(counters.ldmatrixBankConflicts(), 28u);
  // x1 reads eight of the rows: one matrix, one wavefront.
  EXPECT_EQ(run(X1, consecutive), expected(1, false, consecutive));
  counters = countersOf("ldmatrix_forms");
  EXPECT_EQ(counters.ldmatrixMatrices, 9u);
  EXPECT_EQ(counters.ldmatrixWavefronts, 37u);
}

TEST_F(TensorCountersTest, TensorMacsAndTheirShareArePrinted) {
  for (const MmaForm &form : {kMmaForms[0], kMmaForms[2]}) {
    CUfunction f = kernel(kMmaPtx, form.kernel);
    ASSERT_NE(f, nullptr);
    CUdeviceptr a = allocate(32 * 16), b = allocate(32 * 8);
    CUdeviceptr c = allocate(32 * 16), d = allocate(32 * 16);
    ASSERT_EQ(launch(f, {2}, {32}, 0, a, b, c, d), abi::kSuccess) << report();
  }
  // Two blocks of one warp each: two mma.sync of 16 * 8 * k MACs, and
  // (bf16 kernel) one fma.rn.f32 per thread. The report is per launch.
  KernelCounters bf16 = countersOf("mma_bf16_m16n8k16");
  EXPECT_EQ(bf16.mmaInstructions[size_t(TensorInput::BF16)], 2u);
  EXPECT_EQ(bf16.mmaMacs[size_t(TensorInput::BF16)], 2u * 2048);
  EXPECT_EQ(bf16.tensorMacs(), 2u * 2048);
  EXPECT_EQ(bf16.fp32Macs(), 2u * 32);
  KernelCounters tf32 = countersOf("mma_tf32_m16n8k8");
  EXPECT_EQ(tf32.mmaInstructions[size_t(TensorInput::TF32)], 2u);
  EXPECT_EQ(tf32.mmaMacs[size_t(TensorInput::TF32)], 2u * 1024);
  EXPECT_EQ(tf32.fp32Macs(), 0u);

  // cp.async: 32 lanes, 16-byte copies 16 bytes apart with src-size 8:
  // 256 bytes read, two lanes per 32-byte sector.
  CUfunction copy = kernel(kCpAsyncPtx, "cp_async_checked");
  ASSERT_NE(copy, nullptr);
  CUdeviceptr src = upload(sourceBytes(32 * 16));
  CUdeviceptr out = allocate(32 * 16);
  ASSERT_EQ(launch(copy, {1}, {32}, 0, src, out, 8u, 0u), abi::kSuccess)
      << report();
  KernelCounters copies = countersOf("cp_async_checked");
  EXPECT_EQ(copies.asyncCopyRequests, 1u);
  EXPECT_EQ(copies.asyncCopyBytes, 32u * 8);
  EXPECT_EQ(copies.asyncCopySectors, 16u);

  // Releasing the context prints the counters.
  recreateContext();
  std::ifstream file(countersFile);
  std::stringstream text;
  text << file.rdbuf();
  EXPECT_TRUE(contains(text.str(),
                       "mma_bf16_m16n8k16: MACs on tensor cores: 4096 of 4160 "
                       "(98.5%); mma.sync bf16: 2\n"))
      << text.str();
  EXPECT_TRUE(contains(text.str(),
                       "mma_tf32_m16n8k8: MACs on tensor cores: 2048 of 2048 "
                       "(100.0%); mma.sync tf32: 2\n"))
      << text.str();
  EXPECT_TRUE(contains(text.str(), "cp.async: 1 requests, 256 bytes, 16.00 "
                                   "sectors/request"))
      << text.str();
}

} // namespace
} // namespace vitc::emulator::test
