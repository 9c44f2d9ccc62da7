//===- ModelDirectory.h - Model folders of Hugging Face, timm, vitc -*- C++
//-*-//
//
// A model as it is shared: a folder with config.json and model.safetensors.
// Three conventions of config.json are read (docs/model-config.md, "Model
// folders"): Hugging Face's ViTForImageClassification, timm's (architecture
// name plus pretrained_cfg) and vitc's own model config (what
// `python -m vitc.keras` writes).
//
//===----------------------------------------------------------------------===//

#ifndef VITC_FRONTEND_MODELDIRECTORY_H
#define VITC_FRONTEND_MODELDIRECTORY_H

#include "vitc/Frontend/ModelConfig.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <string>

namespace vitc {

struct ModelDirectory {
  /// Every field from the folder: shape, eps, GELU form, qkv bias,
  /// preprocessing and class names.
  ModelConfig config;
  /// DIR/model.safetensors.
  std::string weightsPath;
  /// The convention config.json follows: "Hugging Face", "timm" or "vitc".
  std::string convention;
};

/// Reads the folder `path`. Fails with a one-line message naming the file
/// and the field when a file is missing, a field is missing or of the wrong
/// type, or the model is not a ViT vitc can compile.
llvm::Expected<ModelDirectory> readModelDirectory(llvm::StringRef path);

} // namespace vitc

#endif // VITC_FRONTEND_MODELDIRECTORY_H
