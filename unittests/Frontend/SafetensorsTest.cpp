//===- SafetensorsTest.cpp - Safetensors parsing, decoding and writing ----===//

#include "vitc/Frontend/Safetensors.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"
#include "gtest/gtest.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>

using namespace vitc;

namespace {

const char *const origin = "model.safetensors";

template <typename T>
std::string littleEndian(std::initializer_list<T> values) {
  std::string bytes;
  for (T value : values)
    for (size_t i = 0; i < sizeof(T); ++i)
      bytes.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  return bytes;
}

/// A complete file: length prefix, `header`, then `data`.
std::string makeFile(const std::string &header, const std::string &data = "") {
  return littleEndian<uint64_t>({header.size()}) + header + data;
}

/// One header entry, e.g. "x": {"dtype": "F32", ...}.
std::string entry(const std::string &name, const std::string &dtype,
                  const std::string &shape, uint64_t begin, uint64_t end) {
  return "\"" + name + "\": {\"dtype\": \"" + dtype +
         "\", \"shape\": " + shape + ", \"data_offsets\": [" +
         std::to_string(begin) + ", " + std::to_string(end) + "]}";
}

llvm::Expected<std::map<std::string, Tensor>> parse(const std::string &bytes) {
  return parseSafetensors(bytes.data(), bytes.size(), origin);
}

uint32_t bitsOf(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

/// Decodes `raw` as a one-dimensional tensor of `count` `dtype` values.
std::vector<float> decode(const std::string &dtype, const std::string &raw,
                          size_t count) {
  auto tensors = parse(makeFile(
      "{" +
          entry("x", dtype, "[" + std::to_string(count) + "]", 0, raw.size()) +
          "}",
      raw));
  if (!tensors) {
    ADD_FAILURE() << llvm::toString(tensors.takeError());
    return {};
  }
  EXPECT_EQ(tensors->at("x").shape, std::vector<int64_t>{int64_t(count)});
  return tensors->at("x").data;
}

std::map<std::string, Tensor> sampleTensors() {
  float nanWithPayload;
  uint32_t nanBits = 0x7fc01234;
  std::memcpy(&nanWithPayload, &nanBits, sizeof(float));
  return {
      {"b.weight",
       {{2, 3},
        {1.0f, -0.0f, 1e-45f, std::numeric_limits<float>::max(),
         -std::numeric_limits<float>::infinity(), nanWithPayload}}},
      {"a.bias", {{3}, {0.5f, -2.25f, 3.0e-20f}}},
      {"scalar", {{}, {42.0f}}},
      {"empty", {{0, 4}, {}}},
  };
}

void expectBitEqual(const std::map<std::string, Tensor> &actual,
                    const std::map<std::string, Tensor> &expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (const auto &[name, tensor] : expected) {
    ASSERT_TRUE(actual.count(name)) << name;
    const Tensor &got = actual.at(name);
    EXPECT_EQ(got.shape, tensor.shape) << name;
    ASSERT_EQ(got.data.size(), tensor.data.size()) << name;
    for (size_t i = 0; i < tensor.data.size(); ++i)
      EXPECT_EQ(bitsOf(got.data[i]), bitsOf(tensor.data[i]))
          << name << "[" << i << "]";
  }
}

/// A temporary file path, removed again when the test ends.
class SafetensorsFileTest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_FALSE(
        llvm::sys::fs::createTemporaryFile("vitc-test", "safetensors", path));
    remover.setFile(path);
  }

  std::string readBytes() {
    auto buffer = llvm::MemoryBuffer::getFile(path);
    EXPECT_TRUE(bool(buffer));
    return buffer ? (*buffer)->getBuffer().str() : "";
  }

  llvm::SmallString<128> path;
  llvm::FileRemover remover;
};

TEST_F(SafetensorsFileTest, WriteReadRoundTripIsBitExact) {
  llvm::Error error = writeSafetensors(path.str().str(), sampleTensors());
  ASSERT_FALSE(bool(error)) << llvm::toString(std::move(error));
  auto tensors = readSafetensors(path.str().str());
  ASSERT_TRUE(bool(tensors)) << llvm::toString(tensors.takeError());
  expectBitEqual(*tensors, sampleTensors());
}

