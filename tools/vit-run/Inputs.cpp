//===- Inputs.cpp - Filling the model input -------------------------------===//

#include "Inputs.h"
#include "ImageDecoder.h"
#include "Npy.h"
#include "vitc/Support/EscapedText.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <random>

using namespace vitrun;

std::string InputSpec::describe() const {
  if (!image)
    return formatShape(dims);
  return formatShape(dims) + (channelsLast ? " nhwc" : " nchw");
}

static std::string formatFloats(const std::vector<float> &values) {
  std::string text = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    char number[32];
    std::snprintf(number, sizeof(number), "%g", values[i]);
    text += (i ? ", " : "") + std::string(number);
  }
  return text + "]";
}

static bool loadNpy(std::string_view bytes, const InputSpec &spec,
                    std::vector<float> &data, std::string & /*detail*/,
                    std::string &problem) {
  NpyHeader header;
  if (!parseNpyHeader(bytes, header, problem))
    return false;
  if (header.descr != "<f4") {
    problem = "unsupported dtype '" + vitc::escapedText(header.descr) +
              "'; vit-run reads little-endian float32 ('<f4')";
    return false;
  }
  if (header.fortranOrder) {
    problem = "Fortran-order arrays are not supported; save a C-order array";
    return false;
  }
  bool unbatched =
      !spec.dims.empty() && spec.dims[0] == 1 &&
      header.shape == Shape(spec.dims.begin() + 1, spec.dims.end());
  if (header.shape != spec.dims && !unbatched) {
    problem = "shape " + formatShape(header.shape) +
              " does not match the model input " + spec.describe();
    return false;
  }
  size_t available = bytes.size() - header.dataOffset;
  size_t needed = data.size() * sizeof(float);
  if (available != needed) {
    // NumPy writes the data and nothing after it, so bytes after the data
    // mean a damaged file or a wrong header.
    problem = (available < needed ? "truncated: " : "trailing data: ") +
              formatShape(header.shape) + " float32 needs " +
              std::to_string(needed) + " bytes of data, the file has " +
              std::to_string(available);
    if (available > needed)
      problem += " (" + std::to_string(available - needed) + " bytes too many)";
    return false;
  }
  // copy_n, not memcpy: an empty input has no data() to copy to, and
  // memcpy may not be given a null pointer even for no bytes.
  std::copy_n(bytes.data() + header.dataOffset, data.size() * sizeof(float),
              reinterpret_cast<char *>(data.data()));
  return true;
}

static bool loadRaw(std::string_view bytes, const InputSpec &spec,
                    std::vector<float> &data, std::string & /*detail*/,
                    std::string &problem) {
  if (bytes.size() != data.size() * sizeof(float)) {
    problem = "size is " + std::to_string(bytes.size()) +
              " bytes, but the model input " + spec.describe() + " needs " +
              std::to_string(data.size() * sizeof(float)) + " (float32)";
    return false;
  }
  std::copy_n(bytes.data(), bytes.size(),
              reinterpret_cast<char *>(data.data()));
  return true;
}

namespace {
/// Where one output coordinate samples its source axis.
struct Tap {
  int64_t low, high;
  float fraction;
};
} // namespace

/// Bilinear sampling with half-pixel centres (align_corners=False), as in
/// PyTorch's and OpenCV's bilinear resize without antialiasing.
static std::vector<Tap> bilinearTaps(int64_t source, int64_t target) {
  std::vector<Tap> taps(target);
  double scale = static_cast<double>(source) / target;
  for (int64_t i = 0; i < target; ++i) {
    double position = std::max((i + 0.5) * scale - 0.5, 0.0);
    int64_t low = std::min(static_cast<int64_t>(position), source - 1);
    taps[i] = {low, std::min(low + 1, source - 1),
               static_cast<float>(position - low)};
  }
  return taps;
}

/// The model input's image geometry, or false with `problem` if the input
/// cannot take an image.
static bool imageGeometry(const InputSpec &spec, int64_t &channels,
                          int64_t &height, int64_t &width,
                          std::string &problem) {
  if (!spec.image || spec.dims.size() != 4) {
    problem = "an image needs a rank-4 image input, this model takes " +
              spec.describe();
    return false;
  }
  bool last = spec.channelsLast;
  channels = spec.dims[last ? 3 : 1];
  height = spec.dims[last ? 1 : 2];
  width = spec.dims[last ? 2 : 3];
  if (channels < 1 || channels > 4) {
    problem = "an image needs a model input with 1 to 4 channels (grey to "
              "RGBA), this model takes " +
              spec.describe();
    return false;
  }
  if (spec.mean.size() != static_cast<size_t>(channels) ||
      spec.std.size() != static_cast<size_t>(channels)) {
    problem = "the artifact's pixel mean and std have " +
              std::to_string(spec.mean.size()) + " and " +
              std::to_string(spec.std.size()) + " values for " +
              std::to_string(channels) +
              " channels; pass a preprocessed .npy instead";
    return false;
  }
  return true;
}

