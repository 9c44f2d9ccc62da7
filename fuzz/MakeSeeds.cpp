//===- MakeSeeds.cpp - Seed inputs of the fuzzers -------------------------===//
//
//   fuzz-make-seeds DIR
//
// Writes small valid inputs, from which the fuzzers start mutating, into
// DIR/<harness>/: images (PNG of every color type, bit depth and both
// interlace methods; baseline JPEG), .npy files of the three format
// versions, safetensors of every floating dtype, and JSON model configs.
// Artifacts and real weights come from vitc (scripts/fuzz.sh). No random
// numbers: the seeds are the same on every run.
//
//===----------------------------------------------------------------------===//

#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

namespace {

using Bytes = std::string;

std::filesystem::path root;

void write(const std::string &harness, const std::string &name,
           const Bytes &bytes) {
  std::filesystem::path directory = root / harness;
  std::filesystem::create_directories(directory);
  std::FILE *file = std::fopen((directory / name).c_str(), "wb");
  if (!file ||
      std::fwrite(bytes.data(), 1, bytes.size(), file) != bytes.size() ||
      std::fclose(file) != 0) {
    std::fprintf(stderr, "fuzz-make-seeds: cannot write %s\n",
                 (directory / name).c_str());
    std::exit(1);
  }
}

void appendBigEndian(Bytes &out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>(value >> shift));
}

template <typename T> void appendLittleEndian(Bytes &out, T value) {
  for (size_t i = 0; i < sizeof(T); ++i)
    out.push_back(static_cast<char>(static_cast<uint64_t>(value) >> (8 * i)));
}

//===-- PNG ---------------------------------------------------------------===//

uint32_t crc32(const Bytes &bytes) {
  uint32_t crc = 0xffffffffu;
  for (unsigned char byte : bytes) {
    crc ^= byte;
    for (int bit = 0; bit < 8; ++bit)
      crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
  }
  return ~crc;
}

void appendChunk(Bytes &png, const char *type, const Bytes &body) {
  appendBigEndian(png, static_cast<uint32_t>(body.size()));
  Bytes typed = type + body;
  png += typed;
  appendBigEndian(png, crc32(typed));
}

int samplesPerPixel(int colorType) {
  switch (colorType) {
  case 2:
    return 3;
  case 4:
    return 2;
  case 6:
    return 4;
  default: // grey, palette index
    return 1;
  }
}

/// Filter-0 scanlines of the `width` x `height` pixels at (x0 + i * dx,
/// y0 + j * dy) of a gradient, packed at `depth` bits per sample.
Bytes scanlines(int colorType, int depth, int x0, int y0, int dx, int dy,
                int width, int height) {
  Bytes raw;
  int samples = samplesPerPixel(colorType);
  uint32_t maxValue = (1u << depth) - 1;
  for (int y = y0; y < height; y += dy) {
    raw.push_back(0);
    uint32_t accumulator = 0;
    int bits = 0;
    for (int x = x0; x < width; x += dx)
      for (int s = 0; s < samples; ++s) {
        uint32_t value = (x * 7 + y * 13 + s * 29) % (maxValue + 1);
        if (depth == 16) {
          raw.push_back(static_cast<char>(value >> 8));
          raw.push_back(static_cast<char>(value));
          continue;
        }
        accumulator = (accumulator << depth) | value;
        bits += depth;
        if (bits == 8) {
          raw.push_back(static_cast<char>(accumulator));
          accumulator = 0;
          bits = 0;
        }
      }
    if (bits)
      raw.push_back(static_cast<char>(accumulator << (8 - bits)));
  }
  return raw;
}

