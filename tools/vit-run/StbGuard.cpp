//===- StbGuard.cpp - Inputs Debian's stb_image must not see --------------===//
//
// Walks the JPEG markers and the PNG chunks, nothing more: stb_image checks
// the rest. JPEG: https://www.w3.org/Graphics/JPEG/itu-t81.pdf (B.1.1,
// B.2.4.2); PNG: https://www.w3.org/TR/png/#5Chunk-layout.
//
//===----------------------------------------------------------------------===//

#include "StbGuard.h"

#include <cstdint>

using namespace vitrun;

static unsigned byteAt(std::string_view bytes, size_t pos) {
  return static_cast<unsigned char>(bytes[pos]);
}

static uint64_t bigEndian(std::string_view bytes, size_t pos, int count) {
  uint64_t value = 0;
  for (int i = 0; i < count; ++i)
    value = value << 8 | byteAt(bytes, pos + i);
  return value;
}

/// A DHT segment holds tables of: class and id (1 byte), the number of codes
/// of each length 1 to 16 (16 bytes), then that many symbols.
static std::string jpegHazard(std::string_view bytes) {
  size_t pos = 2; // after SOI
  while (pos + 4 <= bytes.size()) {
    // Entropy-coded data between markers: 0xFF there is followed by 0x00
    // (a stuffed byte) or a restart marker, both stepped over below.
    if (byteAt(bytes, pos) != 0xFF) {
      ++pos;
      continue;
    }
    unsigned marker = byteAt(bytes, pos + 1);
    if (marker == 0xFF) { // fill byte
      ++pos;
      continue;
    }
    if (marker == 0x00 || marker == 0x01 ||
        (marker >= 0xD0 && marker <= 0xD7)) {
      pos += 2; // no length: stuffing, TEM, RSTn
      continue;
    }
    if (marker == 0xD9) // EOI
      break;
    size_t length = bigEndian(bytes, pos + 2, 2);
    size_t end = std::min(bytes.size(), pos + 2 + length);
    if (marker == 0xC4) {
      for (size_t table = pos + 4; table + 17 <= end;) {
        unsigned codes = 0;
        for (size_t i = 1; i <= 16; ++i)
          codes += byteAt(bytes, table + i);
        if (codes > 256)
          return "a JPEG Huffman table with " + std::to_string(codes) +
                 " codes (at most 256)";
        table += 17 + codes;
      }
    }
    pos += 2 + length;
  }
  return "";
}

/// Chunks: length (4 bytes, big-endian), type (4), data, CRC (4).
static std::string pngHazard(std::string_view bytes) {
  for (size_t pos = 8; pos + 8 <= bytes.size();) {
    uint64_t length = bigEndian(bytes, pos, 4);
    if (length == 0 && bytes.substr(pos + 4, 4) == "IDAT")
      return "a PNG with an empty IDAT chunk, which this decoder cannot "
             "read; re-save the image";
    pos += 12 + length;
  }
  return "";
}

std::string vitrun::stbHazard(std::string_view bytes) {
  if (bytes.size() >= 2 && byteAt(bytes, 0) == 0xFF && byteAt(bytes, 1) == 0xD8)
    return jpegHazard(bytes);
  if (bytes.substr(0, 8) == "\x89PNG\r\n\x1a\n")
    return pngHazard(bytes);
  return "";
}
