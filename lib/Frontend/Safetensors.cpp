//===- Safetensors.cpp - Reading and writing .safetensors files -----------===//
//
// Every header field is checked before any tensor byte is read. Multi-byte
// values are assembled byte by byte, so reads are alignment-safe and do not
// depend on the host's byte order.
//
//===----------------------------------------------------------------------===//

#include "vitc/Frontend/Safetensors.h"
#include "vitc/Support/EscapedText.h"
#include "vitc/Support/InputFiles.h"
#include "vitc/Support/JsonInteger.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <tuple>

namespace vitc {

namespace {

template <typename T> T loadLittleEndian(const char *bytes) {
  T value = 0;
  for (size_t i = 0; i < sizeof(T); ++i)
    value |= static_cast<T>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  return value;
}

template <typename T> void appendLittleEndian(std::string &out, T value) {
  for (size_t i = 0; i < sizeof(T); ++i)
    out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

template <typename To, typename From> To bitCast(From from) {
  static_assert(sizeof(To) == sizeof(From), "size mismatch");
  To to;
  std::memcpy(&to, &from, sizeof(To));
  return to;
}

float halfToFloat(uint16_t half) {
  uint32_t sign = static_cast<uint32_t>(half & 0x8000) << 16;
  uint32_t exponent = (half >> 10) & 0x1f;
  uint32_t mantissa = half & 0x3ff;
  if (exponent == 0x1f) // Inf or NaN; the NaN payload is kept.
    return bitCast<float>(sign | 0x7f800000u | (mantissa << 13));
  if (exponent != 0) // Normal: rebias the exponent from 15 to 127.
    return bitCast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
  // Zero or subnormal: mantissa * 2^-24, exact in float.
  float magnitude = static_cast<float>(mantissa) * 0x1p-24f;
  return sign ? -magnitude : magnitude;
}

float bfloat16ToFloat(uint16_t value) {
  return bitCast<float>(static_cast<uint32_t>(value) << 16);
}

/// Rounds like an IEEE conversion; a plain cast of an out-of-range double is
/// undefined behaviour in C++.
float doubleToFloat(double value) {
  if (std::fabs(value) > std::numeric_limits<float>::max()) {
    // Halfway between FLT_MAX and 2^128 rounds (to even) up to infinity.
    float saturated = std::fabs(value) >= 0x1.ffffffp127
                          ? std::numeric_limits<float>::infinity()
                          : std::numeric_limits<float>::max();
    return value < 0 ? -saturated : saturated;
  }
  return static_cast<float>(value);
}

struct DType {
  const char *name;
  uint64_t size;
  float (*decode)(const char *bytes);
};

const DType supportedDTypes[] = {
    {"F32", 4,
     [](const char *bytes) {
       return bitCast<float>(loadLittleEndian<uint32_t>(bytes));
     }},
    {"F16", 2,
     [](const char *bytes) {
       return halfToFloat(loadLittleEndian<uint16_t>(bytes));
     }},
    {"BF16", 2,
     [](const char *bytes) {
       return bfloat16ToFloat(loadLittleEndian<uint16_t>(bytes));
     }},
    {"F64", 8,
     [](const char *bytes) {
       return doubleToFloat(bitCast<double>(loadLittleEndian<uint64_t>(bytes)));
     }},
};

const DType *lookupDType(llvm::StringRef name) {
  for (const DType &dtype : supportedDTypes)
    if (name == dtype.name)
      return &dtype;
  return nullptr;
}

/// Names come from the file: escape them so every error stays on one line.
std::string quoteName(llvm::StringRef name) {
  return "'" + escapedText(name) + "'";
}

std::string byteRange(uint64_t begin, uint64_t end) {
  return "[" + std::to_string(begin) + ", " + std::to_string(end) + ")";
}

/// One header entry, checked against the data section.
struct Entry {
  std::string name;
  const DType *dtype;
  std::vector<int64_t> shape;
  int64_t numElements;
  uint64_t begin, end;
};

/// Checks one header entry. Its error messages do not name the origin.
llvm::Expected<Entry> parseEntry(const std::string &name,
                                 const llvm::json::Value &value,
                                 uint64_t dataSize) {
  std::string tensor = "tensor " + quoteName(name);
  auto fail = [&](const std::string &message) {
    return llvm::createStringError(tensor + message);
  };
  const llvm::json::Object *object = value.getAsObject();
  if (!object)
    return fail(": entry is not a JSON object");

  Entry entry;
  entry.name = name;
  std::optional<llvm::StringRef> dtypeName = object->getString("dtype");
  if (!dtypeName)
    return fail(": \"dtype\" is missing or not a string");
  entry.dtype = lookupDType(*dtypeName);
  if (!entry.dtype)
    return fail(" has dtype " + escapedText(*dtypeName) +
                "; only floating types (F32, F16, BF16, F64) are supported");

  const llvm::json::Array *shape = object->getArray("shape");
  if (!shape)
    return fail(": \"shape\" is missing or not an array");
  entry.numElements = 1;
  for (const llvm::json::Value &dimValue : *shape) {
    std::optional<int64_t> dim = jsonInteger(dimValue);
    if (!dim)
      return fail(": \"shape\" must hold only integers");
    if (*dim < 0)
      return fail(" has negative dimension " + std::to_string(*dim) +
                  " in its shape");
    if (llvm::MulOverflow(entry.numElements, *dim, entry.numElements))
      return fail(" has too many elements");
    entry.shape.push_back(*dim);
  }

  const llvm::json::Array *offsets = object->getArray("data_offsets");
  std::optional<uint64_t> begin, end;
  if (offsets && offsets->size() == 2) {
    begin = (*offsets)[0].getAsUINT64();
    end = (*offsets)[1].getAsUINT64();
  }
  if (!begin || !end)
    return fail(": \"data_offsets\" must be [begin, end] with non-negative "
                "integers");
  entry.begin = *begin;
  entry.end = *end;
  if (entry.begin > entry.end)
    return fail(" has data_offsets [" + std::to_string(entry.begin) + ", " +
                std::to_string(entry.end) + "] with begin after end");

  int64_t numBytes;
  if (llvm::MulOverflow(entry.numElements,
                        static_cast<int64_t>(entry.dtype->size), numBytes))
    return fail(" has too many elements");
  if (static_cast<uint64_t>(numBytes) != entry.end - entry.begin)
    return fail(" has shape " + formatShape(entry.shape) + " of " +
                entry.dtype->name + ", which needs " +
                std::to_string(numBytes) + " bytes, but data_offsets " +
                byteRange(entry.begin, entry.end) + " cover " +
                std::to_string(entry.end - entry.begin));
  if (entry.end > dataSize)
    return fail(" needs bytes " + byteRange(entry.begin, entry.end) +
                " but the data section is only " + std::to_string(dataSize) +
                " bytes long (file truncated? " +
                std::to_string(entry.end - dataSize) + " bytes missing)");
  return entry;
}

/// Finds two entries sharing a byte; empty tensors occupy no bytes.
std::optional<std::string> findOverlap(const std::vector<Entry> &entries) {
  std::vector<const Entry *> byStart;
  for (const Entry &entry : entries)
    if (entry.begin != entry.end)
      byStart.push_back(&entry);
  std::sort(
      byStart.begin(), byStart.end(), [](const Entry *lhs, const Entry *rhs) {
        return std::tie(lhs->begin, lhs->end) < std::tie(rhs->begin, rhs->end);
      });
  // Comparing neighbours suffices: ranges are sorted and none may overlap.
  for (size_t i = 1; i < byStart.size(); ++i) {
    const Entry &previous = *byStart[i - 1], &current = *byStart[i];
    if (current.begin < previous.end)
      return "tensors " + quoteName(previous.name) + " and " +
             quoteName(current.name) + " overlap: bytes " +
             byteRange(previous.begin, previous.end) + " and " +
             byteRange(current.begin, current.end);
  }
  return std::nullopt;
}

} // namespace

llvm::Expected<std::map<std::string, Tensor>>
parseSafetensors(const char *bytes, size_t size, const std::string &origin) {
  auto fail = [&](const std::string &message) {
    return llvm::createStringError(origin + ": " + message);
  };
  if (size < 8)
    return fail("file is " + std::to_string(size) +
                " bytes long, too short for the 8-byte header length "
                "(file truncated?)");
  uint64_t headerSize = loadLittleEndian<uint64_t>(bytes);
  if (headerSize > size - 8)
    return fail("header length " + std::to_string(headerSize) +
                " exceeds the " + std::to_string(size - 8) +
                " bytes after the length field (file truncated?)");
  const uint64_t dataSize = size - 8 - headerSize;
  const char *data = bytes + 8 + headerSize;

  llvm::Expected<llvm::json::Value> header =
      parseJson(llvm::StringRef(bytes + 8, headerSize));
  if (!header)
    return fail("invalid JSON header: " + llvm::toString(header.takeError()));
  const llvm::json::Object *object = header->getAsObject();
  if (!object)
    return fail("header is not a JSON object");

  // json::Object is unordered; sort so the first error is deterministic.
  std::vector<std::string> names;
  for (const auto &member : *object)
    names.push_back(member.first.str());
  std::sort(names.begin(), names.end());

  std::vector<Entry> entries;
  for (const std::string &name : names) {
    const llvm::json::Value &value = *object->get(name);
    if (name == "__metadata__") {
      // Ignored, but the format says string -> string.
      const llvm::json::Object *metadata = value.getAsObject();
      bool valid = metadata &&
                   std::all_of(metadata->begin(), metadata->end(),
                               [](const auto &member) {
                                 return member.second.getAsString().has_value();
                               });
      if (!valid)
        return fail("\"__metadata__\" must be an object of strings");
      continue;
    }
    llvm::Expected<Entry> entry = parseEntry(name, value, dataSize);
    if (!entry)
      return fail(llvm::toString(entry.takeError()));
    entries.push_back(std::move(*entry));
  }
  if (std::optional<std::string> overlap = findOverlap(entries))
    return fail(*overlap);

  std::map<std::string, Tensor> tensors;
  for (Entry &entry : entries) {
    Tensor &tensor = tensors[entry.name];
    tensor.shape = std::move(entry.shape);
    tensor.data.resize(static_cast<size_t>(entry.numElements));
    const char *source = data + entry.begin;
    for (float &value : tensor.data) {
      value = entry.dtype->decode(source);
      source += entry.dtype->size;
    }
  }
  return tensors;
}

llvm::Expected<std::map<std::string, Tensor>>
readSafetensors(const std::string &path) {
  llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      readInputFile(path, /*requiresNullTerminator=*/false);
  if (!buffer)
    return buffer.takeError();
  return parseSafetensors((*buffer)->getBufferStart(),
                          (*buffer)->getBufferSize(), path);
}

llvm::Error writeSafetensors(const std::string &path,
                             const std::map<std::string, Tensor> &tensors) {
  auto fail = [&](const std::string &message) {
    return llvm::createStringError(path + ": " + message);
  };
  // Refuse anything the reader would reject instead of writing it.
  for (const auto &[name, tensor] : tensors) {
    if (!llvm::json::isUTF8(name))
      return fail("tensor name " + quoteName(name) + " is not valid UTF-8");
    if (std::any_of(tensor.shape.begin(), tensor.shape.end(),
                    [](int64_t dim) { return dim < 0; }))
      return fail("tensor '" + name + "' has a negative dimension in shape " +
                  formatShape(tensor.shape));
    if (tensor.data.size() != static_cast<size_t>(tensor.numElements()))
      return fail("tensor '" + name + "' holds " +
                  std::to_string(tensor.data.size()) +
                  " values but its shape " + formatShape(tensor.shape) +
                  " needs " + std::to_string(tensor.numElements()));
  }

  // std::map iterates names in sorted order; keys inside an entry are
  // written sorted as well.
  std::string header;
  {
    llvm::raw_string_ostream headerStream(header);
    llvm::json::OStream json(headerStream);
    uint64_t offset = 0;
    json.object([&] {
      for (const auto &entry : tensors) {
        const Tensor &tensor = entry.second;
        uint64_t end = offset + 4 * tensor.data.size();
        json.attributeObject(entry.first, [&] {
          json.attributeArray("data_offsets", [&] {
            json.value(offset);
            json.value(end);
          });
          json.attribute("dtype", "F32");
          json.attributeArray("shape", [&] {
            for (int64_t dim : tensor.shape)
              json.value(dim);
          });
        });
        offset = end;
      }
    });
  }
  // The format allows trailing spaces; padding keeps the data 8-byte aligned.
  header.append((8 - header.size() % 8) % 8, ' ');

  std::error_code errorCode;
  llvm::raw_fd_ostream out(path, errorCode);
  if (errorCode)
    return fail("cannot open for writing: " + errorCode.message());
  std::string chunk;
  appendLittleEndian<uint64_t>(chunk, header.size());
  out << chunk << header;
  for (const auto &entry : tensors) {
    chunk.clear();
    chunk.reserve(4 * entry.second.data.size());
    for (float value : entry.second.data)
      appendLittleEndian(chunk, bitCast<uint32_t>(value));
    out << chunk;
  }
  out.close();
  if (out.has_error()) {
    std::string reason = out.error().message();
    out.clear_error();
    return fail("write failed: " + reason);
  }
  return llvm::Error::success();
}

} // namespace vitc