Bytes png(int colorType, int depth, bool interlaced, int width, int height) {
  Bytes raw;
  if (!interlaced) {
    raw = scanlines(colorType, depth, 0, 0, 1, 1, width, height);
  } else {
    // Adam7: seven passes, each a sub-image with its own scanlines.
    const int x0[] = {0, 4, 0, 2, 0, 1, 0}, y0[] = {0, 0, 4, 0, 2, 0, 1};
    const int dx[] = {8, 8, 4, 4, 2, 2, 1}, dy[] = {8, 8, 8, 4, 4, 2, 2};
    for (int pass = 0; pass < 7; ++pass)
      if (x0[pass] < width && y0[pass] < height)
        raw += scanlines(colorType, depth, x0[pass], y0[pass], dx[pass],
                         dy[pass], width, height);
  }
  Bytes header;
  appendBigEndian(header, width);
  appendBigEndian(header, height);
  header += {static_cast<char>(depth), static_cast<char>(colorType), 0, 0,
             static_cast<char>(interlaced)};
  Bytes file = "\x89PNG\r\n\x1a\n";
  appendChunk(file, "IHDR", header);
  if (colorType == 3) {
    Bytes palette, alpha;
    for (int i = 0; i < (1 << depth); ++i) {
      palette += {static_cast<char>(i * 3), static_cast<char>(255 - i),
                  static_cast<char>(i * 5)};
      alpha.push_back(static_cast<char>(255 - i));
    }
    appendChunk(file, "PLTE", palette);
    appendChunk(file, "tRNS", alpha);
  }
  int compressedSize = 0;
  unsigned char *compressed =
      stbi_zlib_compress(reinterpret_cast<unsigned char *>(raw.data()),
                         static_cast<int>(raw.size()), &compressedSize, 8);
  appendChunk(file, "IDAT",
              Bytes(reinterpret_cast<char *>(compressed), compressedSize));
  STBIW_FREE(compressed);
  appendChunk(file, "IEND", "");
  return file;
}

void writeImages() {
  // The bit depths the PNG specification allows for each color type.
  struct Kind {
    int colorType;
    std::vector<int> depths;
  };
  const Kind kinds[] = {
      {0, {1, 2, 4, 8, 16}}, {2, {8, 16}}, {3, {1, 2, 4, 8}},
      {4, {8, 16}},          {6, {8, 16}},
  };
  for (const Kind &kind : kinds)
    for (int depth : kind.depths)
      for (bool interlaced : {false, true})
        write("image",
              "type" + std::to_string(kind.colorType) + "-" +
                  std::to_string(depth) + "bit" + (interlaced ? "-adam7" : "") +
                  ".png",
              png(kind.colorType, depth, interlaced, 11, 9));

  // Baseline JPEGs from stb_image_write, grey and colour.
  std::vector<unsigned char> pixels(12 * 10 * 3);
  for (size_t i = 0; i < pixels.size(); ++i)
    pixels[i] = static_cast<unsigned char>(i * 37 % 251);
  for (int channels : {1, 3})
    for (int quality : {30, 95}) {
      Bytes jpeg;
      stbi_write_jpg_to_func(
          [](void *context, void *data, int size) {
            static_cast<Bytes *>(context)->append(static_cast<char *>(data),
                                                  size);
          },
          &jpeg, 12, 10, channels, pixels.data(), quality);
      write("image",
            "c" + std::to_string(channels) + "-q" + std::to_string(quality) +
                ".jpg",
            jpeg);
    }
}

//===-- .npy --------------------------------------------------------------===//

