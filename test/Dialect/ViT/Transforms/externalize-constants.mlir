// RUN: vitc-opt %s -vit-externalize-constants -split-input-file -verify-diagnostics | FileCheck %s

// Weights and the weight work on them (reshape, transpose with its empty
// destination, slices, sums) move to @vit_constants; the kernels read the
// results as new trailing arguments of @vit, numbered by vit.constant.

// CHECK-LABEL: func.func @vit(
// CHECK-SAME:    %[[IMAGE:[a-z0-9]+]]: tensor<1x4x4x2xf32>,
// CHECK-SAME:    %[[KERNEL:[a-z0-9]+]]: tensor<3x8xf32> {vit.constant = 0 : i64},
// CHECK-SAME:    %[[BIAS:[a-z0-9]+]]: tensor<3xf32> {vit.constant = 1 : i64},
// CHECK-SAME:    %[[ROW:[a-z0-9]+]]: tensor<3xf32> {vit.constant = 2 : i64})
// CHECK-NOT:     vit.weight
// CHECK-NOT:     linalg.transpose
// CHECK:         %[[A:.*]] = vit.kernel "a" ins(%[[IMAGE]], %[[KERNEL]], %[[BIAS]] :
// CHECK:         vit.kernel "b" ins(%[[A]], %[[ROW]] :
// CHECK-LABEL: func.func @vit_constants() -> (tensor<3x8xf32>, tensor<3xf32>, tensor<3xf32>)
// CHECK:         %[[K:.*]] = vit.weight "patch.kernel" : tensor<2x2x2x3xf32>
// CHECK:         %[[FLAT:.*]] = tensor.collapse_shape %[[K]]
// CHECK:         %[[EMPTY:.*]] = tensor.empty() : tensor<3x8xf32>
// CHECK:         %[[T:.*]] = linalg.transpose ins(%[[FLAT]] : tensor<8x3xf32>) outs(%[[EMPTY]] : tensor<3x8xf32>)
// CHECK:         %[[B:.*]] = vit.weight "patch.bias" : tensor<3xf32>
// CHECK:         %[[SUM:.*]] = arith.addf
// CHECK:         return %[[T]], %[[B]], %[[SUM]]
func.func @vit(%image: tensor<1x4x4x2xf32>) -> tensor<1x5x3xf32> {
  %k = vit.weight "patch.kernel" : tensor<2x2x2x3xf32>
  %flat = tensor.collapse_shape %k [[0, 1, 2], [3]] : tensor<2x2x2x3xf32> into tensor<8x3xf32>
  %empty = tensor.empty() : tensor<3x8xf32>
  %kt = linalg.transpose ins(%flat : tensor<8x3xf32>) outs(%empty : tensor<3x8xf32>) permutation = [1, 0]
  %b = vit.weight "patch.bias" : tensor<3xf32>
  %0 = vit.kernel "a" ins(%image, %kt, %b : tensor<1x4x4x2xf32>, tensor<3x8xf32>, tensor<3xf32>) -> tensor<1x4x3xf32> {
  ^bb0(%i: tensor<1x4x4x2xf32>, %w: tensor<3x8xf32>, %bias: tensor<3xf32>):
    %p = vit.patchify %i patch_size = 2 input_layout = nhwc kernel_layout = hwio : tensor<1x4x4x2xf32> -> tensor<1x4x8xf32>
    %l = vit.linear %p, %w bias(%bias : tensor<3xf32>) : tensor<1x4x8xf32>, tensor<3x8xf32> -> tensor<1x4x3xf32>
    vit.yield %l : tensor<1x4x3xf32>
  }
  %cls = vit.weight "cls" : tensor<3xf32>
  %pos = vit.weight "pos" : tensor<3xf32>
  %row = arith.addf %cls, %pos : tensor<3xf32>
  %1 = vit.kernel "b" ins(%0, %row : tensor<1x4x3xf32>, tensor<3xf32>) -> tensor<1x5x3xf32> {
  ^bb0(%t: tensor<1x4x3xf32>, %r: tensor<3xf32>):
    %p = vit.prepend_token %t, %r : tensor<1x4x3xf32>, tensor<3xf32> -> tensor<1x5x3xf32>
    vit.yield %p : tensor<1x5x3xf32>
  }
  return %1 : tensor<1x5x3xf32>
}

// -----

// expected-error @+1 {{no entry function @vit with a body}}
module {
  func.func private @vit(tensor<2xf32>) -> tensor<2xf32>
}
