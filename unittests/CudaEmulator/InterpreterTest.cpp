//===- InterpreterTest.cpp - The emulator executes PTX as the ISA says ----===//
//
// One test per instruction class: small hand-written PTX kernels run through
// the driver API, their results compared with values computed by hand (bit
// patterns written out) or independently on the host (std::fma, IEEE float
// arithmetic, the PTX ISA's pseudocode for shfl and bfe). Rounding corner
// cases are chosen so that a wrong implementation gives a different answer:
// fma vs mul+add, ties to even in the bf16/f16 conversions, saturating
// float-to-int conversions, subnormals with and without .ftz.
//
//===----------------------------------------------------------------------===//

#include "CudaEmulator/EmulatorFixture.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace vitc::emulator::test {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

/// Both NaN, or the same bits.
::testing::AssertionResult sameFloat(float actual, float expected) {
  if ((std::isnan(actual) && std::isnan(expected)) ||
      bitsOfF32(actual) == bitsOfF32(expected))
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << actual << " (0x" << std::hex << bitsOfF32(actual)
         << ") != " << expected << " (0x" << bitsOfF32(expected) << ")";
}

/// The distance in units in the last place between two floats (+0 and -0
/// are the same point); NaN is at distance 0 from NaN only.
uint64_t ulpDistance(float a, float b) {
  if (std::isnan(a) || std::isnan(b))
    return std::isnan(a) && std::isnan(b) ? 0 : UINT64_MAX;
  auto ordered = [](float value) {
    uint32_t bits = bitsOfF32(value);
    return bits & 0x80000000u ? -int64_t(bits & 0x7fffffffu) : int64_t(bits);
  };
  int64_t difference = ordered(a) - ordered(b);
  return difference < 0 ? uint64_t(-difference) : uint64_t(difference);
}

/// Deterministic pseudo-random floats of varied magnitude and sign.
std::vector<float> randomFloats(size_t count, uint32_t seed) {
  std::vector<float> values;
  uint32_t state = seed;
  for (size_t i = 0; i < count; ++i) {
    state = state * 1664525u + 1013904223u;
    uint32_t mantissa = state >> 9;
    state = state * 1664525u + 1013904223u;
    int exponent = int(state >> 27) - 16; // 2^-16 .. 2^15
    float value = std::ldexp(1.0f + float(mantissa) / 8388608.0f, exponent);
    values.push_back(state & 0x100 ? -value : value);
  }
  return values;
}

//===----------------------------------------------------------------------===//
// Floating point
//===----------------------------------------------------------------------===//

const char *kFmaPtx = R"ptx(
.version 7.8
.target sm_80
.address_size 64

.visible .entry fma_vs_mul_add(.param .u64 in, .param .u64 out)
{
  .reg .b32 %r<3>;
  .reg .b64 %rd<7>;
  .reg .f32 %f<6>;
  ld.param.u64 %rd1, [in];
  ld.param.u64 %rd2, [out];
  cvta.to.global.u64 %rd1, %rd1;
  cvta.to.global.u64 %rd2, %rd2;
  mov.u32 %r1, %tid.x;
  mul.lo.u32 %r2, %r1, 12;
  cvt.u64.u32 %rd3, %r2;
  add.s64 %rd4, %rd1, %rd3;
  ld.global.f32 %f1, [%rd4];
  ld.global.f32 %f2, [%rd4+4];
  ld.global.f32 %f3, [%rd4+8];
  fma.rn.f32 %f4, %f1, %f2, %f3;
  mul.rn.f32 %f5, %f1, %f2;
  add.rn.f32 %f5, %f5, %f3;
  mul.wide.u32 %rd5, %r1, 8;
  add.s64 %rd6, %rd2, %rd5;
  st.global.v2.f32 [%rd6], {%f4, %f5};
  ret;
}
)ptx";

TEST_F(EmulatorTest, FmaRoundsOnceMulAddTwice) {
  CUfunction f = kernel(kFmaPtx, "fma_vs_mul_add");
  ASSERT_NE(f, nullptr);
  const float one12 = f32FromBits(0x3f800800); // 1 + 2^-12
  std::vector<float> in = {
      // (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24: the product rounds (tie, even) to
      // 1 + 2^-11, so mul+add gives 0 and fma gives 2^-24.
      one12, one12, -f32FromBits(0x3f801000),
      // (1 + 2^-23)^2 - (1 + 2^-22) = 2^-46 exactly with fma.
      f32FromBits(0x3f800001), f32FromBits(0x3f800001),
      -f32FromBits(0x3f800002),
      // 2 * FLT_MAX overflows the product but not the fused result.
      f32FromBits(0x7f7fffff), 2.0f, -f32FromBits(0x7f7fffff),
      // inf * 0 is NaN either way.
      kInf, 0.0f, 1.0f,
      // A subnormal result, exact: 2^-140 + 2^-149.
      std::ldexp(1.0f, -70), std::ldexp(1.0f, -70), std::ldexp(1.0f, -149)};
  std::vector<float> random = randomFloats(3 * 27, 7);
  in.insert(in.end(), random.begin(), random.end());
  size_t n = in.size() / 3;
  CUdeviceptr input = upload(in);
  CUdeviceptr output = allocate(n * 8);
  ASSERT_EQ(launch(f, {1}, {unsigned(n)}, 0, input, output), abi::kSuccess)
      << report();
  std::vector<float> out = download<float>(output, 2 * n);

  // The hand-computed cases.
  EXPECT_EQ(bitsOfF32(out[0]), 0x33800000u); // 2^-24
  EXPECT_EQ(bitsOfF32(out[1]), 0x00000000u);
  EXPECT_EQ(bitsOfF32(out[2]), 0x28800000u); // 2^-46
  EXPECT_EQ(bitsOfF32(out[3]), 0x00000000u);
  EXPECT_EQ(bitsOfF32(out[4]), 0x7f7fffffu);
  EXPECT_EQ(bitsOfF32(out[5]), 0x7f800000u);
  EXPECT_TRUE(std::isnan(out[6]) && std::isnan(out[7]));
  EXPECT_EQ(bitsOfF32(out[8]), 0x00000201u);
  // Every case against the host's fmaf and separately rounded mul and add.
  for (size_t i = 0; i < n; ++i) {
    float a = in[3 * i], b = in[3 * i + 1], c = in[3 * i + 2];
    volatile float product = a * b;
    float separate = product + c;
    EXPECT_TRUE(sameFloat(out[2 * i], std::fma(a, b, c))) << "case " << i;
    EXPECT_TRUE(sameFloat(out[2 * i + 1], separate)) << "case " << i;
  }
}

const char *kFloatRnPtx = R"ptx(
.version 7.8
.target sm_80
.address_size 64

.visible .entry float_rn(.param .u64 in, .param .u64 out)
{
  .reg .b32 %r<2>;
  .reg .b64 %rd<7>;
  .reg .f32 %f<9>;
  ld.param.u64 %rd1, [in];
  ld.param.u64 %rd2, [out];
  cvta.to.global.u64 %rd1, %rd1;
  cvta.to.global.u64 %rd2, %rd2;
  mov.u32 %r1, %tid.x;
  mul.wide.u32 %rd3, %r1, 8;
  add.s64 %rd4, %rd1, %rd3;
  ld.global.v2.f32 {%f1, %f2}, [%rd4];
  add.rn.f32 %f3, %f1, %f2;
  sub.rn.f32 %f4, %f1, %f2;
  mul.rn.f32 %f5, %f1, %f2;
  div.rn.f32 %f6, %f1, %f2;
  sqrt.rn.f32 %f7, %f1;
  rcp.rn.f32 %f8, %f1;
  mul.wide.u32 %rd5, %r1, 24;
  add.s64 %rd6, %rd2, %rd5;
  st.global.v2.f32 [%rd6], {%f3, %f4};
  st.global.v2.f32 [%rd6+8], {%f5, %f6};
  st.global.v2.f32 [%rd6+16], {%f7, %f8};
  ret;
}
)ptx";

TEST_F(EmulatorTest, RnArithmeticIsCorrectlyRounded) {
  CUfunction f = kernel(kFloatRnPtx, "float_rn");
  ASSERT_NE(f, nullptr);
  std::vector<float> in = {1.0f,
                           3.0f,
                           2.0f,
                           0.0f,
                           -4.0f,
                           0.0f,
                           0.0f,
                           0.0f,
                           f32FromBits(0x00000003),
                           7.0f, // subnormals kept
                           kInf,
                           kInf,
                           1e30f,
                           1e-30f,
                           10.0f,
                           3.0f,
                           f32FromBits(0x3f800001),
                           f32FromBits(0x3f7fffff)};
  std::vector<float> random = randomFloats(2 * 40, 11);
  in.insert(in.end(), random.begin(), random.end());
  size_t n = in.size() / 2;
  CUdeviceptr input = upload(in);
  CUdeviceptr output = allocate(n * 24);
  ASSERT_EQ(launch(f, {1}, {unsigned(n)}, 0, input, output), abi::kSuccess)
      << report();
  std::vector<float> out = download<float>(output, 6 * n);
  EXPECT_EQ(bitsOfF32(out[2 * 6 + 5]), 0xbe800000u); // rcp.rn(-4) = -0.25
  EXPECT_TRUE(std::isnan(out[2 * 6 + 4]));           // sqrt.rn(-4)
  EXPECT_EQ(bitsOfF32(out[1 * 6 + 3]), 0x7f800000u); // 2 / 0
  for (size_t i = 0; i < n; ++i) {
    volatile float a = in[2 * i], b = in[2 * i + 1];
    const float expected[] = {a + b, a - b,        a * b,
                              a / b, std::sqrt(a), 1.0f / a};
    for (int k = 0; k < 6; ++k)
      EXPECT_TRUE(sameFloat(out[6 * i + k], expected[k]))
          << "case " << i << " (" << a << ", " << b << ") result " << k;
  }
}

const char *kApproxPtx = R"ptx(
.version 7.8
.target sm_80
.address_size 64

.visible .entry approx(.param .u64 in, .param .u64 out)
{
  .reg .b32 %r<2>;
  .reg .b64 %rd<7>;
  .reg .f32 %f<11>;
  ld.param.u64 %rd1, [in];
  ld.param.u64 %rd2, [out];
  mov.u32 %r1, %tid.x;
  mul.wide.u32 %rd3, %r1, 4;
  add.s64 %rd4, %rd1, %rd3;
  ld.global.f32 %f1, [%rd4];
  abs.f32 %f2, %f1;
  ex2.approx.f32 %f3, %f1;
  lg2.approx.f32 %f4, %f2;
  sin.approx.f32 %f5, %f1;
  cos.approx.f32 %f6, %f1;
  tanh.approx.f32 %f7, %f1;
  rcp.approx.f32 %f8, %f1;
  sqrt.approx.f32 %f9, %f2;
  rsqrt.approx.f32 %f10, %f2;
  mul.wide.u32 %rd5, %r1, 32;
  add.s64 %rd6, %rd2, %rd5;
  st.global.v4.f32 [%rd6], {%f3, %f4, %f5, %f6};
  st.global.v4.f32 [%rd6+16], {%f7, %f8, %f9, %f10};
  ret;
}
)ptx";

TEST_F(EmulatorTest, ApproxFunctionsAreWithinTwoUlpOfDouble) {
  CUfunction f = kernel(kApproxPtx, "approx");
  ASSERT_NE(f, nullptr);
  std::vector<float> in = {-7.25f,   -3.1f, -1.0f,  -0.3f,      0.0f,
                           0.125f,   0.7f,  1.0f,   1.5707964f, 2.5f,
                           3.14159f, 6.9f,  20.0f,  -20.0f,     kInf,
                           -kInf,    1e-3f, -1e-3f, 100.0f,     0.5f};
  size_t n = in.size();
  CUdeviceptr input = upload(in);
  CUdeviceptr output = allocate(n * 32);
  ASSERT_EQ(launch(f, {1}, {unsigned(n)}, 0, input, output), abi::kSuccess)
      << report();
  std::vector<float> out = download<float>(output, 8 * n);
  const char *names[] = {"ex2",  "lg2", "sin",  "cos",
                         "tanh", "rcp", "sqrt", "rsqrt"};
  for (size_t i = 0; i < n; ++i) {
    double x = in[i], a = std::fabs(x);
    const float expected[] = {float(std::exp2(x)), float(std::log2(a)),
                              float(std::sin(x)),  float(std::cos(x)),
                              float(std::tanh(x)), float(1.0 / x),
                              float(std::sqrt(a)), float(1.0 / std::sqrt(a))};
    for (int k = 0; k < 8; ++k)
      EXPECT_LE(ulpDistance(out[8 * i + k], expected[k]), 2u)
          << names[k] << "(" << in[i] << ") = " << out[8 * i + k]
          << ", expected " << expected[k];
  }
  // Special values, written out: ex2(-inf) = +0, lg2(0) = -inf,
  // rsqrt(0) = +inf, rcp(0) = +inf.
  EXPECT_EQ(bitsOfF32(out[8 * 15 + 0]), 0x00000000u);
  EXPECT_EQ(bitsOfF32(out[8 * 4 + 1]), 0xff800000u);
  EXPECT_EQ(bitsOfF32(out[8 * 4 + 7]), 0x7f800000u);
  EXPECT_EQ(bitsOfF32(out[8 * 4 + 5]), 0x7f800000u);
}

const char *kHalfPtx = R"ptx(
.version 7.8
.target sm_80
.address_size 64

.visible .entry to_half(.param .u64 in, .param .u64 bf, .param .u64 h)
{
  .reg .b16 %rs<3>;
  .reg .b32 %r<2>;
  .reg .b64 %rd<9>;
  .reg .f32 %f<2>;
  ld.param.u64 %rd1, [in];
  ld.param.u64 %rd2, [bf];
  ld.param.u64 %rd3, [h];
  mov.u32 %r1, %tid.x;
  mul.wide.u32 %rd4, %r1, 4;
  add.s64 %rd5, %rd1, %rd4;
  ld.global.f32 %f1, [%rd5];
  cvt.rn.bf16.f32 %rs1, %f1;
  cvt.rn.f16.f32 %rs2, %f1;
  mul.wide.u32 %rd6, %r1, 2;
  add.s64 %rd7, %rd2, %rd6;
  st.global.b16 [%rd7], %rs1;
  add.s64 %rd8, %rd3, %rd6;
  st.global.b16 [%rd8], %rs2;
  ret;
}

