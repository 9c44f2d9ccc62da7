//===- StbImage.cpp - The stb_image decoder, compiled once ----------------===//
//
// stb_image is a single-header library: this file holds its implementation
// for vit-run. It stays out of the runtime library, which takes tensors only.
// PNG and JPEG are the formats vit-run accepts; the others are left out.
//
//===----------------------------------------------------------------------===//

#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_NO_STDIO
#include <stb_image.h>
