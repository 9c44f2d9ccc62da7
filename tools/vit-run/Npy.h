//===- Npy.h - Reading and writing NumPy .npy files -------------*- C++ -*-===//
//
// The subset vit-run needs: headers of any format version are parsed so that
// a wrong dtype or layout gets a precise message; data is float32 only.
//
//===----------------------------------------------------------------------===//

#ifndef VITRUN_NPY_H
#define VITRUN_NPY_H

#include "Support.h"

namespace vitrun {

struct NpyHeader {
  /// NumPy's dtype string, "<f4" for little-endian float32.
  std::string descr;
  bool fortranOrder = false;
  Shape shape;
  /// Where the array data starts in the file.
  size_t dataOffset = 0;
};

/// Parses the header of the .npy file `bytes`; the error describes the
/// problem without naming the file.
bool parseNpyHeader(std::string_view bytes, NpyHeader &header,
                    std::string &error);

/// Writes `data` as a little-endian float32, C-order .npy (format 1.0).
bool writeNpy(const std::string &path, const Shape &shape, const float *data,
              std::string &error);

} // namespace vitrun

#endif // VITRUN_NPY_H