.visible .entry from_half(.param .u64 bf, .param .u64 h, .param .u64 out)
{
  .reg .b16 %rs<3>;
  .reg .b32 %r<2>;
  .reg .b64 %rd<9>;
  .reg .f32 %f<3>;
  ld.param.u64 %rd1, [bf];
  ld.param.u64 %rd2, [h];
  ld.param.u64 %rd3, [out];
  mov.u32 %r1, %tid.x;
  mul.wide.u32 %rd4, %r1, 2;
  add.s64 %rd5, %rd1, %rd4;
  ld.global.b16 %rs1, [%rd5];
  add.s64 %rd6, %rd2, %rd4;
  ld.global.b16 %rs2, [%rd6];
  cvt.f32.bf16 %f1, %rs1;
  cvt.f32.f16 %f2, %rs2;
  mul.wide.u32 %rd7, %r1, 8;
  add.s64 %rd8, %rd3, %rd7;
  st.global.v2.f32 [%rd8], {%f1, %f2};
  ret;
}
)ptx";

bool isBf16NaN(uint16_t bits) {
  return (bits & 0x7f80) == 0x7f80 && (bits & 0x7f);
}
bool isF16NaN(uint16_t bits) {
  return (bits & 0x7c00) == 0x7c00 && (bits & 0x3ff);
}

TEST_F(EmulatorTest, HalfConversionsRoundToNearestEven) {
  CUfunction f = kernel(kHalfPtx, "to_half");
  ASSERT_NE(f, nullptr);
  // f32 bits, then the expected bf16 and f16 bits (0xffff: a NaN), checked
  // with exact rational arithmetic.
  struct Case {
    uint32_t in;
    uint16_t bf16, f16;
  };
  const Case cases[] = {
      {0x3f800000, 0x3f80, 0x3c00}, // 1.0
      {0x3f808000, 0x3f80, 0x3c04}, // bf16 tie: down to even
      {0x3f818000, 0x3f82, 0x3c0c}, // bf16 tie: up to even
      {0x3f808001, 0x3f81, 0x3c04}, // just above the tie
      {0x3f807fff, 0x3f80, 0x3c04}, // just below the tie
      {0xbf808000, 0xbf80, 0xbc04}, // negative tie
      {0xbf818000, 0xbf82, 0xbc0c},
      {0x7f7fffff, 0x7f80, 0x7c00}, // FLT_MAX overflows both to inf
      {0x7f7f7fff, 0x7f7f, 0x7c00},
      {0xff7fffff, 0xff80, 0xfc00},
      {0x7f800000, 0x7f80, 0x7c00}, // inf
      {0x7fc00000, 0xffff, 0xffff}, // quiet NaN
      {0x7f800001, 0xffff, 0xffff}, // signaling NaN: not inf
      {0xffffffff, 0xffff, 0xffff},
      {0x80000000, 0x8000, 0x8000}, // -0
      {0x00018000, 0x0002, 0x0000}, // f32 subnormal: bf16 tie up to even
      {0x00008000, 0x0000, 0x0000}, // tie down to zero
      {0x00008001, 0x0001, 0x0000},
      {0x3f801000, 0x3f80, 0x3c00}, // f16 tie: down to even
      {0x3f803000, 0x3f80, 0x3c02}, // f16 tie: up to even
      {0x3f801001, 0x3f80, 0x3c01},
      {0x477fe000, 0x4780, 0x7bff}, // 65504
      {0x477fef00, 0x4780, 0x7bff}, // 65519
      {0x477ff000, 0x4780, 0x7c00}, // 65520: f16 tie rounds to inf
      {0xc77ff000, 0xc780, 0xfc00},
      {0x33800000, 0x3380, 0x0001}, // 2^-24: smallest f16 subnormal
      {0x33000000, 0x3300, 0x0000}, // 2^-25: tie to zero
      {0x33400000, 0x3340, 0x0001}, // 0.75 * 2^-24
      {0x33000001, 0x3300, 0x0001},
      {0x33c00000, 0x33c0, 0x0002}, // 1.5 * 2^-24: tie up to even
      {0x38800000, 0x3880, 0x0400}, // 2^-14: smallest f16 normal
      {0x3dcccccd, 0x3dcd, 0x2e66}, // 0.1
  };
  std::vector<uint32_t> in;
  for (const Case &c : cases)
    in.push_back(c.in);
  size_t n = in.size();
  CUdeviceptr input = upload(in);
  CUdeviceptr bf = allocate(n * 2), h = allocate(n * 2);
  ASSERT_EQ(launch(f, {1}, {unsigned(n)}, 0, input, bf, h), abi::kSuccess)
      << report();
  std::vector<uint16_t> bfOut = download<uint16_t>(bf, n);
  std::vector<uint16_t> hOut = download<uint16_t>(h, n);
  for (size_t i = 0; i < n; ++i) {
    if (cases[i].bf16 == 0xffff)
      EXPECT_TRUE(isBf16NaN(bfOut[i])) << std::hex << cases[i].in;
    else
      EXPECT_EQ(bfOut[i], cases[i].bf16) << std::hex << cases[i].in;
    if (cases[i].f16 == 0xffff)
      EXPECT_TRUE(isF16NaN(hOut[i])) << std::hex << cases[i].in;
    else
      EXPECT_EQ(hOut[i], cases[i].f16) << std::hex << cases[i].in;
  }
}

TEST_F(EmulatorTest, HalfToFloatIsExact) {
  CUfunction f = kernel(kHalfPtx, "from_half");
  ASSERT_NE(f, nullptr);
  struct Case {
    uint16_t bf16;
    uint32_t bf16AsF32;
    uint16_t f16;
    uint32_t f16AsF32; // 0xffffffff: a NaN
  };
  const Case cases[] = {
      {0x3f80, 0x3f800000, 0x0001, 0x33800000}, // f16 subnormals
      {0x0001, 0x00010000, 0x03ff, 0x387fc000}, // bf16 subnormal kept
      {0x8001, 0x80010000, 0x0400, 0x38800000},
      {0x7f80, 0x7f800000, 0x3c00, 0x3f800000},
      {0xff80, 0xff800000, 0x7bff, 0x477fe000},
      {0x7fc1, 0xffffffff, 0x7c00, 0x7f800000},
      {0x7f81, 0xffffffff, 0xfc00, 0xff800000}, // bf16 signaling NaN
      {0x8000, 0x80000000, 0x8000, 0x80000000},
      {0x3dcd, 0x3dcd0000, 0x7e00, 0xffffffff},
      {0xc2f7, 0xc2f70000, 0x3555, 0x3eaaa000},
      {0x4049, 0x40490000, 0xc000, 0xc0000000},
  };
  std::vector<uint16_t> bfIn, hIn;
  for (const Case &c : cases) {
    bfIn.push_back(c.bf16);
    hIn.push_back(c.f16);
  }
  size_t n = bfIn.size();
  CUdeviceptr bf = upload(bfIn), h = upload(hIn);
  CUdeviceptr output = allocate(n * 8);
  ASSERT_EQ(launch(f, {1}, {unsigned(n)}, 0, bf, h, output), abi::kSuccess)
      << report();
  std::vector<uint32_t> out = download<uint32_t>(output, 2 * n);
  for (size_t i = 0; i < n; ++i) {
    if (cases[i].bf16AsF32 == 0xffffffff)
      EXPECT_TRUE(std::isnan(f32FromBits(out[2 * i]))) << i;
    else
      EXPECT_EQ(out[2 * i], cases[i].bf16AsF32) << i;
    if (cases[i].f16AsF32 == 0xffffffff)
      EXPECT_TRUE(std::isnan(f32FromBits(out[2 * i + 1]))) << i;
    else
      EXPECT_EQ(out[2 * i + 1], cases[i].f16AsF32) << i;
  }
}

const char *kFloatToIntPtx = R"ptx(
.version 7.8
.target sm_80
.address_size 64

.visible .entry float_to_int(.param .u64 in, .param .u64 out,
                             .param .u64 out64)
{
  .reg .b32 %r<8>;
  .reg .b64 %rd<11>;
  .reg .f32 %f<4>;
  ld.param.u64 %rd1, [in];
  ld.param.u64 %rd2, [out];
  ld.param.u64 %rd3, [out64];
  mov.u32 %r1, %tid.x;
  mul.wide.u32 %rd4, %r1, 4;
  add.s64 %rd5, %rd1, %rd4;
  ld.global.f32 %f1, [%rd5];
  cvt.rni.s32.f32 %r2, %f1;
  cvt.rzi.s32.f32 %r3, %f1;
  cvt.rmi.s32.f32 %r4, %f1;
  cvt.rpi.s32.f32 %r5, %f1;
  cvt.rzi.u32.f32 %r6, %f1;
  cvt.rni.u32.f32 %r7, %f1;
  cvt.rni.f32.f32 %f2, %f1;
  cvt.rmi.f32.f32 %f3, %f1;
  cvt.rzi.s64.f32 %rd6, %f1;
  mul.wide.u32 %rd7, %r1, 32;
  add.s64 %rd8, %rd2, %rd7;
  st.global.v4.u32 [%rd8], {%r2, %r3, %r4, %r5};
  st.global.v2.u32 [%rd8+16], {%r6, %r7};
  st.global.v2.f32 [%rd8+24], {%f2, %f3};
  mul.wide.u32 %rd9, %r1, 8;
  add.s64 %rd10, %rd3, %rd9;
  st.global.u64 [%rd10], %rd6;
  ret;
}

.visible .entry int_to_float(.param .u64 in, .param .u64 out)
{
  .reg .b32 %r<2>;
  .reg .b64 %rd<7>;
  .reg .f32 %f<6>;
  ld.param.u64 %rd1, [in];
  ld.param.u64 %rd2, [out];
  mov.u32 %r1, %tid.x;
  mul.wide.u32 %rd3, %r1, 4;
  add.s64 %rd4, %rd1, %rd3;
  ld.global.u32 %r1, [%rd4];
  cvt.rn.f32.s32 %f1, %r1;
  cvt.rz.f32.s32 %f2, %r1;
  cvt.rm.f32.s32 %f3, %r1;
  cvt.rp.f32.s32 %f4, %r1;
  cvt.rn.f32.u32 %f5, %r1;
  mul.lo.u64 %rd5, %rd3, 5;
  add.s64 %rd6, %rd2, %rd5;
  st.global.f32 [%rd6], %f1;
  st.global.f32 [%rd6+4], %f2;
  st.global.f32 [%rd6+8], %f3;
  st.global.f32 [%rd6+12], %f4;
  st.global.f32 [%rd6+16], %f5;
  ret;
}
)ptx";

/// PTX float-to-integer: round as `mode` says, NaN to 0, saturate.
template <typename Int> Int saturatingConvert(float value, char mode) {
  if (std::isnan(value))
    return 0;
  double rounded = mode == 'n'   ? std::nearbyint(double(value))
                   : mode == 'z' ? std::trunc(double(value))
                   : mode == 'm' ? std::floor(double(value))
                                 : std::ceil(double(value));
  // One past the largest value: 2^31, 2^32 or 2^63.
  double limit = std::ldexp(1.0, std::numeric_limits<Int>::digits);
  if (rounded >= limit)
    return std::numeric_limits<Int>::max();
  if (rounded < double(std::numeric_limits<Int>::min()))
    return std::numeric_limits<Int>::min();
  return Int(rounded);
}

TEST_F(EmulatorTest, FloatToIntRoundsAndSaturates) {
  CUfunction f = kernel(kFloatToIntPtx, "float_to_int");
  ASSERT_NE(f, nullptr);
  std::vector<float> in = {
      2.5f,          -2.5f,          3.5f,          -0.5f,
      0.49999997f,   1e10f,          -1e10f,        2147483520.0f,
      2147483648.0f, -2147483648.0f, 4294967296.0f, kNaN,
      kInf,          -kInf,          -1.5f,         1e19f,
      -1e19f,        0.5f,           1.5f,          -0.0f,
      4294967040.0f, -2147483904.0f};
  size_t n = in.size();
  CUdeviceptr input = upload(in);
  CUdeviceptr output = allocate(n * 32), output64 = allocate(n * 8);
  ASSERT_EQ(launch(f, {1}, {unsigned(n)}, 0, input, output, output64),
            abi::kSuccess)
      << report();
  std::vector<uint32_t> out = download<uint32_t>(output, 8 * n);
  std::vector<int64_t> out64 = download<int64_t>(output64, n);
  // Hand-computed rows.
  auto row = [&](size_t i, int k) { return int32_t(out[8 * i + k]); };
  EXPECT_EQ(row(0, 0), 2); // rni(2.5): tie to even
  EXPECT_EQ(row(0, 3), 3);
  EXPECT_EQ(row(1, 0), -2);
  EXPECT_EQ(row(1, 2), -3);
  EXPECT_EQ(row(2, 0), 4);
  EXPECT_EQ(row(8, 0), INT_MAX); // 2^31 saturates
  EXPECT_EQ(row(9, 0), INT_MIN);
  EXPECT_EQ(out[8 * 10 + 4], 0xffffffffu); // 2^32 as u32
  EXPECT_EQ(row(11, 0), 0);                // NaN
  EXPECT_EQ(out[8 * 11 + 4], 0u);
  EXPECT_EQ(out64[11], 0);
  EXPECT_EQ(out[8 * 14 + 4], 0u); // -1.5 as u32
  EXPECT_EQ(out64[15], INT64_MAX);
  EXPECT_EQ(out64[16], INT64_MIN);
  for (size_t i = 0; i < n; ++i) {
    float x = in[i];
    EXPECT_EQ(row(i, 0), saturatingConvert<int32_t>(x, 'n')) << x;
    EXPECT_EQ(row(i, 1), saturatingConvert<int32_t>(x, 'z')) << x;
    EXPECT_EQ(row(i, 2), saturatingConvert<int32_t>(x, 'm')) << x;
    EXPECT_EQ(row(i, 3), saturatingConvert<int32_t>(x, 'p')) << x;
    EXPECT_EQ(out[8 * i + 4], saturatingConvert<uint32_t>(x, 'z')) << x;
    EXPECT_EQ(out[8 * i + 5], saturatingConvert<uint32_t>(x, 'n')) << x;
    EXPECT_TRUE(sameFloat(f32FromBits(out[8 * i + 6]), std::nearbyint(x))) << x;
    EXPECT_TRUE(sameFloat(f32FromBits(out[8 * i + 7]), std::floor(x))) << x;
    EXPECT_EQ(out64[i], saturatingConvert<int64_t>(x, 'z')) << x;
  }
}