Bytes npy(int version, const std::string &dict, size_t dataBytes) {
  size_t lengthBytes = version == 1 ? 2 : 4;
  Bytes header = dict;
  size_t prefix = 8 + lengthBytes;
  header.append((64 - (prefix + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  Bytes file = "\x93NUMPY";
  file += {static_cast<char>(version), 0};
  if (version == 1)
    appendLittleEndian<uint16_t>(file, static_cast<uint16_t>(header.size()));
  else
    appendLittleEndian<uint32_t>(file, static_cast<uint32_t>(header.size()));
  file += header;
  for (size_t i = 0; i < dataBytes; ++i)
    file.push_back(static_cast<char>(i * 11));
  return file;
}

/// A seed of a format with a text header: its name, the header, and how
/// many bytes of data follow.
struct HeaderAndData {
  const char *name, *header;
  size_t dataBytes;
};

void writeNpyFiles() {
  const HeaderAndData arrays[] = {
      {"nchw",
       "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 4, "
       "4), }",
       1 * 3 * 4 * 4 * 4},
      {"unbatched",
       "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4, 4), }",
       3 * 4 * 4 * 4},
      {"vector", "{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }",
       20},
      {"scalar", "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 4},
      {"fortran",
       "{'descr': '<f4', 'fortran_order': True, 'shape': (1, 3, 4, 4), }",
       1 * 3 * 4 * 4 * 4},
      {"f8", "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", 32},
      {"double-quotes",
       "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (1, 3, 4, "
       "4)}",
       1 * 3 * 4 * 4 * 4},
  };
  for (const HeaderAndData &array : arrays)
    for (int version : {1, 2, 3})
      write("npy",
            std::string(array.name) + "-v" + std::to_string(version) + ".npy",
            npy(version, array.header, array.dataBytes));
}

//===-- safetensors -------------------------------------------------------===//

void writeSafetensors() {
  const HeaderAndData files[] = {
      {"f32",
       R"({"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},)"
       R"("b":{"dtype":"F32","shape":[],"data_offsets":[24,28]}})",
       28},
      {"f16-bf16",
       R"({"h":{"dtype":"F16","shape":[4],"data_offsets":[0,8]},)"
       R"("b":{"dtype":"BF16","shape":[2,2],"data_offsets":[8,16]}})",
       16},
      {"f64-metadata",
       R"({"__metadata__":{"format":"pt"},)"
       R"("d":{"dtype":"F64","shape":[3],"data_offsets":[0,24]},)"
       R"("e":{"dtype":"F32","shape":[0,4],"data_offsets":[24,24]}})",
       24},
      {"empty", "{}", 0},
  };
  for (const HeaderAndData &file : files) {
    Bytes bytes;
    appendLittleEndian<uint64_t>(bytes, std::strlen(file.header));
    bytes += file.header;
    for (size_t i = 0; i < file.dataBytes; ++i)
      bytes.push_back(static_cast<char>(i * 23 + 1));
    write("safetensors", std::string(file.name) + ".safetensors", bytes);
  }
}

//===-- JSON model configs (docs/model-config.md) -------------------------===//

void writeConfigs() {
  const char *configs[] = {
      "{}",
      R"({"depth": 2, "hidden_size": 96, "num_heads": 4, "mlp_dim": 192})",
      R"({"name": "tiny", "image_size": 32, "patch_size": 8, "channels": 1,)"
      R"( "pixel_mean": [0.5], "pixel_std": [0.5], "num_classes": 10})",
      R"({"input_layout": "nhwc", "kernel_layout": "hwio", "qkv_bias": false,)"
      R"( "gelu": "tanh", "layer_norm_eps": 1e-12, "depth": 2.0})",
      R"({"name":"vit-b16-keras","image_size":224,"patch_size":16,)"
      R"("channels":3,"hidden_size":768,"depth":12,"num_heads":12,)"
      R"("mlp_dim":3072,"num_classes":1000,"qkv_bias":false,)"
      R"("layer_norm_eps":9.9999999999999995e-07,"input_layout":"nhwc",)"
      R"("kernel_layout":"hwio","gelu":"exact","pixel_mean":[0.5,0.5,0.5],)"
      R"("pixel_std":[0.5,0.5,0.5]})",
  };
  int index = 0;
  for (const char *config : configs)
    write("model-config", "config" + std::to_string(index++) + ".json", config);
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz-make-seeds DIR\n");
    return 1;
  }
  root = argv[1];
  writeImages();
  writeNpyFiles();
  writeSafetensors();
  writeConfigs();
  return 0;
}
