//===- ImageDecoder.cpp - PNG and JPEG files to 8-bit pixels --------------===//

#include "ImageDecoder.h"

#include "vitc/Support/EscapedText.h"

#include <spng.h>
#include <turbojpeg.h>

#include <algorithm>
#include <memory>

using namespace vitrun;

namespace {

/// Both decoders write 8-bit RGBA; the model's channels are made from it.
constexpr int kRgba = 4;

std::string tooLarge(int64_t width, int64_t height, int64_t maxPixels) {
  return "the image is " + std::to_string(width) + "x" +
         std::to_string(height) + ", more than the " +
         std::to_string(maxPixels) + " pixels vit-run decodes; resize it first";
}

std::string decodePng(std::string_view bytes, int64_t maxPixels,
                      DecodedImage &image) {
  std::unique_ptr<spng_ctx, void (*)(spng_ctx *)> context(spng_ctx_new(0),
                                                          spng_ctx_free);
  if (!context)
    return "cannot decode image: out of memory";
  auto failure = [](int error) {
    return "cannot decode image: " + vitc::escapedText(spng_strerror(error));
  };
  // Ancillary chunks (text, ICC profiles) need no more than a few MiB;
  // libspng's default is to take what the file claims.
  constexpr size_t kChunkLimit = size_t(1) << 24;
  int error = spng_set_chunk_limits(context.get(), kChunkLimit, kChunkLimit);
  if (!error)
    error = spng_set_png_buffer(context.get(), bytes.data(), bytes.size());
  spng_ihdr header;
  if (!error)
    error = spng_get_ihdr(context.get(), &header);
  if (error)
    return failure(error);
  if (int64_t(header.width) * header.height > maxPixels)
    return tooLarge(header.width, header.height, maxPixels);
  size_t size = 0;
  error = spng_decoded_image_size(context.get(), SPNG_FMT_RGBA8, &size);
  if (error)
    return failure(error);
  image.width = header.width;
  image.height = header.height;
  image.pixels.resize(size);
  // SPNG_DECODE_TRNS: a tRNS chunk's transparent colour becomes alpha 0.
  error = spng_decode_image(context.get(), image.pixels.data(), size,
                            SPNG_FMT_RGBA8, SPNG_DECODE_TRNS);
  return error ? failure(error) : "";
}

std::string decodeJpeg(std::string_view bytes, int64_t maxPixels,
                       DecodedImage &image) {
  std::unique_ptr<void, int (*)(tjhandle)> decompressor(tjInitDecompress(),
                                                        tjDestroy);
  if (!decompressor)
    return "cannot decode image: out of memory";
  auto failure = [&] {
    return "cannot decode image: " +
           vitc::escapedText(tjGetErrorStr2(decompressor.get()));
  };
  const auto *data = reinterpret_cast<const unsigned char *>(bytes.data());
  int width = 0, height = 0, subsampling = 0, colorspace = 0;
  if (tjDecompressHeader3(decompressor.get(), data, bytes.size(), &width,
                          &height, &subsampling, &colorspace) != 0)
    return failure();
  if (int64_t(width) * height > maxPixels)
    return tooLarge(width, height, maxPixels);
  image.width = width;
  image.height = height;
  image.pixels.resize(size_t(width) * height * kRgba);
  // A warning (a truncated or damaged file, which libjpeg-turbo would fill
  // with grey) stops the decoding, as does a progressive file of more than
  // 500 scans, which would take minutes.
  if (tjDecompress2(decompressor.get(), data, bytes.size(), image.pixels.data(),
                    width, /*pitch=*/0, height, TJPF_RGBA,
                    TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS) != 0)
    return failure();
  return "";
}

/// Rewrites RGBA pixels in place as `channels` channels, as decodeImage
/// describes.
void convertRgba(DecodedImage &image, int channels) {
  size_t count = size_t(image.width) * image.height;
  uint8_t *pixels = image.pixels.data();
  for (size_t i = 0; i < count; ++i) {
    const uint8_t *rgba = pixels + i * kRgba;
    uint8_t grey = uint8_t((77 * rgba[0] + 150 * rgba[1] + 29 * rgba[2]) >> 8);
    uint8_t out[kRgba] = {rgba[0], rgba[1], rgba[2], rgba[3]};
    if (channels <= 2) {
      out[0] = grey;
      out[1] = rgba[3];
    }
    // Forward in place: pixel i's output never passes pixel i's input.
    std::copy_n(out, channels, pixels + i * channels);
  }
  image.pixels.resize(count * channels);
}

} // namespace

std::string vitrun::decodeImage(std::string_view bytes, int channels,
                                int64_t maxPixels, DecodedImage &image) {
  static constexpr std::string_view kPngSignature = "\x89PNG\r\n\x1a\n";
  static constexpr std::string_view kJpegSignature = "\xFF\xD8\xFF";
  std::string problem;
  if (bytes.substr(0, kPngSignature.size()) == kPngSignature)
    problem = decodePng(bytes, maxPixels, image);
  else if (bytes.substr(0, kJpegSignature.size()) == kJpegSignature)
    problem = decodeJpeg(bytes, maxPixels, image);
  else
    return "cannot decode image: neither a PNG nor a JPEG file (by its "
           "first bytes)";
  if (problem.empty())
    convertRgba(image, channels);
  return problem;
}