/// `exact` rounded to float toward zero ('z'), down ('m') or up ('p').
float roundDirected(double exact, char mode) {
  float nearest = float(exact);
  if (mode == 'z' && std::fabs(double(nearest)) > std::fabs(exact))
    return std::nextafter(nearest, 0.0f);
  if (mode == 'm' && double(nearest) > exact)
    return std::nextafter(nearest, -kInf);
  if (mode == 'p' && double(nearest) < exact)
    return std::nextafter(nearest, kInf);
  return nearest;
}

TEST_F(EmulatorTest, IntToFloatRounds) {
  CUfunction f = kernel(kFloatToIntPtx, "int_to_float");
  ASSERT_NE(f, nullptr);
  std::vector<int32_t> in = {16777217, 16777219, -16777217, INT_MAX,  INT_MIN,
                             -5,       0,        -1,        123456789};
  size_t n = in.size();
  CUdeviceptr input = upload(in);
  CUdeviceptr output = allocate(n * 20);
  ASSERT_EQ(launch(f, {1}, {unsigned(n)}, 0, input, output), abi::kSuccess)
      << report();
  std::vector<float> out = download<float>(output, 5 * n);
  EXPECT_EQ(out[0], 16777216.0f); // tie to even
  EXPECT_EQ(out[5], 16777220.0f); // tie to even, upwards
  EXPECT_EQ(out[5 + 1], 16777218.0f);
  EXPECT_EQ(out[10 + 2], -16777218.0f);
  EXPECT_EQ(bitsOfF32(out[35 + 4]), 0x4f800000u); // 0xffffffff rn: 2^32
  for (size_t i = 0; i < n; ++i) {
    double exact = in[i];
    EXPECT_EQ(out[5 * i], float(exact)) << in[i];
    EXPECT_EQ(out[5 * i + 1], roundDirected(exact, 'z')) << in[i];
    EXPECT_EQ(out[5 * i + 2], roundDirected(exact, 'm')) << in[i];
    EXPECT_EQ(out[5 * i + 3], roundDirected(exact, 'p')) << in[i];
    EXPECT_EQ(out[5 * i + 4], float(double(uint32_t(in[i])))) << in[i];
  }
}

const char *kFtzPtx = R"ptx(
.version 7.8
.target sm_80
.address_size 64

.visible .entry ftz(.param .u64 in, .param .u64 out)
{
  .reg .b32 %r<2>;
  .reg .b64 %rd<7>;
  .reg .f32 %f<8>;
  ld.param.u64 %rd1, [in];
  ld.param.u64 %rd2, [out];
  mov.u32 %r1, %tid.x;
  mul.wide.u32 %rd3, %r1, 8;
  add.s64 %rd4, %rd1, %rd3;
  ld.global.v2.f32 {%f1, %f2}, [%rd4];
  add.rn.f32 %f3, %f1, %f2;
  add.rn.ftz.f32 %f4, %f1, %f2;
  mul.rn.f32 %f5, %f1, %f2;
  mul.rn.ftz.f32 %f6, %f1, %f2;
  add.rn.sat.f32 %f7, %f1, %f2;
  mul.wide.u32 %rd5, %r1, 20;
  add.s64 %rd6, %rd2, %rd5;
  st.global.f32 [%rd6], %f3;
  st.global.f32 [%rd6+4], %f4;
  st.global.f32 [%rd6+8], %f5;
  st.global.f32 [%rd6+12], %f6;
  st.global.f32 [%rd6+16], %f7;
  ret;
}
)ptx";

TEST_F(EmulatorTest, FtzFlushesSubnormalsAndSatClamps) {
  CUfunction f = kernel(kFtzPtx, "ftz");
  ASSERT_NE(f, nullptr);
  const float sub = f32FromBits(0x00080000); // 2^-130
  const float tiny = std::ldexp(1.0f, -70);  // squares to 2^-140
  std::vector<float> in = {sub,   0.0f,  -sub,  -0.0f, tiny,
                           tiny,  -tiny, tiny,  1.5f,  f32FromBits(0x00400000),
                           1.0f,  2.0f,  0.25f, 0.5f,  2.0f,
                           -3.0f, kNaN,  1.0f};
  size_t n = in.size() / 2;
  CUdeviceptr input = upload(in);
  CUdeviceptr output = allocate(n * 20);
  ASSERT_EQ(launch(f, {1}, {unsigned(n)}, 0, input, output), abi::kSuccess)
      << report();
  std::vector<uint32_t> out = download<uint32_t>(output, 5 * n);
  // {add, add.ftz, mul, mul.ftz} as bits; 0xffffffff: NaN.
  const uint32_t expected[][4] = {
      {0x00080000, 0x00000000, 0x00000000, 0x00000000}, // 2^-130 + 0
      {0x80080000, 0x80000000, 0x00000000, 0x00000000}, // sign kept
      {0x1d000000, 0x1d000000, 0x00000200, 0x00000000}, // 2^-140 flushed
      {0x00000000, 0x00000000, 0x80000200, 0x80000000}, // to -0
      {0x3fc00000, 0x3fc00000, 0x00600000, 0x00000000}, // input flushed
      {0x40400000, 0x40400000, 0x40000000, 0x40000000},
      {0x3f400000, 0x3f400000, 0x3e000000, 0x3e000000},
      {0xbf800000, 0xbf800000, 0xc0c00000, 0xc0c00000},
      {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
  };
  const float saturated[] = {sub,  0.0f,  2 * tiny, 0.0f, 1.0f,
                             1.0f, 0.75f, 0.0f,     0.0f};
  for (size_t i = 0; i < n; ++i) {
    for (int k = 0; k < 4; ++k) {
      if (expected[i][k] == 0xffffffff)
        EXPECT_TRUE(std::isnan(f32FromBits(out[5 * i + k]))) << i << " " << k;
      else
        EXPECT_EQ(out[5 * i + k], expected[i][k])
            << "case " << i << " result " << k;
    }
    // .sat clamps to [0, 1] and turns NaN into 0.
    EXPECT_EQ(f32FromBits(out[5 * i + 4]), saturated[i]) << "case " << i;
  }
}

const char *kMinMaxPtx = R"ptx(
.version 7.8
.target sm_80
.address_size 64

.visible .entry minmax(.param .u64 in, .param .u64 out)
{
  .reg .b32 %r<2>;
  .reg .b64 %rd<7>;
  .reg .f32 %f<7>;
  ld.param.u64 %rd1, [in];
  ld.param.u64 %rd2, [out];
  mov.u32 %r1, %tid.x;
  mul.wide.u32 %rd3, %r1, 8;
  add.s64 %rd4, %rd1, %rd3;
  ld.global.v2.f32 {%f1, %f2}, [%rd4];
  max.f32 %f3, %f1, %f2;
  min.f32 %f4, %f1, %f2;
  max.NaN.f32 %f5, %f1, %f2;
  min.NaN.f32 %f6, %f1, %f2;
  mul.wide.u32 %rd5, %r1, 16;
  add.s64 %rd6, %rd2, %rd5;
  st.global.v4.f32 [%rd6], {%f3, %f4, %f5, %f6};
  ret;
}
)ptx";

TEST_F(EmulatorTest, MinMaxNaNHandling) {
  CUfunction f = kernel(kMinMaxPtx, "minmax");
  ASSERT_NE(f, nullptr);
  std::vector<float> in = {kNaN, 1.0f,  1.0f,  kNaN, kNaN, kNaN,
                           2.0f, -3.0f, -kInf, 5.0f, kInf, kNaN};
  size_t n = in.size() / 2;
  CUdeviceptr input = upload(in);
  CUdeviceptr output = allocate(n * 16);
  ASSERT_EQ(launch(f, {1}, {unsigned(n)}, 0, input, output), abi::kSuccess)
      << report();
  std::vector<float> out = download<float>(output, 4 * n);
  const float expected[][4] = {
      {1.0f, 1.0f, kNaN, kNaN},   {1.0f, 1.0f, kNaN, kNaN},
      {kNaN, kNaN, kNaN, kNaN},   {2.0f, -3.0f, 2.0f, -3.0f},
      {5.0f, -kInf, 5.0f, -kInf}, {kInf, kInf, kNaN, kNaN}};
  for (size_t i = 0; i < n; ++i)
    for (int k = 0; k < 4; ++k)
      EXPECT_TRUE(sameFloat(out[4 * i + k], expected[i][k]))
          << "case " << i << " result " << k;
}

const char *kSetpPtx = R"ptx(
.version 7.8
.target sm_80
.address_size 64

.visible .entry setp_f32(.param .u64 in, .param .u64 out)
{
  .reg .pred %p<4>;
  .reg .b32 %r<4>;
  .reg .b64 %rd<7>;
  .reg .f32 %f<3>;
  ld.param.u64 %rd1, [in];
  ld.param.u64 %rd2, [out];
  mov.u32 %r1, %tid.x;
  mul.wide.u32 %rd3, %r1, 8;
  add.s64 %rd4, %rd1, %rd3;
  ld.global.v2.f32 {%f1, %f2}, [%rd4];
  mov.u32 %r3, 0;
  setp.eq.f32 %p1, %f1, %f2;
  selp.u32 %r2, 1, 0, %p1;
  or.b32 %r3, %r3, %r2;
  setp.ne.f32 %p1, %f1, %f2;
  selp.u32 %r2, 2, 0, %p1;
  or.b32 %r3, %r3, %r2;
  setp.lt.f32 %p1, %f1, %f2;
  selp.u32 %r2, 4, 0, %p1;
  or.b32 %r3, %r3, %r2;
  setp.le.f32 %p1, %f1, %f2;
  selp.u32 %r2, 8, 0, %p1;
  or.b32 %r3, %r3, %r2;
  setp.gt.f32 %p1, %f1, %f2;
  selp.u32 %r2, 16, 0, %p1;
  or.b32 %r3, %r3, %r2;
  setp.ge.f32 %p1, %f1, %f2;
  selp.u32 %r2, 32, 0, %p1;
  or.b32 %r3, %r3, %r2;
  setp.equ.f32 %p1, %f1, %f2;
  selp.u32 %r2, 64, 0, %p1;
  or.b32 %r3, %r3, %r2;
  setp.neu.f32 %p1, %f1, %f2;
  selp.u32 %r2, 128, 0, %p1;
  or.b32 %r3, %r3, %r2;
  setp.ltu.f32 %p1, %f1, %f2;
  selp.u32 %r2, 256, 0, %p1;
  or.b32 %r3, %r3, %r2;
  setp.leu.f32 %p1, %f1, %f2;
  selp.u32 %r2, 512, 0, %p1;
  or.b32 %r3, %r3, %r2;
  setp.gtu.f32 %p1, %f1, %f2;
  selp.u32 %r2, 1024, 0, %p1;
  or.b32 %r3, %r3, %r2;
  setp.geu.f32 %p1, %f1, %f2;
  selp.u32 %r2, 2048, 0, %p1;
  or.b32 %r3, %r3, %r2;
  setp.num.f32 %p2, %f1, %f2;
  selp.u32 %r2, 4096, 0, %p2;
  or.b32 %r3, %r3, %r2;
  setp.nan.f32 %p3, %f1, %f2;
  selp.u32 %r2, 8192, 0, %p3;
  or.b32 %r3, %r3, %r2;
  setp.ge.or.f32 %p1, %f1, %f2, %p3;
  selp.u32 %r2, 16384, 0, %p1;
  or.b32 %r3, %r3, %r2;
  setp.lt.and.f32 %p1, %f1, %f2, %p2;
  selp.u32 %r2, 32768, 0, %p1;
  or.b32 %r3, %r3, %r2;
  setp.eq.xor.f32 %p1, %f1, %f2, %p3;
  selp.u32 %r2, 65536, 0, %p1;
  or.b32 %r3, %r3, %r2;
  mul.wide.u32 %rd5, %r1, 4;
  add.s64 %rd6, %rd2, %rd5;
  st.global.u32 [%rd6], %r3;
  ret;
}
)ptx";

TEST_F(EmulatorTest, SetpOrderedAndUnorderedCompares) {
  CUfunction f = kernel(kSetpPtx, "setp_f32");
  ASSERT_NE(f, nullptr);
  std::vector<float> in = {1.0f,  2.0f, 2.0f, 1.0f, 2.0f,  2.0f,
                           kNaN,  1.0f, 1.0f, kNaN, kNaN,  kNaN,
                           -0.0f, 0.0f, kInf, kInf, -kInf, kInf};
  size_t n = in.size() / 2;
  CUdeviceptr input = upload(in);
  CUdeviceptr output = allocate(n * 4);
  ASSERT_EQ(launch(f, {1}, {unsigned(n)}, 0, input, output), abi::kSuccess)
      << report();
  std::vector<uint32_t> out = download<uint32_t>(output, n);
  // (NaN, 1): only the unordered compares and nan hold.
  EXPECT_EQ(out[3],
            64u | 128u | 256u | 512u | 1024u | 2048u | 8192u | 16384u | 65536u);
  for (size_t i = 0; i < n; ++i) {
    float a = in[2 * i], b = in[2 * i + 1];
    bool unordered = std::isnan(a) || std::isnan(b);
    const bool bits[] = {(a == b),
                         !unordered && (a != b),
                         (a < b),
                         (a <= b),
                         (a > b),
                         (a >= b),
                         unordered || a == b,
                         unordered || a != b,
                         unordered || a < b,
                         unordered || a <= b,
                         unordered || a > b,
                         unordered || a >= b,
                         !unordered,
                         unordered,
                         (a >= b) || unordered,
                         (a < b) && !unordered,
                         (a == b) != unordered};
    uint32_t expected = 0;
    for (int k = 0; k < 17; ++k)
      expected |= uint32_t(bits[k]) << k;
    EXPECT_EQ(out[i], expected) << "(" << a << ", " << b << ")";
  }
}