TEST_F(SafetensorsFileTest, WrittenHeaderIsSortedContiguousAndPadded) {
  std::map<std::string, Tensor> tensors = {{"z", {{2}, {1.0f, 2.0f}}},
                                           {"a", {{1}, {3.0f}}}};
  llvm::Error error = writeSafetensors(path.str().str(), tensors);
  ASSERT_FALSE(bool(error)) << llvm::toString(std::move(error));
  std::string bytes = readBytes();
  ASSERT_GE(bytes.size(), 8u);
  uint64_t headerSize = 0;
  for (int i = 7; i >= 0; --i)
    headerSize = (headerSize << 8) | static_cast<unsigned char>(bytes[i]);
  EXPECT_EQ(headerSize % 8, 0u);
  ASSERT_EQ(bytes.size(), 8 + headerSize + 12);
  std::string json =
      R"({"a":{"data_offsets":[0,4],"dtype":"F32","shape":[1]},)"
      R"("z":{"data_offsets":[4,12],"dtype":"F32","shape":[2]}})";
  std::string header = bytes.substr(8, headerSize);
  EXPECT_EQ(header.substr(0, json.size()), json);
  EXPECT_EQ(header.find_first_not_of(' ', json.size()), std::string::npos);
  EXPECT_EQ(bytes.substr(8 + headerSize),
            littleEndian<uint32_t>({0x40400000, 0x3f800000, 0x40000000}));
}

TEST_F(SafetensorsFileTest, ReadingATruncatedFileFails) {
  llvm::Error error = writeSafetensors(path.str().str(), sampleTensors());
  ASSERT_FALSE(bool(error)) << llvm::toString(std::move(error));
  std::string bytes = readBytes();
  std::ofstream(path.str().str(), std::ios::binary)
      << bytes.substr(0, bytes.size() - 3);
  // 'scalar' is the last tensor in the data section.
  EXPECT_EQ(llvm::toString(readSafetensors(path.str().str()).takeError()),
            path.str().str() +
                ": tensor 'scalar' needs bytes [36, 40) but the data "
                "section is only 37 bytes long (file truncated? 3 "
                "bytes missing)");
}

TEST(SafetensorsTest, ReadingAMissingFileNamesPathAndReason) {
  EXPECT_EQ(llvm::toString(
                readSafetensors("/nonexistent/dir/w.safetensors").takeError()),
            "/nonexistent/dir/w.safetensors: No such file or directory");
}

TEST(SafetensorsTest, WritingToAnUnwritablePathFails) {
  std::string error = llvm::toString(
      writeSafetensors("/nonexistent/dir/w.safetensors", sampleTensors()));
  EXPECT_EQ(error.rfind("/nonexistent/dir/w.safetensors: cannot open for "
                        "writing: ",
                        0),
            0u)
      << error;
}

TEST(SafetensorsTest, WritingRejectsInconsistentTensors) {
  EXPECT_EQ(llvm::toString(writeSafetensors(
                "unused.safetensors", {{"x", {{2, 2}, {1.0f, 2.0f, 3.0f}}}})),
            "unused.safetensors: tensor 'x' holds 3 values but its shape "
            "[2, 2] needs 4");
  EXPECT_EQ(llvm::toString(writeSafetensors("unused.safetensors",
                                            {{"x", {{-1, -1}, {1.0f}}}})),
            "unused.safetensors: tensor 'x' has a negative dimension in shape "
            "[-1, -1]");
}

TEST(SafetensorsTest, DecodesF16) {
  std::vector<float> values = decode(
      "F16",
      littleEndian<uint16_t>({0x3c00, 0xc000, 0x7bff, 0x3555, 0x0400, 0x0001,
                              0x03ff, 0x8000, 0x7c00, 0xfc00, 0x7e00}),
      11);
  ASSERT_EQ(values.size(), 11u);
  EXPECT_EQ(values[0], 1.0f);
  EXPECT_EQ(values[1], -2.0f);
  EXPECT_EQ(values[2], 65504.0f);                 // largest half
  EXPECT_EQ(values[3], 0.333251953125f);          // nearest half to 1/3
  EXPECT_EQ(values[4], std::ldexp(1.0f, -14));    // smallest normal
  EXPECT_EQ(values[5], std::ldexp(1.0f, -24));    // smallest subnormal
  EXPECT_EQ(values[6], std::ldexp(1023.0f, -24)); // largest subnormal
  EXPECT_EQ(bitsOf(values[7]), 0x80000000u);      // -0
  EXPECT_EQ(values[8], std::numeric_limits<float>::infinity());
  EXPECT_EQ(values[9], -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(values[10]));
}

TEST(SafetensorsTest, DecodesBF16) {
  std::vector<float> values = decode(
      "BF16",
      littleEndian<uint16_t>({0x3f80, 0xc040, 0x3e2b, 0x0001, 0x7f80, 0x7fc0}),
      6);
  ASSERT_EQ(values.size(), 6u);
  EXPECT_EQ(values[0], 1.0f);
  EXPECT_EQ(values[1], -3.0f);
  EXPECT_EQ(values[2], 0.1669921875f);
  EXPECT_EQ(values[3], std::ldexp(1.0f, -133)); // float subnormal
  EXPECT_EQ(values[4], std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(values[5]));
}

