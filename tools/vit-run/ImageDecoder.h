//===- ImageDecoder.h - PNG and JPEG files to 8-bit pixels ------*- C++ -*-===//
//
// vit-run's image decoding: PNG with libspng, JPEG with libjpeg-turbo, both
// from Debian, told apart by their signatures whatever the file is called.
//
//===----------------------------------------------------------------------===//

#ifndef VITRUN_IMAGEDECODER_H
#define VITRUN_IMAGEDECODER_H

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vitrun {

/// 8-bit pixels, `channels` interleaved per pixel, row by row.
struct DecodedImage {
  int64_t width = 0, height = 0;
  std::vector<uint8_t> pixels;
};

/// Decodes the PNG or JPEG `bytes` into `channels` channels: 1 grey, 2 grey
/// and alpha, 3 RGB, 4 RGBA. Colour becomes grey as (77 R + 150 G + 29 B) /
/// 256, a missing alpha is opaque, 16-bit samples keep their high byte, and
/// no gamma is applied. An image of more than `maxPixels` pixels is refused
/// from its header, before anything is decoded. Returns an empty string, or
/// what is wrong in one line (the decoders' messages, escaped).
std::string decodeImage(std::string_view bytes, int channels, int64_t maxPixels,
                        DecodedImage &image);

} // namespace vitrun

#endif // VITRUN_IMAGEDECODER_H