const char *kNegatedPredicatePtx = R"ptx(
.version 7.8
.target sm_80
.address_size 64

.visible .entry negated(.param .u64 in, .param .u64 out)
{
  .reg .pred %p<6>;
  .reg .b32 %r<7>;
  .reg .b64 %rd<7>;
  .reg .f32 %f<3>;
  ld.param.u64 %rd1, [in];
  ld.param.u64 %rd2, [out];
  mov.u32 %r1, %tid.x;
  mul.wide.u32 %rd3, %r1, 8;
  add.s64 %rd4, %rd1, %rd3;
  ld.global.v2.f32 {%f1, %f2}, [%rd4];
  setp.nan.f32 %p1, %f1, %f2;
  setp.lt.and.f32 %p2, %f1, %f2, !%p1;
  setp.eq.or.f32 %p3, %f1, %f2, !%p1;
  setp.lt.u32 %p4, %r1, 20;
  vote.sync.ballot.b32 %r2, !%p4, 0xffffffff;
  vote.sync.any.pred %p5, !%p1, 0xffffffff;
  selp.u32 %r3, 1, 0, %p2;
  selp.u32 %r4, 2, 0, %p3;
  or.b32 %r3, %r3, %r4;
  selp.u32 %r5, 4, 0, %p5;
  or.b32 %r3, %r3, %r5;
  add.s64 %rd5, %rd2, %rd3;
  st.global.v2.u32 [%rd5], {%r3, %r2};
  ret;
}
)ptx";

TEST_F(EmulatorTest, NegatedPredicateOperands) {
  // `!%p` as setp's combining operand and as vote's source.
  CUfunction f = kernel(kNegatedPredicatePtx, "negated");
  ASSERT_NE(f, nullptr);
  const unsigned n = 32;
  std::vector<float> in(2 * n);
  for (unsigned t = 0; t < n; ++t) {
    in[2 * t] = t % 4 == 0 ? kNaN : float(t % 5);
    in[2 * t + 1] = 2.0f;
  }
  CUdeviceptr input = upload(in);
  CUdeviceptr output = allocate(8 * n);
  ASSERT_EQ(launch(f, {1}, {n}, 0, input, output), abi::kSuccess) << report();
  std::vector<uint32_t> out = download<uint32_t>(output, 2 * n);
  for (unsigned t = 0; t < n; ++t) {
    float a = in[2 * t];
    bool nan = std::isnan(a);
    uint32_t expected =
        uint32_t((a < 2.0f) && !nan) | uint32_t((a == 2.0f) || !nan) << 1 | 4u;
    EXPECT_EQ(out[2 * t], expected) << t;
    EXPECT_EQ(out[2 * t + 1], 0xfff00000u) << t;
  }
}

//===----------------------------------------------------------------------===//
// Predication and integers
//===----------------------------------------------------------------------===//

const char *kPredicationPtx = R"ptx(
.version 7.8
.target sm_80
.address_size 64

.visible .entry predication(.param .u64 out, .param .u64 marks,
                            .param .u64 sums)
{
  .reg .pred %p<4>;
  .reg .b32 %r<8>;
  .reg .b64 %rd<8>;
  ld.param.u64 %rd1, [out];
  ld.param.u64 %rd2, [marks];
  ld.param.u64 %rd3, [sums];
  mov.u32 %r1, %tid.x;
  and.b32 %r2, %r1, 1;
  setp.ne.u32 %p1, %r2, 0;
  mov.u32 %r3, 100;
  @%p1 add.u32 %r3, %r3, 1;
  @!%p1 add.u32 %r3, %r3, 20;
  selp.u32 %r4, 7, 9, %p1;
  add.u32 %r3, %r3, %r4;
  setp.lt.u32 %p2, %r1, 5;
  @%p2 bra SMALL;
  add.u32 %r3, %r3, 1000;
SMALL:
  mul.wide.u32 %rd4, %r1, 4;
  add.s64 %rd5, %rd1, %rd4;
  st.global.u32 [%rd5], %r3;
  add.s64 %rd6, %rd2, %rd4;
  @%p1 st.global.u32 [%rd6], %r1;
  mov.u32 %r5, 0;
  mov.u32 %r6, 0;
LOOP:
  setp.gt.u32 %p3, %r6, %r1;
  @%p3 bra END;
  add.u32 %r5, %r5, %r6;
  add.u32 %r6, %r6, 1;
  bra LOOP;
END:
  add.s64 %rd7, %rd3, %rd4;
  st.global.u32 [%rd7], %r5;
  ret;
}
)ptx";

TEST_F(EmulatorTest, PredicationSelpAndDivergentBranches) {
  CUfunction f = kernel(kPredicationPtx, "predication");
  ASSERT_NE(f, nullptr);
  const unsigned n = 80; // two full warps and a partial one
  CUdeviceptr out = allocate(n * 4), marks = allocate(n * 4, 0xff),
              sums = allocate(n * 4);
  ASSERT_EQ(launch(f, {1}, {n}, 0, out, marks, sums), abi::kSuccess)
      << report();
  std::vector<uint32_t> values = download<uint32_t>(out, n);
  std::vector<uint32_t> marked = download<uint32_t>(marks, n);
  std::vector<uint32_t> summed = download<uint32_t>(sums, n);
  for (uint32_t t = 0; t < n; ++t) {
    bool odd = t & 1;
    EXPECT_EQ(values[t], (odd ? 108u : 129u) + (t >= 5 ? 1000u : 0u)) << t;
    EXPECT_EQ(marked[t], odd ? t : 0xffffffffu) << t;
    EXPECT_EQ(summed[t], t * (t + 1) / 2) << t;
  }
}

const char *kIntegerPtx = R"ptx(
.version 7.8
.target sm_80
.address_size 64

.visible .entry int_ops(.param .u64 in32, .param .u64 in64, .param .u64 out32,
                        .param .u64 out64)
{
  .reg .pred %p<2>;
  .reg .b32 %r<16>;
  .reg .b64 %rd<16>;
  ld.param.u64 %rd1, [in32];
  ld.param.u64 %rd2, [in64];
  ld.param.u64 %rd3, [out32];
  ld.param.u64 %rd4, [out64];
  ld.global.v4.u32 {%r1, %r2, %r3, %r4}, [%rd1];
  ld.global.v2.u32 {%r5, %r6}, [%rd1+16];
  ld.global.v2.u64 {%rd5, %rd6}, [%rd2];
  ld.global.u64 %rd7, [%rd2+16];
  mul.lo.u32 %r10, %r1, %r2;
  st.global.u32 [%rd3+0], %r10;
  mul.hi.u32 %r10, %r1, %r2;
  st.global.u32 [%rd3+4], %r10;
  mul.hi.s32 %r10, %r1, %r2;
  st.global.u32 [%rd3+8], %r10;
  mad.lo.u32 %r10, %r1, %r2, %r3;
  st.global.u32 [%rd3+12], %r10;
  shr.s32 %r10, %r1, 2;
  st.global.u32 [%rd3+16], %r10;
  shr.u32 %r10, %r1, 2;
  st.global.u32 [%rd3+20], %r10;
  shr.s32 %r10, %r1, %r4;
  st.global.u32 [%rd3+24], %r10;
  shr.u32 %r10, %r1, %r4;
  st.global.u32 [%rd3+28], %r10;
  shl.b32 %r10, %r2, %r4;
  st.global.u32 [%rd3+32], %r10;
  shl.b32 %r10, %r2, 4;
  st.global.u32 [%rd3+36], %r10;
  bfe.u32 %r10, %r2, 8, 12;
  st.global.u32 [%rd3+40], %r10;
  bfe.s32 %r10, %r5, 28, 8;
  st.global.u32 [%rd3+44], %r10;
  bfe.s32 %r10, %r1, 4, 8;
  st.global.u32 [%rd3+48], %r10;
  bfe.s32 %r10, %r2, 4, 8;
  st.global.u32 [%rd3+52], %r10;
  bfe.u32 %r10, %r2, %r3, %r6;
  st.global.u32 [%rd3+56], %r10;
  popc.b32 %r10, %r2;
  st.global.u32 [%rd3+60], %r10;
  clz.b32 %r10, %r2;
  st.global.u32 [%rd3+64], %r10;
  clz.b32 %r10, %r6;
  st.global.u32 [%rd3+68], %r10;
  div.s32 %r10, %r1, %r3;
  st.global.u32 [%rd3+72], %r10;
  rem.s32 %r10, %r1, %r3;
  st.global.u32 [%rd3+76], %r10;
  div.u32 %r10, %r1, %r3;
  st.global.u32 [%rd3+80], %r10;
  rem.u32 %r10, %r1, %r3;
  st.global.u32 [%rd3+84], %r10;
  min.s32 %r10, %r1, %r3;
  st.global.u32 [%rd3+88], %r10;
  min.u32 %r10, %r1, %r3;
  st.global.u32 [%rd3+92], %r10;
  max.s32 %r10, %r1, %r3;
  st.global.u32 [%rd3+96], %r10;
  max.u32 %r10, %r1, %r3;
  st.global.u32 [%rd3+100], %r10;
  abs.s32 %r10, %r1;
  st.global.u32 [%rd3+104], %r10;
  neg.s32 %r10, %r1;
  st.global.u32 [%rd3+108], %r10;
  and.b32 %r10, %r1, %r2;
  st.global.u32 [%rd3+112], %r10;
  or.b32 %r10, %r1, %r2;
  st.global.u32 [%rd3+116], %r10;
  xor.b32 %r10, %r1, %r2;
  st.global.u32 [%rd3+120], %r10;
  not.b32 %r10, %r2;
  st.global.u32 [%rd3+124], %r10;
  add.u32 %r10, %r1, %r2;
  st.global.u32 [%rd3+128], %r10;
  sub.u32 %r10, %r3, %r2;
  st.global.u32 [%rd3+132], %r10;
  popc.b64 %r10, %rd5;
  st.global.u32 [%rd3+136], %r10;
  clz.b64 %r10, %rd6;
  st.global.u32 [%rd3+140], %r10;
  cvt.u32.u64 %r10, %rd5;
  st.global.u32 [%rd3+144], %r10;
  mov.u32 %r10, 0;
  setp.lt.s32 %p1, %r1, %r3;
  selp.u32 %r11, 1, 0, %p1;
  or.b32 %r10, %r10, %r11;
  setp.lt.u32 %p1, %r1, %r3;
  selp.u32 %r11, 2, 0, %p1;
  or.b32 %r10, %r10, %r11;
  setp.lo.u32 %p1, %r1, %r3;
  selp.u32 %r11, 4, 0, %p1;
  or.b32 %r10, %r10, %r11;
  setp.hi.u32 %p1, %r1, %r3;
  selp.u32 %r11, 8, 0, %p1;
  or.b32 %r10, %r10, %r11;
  setp.ge.s32 %p1, %r1, %r3;
  selp.u32 %r11, 16, 0, %p1;
  or.b32 %r10, %r10, %r11;
  setp.ls.u32 %p1, %r3, %r1;
  selp.u32 %r11, 32, 0, %p1;
  or.b32 %r10, %r10, %r11;
  setp.hs.u32 %p1, %r1, %r1;
  selp.u32 %r11, 64, 0, %p1;
  or.b32 %r10, %r10, %r11;
  setp.lt.s64 %p1, %rd5, %rd6;
  selp.u32 %r11, 128, 0, %p1;
  or.b32 %r10, %r10, %r11;
  setp.lt.u64 %p1, %rd5, %rd6;
  selp.u32 %r11, 256, 0, %p1;
  or.b32 %r10, %r10, %r11;
  st.global.u32 [%rd3+148], %r10;
  mul.wide.u32 %rd10, %r1, %r2;
  st.global.u64 [%rd4+0], %rd10;
  mul.wide.s32 %rd10, %r1, %r2;
  st.global.u64 [%rd4+8], %rd10;
  mad.wide.u32 %rd10, %r1, %r2, %rd5;
  st.global.u64 [%rd4+16], %rd10;
  mad.wide.s32 %rd10, %r1, %r2, %rd6;
  st.global.u64 [%rd4+24], %rd10;
  mad.lo.s64 %rd10, %rd5, %rd6, %rd7;
  st.global.u64 [%rd4+32], %rd10;
  mul.hi.u64 %rd10, %rd5, %rd6;
  st.global.u64 [%rd4+40], %rd10;
  mul.hi.s64 %rd10, %rd5, %rd6;
  st.global.u64 [%rd4+48], %rd10;
  mul.lo.u64 %rd10, %rd5, %rd6;
  st.global.u64 [%rd4+56], %rd10;
  bfe.u64 %rd10, %rd5, 20, 16;
  st.global.u64 [%rd4+64], %rd10;
  bfe.u64 %rd10, %rd5, 60, 8;
  st.global.u64 [%rd4+72], %rd10;
  bfe.s64 %rd10, %rd5, 56, 8;
  st.global.u64 [%rd4+80], %rd10;
  shr.s64 %rd10, %rd5, 4;
  st.global.u64 [%rd4+88], %rd10;
  shr.u64 %rd10, %rd5, 4;
  st.global.u64 [%rd4+96], %rd10;
  shl.b64 %rd10, %rd6, 40;
  st.global.u64 [%rd4+104], %rd10;
  cvt.s64.s32 %rd10, %r1;
  st.global.u64 [%rd4+112], %rd10;
  cvt.u64.u32 %rd10, %r1;
  st.global.u64 [%rd4+120], %rd10;
  add.s64 %rd10, %rd6, 4294967295;
  st.global.u64 [%rd4+128], %rd10;
  sub.s64 %rd10, %rd7, %rd5;
  st.global.u64 [%rd4+136], %rd10;
  div.s64 %rd10, %rd5, %rd6;
  st.global.u64 [%rd4+144], %rd10;
  rem.s64 %rd10, %rd5, %rd6;
  st.global.u64 [%rd4+152], %rd10;
  div.u64 %rd10, %rd5, %rd6;
  st.global.u64 [%rd4+160], %rd10;
  xor.b64 %rd10, %rd5, %rd6;
  st.global.u64 [%rd4+168], %rd10;
  ret;
}
)ptx";