/// Decodes the picture in `bytes` and writes it, resized, scaled and
/// normalised, as one image of the batch at `out` in the input's layout;
/// `sourceSize` is the picture's "WxH".
static bool preprocessImage(std::string_view bytes, const InputSpec &spec,
                            float *out, std::string &sourceSize,
                            std::string &problem) {
  int64_t channels, height, width;
  if (!imageGeometry(spec, channels, height, width, problem))
    return false;
  DecodedImage image;
  problem = decodeImage(bytes, int(channels), spec.maxImagePixels, image);
  if (!problem.empty())
    return false;
  int64_t sourceWidth = image.width, sourceHeight = image.height;
  std::vector<Tap> rows = bilinearTaps(sourceHeight, height);
  std::vector<Tap> columns = bilinearTaps(sourceWidth, width);
  auto pixel = [&](int64_t y, int64_t x, int64_t c) {
    return static_cast<float>(
        image.pixels[(y * sourceWidth + x) * channels + c]);
  };
  auto lerp = [](float a, float b, float t) { return a + (b - a) * t; };
  for (int64_t y = 0; y < height; ++y) {
    const Tap &row = rows[y];
    for (int64_t x = 0; x < width; ++x) {
      const Tap &column = columns[x];
      for (int64_t c = 0; c < channels; ++c) {
        float top = lerp(pixel(row.low, column.low, c),
                         pixel(row.low, column.high, c), column.fraction);
        float bottom = lerp(pixel(row.high, column.low, c),
                            pixel(row.high, column.high, c), column.fraction);
        float value = lerp(top, bottom, row.fraction) / 255.0f;
        size_t index = spec.channelsLast ? (y * width + x) * channels + c
                                         : (c * height + y) * width + x;
        out[index] = (value - spec.mean[c]) / spec.std[c];
      }
    }
  }
  sourceSize = std::to_string(sourceWidth) + "x" + std::to_string(sourceHeight);
  return true;
}

/// "resized to 224x224, mean [...], std [...]", for the "input:" line.
static std::string preprocessing(const InputSpec &spec) {
  int64_t height = spec.dims[spec.channelsLast ? 1 : 2];
  int64_t width = spec.dims[spec.channelsLast ? 2 : 3];
  return "resized to " + std::to_string(width) + "x" + std::to_string(height) +
         ", mean " + formatFloats(spec.mean) + ", std " +
         formatFloats(spec.std);
}

static bool loadImage(std::string_view bytes, const InputSpec &spec,
                      std::vector<float> &data, std::string &detail,
                      std::string &problem) {
  std::string sourceSize;
  if (!preprocessImage(bytes, spec, data.data(), sourceSize, problem))
    return false;
  detail = sourceSize + " " + preprocessing(spec);
  // Every image of the batch is the same picture.
  size_t imageSize = data.size() / spec.dims.front();
  for (size_t begin = imageSize; begin < data.size(); begin += imageSize)
    std::copy_n(data.begin(), imageSize, data.begin() + begin);
  return true;
}

namespace {
using Loader = bool (*)(std::string_view, const InputSpec &,
                        std::vector<float> &, std::string &, std::string &);
} // namespace

/// The loader of a lower-case file extension, or nullptr.
static Loader loaderFor(std::string_view extension) {
  return extension == "npy"                         ? loadNpy
         : extension == "bin" || extension == "raw" ? loadRaw
         : extension == "png" || extension == "jpg" || extension == "jpeg"
             ? loadImage
             : nullptr;
}

bool vitrun::decodeInput(std::string_view bytes, std::string_view extension,
                         const InputSpec &spec, std::vector<float> &data,
                         std::string &detail, std::string &error) {
  Loader loader = loaderFor(extension);
  if (!loader) {
    error = "unknown input format; expected .npy, .bin, .raw, .png, .jpg or "
            ".jpeg";
    return false;
  }
  data.assign(numElements(spec.dims), 0.0f);
  detail.clear();
  return loader(bytes, spec, data, detail, error);
}

/// The lower-case extension of the file name in `path`, without the dot.
static std::string extensionOf(const std::string &path) {
  size_t dot = path.rfind('.');
  size_t slash = path.rfind('/');
  std::string extension;
  if (dot != std::string::npos && (slash == std::string::npos || dot > slash))
    extension = path.substr(dot + 1);
  for (char &c : extension)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return extension;
}

bool vitrun::loadInput(const std::string &path, const InputSpec &spec,
                       std::vector<float> &data, std::string &detail,
                       std::string &error) {
  std::string extension = extensionOf(path);
  // An unknown format is reported without reading the file.
  std::string bytes;
  if (loaderFor(extension) && !readFile(path, bytes, error))
    return false;
  if (!decodeInput(bytes, extension, spec, data, detail, error)) {
    error = path + ": " + error;
    return false;
  }
  return true;
}

bool vitrun::loadImages(const std::vector<std::string> &paths,
                        const InputSpec &spec, std::vector<float> &data,
                        std::string &detail, std::string &error) {
  int64_t channels, height, width;
  if (!imageGeometry(spec, channels, height, width, error))
    return false;
  int64_t batch = spec.dims.front();
  if (static_cast<int64_t>(paths.size()) != batch) {
    error = std::to_string(paths.size()) + " pictures for a batch of " +
            std::to_string(batch) + ": pass one (used for every image of " +
            "the batch) or one per image";
    return false;
  }
  data.assign(numElements(spec.dims), 0.0f);
  size_t imageSize = data.size() / batch;
  for (size_t i = 0; i < paths.size(); ++i) {
    if (loaderFor(extensionOf(paths[i])) != loadImage) {
      error = paths[i] + ": only pictures (.png, .jpg, .jpeg) can be given " +
              "one per image of the batch";
      return false;
    }
    std::string bytes, sourceSize;
    if (!readFile(paths[i], bytes, error))
      return false;
    if (!preprocessImage(bytes, spec, data.data() + i * imageSize, sourceSize,
                         error)) {
      error = paths[i] + ": " + error;
      return false;
    }
  }
  detail = "each " + preprocessing(spec);
  return true;
}

void vitrun::fillRandom(uint64_t seed, std::vector<float> &data) {
  // The standard fixes mt19937_64's sequence but not its distributions', so
  // the top 24 bits are scaled by hand.
  std::mt19937_64 engine(seed);
  for (float &value : data)
    value = static_cast<float>(engine() >> 40) * 0x1p-23f - 1.0f;
}
