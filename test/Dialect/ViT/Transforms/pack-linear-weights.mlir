// RUN: vitc-opt %s -vit-externalize-constants -vit-pack-linear-weights=panel=4 \
// RUN: | FileCheck %s
// RUN: vitc-opt %s -vit-externalize-constants -vit-pack-linear-weights \
// RUN: | FileCheck %s --check-prefix=ONE
// RUN: not vitc-opt %s -vit-externalize-constants \
// RUN:     -vit-pack-linear-weights=panel=-2 2>&1 \
// RUN: | FileCheck %s --check-prefix=BAD

// BAD: error: vit-pack-linear-weights: panel must be 0 (one panel) or positive, got -2

// Panels of 4: the first linear's weight [12, 16] becomes [3, 16, 4], packed
// by the constants function (split into [3, 4, 16], then the last two
// dimensions swapped) and received so by @vit and the kernel. The bias
// stays; so does the second linear's weight [6, 12] (6 is not a multiple of
// 4), and the row, which the second linear reads as its residual.
// CHECK-LABEL: func.func @vit(
// CHECK-SAME:    %{{[a-z0-9]+}}: tensor<2x4x16xf32>,
// CHECK-SAME:    %[[W:[a-z0-9]+]]: tensor<3x16x4xf32> {vit.constant = 0 : i64},
// CHECK-SAME:    %[[B:[a-z0-9]+]]: tensor<12xf32> {vit.constant = 1 : i64},
// CHECK-SAME:    %[[W2:[a-z0-9]+]]: tensor<6x12xf32> {vit.constant = 2 : i64},
// CHECK-SAME:    %{{[a-z0-9]+}}: tensor<6xf32> {vit.constant = 3 : i64})
// CHECK:         vit.kernel "a" ins(%{{.*}}, %[[W]], %[[B]] : tensor<2x4x16xf32>, tensor<3x16x4xf32>, tensor<12xf32>)
// CHECK-NEXT:    ^bb0(%{{.*}}: tensor<2x4x16xf32>, %[[KW:.*]]: tensor<3x16x4xf32>, %{{.*}}: tensor<12xf32>):
// CHECK-NEXT:      vit.linear %{{.*}}, %[[KW]] bias(%{{.*}} : tensor<12xf32>) : tensor<2x4x16xf32>, tensor<3x16x4xf32> -> tensor<2x4x12xf32>
// CHECK:         vit.kernel "b" ins(%{{.*}}, %[[W2]], %{{.*}} : tensor<2x4x12xf32>, tensor<6x12xf32>, tensor<6xf32>)
// CHECK-LABEL: func.func @vit_constants() -> (tensor<3x16x4xf32>, tensor<12xf32>, tensor<6x12xf32>, tensor<6xf32>)
// CHECK:         %[[WEIGHT:.*]] = vit.weight "fc.weight" : tensor<12x16xf32>
// CHECK:         %[[SPLIT:.*]] = tensor.expand_shape %[[WEIGHT]] {{\[\[}}0, 1], [2]] output_shape [3, 4, 16] : tensor<12x16xf32> into tensor<3x4x16xf32>
// CHECK:         %[[EMPTY:.*]] = tensor.empty() : tensor<3x16x4xf32>
// CHECK:         %[[PACKED:.*]] = linalg.transpose ins(%[[SPLIT]] : tensor<3x4x16xf32>) outs(%[[EMPTY]] : tensor<3x16x4xf32>) permutation = [0, 2, 1]
// CHECK:         return %[[PACKED]], %{{.*}}, %{{.*}}, %{{.*}} :

// One panel (the default): every linear weight, transposed to [1, K, N].
// ONE-LABEL: func.func @vit(
// ONE-SAME:    tensor<1x16x12xf32> {vit.constant = 0 : i64}
// ONE-SAME:    tensor<12xf32> {vit.constant = 1 : i64}
// ONE-SAME:    tensor<1x12x6xf32> {vit.constant = 2 : i64}
// ONE-SAME:    tensor<6xf32> {vit.constant = 3 : i64}
func.func @vit(%x: tensor<2x4x16xf32>) -> tensor<2x4x6xf32> {
  %w = vit.weight "fc.weight" : tensor<12x16xf32>
  %b = vit.weight "fc.bias" : tensor<12xf32>
  %w2 = vit.weight "fc2.weight" : tensor<6x12xf32>
  %row = vit.weight "row" : tensor<6xf32>
  %0 = vit.kernel "a" ins(%x, %w, %b : tensor<2x4x16xf32>, tensor<12x16xf32>, tensor<12xf32>) -> tensor<2x4x12xf32> {
  ^bb0(%i: tensor<2x4x16xf32>, %kw: tensor<12x16xf32>, %kb: tensor<12xf32>):
    %l = vit.linear %i, %kw bias(%kb : tensor<12xf32>) : tensor<2x4x16xf32>, tensor<12x16xf32> -> tensor<2x4x12xf32>
    vit.yield %l : tensor<2x4x12xf32>
  }
  %1 = vit.kernel "b" ins(%0, %w2, %row : tensor<2x4x12xf32>, tensor<6x12xf32>, tensor<6xf32>) -> tensor<2x4x6xf32> {
  ^bb0(%i: tensor<2x4x12xf32>, %kw: tensor<6x12xf32>, %r: tensor<6xf32>):
    %l = vit.linear %i, %kw residual(%r : tensor<6xf32>) : tensor<2x4x12xf32>, tensor<6x12xf32> -> tensor<2x4x6xf32>
    vit.yield %l : tensor<2x4x6xf32>
  }
  return %1 : tensor<2x4x6xf32>
}