/// bfe as the PTX ISA's pseudocode defines it.
uint64_t bfeReference(uint64_t a, unsigned pos, unsigned len, unsigned bits,
                      bool isSigned) {
  pos &= 0xff;
  len &= 0xff;
  unsigned msb = bits - 1;
  unsigned sbit = 0;
  if (isSigned && len != 0)
    sbit = (a >> std::min(pos + len - 1, msb)) & 1;
  uint64_t d = 0;
  for (unsigned i = 0; i <= msb; ++i) {
    uint64_t bit = (i < len && pos + i <= msb) ? (a >> (pos + i)) & 1 : sbit;
    d |= bit << i;
  }
  return d;
}

TEST_F(EmulatorTest, IntegerArithmetic) {
  CUfunction f = kernel(kIntegerPtx, "int_ops");
  ASSERT_NE(f, nullptr);
  const uint32_t a = 0xffffffef, b = 0x12345678, c = 3, s = 40, d = 0x80000000,
                 zero = 0;
  const uint64_t x = 0xf0e1d2c3b4a59687, y = 0x0000000123456789,
                 z = 0xffffffffffffffff;
  CUdeviceptr in32 = upload(std::vector<uint32_t>{a, b, c, s, d, zero, 0, 0});
  CUdeviceptr in64 = upload(std::vector<uint64_t>{x, y, z, 0});
  CUdeviceptr out32 = allocate(38 * 4), out64 = allocate(22 * 8);
  ASSERT_EQ(launch(f, {1}, {1}, 0, in32, in64, out32, out64), abi::kSuccess)
      << report();
  std::vector<uint32_t> r = download<uint32_t>(out32, 38);
  std::vector<uint64_t> q = download<uint64_t>(out64, 22);
  const int32_t sa = int32_t(a), sb = int32_t(b), sc = int32_t(c);
  const int64_t sx = int64_t(x), sy = int64_t(y);

  EXPECT_EQ(r[0], a * b);
  EXPECT_EQ(r[1], uint32_t((uint64_t(a) * b) >> 32));
  EXPECT_EQ(r[2], uint32_t((int64_t(sa) * sb) >> 32));
  EXPECT_EQ(r[3], a * b + c);
  EXPECT_EQ(int32_t(r[4]), -5); // -17 >> 2, arithmetic
  EXPECT_EQ(r[5], 0x3ffffffbu); // logical
  EXPECT_EQ(r[6], 0xffffffffu); // shift amount clamped to 32
  EXPECT_EQ(r[7], 0u);
  EXPECT_EQ(r[8], 0u);
  EXPECT_EQ(r[9], 0x23456780u);
  EXPECT_EQ(r[10], 0x456u);      // bits 8..19 of 0x12345678
  EXPECT_EQ(r[11], 0xfffffff8u); // field past bit 31: sign fills
  EXPECT_EQ(r[12], 0xfffffffeu); // 0xfe sign-extended
  EXPECT_EQ(r[13], 0x67u);
  EXPECT_EQ(r[14], 0u); // length 0
  EXPECT_EQ(r[11], uint32_t(bfeReference(d, 28, 8, 32, true)));
  EXPECT_EQ(r[12], uint32_t(bfeReference(a, 4, 8, 32, true)));
  EXPECT_EQ(r[10], uint32_t(bfeReference(b, 8, 12, 32, false)));
  EXPECT_EQ(r[15], 13u); // popc(0x12345678)
  EXPECT_EQ(r[16], 3u);
  EXPECT_EQ(r[17], 32u);         // clz(0)
  EXPECT_EQ(int32_t(r[18]), -5); // -17 / 3 truncates
  EXPECT_EQ(int32_t(r[19]), -2);
  EXPECT_EQ(r[20], a / c);
  EXPECT_EQ(r[21], a % c);
  EXPECT_EQ(r[22], a);  // min.s32(-17, 3)
  EXPECT_EQ(r[23], 3u); // min.u32
  EXPECT_EQ(r[24], 3u);
  EXPECT_EQ(r[25], a);
  EXPECT_EQ(r[26], 17u);
  EXPECT_EQ(r[27], 17u);
  EXPECT_EQ(r[28], a & b);
  EXPECT_EQ(r[29], a | b);
  EXPECT_EQ(r[30], a ^ b);
  EXPECT_EQ(r[31], ~b);
  EXPECT_EQ(r[32], a + b);
  EXPECT_EQ(r[33], c - b);
  EXPECT_EQ(r[34], uint32_t(__builtin_popcountll(x)));
  EXPECT_EQ(r[35], 31u); // clz(0x123456789)
  EXPECT_EQ(r[36], 0xb4a59687u);
  uint32_t compares = (sa < sc) | (a < c) << 1 | (a < c) << 2 | (a > c) << 3 |
                      (sa >= sc) << 4 | (c <= a) << 5 | 1u << 6 |
                      (sx < sy) << 7 | (x < y) << 8;
  EXPECT_EQ(r[37], compares);
  EXPECT_EQ(compares, 1u | 8u | 32u | 64u | 128u);

  EXPECT_EQ(q[0], uint64_t(a) * b);
  EXPECT_EQ(q[1], uint64_t(int64_t(sa) * sb));
  EXPECT_EQ(q[2], uint64_t(a) * b + x);
  EXPECT_EQ(q[3], uint64_t(int64_t(sa) * sb) + y);
  EXPECT_EQ(q[4], x * y + z);
  EXPECT_EQ(q[5], uint64_t((unsigned __int128)x * y >> 64));
  EXPECT_EQ(q[6], uint64_t((__int128)sx * sy >> 64));
  EXPECT_EQ(q[7], x * y);
  EXPECT_EQ(q[8], (x >> 20) & 0xffff);
  EXPECT_EQ(q[9], 0xfu);
  EXPECT_EQ(q[10], 0xfffffffffffffff0u);
  EXPECT_EQ(q[10], bfeReference(x, 56, 8, 64, true));
  EXPECT_EQ(q[11], 0xff0e1d2c3b4a5968u);
  EXPECT_EQ(q[12], 0x0f0e1d2c3b4a5968u);
  EXPECT_EQ(q[13], y << 40);
  EXPECT_EQ(q[14], 0xffffffffffffffefu);
  EXPECT_EQ(q[15], 0x00000000ffffffefu);
  EXPECT_EQ(q[16], 0x0000000223456788u);
  EXPECT_EQ(q[17], z - x);
  EXPECT_EQ(int64_t(q[18]), sx / sy);
  EXPECT_EQ(int64_t(q[19]), sx % sy);
  EXPECT_EQ(q[20], x / y);
  EXPECT_EQ(q[21], x ^ y);
}

//===----------------------------------------------------------------------===//
// Memory and addresses
//===----------------------------------------------------------------------===//

const char *kAddress64Ptx = R"ptx(
.version 7.8
.target sm_80
.address_size 64

.visible .entry addr64(.param .u64 out, .param .u64 wide, .param .u64 big)
{
  .reg .b32 %r<6>;
  .reg .b64 %rd<11>;
  ld.param.u64 %rd1, [out];
  ld.param.u64 %rd2, [wide];
  ld.param.u64 %rd3, [big];
  mov.u32 %r1, %ctaid.x;
  mov.u32 %r2, %ntid.x;
  mov.u32 %r3, %tid.x;
  mad.lo.u32 %r4, %r1, %r2, %r3;
  mul.wide.u32 %rd4, %r4, 4;
  add.s64 %rd5, %rd1, %rd4;
  add.s64 %rd6, %rd5, %rd3;
  mul.lo.u32 %r5, %r4, 3;
  sub.s64 %rd7, %rd6, %rd3;
  st.global.u32 [%rd7], %r5;
  cvt.u64.u32 %rd8, %r4;
  mad.lo.s64 %rd9, %rd8, 8, %rd2;
  shl.b64 %rd10, %rd8, 33;
  or.b64 %rd10, %rd10, %rd8;
  sub.s64 %rd9, %rd9, %rd3;
  st.global.u64 [%rd9+0], %rd10;
  ret;
}
)ptx";

TEST_F(EmulatorTest, SixtyFourBitAddressArithmetic) {
  CUfunction f = kernel(kAddress64Ptx, "addr64");
  ASSERT_NE(f, nullptr);
  const unsigned blocks = 3, threads = 64, n = blocks * threads;
  const uint64_t big = 0x123456780; // about 4.6 GiB
  CUdeviceptr out = allocate(n * 4), wide = allocate(n * 8);
  // The second pointer is passed `big` bytes too high; the kernel subtracts
  // it after the mad.lo.s64.
  ASSERT_EQ(
      launch(f, {blocks}, {threads}, 0, out, CUdeviceptr(wide + big), big),
      abi::kSuccess)
      << report();
  std::vector<uint32_t> values = download<uint32_t>(out, n);
  std::vector<uint64_t> wides = download<uint64_t>(wide, n);
  for (uint32_t i = 0; i < n; ++i) {
    EXPECT_EQ(values[i], 3 * i) << i;
    EXPECT_EQ(wides[i], (uint64_t(i) << 33) | i) << i;
  }
}

const char *kMemoryPathsPtx = R"ptx(
.version 7.8
.target sm_80
.address_size 64

.extern .shared .align 16 .b8 dyn[];

.visible .entry memory_paths(.param .u64 in, .param .u64 out,
                             .param .u64 out2, .param .f32 scale)
{
  .shared .align 16 .b8 tile[1024];
  .reg .b32 %r<6>;
  .reg .b64 %rd<21>;
  .reg .f32 %f<10>;
  ld.param.u64 %rd1, [in];
  ld.param.u64 %rd2, [out];
  ld.param.u64 %rd3, [out2];
  ld.param.f32 %f9, [scale];
  cvta.to.global.u64 %rd1, %rd1;
  cvta.to.global.u64 %rd2, %rd2;
  mov.u32 %r1, %tid.x;
  mul.wide.u32 %rd4, %r1, 16;
  add.s64 %rd5, %rd1, %rd4;
  ld.global.v4.f32 {%f1, %f2, %f3, %f4}, [%rd5];
  mov.u64 %rd6, tile;
  add.s64 %rd7, %rd6, %rd4;
  st.shared.v4.f32 [%rd7], {%f1, %f2, %f3, %f4};
  mul.lo.u32 %r2, %r1, 5;
  cvta.shared.u64 %rd8, dyn;
  mul.wide.u32 %rd9, %r1, 4;
  add.s64 %rd10, %rd8, %rd9;
  st.u32 [%rd10], %r2;
  bar.sync 0;
  add.u32 %r3, %r1, 1;
  and.b32 %r3, %r3, 63;
  mul.wide.u32 %rd11, %r3, 16;
  add.s64 %rd12, %rd6, %rd11;
  ld.shared.v2.f32 {%f5, %f6}, [%rd12+8];
  cvta.shared.u64 %rd13, tile;
  add.s64 %rd14, %rd13, %rd11;
  ld.f32 %f7, [%rd14];
  mul.rn.f32 %f8, %f1, %f9;
  add.s64 %rd15, %rd2, %rd4;
  st.global.v4.f32 [%rd15], {%f7, %f5, %f6, %f8};
  add.u32 %r4, %r1, 3;
  and.b32 %r4, %r4, 63;
  cvta.to.shared.u64 %rd16, %rd8;
  mul.wide.u32 %rd17, %r4, 4;
  add.s64 %rd18, %rd16, %rd17;
  ld.shared.u32 %r5, [%rd18];
  add.s64 %rd19, %rd3, %rd9;
  st.u32 [%rd19+-4], %r5;
  ret;
}
)ptx";

TEST_F(EmulatorTest, VectorSharedGenericAndParamAccesses) {
  CUfunction f = kernel(kMemoryPathsPtx, "memory_paths");
  ASSERT_NE(f, nullptr);
  const unsigned n = 64;
  std::vector<float> in(4 * n);
  for (unsigned i = 0; i < 4 * n; ++i)
    in[i] = float(i) * 0.5f + 0.25f;
  CUdeviceptr input = upload(in);
  CUdeviceptr out = allocate(16 * n), out2 = allocate(4 * n + 4);
  float scale = 3.0f;
  // The kernel stores out2 one element low: pass out2 + 4.
  ASSERT_EQ(launch(f, {1}, {n}, /*sharedBytes=*/4 * n, input, out,
                   CUdeviceptr(out2 + 4), scale),
            abi::kSuccess)
      << report();
  std::vector<float> values = download<float>(out, 4 * n);
  std::vector<uint32_t> words = download<uint32_t>(out2, n);
  for (unsigned t = 0; t < n; ++t) {
    unsigned next = (t + 1) % n;
    EXPECT_EQ(values[4 * t + 0], in[4 * next + 0]) << t;
    EXPECT_EQ(values[4 * t + 1], in[4 * next + 2]) << t;
    EXPECT_EQ(values[4 * t + 2], in[4 * next + 3]) << t;
    EXPECT_EQ(values[4 * t + 3], in[4 * t] * scale) << t;
    EXPECT_EQ(words[t], ((t + 3) % n) * 5) << t;
  }
}

//===----------------------------------------------------------------------===//
// Warps: shfl, vote, bar.warp.sync
//===----------------------------------------------------------------------===//

const char *kShflPtx = R"ptx(
.version 7.8
.target sm_80
.address_size 64

.visible .entry shfl_up(.param .u64 out, .param .u64 valid, .param .u32 b,
                        .param .u32 c)
{
  .reg .pred %p<2>;
  .reg .b32 %r<7>;
  .reg .b64 %rd<6>;
  ld.param.u64 %rd1, [out];
  ld.param.u64 %rd2, [valid];
  ld.param.u32 %r1, [b];
  ld.param.u32 %r2, [c];
  mov.u32 %r3, %tid.x;
  mad.lo.u32 %r4, %r3, 10, 7;
  shfl.sync.up.b32 %r5|%p1, %r4, %r1, %r2, 0xffffffff;
  selp.u32 %r6, 1, 0, %p1;
  mul.wide.u32 %rd3, %r3, 4;
  add.s64 %rd4, %rd1, %rd3;
  st.global.u32 [%rd4], %r5;
  add.s64 %rd5, %rd2, %rd3;
  st.global.u32 [%rd5], %r6;
  ret;
}