TEST(SafetensorsTest, DecodesF64) {
  auto bits = [](double value) {
    uint64_t result;
    std::memcpy(&result, &value, sizeof(result));
    return result;
  };
  std::vector<float> values = decode(
      "F64",
      littleEndian<uint64_t>({bits(1.5), bits(-0.1), bits(1e300), bits(-1e300),
                              bits(3.4028235e38), bits(1e-50)}),
      6);
  ASSERT_EQ(values.size(), 6u);
  EXPECT_EQ(values[0], 1.5f);
  EXPECT_EQ(values[1], -0.1f);
  EXPECT_EQ(values[2], std::numeric_limits<float>::infinity());
  EXPECT_EQ(values[3], -std::numeric_limits<float>::infinity());
  EXPECT_EQ(values[4], std::numeric_limits<float>::max());
  EXPECT_EQ(values[5], 0.0f);
}

TEST(SafetensorsTest, ReadsUnalignedDataAndIgnoresMetadata) {
  // The odd header length puts the F32 tensor at an odd file offset.
  std::string header = "{\"__metadata__\": {\"format\": \"pt\"}, " +
                       entry("h", "F16", "[1]", 0, 2) + ", " +
                       entry("f", "F32", "[2]", 2, 10) + "}";
  if (header.size() % 2 == 0)
    header += " ";
  auto tensors = parse(
      makeFile(header, littleEndian<uint16_t>({0x3c00}) +
                           littleEndian<uint32_t>({0x40490fdb, 0xbf000000})));
  ASSERT_TRUE(bool(tensors)) << llvm::toString(tensors.takeError());
  EXPECT_EQ(tensors->size(), 2u);
  EXPECT_EQ(tensors->at("h").data, std::vector<float>{1.0f});
  EXPECT_EQ(tensors->at("f").data, (std::vector<float>{3.14159274f, -0.5f}));
}

TEST(SafetensorsTest, EmptyTensorsOccupyNoBytes) {
  auto tensors = parse(makeFile("{" + entry("a", "F32", "[2]", 0, 8) + ", " +
                                    entry("b", "F32", "[0, 5]", 4, 4) + "}",
                                std::string(8, '\0')));
  ASSERT_TRUE(bool(tensors)) << llvm::toString(tensors.takeError());
  EXPECT_TRUE(tensors->at("b").data.empty());
}

