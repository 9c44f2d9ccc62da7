//===- ViTToLinalg.h - vit to linalg conversion -----------------*- C++ -*-===//

#ifndef VITC_CONVERSION_VITTOLINALG_VITTOLINALG_H
#define VITC_CONVERSION_VITTOLINALG_VITTOLINALG_H

#include "mlir/IR/PatternMatch.h"

namespace vitc {

/// Adds the patterns that lower the decomposed vit ops (linear, add, gelu,
/// layer_norm, attention_core, patchify, prepend_token) to linalg, tensor,
/// arith and math ops on tensors. A positive `keyBlock` lowers attention
/// with its keys transposed and zero-padded to a multiple of it (the
/// convert-vit-to-linalg option key-block).
void populateViTToLinalgPatterns(mlir::RewritePatternSet &patterns,
                                 int64_t keyBlock = 0);

} // namespace vitc

#endif // VITC_CONVERSION_VITTOLINALG_VITTOLINALG_H