.visible .entry shfl_down(.param .u64 out, .param .u64 valid, .param .u32 b,
                          .param .u32 c)
{
  .reg .pred %p<2>;
  .reg .b32 %r<7>;
  .reg .b64 %rd<6>;
  ld.param.u64 %rd1, [out];
  ld.param.u64 %rd2, [valid];
  ld.param.u32 %r1, [b];
  ld.param.u32 %r2, [c];
  mov.u32 %r3, %tid.x;
  mad.lo.u32 %r4, %r3, 10, 7;
  shfl.sync.down.b32 %r5|%p1, %r4, %r1, %r2, 0xffffffff;
  selp.u32 %r6, 1, 0, %p1;
  mul.wide.u32 %rd3, %r3, 4;
  add.s64 %rd4, %rd1, %rd3;
  st.global.u32 [%rd4], %r5;
  add.s64 %rd5, %rd2, %rd3;
  st.global.u32 [%rd5], %r6;
  ret;
}

.visible .entry shfl_bfly(.param .u64 out, .param .u64 valid, .param .u32 b,
                          .param .u32 c)
{
  .reg .pred %p<2>;
  .reg .b32 %r<7>;
  .reg .b64 %rd<6>;
  ld.param.u64 %rd1, [out];
  ld.param.u64 %rd2, [valid];
  ld.param.u32 %r1, [b];
  ld.param.u32 %r2, [c];
  mov.u32 %r3, %tid.x;
  mad.lo.u32 %r4, %r3, 10, 7;
  shfl.sync.bfly.b32 %r5|%p1, %r4, %r1, %r2, 0xffffffff;
  selp.u32 %r6, 1, 0, %p1;
  mul.wide.u32 %rd3, %r3, 4;
  add.s64 %rd4, %rd1, %rd3;
  st.global.u32 [%rd4], %r5;
  add.s64 %rd5, %rd2, %rd3;
  st.global.u32 [%rd5], %r6;
  ret;
}

.visible .entry shfl_idx(.param .u64 out, .param .u64 valid, .param .u32 b,
                         .param .u32 c)
{
  .reg .pred %p<2>;
  .reg .b32 %r<7>;
  .reg .b64 %rd<6>;
  ld.param.u64 %rd1, [out];
  ld.param.u64 %rd2, [valid];
  ld.param.u32 %r1, [b];
  ld.param.u32 %r2, [c];
  mov.u32 %r3, %tid.x;
  mad.lo.u32 %r4, %r3, 10, 7;
  shfl.sync.idx.b32 %r5|%p1, %r4, %r1, %r2, 0xffffffff;
  selp.u32 %r6, 1, 0, %p1;
  mul.wide.u32 %rd3, %r3, 4;
  add.s64 %rd4, %rd1, %rd3;
  st.global.u32 [%rd4], %r5;
  add.s64 %rd5, %rd2, %rd3;
  st.global.u32 [%rd5], %r6;
  ret;
}

)ptx";

/// shfl.sync without the predicate destination, and with member masks that
/// name some lanes only.
const char *kShflPlainPtx = R"ptx(
.version 7.8
.target sm_80
.address_size 64

.visible .entry shfl_plain(.param .u64 out)
{
  .reg .b32 %r<6>;
  .reg .b64 %rd<5>;
  ld.param.u64 %rd1, [out];
  mov.u32 %r1, %tid.x;
  mad.lo.u32 %r2, %r1, 10, 7;
  and.b32 %r4, %r1, 7;
  shfl.sync.down.b32 %r3, %r2, 1, 0x1f, 0xffffffff;
  shfl.sync.idx.b32 %r5, %r2, %r4, 0x1f, 0xffffffff;
  mul.wide.u32 %rd3, %r1, 16;
  add.s64 %rd4, %rd1, %rd3;
  st.global.v4.u32 [%rd4], {%r3, %r5, %r2, %r1};
  ret;
}

.visible .entry shfl_subset(.param .u64 out, .param .u64 ballots)
{
  .reg .pred %p<3>;
  .reg .b32 %r<6>;
  .reg .b64 %rd<5>;
  ld.param.u64 %rd1, [out];
  ld.param.u64 %rd2, [ballots];
  mov.u32 %r1, %tid.x;
  mad.lo.u32 %r2, %r1, 10, 7;
  mov.u32 %r3, 0xdead;
  mov.u32 %r5, 0xdead;
  setp.ge.u32 %p1, %r1, 16;
  @%p1 bra DONE;
  shfl.sync.bfly.b32 %r3, %r2, 1, 0x1f, 0x0000ffff;
  and.b32 %r4, %r1, 1;
  setp.ne.u32 %p2, %r4, 0;
  vote.sync.ballot.b32 %r5, %p2, 0x0000ffff;
DONE:
  mul.wide.u32 %rd3, %r1, 4;
  add.s64 %rd4, %rd1, %rd3;
  st.global.u32 [%rd4], %r3;
  add.s64 %rd4, %rd2, %rd3;
  st.global.u32 [%rd4], %r5;
  ret;
}

.visible .entry shfl_even(.param .u64 out)
{
  .reg .pred %p<2>;
  .reg .b32 %r<5>;
  .reg .b64 %rd<4>;
  ld.param.u64 %rd1, [out];
  mov.u32 %r1, %tid.x;
  mad.lo.u32 %r2, %r1, 10, 7;
  mov.u32 %r3, 0xdead;
  and.b32 %r4, %r1, 1;
  setp.ne.u32 %p1, %r4, 0;
  @%p1 bra DONE;
  shfl.sync.idx.b32 %r3, %r2, 6, 0x1f, 0x55555555;
DONE:
  mul.wide.u32 %rd2, %r1, 4;
  add.s64 %rd3, %rd1, %rd2;
  st.global.u32 [%rd3], %r3;
  ret;
}
)ptx";

enum class Shfl { Up, Down, Bfly, Idx };

/// shfl.sync as the PTX ISA's pseudocode defines it: the source lane of
/// `lane`, or `lane` itself when the predicate is false (returned in valid).
unsigned shflSource(Shfl mode, unsigned lane, uint32_t b, uint32_t c,
                    bool &valid) {
  int bval = b & 31, cval = c & 31, segmask = (c >> 8) & 31;
  int maxLane = (int(lane) & segmask) | (cval & ~segmask);
  int minLane = int(lane) & segmask;
  int j = 0;
  switch (mode) {
  case Shfl::Up:
    j = int(lane) - bval;
    valid = j >= maxLane;
    break;
  case Shfl::Down:
    j = int(lane) + bval;
    valid = j <= maxLane;
    break;
  case Shfl::Bfly:
    j = int(lane) ^ bval;
    valid = j <= maxLane;
    break;
  case Shfl::Idx:
    j = minLane | (bval & ~segmask);
    valid = j <= maxLane;
    break;
  }
  return valid ? unsigned(j) : lane;
}

TEST_F(EmulatorTest, ShflModesWithClampAndSegments) {
  struct Case {
    Shfl mode;
    uint32_t b, c;
  };
  // c = ((32 - width) << 8) | clamp, as CUDA's __shfl_*_sync(width) build it.
  const Case cases[] = {
      {Shfl::Up, 1, 0},         {Shfl::Up, 3, 0},
      {Shfl::Up, 0, 0},         {Shfl::Up, 2, 0x1800},
      {Shfl::Up, 31, 0},        {Shfl::Up, 33, 0},
      {Shfl::Up, 1, 0x0004},    {Shfl::Down, 1, 0x1f},
      {Shfl::Down, 5, 0x1f},    {Shfl::Down, 2, 0x181f},
      {Shfl::Down, 4, 0x0f},    {Shfl::Bfly, 1, 0x1f},
      {Shfl::Bfly, 16, 0x1f},   {Shfl::Bfly, 6, 0x181f},
      {Shfl::Bfly, 12, 0x181f}, {Shfl::Bfly, 3, 0x07},
      {Shfl::Idx, 5, 0x1f},     {Shfl::Idx, 13, 0x181f},
      {Shfl::Idx, 20, 0x0f},    {Shfl::Idx, 37, 0x1f},
      {Shfl::Idx, 7, 0x1c1f},   {Shfl::Idx, 0, 0x1f},
  };
  const char *names[] = {"shfl_up", "shfl_down", "shfl_bfly", "shfl_idx"};
  CUfunction functions[4];
  CUmodule module = nullptr;
  ASSERT_EQ(loadModule(kShflPtx, &module), abi::kSuccess) << jitLog;
  for (int m = 0; m < 4; ++m)
    ASSERT_EQ(cuModuleGetFunction(&functions[m], module, names[m]),
              abi::kSuccess);
  const unsigned n = 64; // two warps: the second one's lanes are tid - 32
  CUdeviceptr out = allocate(4 * n), valid = allocate(4 * n);
  for (const Case &c : cases) {
    ASSERT_EQ(launch(functions[int(c.mode)], {1}, {n}, 0, out, valid, c.b, c.c),
              abi::kSuccess)
        << report();
    std::vector<uint32_t> values = download<uint32_t>(out, n);
    std::vector<uint32_t> valids = download<uint32_t>(valid, n);
    for (unsigned t = 0; t < n; ++t) {
      bool expectValid = false;
      unsigned source =
          (t & ~31u) + shflSource(c.mode, t % 32, c.b, c.c, expectValid);
      EXPECT_EQ(values[t], source * 10 + 7)
          << names[int(c.mode)] << " b=" << c.b << " c=0x" << std::hex << c.c
          << std::dec << " thread " << t;
      EXPECT_EQ(valids[t], uint32_t(expectValid))
          << names[int(c.mode)] << " b=" << c.b << " c=0x" << std::hex << c.c
          << std::dec << " thread " << t;
    }
  }
  // Spot checks written out: up by 3 leaves lanes 0-2 alone; idx 13 in
  // segments of 8 reads lane 5 of each segment; bfly 12 in segments of 8
  // is out of range for the first segment only.
  bool v;
  EXPECT_EQ(shflSource(Shfl::Up, 2, 3, 0, v), 2u);
  EXPECT_FALSE(v);
  EXPECT_EQ(shflSource(Shfl::Idx, 19, 13, 0x181f, v), 21u);
  EXPECT_EQ(shflSource(Shfl::Bfly, 3, 12, 0x181f, v), 3u);
  EXPECT_FALSE(v);
  EXPECT_EQ(shflSource(Shfl::Bfly, 9, 12, 0x181f, v), 5u);
  EXPECT_TRUE(v);
}

TEST_F(EmulatorTest, ShflWithoutPredicateDestination) {
  CUmodule module = nullptr;
  ASSERT_EQ(loadModule(kShflPlainPtx, &module), abi::kSuccess) << jitLog;
  CUfunction f = nullptr;
  ASSERT_EQ(cuModuleGetFunction(&f, module, "shfl_plain"), abi::kSuccess);
  const unsigned n = 64;
  CUdeviceptr out = allocate(16 * n);
  ASSERT_EQ(launch(f, {1}, {n}, 0, out), abi::kSuccess) << report();
  std::vector<uint32_t> values = download<uint32_t>(out, 4 * n);
  for (unsigned t = 0; t < n; ++t) {
    unsigned lane = t % 32, warp = t - lane;
    // down 1: lane 31 keeps its own value; idx (tid & 7) reads lane tid & 7.
    unsigned down = warp + (lane == 31 ? lane : lane + 1);
    EXPECT_EQ(values[4 * t], down * 10 + 7) << t;
    EXPECT_EQ(values[4 * t + 1], (warp + (t & 7)) * 10 + 7) << t;
    // The source operands are read, not written.
    EXPECT_EQ(values[4 * t + 2], t * 10 + 7) << t;
    EXPECT_EQ(values[4 * t + 3], t) << t;
  }
}

TEST_F(EmulatorTest, ShflAndVoteWithPartialMemberMask) {
  CUmodule module = nullptr;
  ASSERT_EQ(loadModule(kShflPlainPtx, &module), abi::kSuccess) << jitLog;
  CUfunction subset = nullptr, even = nullptr;
  ASSERT_EQ(cuModuleGetFunction(&subset, module, "shfl_subset"), abi::kSuccess);
  ASSERT_EQ(cuModuleGetFunction(&even, module, "shfl_even"), abi::kSuccess);
  const unsigned n = 32;
  CUdeviceptr out = allocate(4 * n), ballots = allocate(4 * n);
  ASSERT_EQ(launch(subset, {1}, {n}, 0, out, ballots), abi::kSuccess)
      << report();
  std::vector<uint32_t> values = download<uint32_t>(out, n);
  std::vector<uint32_t> votes = download<uint32_t>(ballots, n);
  for (unsigned t = 0; t < n; ++t) {
    EXPECT_EQ(values[t], t < 16 ? (t ^ 1) * 10 + 7 : 0xdeadu) << t;
    EXPECT_EQ(votes[t], t < 16 ? 0xaaaau : 0xdeadu) << t;
  }
  ASSERT_EQ(launch(even, {1}, {n}, 0, out), abi::kSuccess) << report();
  values = download<uint32_t>(out, n);
  for (unsigned t = 0; t < n; ++t)
    EXPECT_EQ(values[t], t % 2 ? 0xdeadu : 67u) << t;
}

const char *kVotePtx = R"ptx(
.version 7.8
.target sm_80
.address_size 64

