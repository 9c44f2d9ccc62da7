//===- Inputs.h - Filling the model input -----------------------*- C++ -*-===//
//
// The model input comes from a .npy array, raw float32 bytes, an image that
// is resized and normalised the way the model was trained, or a seeded
// random generator.
//
//===----------------------------------------------------------------------===//

#ifndef VITRUN_INPUTS_H
#define VITRUN_INPUTS_H

#include "Support.h"

namespace vitrun {

/// What the model takes, from the artifact.
struct InputSpec {
  /// [B, C, H, W], or [B, H, W, C] when channelsLast.
  Shape dims;
  bool channelsLast = false;
  /// Whether the input is an image at all: the artifact records no layout
  /// for other inputs (a module of a single linear, say), which take
  /// arrays but not pictures.
  bool image = true;
  /// Per-channel normalisation of [0, 1] pixel values: (x - mean) / std.
  std::vector<float> mean, std;
  /// Images with more pixels are refused before they are decoded: a file of
  /// a few hundred bytes can claim billions. 2^26 is 8192 x 8192.
  int64_t maxImagePixels = int64_t(1) << 26;

  /// "[1, 3, 224, 224] nchw", for messages.
  std::string describe() const;
};

/// Fills `data` from `path`, chosen by extension: .npy (float32 of the
/// input's shape, or without its batch dimension when that is 1), .bin and
/// .raw (exactly the input's float32 bytes), or .png, .jpg and .jpeg (one
/// picture for every image of the batch). `detail` tells how an image was
/// preprocessed (empty for arrays); the error names the file.
bool loadInput(const std::string &path, const InputSpec &spec,
               std::vector<float> &data, std::string &detail,
               std::string &error);

/// Fills `data` with one picture per image of the batch, `paths[i]` (a
/// .png, .jpg or .jpeg) preprocessed as loadInput does into image i; there
/// must be as many paths as images. `detail` tells how they were
/// preprocessed; errors name the file.
bool loadImages(const std::vector<std::string> &paths, const InputSpec &spec,
                std::vector<float> &data, std::string &detail,
                std::string &error);

/// What loadInput does once it has read the file: decodes `bytes` in the
/// format of `extension` (lower case, without the dot); the error does not
/// name the file. The fuzzers of fuzz/ call it on their inputs.
bool decodeInput(std::string_view bytes, std::string_view extension,
                 const InputSpec &spec, std::vector<float> &data,
                 std::string &detail, std::string &error);

/// Fills `data` with values uniform in [-1, 1), the same for a seed on every
/// platform.
void fillRandom(uint64_t seed, std::vector<float> &data);

} // namespace vitrun

#endif // VITRUN_INPUTS_H
