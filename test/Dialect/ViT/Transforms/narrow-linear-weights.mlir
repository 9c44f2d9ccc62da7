// RUN: vitc-opt %s -vit-externalize-constants -vit-narrow-linear-weights \
// RUN:     | FileCheck %s
// RUN: vitc-opt %s -vit-externalize-constants \
// RUN:     -vit-narrow-linear-weights=type=f16 \
// RUN: | FileCheck %s --check-prefix=F16
// RUN: not vitc-opt %s -vit-externalize-constants \
// RUN:     -vit-narrow-linear-weights=type=f8 2>&1 \
// RUN: | FileCheck %s --check-prefix=BAD

// BAD: error: vit-narrow-linear-weights: unknown type 'f8'; expected bf16 or f16

// The weight of the linear (K = 16) becomes bf16: rounded by the constants
// function, received narrow by @vit and the kernel. The bias, read by the
// linear as its bias, stays f32; so does the weight of the second linear,
// whose reduction (K = 12) is not a multiple of 8, and the row, which the
// second linear reads as its residual.
// CHECK-LABEL: func.func @vit(
// CHECK-SAME:    %{{[a-z0-9]+}}: tensor<2x4x16xf32>,
// CHECK-SAME:    %[[W:[a-z0-9]+]]: tensor<12x16xbf16> {vit.constant = 0 : i64},
// CHECK-SAME:    %[[B:[a-z0-9]+]]: tensor<12xf32> {vit.constant = 1 : i64},
// CHECK-SAME:    %[[W2:[a-z0-9]+]]: tensor<8x12xf32> {vit.constant = 2 : i64},
// CHECK-SAME:    %{{[a-z0-9]+}}: tensor<8xf32> {vit.constant = 3 : i64})
// CHECK:         vit.kernel "a" ins(%{{.*}}, %[[W]], %[[B]] : tensor<2x4x16xf32>, tensor<12x16xbf16>, tensor<12xf32>)
// CHECK-NEXT:    ^bb0(%{{.*}}: tensor<2x4x16xf32>, %[[KW:.*]]: tensor<12x16xbf16>, %{{.*}}: tensor<12xf32>):
// CHECK-NEXT:      vit.linear %{{.*}}, %[[KW]] bias(%{{.*}} : tensor<12xf32>) : tensor<2x4x16xf32>, tensor<12x16xbf16> -> tensor<2x4x12xf32>
// CHECK:         vit.kernel "b" ins(%{{.*}}, %[[W2]], %{{.*}} : tensor<2x4x12xf32>, tensor<8x12xf32>, tensor<8xf32>)
// CHECK-LABEL: func.func @vit_constants() -> (tensor<12x16xbf16>, tensor<12xf32>, tensor<8x12xf32>, tensor<8xf32>)
// CHECK:         %[[WEIGHT:.*]] = vit.weight "fc.weight" : tensor<12x16xf32>
// CHECK:         %[[ROUNDED:.*]] = arith.truncf %[[WEIGHT]] : tensor<12x16xf32> to tensor<12x16xbf16>
// CHECK:         return %[[ROUNDED]], %{{.*}}, %{{.*}}, %{{.*}} :
// F16-LABEL: func.func @vit(
// F16-SAME:    tensor<12x16xf16> {vit.constant = 0 : i64}
// F16:       arith.truncf %{{.*}} : tensor<12x16xf32> to tensor<12x16xf16>
func.func @vit(%x: tensor<2x4x16xf32>) -> tensor<2x4x8xf32> {
  %w = vit.weight "fc.weight" : tensor<12x16xf32>
  %b = vit.weight "fc.bias" : tensor<12xf32>
  %w2 = vit.weight "fc2.weight" : tensor<8x12xf32>
  %row = vit.weight "row" : tensor<8xf32>
  %0 = vit.kernel "a" ins(%x, %w, %b : tensor<2x4x16xf32>, tensor<12x16xf32>, tensor<12xf32>) -> tensor<2x4x12xf32> {
  ^bb0(%i: tensor<2x4x16xf32>, %kw: tensor<12x16xf32>, %kb: tensor<12xf32>):
    %l = vit.linear %i, %kw bias(%kb : tensor<12xf32>) : tensor<2x4x16xf32>, tensor<12x16xf32> -> tensor<2x4x12xf32>
    vit.yield %l : tensor<2x4x12xf32>
  }
  %1 = vit.kernel "b" ins(%0, %w2, %row : tensor<2x4x12xf32>, tensor<8x12xf32>, tensor<8xf32>) -> tensor<2x4x8xf32> {
  ^bb0(%i: tensor<2x4x12xf32>, %kw: tensor<8x12xf32>, %r: tensor<8xf32>):
    %l = vit.linear %i, %kw residual(%r : tensor<8xf32>) : tensor<2x4x12xf32>, tensor<8x12xf32> -> tensor<2x4x8xf32>
    vit.yield %l : tensor<2x4x8xf32>
  }
  return %1 : tensor<2x4x8xf32>
}