.visible .entry vote_ops(.param .u64 out)
{
  .reg .pred %p<13>;
  .reg .b32 %r<12>;
  .reg .b64 %rd<4>;
  ld.param.u64 %rd1, [out];
  mov.u32 %r1, %laneid;
  setp.lt.u32 %p1, %r1, 20;
  and.b32 %r2, %r1, 1;
  setp.ne.u32 %p2, %r2, 0;
  setp.lt.u32 %p3, %r1, 32;
  setp.gt.u32 %p4, %r1, 40;
  setp.le.u32 %p12, %r1, 40;
  vote.sync.all.pred %p5, %p1, 0xffffffff;
  vote.sync.any.pred %p6, %p1, 0xffffffff;
  vote.sync.uni.pred %p7, %p1, 0xffffffff;
  vote.sync.all.pred %p8, %p3, 0xffffffff;
  vote.sync.uni.pred %p9, %p3, 0xffffffff;
  vote.sync.any.pred %p10, %p4, 0xffffffff;
  vote.sync.all.pred %p11, %p12, 0xffffffff;
  vote.sync.ballot.b32 %r3, %p1, 0xffffffff;
  vote.sync.ballot.b32 %r4, %p2, 0xffffffff;
  mov.u32 %r10, 0;
  selp.u32 %r5, 1, 0, %p5;
  or.b32 %r10, %r10, %r5;
  selp.u32 %r5, 2, 0, %p6;
  or.b32 %r10, %r10, %r5;
  selp.u32 %r5, 4, 0, %p7;
  or.b32 %r10, %r10, %r5;
  selp.u32 %r5, 8, 0, %p8;
  or.b32 %r10, %r10, %r5;
  selp.u32 %r5, 16, 0, %p9;
  or.b32 %r10, %r10, %r5;
  selp.u32 %r5, 32, 0, %p10;
  or.b32 %r10, %r10, %r5;
  selp.u32 %r5, 64, 0, %p11;
  or.b32 %r10, %r10, %r5;
  mov.u32 %r6, %tid.x;
  mul.wide.u32 %rd2, %r6, 16;
  add.s64 %rd3, %rd1, %rd2;
  st.global.v4.u32 [%rd3], {%r10, %r3, %r4, %r1};
  ret;
}
)ptx";

TEST_F(EmulatorTest, VoteAllAnyUniBallot) {
  CUfunction f = kernel(kVotePtx, "vote_ops");
  ASSERT_NE(f, nullptr);
  const unsigned n = 64;
  CUdeviceptr out = allocate(16 * n);
  ASSERT_EQ(launch(f, {1}, {n}, 0, out), abi::kSuccess) << report();
  std::vector<uint32_t> values = download<uint32_t>(out, 4 * n);
  for (unsigned t = 0; t < n; ++t) {
    // all(lane<20) no, any yes, uni no, all(true) yes, uni(true) yes,
    // any(lane>40) no, all(lane<=40) yes.
    EXPECT_EQ(values[4 * t], 2u | 8u | 16u | 64u) << t;
    EXPECT_EQ(values[4 * t + 1], 0x000fffffu) << t;
    EXPECT_EQ(values[4 * t + 2], 0xaaaaaaaau) << t;
    EXPECT_EQ(values[4 * t + 3], t % 32) << t;
  }
}

TEST_F(EmulatorTest, VoteInPartialLastWarpSeesExistingLanesOnly) {
  // 48 threads: the second warp has lanes 0-15 only; a full member mask
  // names lanes that do not exist, which do not take part.
  CUfunction f = kernel(kVotePtx, "vote_ops");
  ASSERT_NE(f, nullptr);
  const unsigned n = 48;
  CUdeviceptr out = allocate(16 * n);
  ASSERT_EQ(launch(f, {1}, {n}, 0, out), abi::kSuccess) << report();
  std::vector<uint32_t> values = download<uint32_t>(out, 4 * n);
  for (unsigned t = 32; t < n; ++t) {
    EXPECT_EQ(values[4 * t], 1u | 2u | 4u | 8u | 16u | 64u) << t;
    EXPECT_EQ(values[4 * t + 1], 0x0000ffffu) << t;
    EXPECT_EQ(values[4 * t + 2], 0x0000aaaau) << t;
  }
}

const char *kWarpSyncPtx = R"ptx(
.version 7.8
.target sm_80
.address_size 64

.visible .entry warp_exchange(.param .u64 out)
{
  .shared .align 4 .b32 slots[64];
  .reg .b32 %r<6>;
  .reg .b64 %rd<7>;
  ld.param.u64 %rd1, [out];
  mov.u32 %r1, %tid.x;
  mad.lo.u32 %r2, %r1, 3, 1;
  mov.u64 %rd2, slots;
  mul.wide.u32 %rd3, %r1, 4;
  add.s64 %rd4, %rd2, %rd3;
  st.shared.u32 [%rd4], %r2;
  bar.warp.sync 0xffffffff;
  xor.b32 %r3, %r1, 1;
  mul.wide.u32 %rd5, %r3, 4;
  add.s64 %rd6, %rd2, %rd5;
  ld.shared.u32 %r4, [%rd6];
  add.s64 %rd6, %rd1, %rd3;
  st.global.u32 [%rd6], %r4;
  ret;
}
)ptx";

TEST_F(EmulatorTest, BarWarpSyncOrdersSharedMemoryInAWarp) {
  CUfunction f = kernel(kWarpSyncPtx, "warp_exchange");
  ASSERT_NE(f, nullptr);
  const unsigned n = 64;
  CUdeviceptr out = allocate(4 * n);
  ASSERT_EQ(launch(f, {1}, {n}, 0, out), abi::kSuccess) << report();
  std::vector<uint32_t> values = download<uint32_t>(out, n);
  for (unsigned t = 0; t < n; ++t)
    EXPECT_EQ(values[t], (t ^ 1) * 3 + 1) << t;
}

//===----------------------------------------------------------------------===//
// Blocks: barriers, geometry, several host threads
//===----------------------------------------------------------------------===//

const char *kBarrierPtx = R"ptx(
.version 7.8
.target sm_80
.address_size 64

.visible .entry rotate(.param .u64 out)
{
  .shared .align 4 .b32 values[1024];
  .reg .b32 %r<7>;
  .reg .b64 %rd<7>;
  ld.param.u64 %rd1, [out];
  mov.u32 %r1, %tid.x;
  mov.u32 %r2, %ntid.x;
  mad.lo.u32 %r3, %r1, 7, 3;
  mov.u64 %rd2, values;
  mul.wide.u32 %rd3, %r1, 4;
  add.s64 %rd4, %rd2, %rd3;
  st.shared.u32 [%rd4], %r3;
  bar.sync 0;
  add.u32 %r4, %r1, 1;
  rem.u32 %r4, %r4, %r2;
  mul.wide.u32 %rd5, %r4, 4;
  add.s64 %rd5, %rd2, %rd5;
  ld.shared.u32 %r5, [%rd5];
  add.s64 %rd6, %rd1, %rd3;
  st.global.u32 [%rd6], %r5;
  ret;
}

.visible .entry rounds(.param .u64 out)
{
  .shared .align 4 .b32 values[1024];
  .reg .pred %p<2>;
  .reg .b32 %r<8>;
  .reg .b64 %rd<7>;
  ld.param.u64 %rd1, [out];
  mov.u32 %r1, %tid.x;
  mov.u32 %r2, %ntid.x;
  mov.u32 %r3, %r1;
  mov.u32 %r4, 0;
  mov.u64 %rd2, values;
  mul.wide.u32 %rd3, %r1, 4;
  add.s64 %rd4, %rd2, %rd3;
  add.u32 %r5, %r1, 1;
  rem.u32 %r5, %r5, %r2;
  mul.wide.u32 %rd5, %r5, 4;
  add.s64 %rd5, %rd2, %rd5;
ROUND:
  st.shared.u32 [%rd4], %r3;
  barrier.sync 0;
  ld.shared.u32 %r6, [%rd5];
  add.u32 %r3, %r6, %r4;
  barrier.sync 0;
  add.u32 %r4, %r4, 1;
  setp.lt.u32 %p1, %r4, 4;
  @%p1 bra ROUND;
  add.s64 %rd6, %rd1, %rd3;
  st.global.u32 [%rd6], %r3;
  ret;
}
)ptx";

TEST_F(EmulatorTest, BarSyncOrdersSharedMemoryAcrossWarps) {
  CUfunction f = kernel(kBarrierPtx, "rotate");
  ASSERT_NE(f, nullptr);
  for (unsigned n : {32u, 96u, 256u, 1024u}) {
    CUdeviceptr out = allocate(4 * n);
    ASSERT_EQ(launch(f, {1}, {n}, 0, out), abi::kSuccess)
        << n << ": " << report();
    std::vector<uint32_t> values = download<uint32_t>(out, n);
    for (unsigned t = 0; t < n; ++t)
      EXPECT_EQ(values[t], ((t + 1) % n) * 7 + 3) << n << " " << t;
  }
}

TEST_F(EmulatorTest, BarrierSyncInALoop) {
  CUfunction f = kernel(kBarrierPtx, "rounds");
  ASSERT_NE(f, nullptr);
  const unsigned n = 96;
  CUdeviceptr out = allocate(4 * n);
  ASSERT_EQ(launch(f, {1}, {n}, 0, out), abi::kSuccess) << report();
  std::vector<uint32_t> values = download<uint32_t>(out, n);
  std::vector<uint32_t> expected(n);
  for (unsigned t = 0; t < n; ++t)
    expected[t] = t;
  for (uint32_t round = 0; round < 4; ++round) {
    std::vector<uint32_t> next(n);
    for (unsigned t = 0; t < n; ++t)
      next[t] = expected[(t + 1) % n] + round;
    expected = next;
  }
  EXPECT_EQ(values, expected);
}

const char *kGeometryPtx = R"ptx(
.version 7.8
.target sm_80
.address_size 64

.visible .entry geometry(.param .u64 out)
{
  .reg .b32 %r<17>;
  .reg .b64 %rd<4>;
  ld.param.u64 %rd1, [out];
  mov.u32 %r1, %tid.x;
  mov.u32 %r2, %tid.y;
  mov.u32 %r3, %tid.z;
  mov.u32 %r4, %ntid.x;
  mov.u32 %r5, %ntid.y;
  mov.u32 %r6, %ntid.z;
  mov.u32 %r7, %ctaid.x;
  mov.u32 %r8, %ctaid.y;
  mov.u32 %r9, %ctaid.z;
  mov.u32 %r10, %nctaid.x;
  mov.u32 %r11, %nctaid.y;
  mov.u32 %r12, %nctaid.z;
  mad.lo.u32 %r13, %r11, %r9, %r8;
  mad.lo.u32 %r13, %r13, %r10, %r7;
  mad.lo.u32 %r14, %r5, %r3, %r2;
  mad.lo.u32 %r14, %r14, %r4, %r1;
  mul.lo.u32 %r15, %r4, %r5;
  mul.lo.u32 %r15, %r15, %r6;
  mad.lo.u32 %r16, %r13, %r15, %r14;
  mul.wide.u32 %rd2, %r16, 48;
  add.s64 %rd3, %rd1, %rd2;
  st.global.v4.u32 [%rd3], {%r1, %r2, %r3, %r4};
  st.global.v4.u32 [%rd3+16], {%r5, %r6, %r7, %r8};
  st.global.v4.u32 [%rd3+32], {%r9, %r10, %r11, %r12};
  ret;
}

.visible .entry lanes(.param .u64 out)
{
  .reg .b32 %r<8>;
  .reg .b64 %rd<4>;
  ld.param.u64 %rd1, [out];
  mov.u32 %r1, %tid.x;
  mov.u32 %r2, %tid.y;
  mov.u32 %r3, %ntid.x;
  mad.lo.u32 %r4, %r2, %r3, %r1;
  mov.u32 %r5, %laneid;
  mov.u32 %r6, %warpid;
  mul.wide.u32 %rd2, %r4, 8;
  add.s64 %rd3, %rd1, %rd2;
  st.global.v2.u32 [%rd3], {%r5, %r6};
  ret;
}
)ptx";

TEST_F(EmulatorTest, GridAndBlockGeometryIn2DAnd3D) {
  CUfunction f = kernel(kGeometryPtx, "geometry");
  ASSERT_NE(f, nullptr);
  const Dim3 shapes[][2] = {
      {{3, 2, 2}, {4, 3, 2}}, {{5, 3, 1}, {16, 8, 1}}, {{1, 1, 4}, {2, 1, 33}}};
  for (const auto &shape : shapes) {
    Dim3 grid = shape[0], block = shape[1];
    unsigned blocks = grid.x * grid.y * grid.z;
    unsigned threads = block.x * block.y * block.z;
    unsigned n = blocks * threads;
    CUdeviceptr out = allocate(48 * n, 0xff);
    ASSERT_EQ(launch(f, grid, block, 0, out), abi::kSuccess) << report();
    std::vector<uint32_t> values = download<uint32_t>(out, 12 * n);
    for (unsigned g = 0; g < n; ++g) {
      unsigned b = g / threads, t = g % threads;
      const uint32_t expected[12] = {t % block.x,
                                     t / block.x % block.y,
                                     t / (block.x * block.y),
                                     block.x,
                                     block.y,
                                     block.z,
                                     b % grid.x,
                                     b / grid.x % grid.y,
                                     b / (grid.x * grid.y),
                                     grid.x,
                                     grid.y,
                                     grid.z};
      for (int k = 0; k < 12; ++k)
        ASSERT_EQ(values[12 * g + k], expected[k])
            << "thread " << g << " field " << k;
    }
  }
}

TEST_F(EmulatorTest, LaneAndWarpIdsFollowLinearThreadIndex) {
  CUfunction f = kernel(kGeometryPtx, "lanes");
  ASSERT_NE(f, nullptr);
  const unsigned n = 96;
  CUdeviceptr out = allocate(8 * n);
  ASSERT_EQ(launch(f, {1}, {16, 6, 1}, 0, out), abi::kSuccess) << report();
  std::vector<uint32_t> values = download<uint32_t>(out, 2 * n);
  for (unsigned t = 0; t < n; ++t) {
    EXPECT_EQ(values[2 * t], t % 32) << t;
    // %warpid is the same in a warp and differs between the warps.
    EXPECT_EQ(values[2 * t + 1], values[2 * (t - t % 32) + 1]) << t;
  }
  EXPECT_NE(values[1], values[2 * 32 + 1]);
  EXPECT_NE(values[1], values[2 * 64 + 1]);
  EXPECT_NE(values[2 * 32 + 1], values[2 * 64 + 1]);
}

