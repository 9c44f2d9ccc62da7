//===- HalfPrecision.h - bf16 and IEEE half conversions ---------*- C++ -*-===//
//
// Round-to-nearest-even conversions between f32 and the 16-bit float formats
// of tensor-core operands, bit-exact like PTX's cvt.rn.{bf16,f16}.f32. The
// compiler rounds weights with them at compile time; the CUDA driver
// emulator rounds with them at run time, so both agree bit for bit. Header
// only and plain C++17: the runtime-side emulator has no LLVM.
//
//===----------------------------------------------------------------------===//

#ifndef VITC_SUPPORT_HALFPRECISION_H
#define VITC_SUPPORT_HALFPRECISION_H

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace vitc {

inline uint32_t bitsOfF32(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

inline float f32FromBits(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

/// f32 to bf16 (the upper half of an f32), ties to even; NaN stays NaN.
inline uint16_t f32ToBf16(float value) {
  uint32_t bits = bitsOfF32(value);
  if ((bits & 0x7fffffff) > 0x7f800000)
    return 0x7fff; // canonical NaN
  bits += 0x7fff + ((bits >> 16) & 1);
  return uint16_t(bits >> 16);
}

inline float bf16ToF32(uint16_t value) {
  return f32FromBits(uint32_t(value) << 16);
}

/// f32 to IEEE binary16, ties to even, with subnormals; overflow gives
/// infinity.
inline uint16_t f32ToF16(float value) {
  uint32_t bits = bitsOfF32(value);
  uint16_t sign = uint16_t((bits >> 16) & 0x8000);
  uint32_t magnitude = bits & 0x7fffffff;
  if (magnitude > 0x7f800000)
    return 0x7fff; // canonical NaN
  if (magnitude >= 0x477ff000)
    return sign | 0x7c00; // rounds to infinity
  if (magnitude < 0x38800000) {
    // Half subnormals are multiples of 2^-24: round the scaled value to an
    // integer, ties to even (the default rounding of nearbyint).
    float scaled = std::fabs(value) * 16777216.0f;
    return sign | uint16_t(std::nearbyint(scaled));
  }
  uint32_t half =
      (((magnitude >> 23) - 127 + 15) << 10) | ((magnitude & 0x7fffff) >> 13);
  uint32_t rest = magnitude & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (half & 1)))
    ++half;
  return uint16_t(sign | half);
}

inline float f16ToF32(uint16_t half) {
  uint32_t sign = uint32_t(half & 0x8000) << 16;
  uint32_t exponent = (half >> 10) & 0x1f, mantissa = half & 0x3ff;
  float magnitude;
  if (exponent == 0)
    magnitude = std::ldexp(float(mantissa), -24);
  else if (exponent == 31)
    magnitude = mantissa ? std::numeric_limits<float>::quiet_NaN()
                         : std::numeric_limits<float>::infinity();
  else
    magnitude = std::ldexp(float(mantissa | 0x400), int(exponent) - 25);
  return f32FromBits(bitsOfF32(magnitude) | sign);
}

} // namespace vitc

#endif // VITC_SUPPORT_HALFPRECISION_H