TEST(SafetensorsTest, ParseErrors) {
  struct Case {
    const char *what;
    std::string bytes;
    std::string expected; // Everything after "model.safetensors: ".
  };
  const std::string eightBytes(8, '\0');
  auto oneEntry = [&](const std::string &body) {
    return makeFile("{\"x\": " + body + "}", eightBytes);
  };
  const Case cases[] = {
      {"shorter than the length field", "abc",
       "file is 3 bytes long, too short for the 8-byte header length (file "
       "truncated?)"},
      {"header longer than the file", littleEndian<uint64_t>({100}) + "{}",
       "header length 100 exceeds the 2 bytes after the length field (file "
       "truncated?)"},
      {"header length near 2^64", littleEndian<uint64_t>({~uint64_t(0)}) + "{}",
       "header length 18446744073709551615 exceeds the 2 bytes after the "
       "length field (file truncated?)"},
      {"not a JSON object", makeFile("[1, 2]"), "header is not a JSON object"},
      {"entry not an object", oneEntry("1"),
       "tensor 'x': entry is not a JSON object"},
      {"missing dtype", oneEntry(R"({"shape": [2], "data_offsets": [0, 8]})"),
       "tensor 'x': \"dtype\" is missing or not a string"},
      {"dtype not a string",
       oneEntry(R"({"dtype": 1, "shape": [2], "data_offsets": [0, 8]})"),
       "tensor 'x': \"dtype\" is missing or not a string"},
      {"missing shape", oneEntry(R"({"dtype": "F32", "data_offsets": [0, 8]})"),
       "tensor 'x': \"shape\" is missing or not an array"},
      {"shape not an array",
       oneEntry(R"({"dtype": "F32", "shape": 2, "data_offsets": [0, 8]})"),
       "tensor 'x': \"shape\" is missing or not an array"},
      {"fractional dimension",
       oneEntry(R"({"dtype": "F32", "shape": [1.5], "data_offsets": [0, 8]})"),
       "tensor 'x': \"shape\" must hold only integers"},
      {"negative dimension",
       oneEntry(R"({"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]})"),
       "tensor 'x' has negative dimension -2 in its shape"},
      {"element count overflows",
       oneEntry(R"({"dtype": "F32", "shape": [4294967296, 4294967296, 4],
                    "data_offsets": [0, 8]})"),
       "tensor 'x' has too many elements"},
      {"byte count overflows",
       oneEntry(R"({"dtype": "F64", "shape": [4611686018427387904],
                    "data_offsets": [0, 8]})"),
       "tensor 'x' has too many elements"},
      {"missing data_offsets", oneEntry(R"({"dtype": "F32", "shape": [2]})"),
       "tensor 'x': \"data_offsets\" must be [begin, end] with non-negative "
       "integers"},
      {"one offset",
       oneEntry(R"({"dtype": "F32", "shape": [2], "data_offsets": [8]})"),
       "tensor 'x': \"data_offsets\" must be [begin, end] with non-negative "
       "integers"},
      {"negative offset",
       oneEntry(R"({"dtype": "F32", "shape": [2], "data_offsets": [-8, 0]})"),
       "tensor 'x': \"data_offsets\" must be [begin, end] with non-negative "
       "integers"},
      {"begin after end",
       oneEntry(R"({"dtype": "F32", "shape": [2], "data_offsets": [8, 0]})"),
       "tensor 'x' has data_offsets [8, 0] with begin after end"},
      {"size does not match shape",
       oneEntry(R"({"dtype": "F32", "shape": [3], "data_offsets": [0, 8]})"),
       "tensor 'x' has shape [3] of F32, which needs 12 bytes, but "
       "data_offsets [0, 8) cover 8"},
      {"data beyond the end",
       makeFile("{" + entry("x", "F32", "[1024]", 100, 4196) + "}",
                std::string(2048, '\0')),
       "tensor 'x' needs bytes [100, 4196) but the data section is only 2048 "
       "bytes long (file truncated? 2148 bytes missing)"},
      {"integer dtype",
       makeFile("{" + entry("blocks.0.norm1.weight", "I64", "[1]", 0, 8) + "}",
                eightBytes),
       "tensor 'blocks.0.norm1.weight' has dtype I64; only floating types "
       "(F32, F16, BF16, F64) are supported"},
      {"control character in a name",
       makeFile("{" + entry("a\\nb", "U8", "[8]", 0, 8) + "}", eightBytes),
       "tensor 'a\\0Ab' has dtype U8; only floating types (F32, F16, BF16, "
       "F64) are supported"},
      {"bool dtype",
       makeFile("{" + entry("m", "BOOL", "[8]", 0, 8) + "}", eightBytes),
       "tensor 'm' has dtype BOOL; only floating types (F32, F16, BF16, F64) "
       "are supported"},
      {"overlapping tensors",
       makeFile("{" + entry("a", "F32", "[2]", 0, 8) + ", " +
                    entry("b", "F32", "[2]", 4, 12) + "}",
                std::string(12, '\0')),
       "tensors 'a' and 'b' overlap: bytes [0, 8) and [4, 12)"},
      {"bad metadata", makeFile(R"({"__metadata__": {"epoch": 3}})"),
       "\"__metadata__\" must be an object of strings"},
  };
  for (const Case &c : cases)
    EXPECT_EQ(llvm::toString(parse(c.bytes).takeError()),
              std::string(origin) + ": " + c.expected)
        << c.what;
}

TEST(SafetensorsTest, MalformedJsonIsOneLineError) {
  for (std::string header : {std::string("{\"x\": "), std::string("{} junk"),
                             std::string(""), std::string("{\"\xff\": 1}")}) {
    std::string error = llvm::toString(parse(makeFile(header)).takeError());
    EXPECT_EQ(error.rfind("model.safetensors: invalid JSON header: ", 0), 0u)
        << header << ": " << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  }
}

/// Every prefix and many single-byte corruptions of a valid file must be
/// handled without crashing; prefixes must all be rejected.
TEST(SafetensorsTest, SurvivesTruncationAndCorruption) {
  std::string valid =
      makeFile("{" + entry("a", "F16", "[2]", 0, 4) + ", " +
                   entry("b", "F32", "[1, 2]", 4, 12) + "}",
               littleEndian<uint16_t>({0x3c00, 0x4000}) +
                   littleEndian<uint32_t>({0x3f800000, 0x40000000}));
  auto parsed = parse(valid);
  ASSERT_TRUE(bool(parsed)) << llvm::toString(parsed.takeError());
  for (size_t size = 0; size < valid.size(); ++size) {
    auto prefix = parseSafetensors(valid.data(), size, origin);
    EXPECT_FALSE(bool(prefix)) << "prefix of " << size << " bytes";
    std::string error = llvm::toString(prefix.takeError());
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  }
  for (size_t i = 0; i < valid.size(); ++i) {
    for (char replacement : {'\0', '\x7f', '\xff', '9', '-', '"', '}'}) {
      std::string corrupt = valid;
      corrupt[i] = replacement;
      // A corruption may leave the file valid; any error must be one line.
      std::string error = llvm::toString(parse(corrupt).takeError());
      EXPECT_EQ(error.find('\n'), std::string::npos) << error;
    }
  }
}

} // namespace