const char *kBlockSumPtx = R"ptx(
.version 7.8
.target sm_80
.address_size 64

.visible .entry block_sum(.param .u64 in, .param .u64 out)
{
  .shared .align 4 .f32 partial[256];
  .reg .pred %p<4>;
  .reg .b32 %r<8>;
  .reg .b64 %rd<10>;
  .reg .f32 %f<4>;
  ld.param.u64 %rd1, [in];
  ld.param.u64 %rd2, [out];
  mov.u32 %r1, %tid.x;
  mov.u32 %r2, %ctaid.x;
  mov.u32 %r3, %ntid.x;
  mad.lo.u32 %r4, %r2, %r3, %r1;
  mul.wide.u32 %rd3, %r4, 4;
  add.s64 %rd4, %rd1, %rd3;
  ld.global.f32 %f1, [%rd4];
  mov.u64 %rd5, partial;
  mul.wide.u32 %rd6, %r1, 4;
  add.s64 %rd7, %rd5, %rd6;
  st.shared.f32 [%rd7], %f1;
  bar.sync 0;
  shr.u32 %r5, %r3, 1;
LOOP:
  setp.lt.u32 %p1, %r1, %r5;
  @!%p1 bra SKIP;
  add.u32 %r6, %r1, %r5;
  mul.wide.u32 %rd8, %r6, 4;
  add.s64 %rd8, %rd5, %rd8;
  ld.shared.f32 %f2, [%rd8];
  ld.shared.f32 %f3, [%rd7];
  add.rn.f32 %f3, %f3, %f2;
  st.shared.f32 [%rd7], %f3;
SKIP:
  bar.sync 0;
  shr.u32 %r5, %r5, 1;
  setp.ne.u32 %p2, %r5, 0;
  @%p2 bra LOOP;
  setp.ne.u32 %p3, %r1, 0;
  @%p3 bra DONE;
  ld.shared.f32 %f1, [partial];
  mul.wide.u32 %rd9, %r2, 4;
  add.s64 %rd9, %rd2, %rd9;
  st.global.f32 [%rd9], %f1;
DONE:
  ret;
}
)ptx";

/// The tree sum block_sum computes, in the same order.
std::vector<float> blockSums(const std::vector<float> &in, unsigned threads) {
  std::vector<float> sums;
  for (size_t base = 0; base < in.size(); base += threads) {
    std::vector<float> partial(in.begin() + base, in.begin() + base + threads);
    for (unsigned stride = threads / 2; stride; stride /= 2)
      for (unsigned t = 0; t < stride; ++t)
        partial[t] = partial[t] + partial[t + stride];
    sums.push_back(partial[0]);
  }
  return sums;
}

TEST_F(EmulatorTest, TreeReductionOverManyBlocks) {
  CUfunction f = kernel(kBlockSumPtx, "block_sum");
  ASSERT_NE(f, nullptr);
  const unsigned blocks = 16, threads = 256;
  std::vector<float> in = randomFloats(blocks * threads, 3);
  CUdeviceptr input = upload(in);
  CUdeviceptr out = allocate(4 * blocks);
  ASSERT_EQ(launch(f, {blocks}, {threads}, 0, input, out), abi::kSuccess)
      << report();
  std::vector<float> sums = download<float>(out, blocks);
  std::vector<float> expected = blockSums(in, threads);
  for (unsigned b = 0; b < blocks; ++b)
    EXPECT_TRUE(sameFloat(sums[b], expected[b])) << "block " << b;
}

TEST_F(EmulatorTest, HostThreadCountDoesNotChangeResults) {
  CUfunction f = kernel(kBlockSumPtx, "block_sum");
  ASSERT_NE(f, nullptr);
  const unsigned blocks = 64, threads = 128;
  std::vector<float> in = randomFloats(blocks * threads, 5);
  CUdeviceptr input = upload(in);
  CUdeviceptr out = allocate(4 * blocks);
  ScopedEnvironment hostThreads("VITC_EMULATOR_HOST_THREADS", nullptr);
  auto run = [&](const char *value) {
    hostThreads.set(value);
    EXPECT_EQ(cuMemsetD8_v2(out, 0, 4 * blocks), abi::kSuccess);
    EXPECT_EQ(launch(f, {blocks}, {threads}, 0, input, out), abi::kSuccess)
        << report();
    return download<uint32_t>(out, blocks);
  };
  std::vector<uint32_t> unset = run(nullptr);
  std::vector<uint32_t> one = run("1");
  std::vector<uint32_t> three = run("3");
  EXPECT_EQ(unset, one);
  EXPECT_EQ(unset, three);
  std::vector<float> expected = blockSums(in, threads);
  for (unsigned b = 0; b < blocks; ++b)
    EXPECT_EQ(f32FromBits(one[b]), expected[b]) << b;
}

//===----------------------------------------------------------------------===//
// Stream capture
//===----------------------------------------------------------------------===//

const char *kAxpbPtx = R"ptx(
.version 7.8
.target sm_80
.address_size 64

.visible .entry axpb(.param .u64 out, .param .u64 in, .param .f32 k)
{
  .reg .b32 %r<5>;
  .reg .b64 %rd<6>;
  .reg .f32 %f<4>;
  ld.param.u64 %rd1, [out];
  ld.param.u64 %rd2, [in];
  ld.param.f32 %f1, [k];
  mov.u32 %r1, %ctaid.x;
  mov.u32 %r2, %ntid.x;
  mov.u32 %r3, %tid.x;
  mad.lo.u32 %r4, %r1, %r2, %r3;
  mul.wide.u32 %rd3, %r4, 4;
  add.s64 %rd4, %rd2, %rd3;
  ld.global.f32 %f2, [%rd4];
  fma.rn.f32 %f3, %f2, %f1, 0f3F800000;
  add.s64 %rd5, %rd1, %rd3;
  st.global.f32 [%rd5], %f3;
  ret;
}
)ptx";

TEST_F(EmulatorTest, CapturedGraphReplaysInOrder) {
  CUfunction f = kernel(kAxpbPtx, "axpb");
  ASSERT_NE(f, nullptr);
  const unsigned n = 128;
  CUdeviceptr in = allocate(4 * n), mid = allocate(4 * n),
              out = allocate(4 * n);
  std::vector<float> host(n), result(n, -1.0f);
  for (unsigned i = 0; i < n; ++i)
    host[i] = float(i);

  ASSERT_EQ(cuStreamBeginCapture_v2(stream, abi::kCaptureModeGlobal),
            abi::kSuccess);
  ASSERT_EQ(cuMemcpyHtoDAsync_v2(in, host.data(), 4 * n, stream),
            abi::kSuccess);
  float k1 = 2.0f, k2 = -0.5f;
  // mid = in * 2 + 1, then out = mid * -0.5 + 1: the order matters.
  ASSERT_EQ(launch(f, {2}, {n / 2}, 0, mid, in, k1), abi::kSuccess);
  ASSERT_EQ(launch(f, {4}, {n / 4}, 0, out, mid, k2), abi::kSuccess);
  ASSERT_EQ(cuMemcpyDtoHAsync_v2(result.data(), out, 4 * n, stream),
            abi::kSuccess);
  CUgraph graph = nullptr;
  ASSERT_EQ(cuStreamEndCapture(stream, &graph), abi::kSuccess);
  ASSERT_NE(graph, nullptr);

  // Nothing ran while capturing.
  EXPECT_EQ(result[5], -1.0f);
  std::vector<float> device = download<float>(out, n);
  EXPECT_EQ(device[5], 0.0f);
  device = download<float>(in, n);
  EXPECT_EQ(device[5], 0.0f);

  CUgraphExec exec = nullptr;
  ASSERT_EQ(cuGraphInstantiateWithFlags(&exec, graph, 0), abi::kSuccess);
  ASSERT_NE(exec, nullptr);
  for (int replay = 0; replay < 2; ++replay) {
    // The copy reads the host buffer when the graph runs.
    for (unsigned i = 0; i < n; ++i)
      host[i] = float(i) + float(replay) * 100.0f;
    std::fill(result.begin(), result.end(), -1.0f);
    ASSERT_EQ(cuGraphLaunch(exec, stream), abi::kSuccess) << report();
    ASSERT_EQ(cuStreamSynchronize(stream), abi::kSuccess);
    for (unsigned i = 0; i < n; ++i) {
      float expected = std::fma(std::fma(host[i], 2.0f, 1.0f), -0.5f, 1.0f);
      EXPECT_EQ(result[i], expected) << "replay " << replay << " " << i;
    }
  }
  EXPECT_EQ(cuGraphExecDestroy(exec), abi::kSuccess);
  EXPECT_EQ(cuGraphDestroy(graph), abi::kSuccess);
}

//===----------------------------------------------------------------------===//
// The device
//===----------------------------------------------------------------------===//

TEST_F(EmulatorTest, ErrorNamesAndStrings) {
  // cuGetErrorName gives the enumerator's name, cuGetErrorString the
  // driver's description (both as NVIDIA's driver has them).
  const struct {
    CUresult code;
    const char *name, *text;
  } errors[] = {
      {abi::kSuccess, "CUDA_SUCCESS", "no error"},
      {abi::kErrorIllegalAddress, "CUDA_ERROR_ILLEGAL_ADDRESS",
       "an illegal memory access was encountered"},
      {abi::kErrorLaunchFailed, "CUDA_ERROR_LAUNCH_FAILED",
       "unspecified launch failure"},
      {abi::kErrorInvalidPtx, "CUDA_ERROR_INVALID_PTX",
       "a PTX JIT compilation failed"},
  };
  for (const auto &error : errors) {
    const char *name = nullptr, *text = nullptr;
    EXPECT_EQ(cuGetErrorName(error.code, &name), abi::kSuccess);
    EXPECT_EQ(cuGetErrorString(error.code, &text), abi::kSuccess);
    EXPECT_STREQ(name, error.name);
    EXPECT_STREQ(text, error.text);
  }
  const char *text = nullptr;
  EXPECT_EQ(cuGetErrorName(12345, &text), abi::kErrorInvalidValue);
  EXPECT_EQ(cuGetErrorString(12345, &text), abi::kErrorInvalidValue);
}

TEST_F(EmulatorTest, DeviceAttributes) {
  int count = 0;
  EXPECT_EQ(cuDeviceGetCount(&count), abi::kSuccess);
  EXPECT_EQ(count, 1);
  CUdevice other;
  EXPECT_NE(cuDeviceGet(&other, 1), abi::kSuccess);
  int version = 0;
  EXPECT_EQ(cuDriverGetVersion(&version), abi::kSuccess);
  EXPECT_GT(version, 0);
  auto attribute = [&](int which) {
    int value = -1;
    EXPECT_EQ(cuDeviceGetAttribute(&value, which, device), abi::kSuccess)
        << which;
    return value;
  };
  EXPECT_EQ(attribute(abi::kAttributeMaxThreadsPerBlock), 1024);
  EXPECT_EQ(attribute(abi::kAttributeWarpSize), 32);
  EXPECT_EQ(attribute(abi::kAttributeMaxSharedMemoryPerBlock), 48 * 1024);
  EXPECT_GT(attribute(abi::kAttributeMultiprocessorCount), 0);
  if (!std::getenv("VITC_EMULATOR_SM")) {
    EXPECT_EQ(attribute(abi::kAttributeComputeCapabilityMajor), 9);
    EXPECT_EQ(attribute(abi::kAttributeComputeCapabilityMinor), 0);
    EXPECT_EQ(attribute(abi::kAttributeMaxSharedMemoryPerBlockOptin),
              227 * 1024);
  }
  CUfunction f = kernel(kBlockSumPtx, "block_sum");
  ASSERT_NE(f, nullptr);
  int value = -1;
  EXPECT_EQ(
      cuFuncGetAttribute(&value, abi::kFunctionAttributeMaxThreadsPerBlock, f),
      abi::kSuccess);
  EXPECT_EQ(value, 1024);
  EXPECT_EQ(
      cuFuncGetAttribute(&value, abi::kFunctionAttributeSharedSizeBytes, f),
      abi::kSuccess);
  EXPECT_EQ(value, 1024); // .shared .f32 partial[256]
}

// Vector operands may hold immediates, as LLVM writes zero stores: each
// thread stores {1.0, t, 0, -2.5} and reads it back.
const char *kVectorImmediatePtx = R"ptx(
.version 7.8
.target sm_80
.address_size 64

.visible .entry vector_immediates(.param .u64 out)
{
  .shared .align 16 .b8 tile[512];
  .reg .b32 %r<8>;
  .reg .b64 %rd<6>;
  ld.param.u64 %rd1, [out];
  cvta.to.global.u64 %rd1, %rd1;
  mov.u32 %r1, %tid.x;
  cvt.rn.f32.u32 %r2, %r1;
  mul.wide.u32 %rd2, %r1, 16;
  mov.u64 %rd3, tile;
  add.s64 %rd4, %rd3, %rd2;
  st.shared.v4.b32 [%rd4], {0f3F800000, %r2, 0, 0fC0200000};
  ld.shared.v4.b32 {%r3, %r4, %r5, %r6}, [%rd4];
  add.s64 %rd5, %rd1, %rd2;
  st.global.v4.b32 [%rd5], {%r3, %r4, %r5, %r6};
  ret;
}
)ptx";

TEST_F(EmulatorTest, VectorOperandsTakeImmediates) {
  CUfunction f = kernel(kVectorImmediatePtx, "vector_immediates");
  ASSERT_NE(f, nullptr);
  CUdeviceptr out = allocate(32 * 16);
  ASSERT_EQ(launch(f, {1}, {32}, 0, out), abi::kSuccess) << report();
  std::vector<float> values = download<float>(out, 32 * 4);
  for (int t = 0; t < 32; ++t) {
    EXPECT_EQ(values[4 * t], 1.0f) << t;
    EXPECT_EQ(values[4 * t + 1], float(t)) << t;
    EXPECT_EQ(values[4 * t + 2], 0.0f) << t;
    EXPECT_EQ(values[4 * t + 3], -2.5f) << t;
  }
}

} // namespace
} // namespace vitc::emulator::test
