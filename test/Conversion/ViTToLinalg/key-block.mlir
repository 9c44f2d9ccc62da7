// RUN: vitc-opt %s -convert-vit-to-linalg="key-block=4" | FileCheck %s
// RUN: not vitc-opt %s -convert-vit-to-linalg="key-block=-1" 2>&1 | FileCheck %s --check-prefix=NEGATIVE

// With a key block (the CPU's), attention transposes the keys to
// [B, H, dh, T] and pads keys and values with zeros to a multiple of the
// block (3 tokens -> 4 keys). The padded key's scores start at -inf (the
// init row is 0, 0, 0, -inf), so its exponential is 0; the products go to
// [B, H, T, dh] and are divided by the row sums on the way to [B, T, H, dh].

// CHECK-DAG: #[[$Q:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d2, d1, d4)>
// CHECK-DAG: #[[$KT:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
// CHECK-DAG: #[[$S:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[$P:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
// CHECK-DAG: #[[$V:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d4, d1, d3)>
// CHECK-DAG: #[[$KEY:.*]] = affine_map<(d0, d1, d2, d3) -> (d3)>
// CHECK-DAG: #[[$ID4:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[$ROW4:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-DAG: #[[$BTHD:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d2, d1, d3)>
// CHECK-LABEL: func.func @attention_core
// CHECK: %[[Q4:.*]] = tensor.expand_shape %{{.*}} output_shape [2, 3, 2, 4]
// CHECK: %[[K4:.*]] = tensor.expand_shape %{{.*}} output_shape [2, 3, 2, 4]
// CHECK: %[[V4:.*]] = tensor.expand_shape %{{.*}} output_shape [2, 3, 2, 4]
// CHECK: %[[ROW:.*]] = arith.constant dense<[0.000000e+00, 0.000000e+00, 0.000000e+00, 0xFF800000]> : tensor<4xf32>
// CHECK: %[[INIT:.*]] = linalg.generic {indexing_maps = [#[[$KEY]], #[[$ID4]]], {{.*}}} ins(%[[ROW]] : tensor<4xf32>) outs(%{{.*}} : tensor<2x2x3x4xf32>)
// CHECK: %[[KT:.*]] = linalg.transpose ins(%[[K4]] : tensor<2x3x2x4xf32>) outs(%{{.*}} : tensor<2x2x4x3xf32>) permutation = [0, 2, 3, 1]
// CHECK: %[[KTP:.*]] = tensor.pad %[[KT]] low[0, 0, 0, 0] high[0, 0, 0, 1]
// CHECK: tensor<2x2x4x3xf32> to tensor<2x2x4x4xf32>
// CHECK: %[[SC:.*]] = linalg.generic {indexing_maps = [#[[$Q]], #[[$KT]], #[[$S]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[Q4]], %[[KTP]] : tensor<2x3x2x4xf32>, tensor<2x2x4x4xf32>) outs(%[[INIT]] : tensor<2x2x3x4xf32>)
// CHECK: %[[MAX:.*]] = linalg.generic {{.*}} ins(%[[SC]] : tensor<2x2x3x4xf32>) outs(%{{.*}} : tensor<2x2x3xf32>)
// CHECK: arith.maximumf
// CHECK: %[[EXP:.*]] = linalg.generic {{.*}} ins(%[[SC]], %[[MAX]] : tensor<2x2x3x4xf32>, tensor<2x2x3xf32>)
// CHECK: math.exp
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}} ins(%[[EXP]] : tensor<2x2x3x4xf32>) outs(%{{.*}} : tensor<2x2x3xf32>)
// CHECK: %[[VP:.*]] = tensor.pad %[[V4]] low[0, 0, 0, 0] high[0, 1, 0, 0]
// CHECK: tensor<2x3x2x4xf32> to tensor<2x4x2x4xf32>
// CHECK: %[[PV:.*]] = linalg.generic {indexing_maps = [#[[$P]], #[[$V]], #[[$S]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[EXP]], %[[VP]] : tensor<2x2x3x4xf32>, tensor<2x4x2x4xf32>) outs(%{{.*}} : tensor<2x2x3x4xf32>)
// CHECK: %[[OUT:.*]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$ROW4]], #[[$BTHD]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[PV]], %[[SUM]] : tensor<2x2x3x4xf32>, tensor<2x2x3xf32>) outs(%{{.*}} : tensor<2x3x2x4xf32>)
// CHECK-NEXT: ^bb0(%[[A:.*]]: f32, %[[L:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: arith.divf %[[A]], %[[L]] : f32
// CHECK: tensor.collapse_shape %[[OUT]] {{\[\[}}0], [1], [2, 3]] : tensor<2x3x2x4xf32> into tensor<2x3x8xf32>
// NEGATIVE: key-block must not be negative
func.func @attention_core(%q: tensor<2x3x8xf32>, %k: tensor<2x3x8xf32>, %v: tensor<2x3x8xf32>) -> tensor<2x3x8xf32> {
  %0 = vit.attention_core %q, %k, %v num_heads = 2 : tensor<2x3x8xf32>
  return %0 : tensor<2x3x8xf32>
}
