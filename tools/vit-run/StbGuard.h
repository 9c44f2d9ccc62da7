//===- StbGuard.h - Inputs Debian's stb_image must not see ------*- C++ -*-===//

#ifndef VITC_TOOLS_VITRUN_STBGUARD_H
#define VITC_TOOLS_VITRUN_STBGUARD_H

#include <string>
#include <string_view>

namespace vitrun {

/// What in the encoded image `bytes` would trip a known bug of Debian 12's
/// stb_image (2.27), or "" if nothing does. The fuzzer found two
/// (docs/robustness.md): an out-of-bounds write decoding a JPEG Huffman
/// table of more than 256 codes (fixed in stb 2.28, which Debian 12 does not
/// ship), and a memcpy from a null buffer for a zero-length PNG IDAT chunk.
std::string stbHazard(std::string_view bytes);

} // namespace vitrun

#endif // VITC_TOOLS_VITRUN_STBGUARD_H
