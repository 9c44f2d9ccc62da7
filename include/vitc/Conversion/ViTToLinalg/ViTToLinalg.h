//===- ViTToLinalg.h - vit to linalg conversion -----------------*- C++ -*-===//

#ifndef VITC_CONVERSION_VITTOLINALG_VITTOLINALG_H
#define VITC_CONVERSION_VITTOLINALG_VITTOLINALG_H

#include "mlir/IR/PatternMatch.h"

namespace vitc {

/// Adds the patterns that lower the decomposed vit ops (linear, add, gelu,
/// layer_norm, attention_core, patchify, prepend_token) to linalg, tensor,
/// arith and math ops on tensors. `keyMajorScores` lays attention's scores
/// out [keys, queries] (the convert-vit-to-linalg option key-major-scores).
void populateViTToLinalgPatterns(mlir::RewritePatternSet &patterns,
                                 bool keyMajorScores = false);

} // namespace vitc

#endif // VITC_CONVERSION_VITTOLINALG_VITTOLINALG_H
