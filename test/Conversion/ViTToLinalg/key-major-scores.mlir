// RUN: vitc-opt %s -convert-vit-to-linalg="key-major-scores" | FileCheck %s

// With key-major scores (the CPU's), attention transposes the queries to
// [B, H, dh, T], scaling them by 1/sqrt(dh) = 0.5 on the way, and computes
// the scores of a head as [keys, queries], the reduction loop before the
// queries; the max and sum reduce over the keys (loops (b, h, j, i), j
// reduced); the products P V go to [B, H, T, dh], the reduction over the
// keys before the head channels, and are divided by the row sums on the
// way to [B, T, H, dh].

// CHECK-DAG: #[[$QT_IN:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d3, d1, d2)>
// CHECK-DAG: #[[$ID4:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[$K:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d2, d1, d3)>
// CHECK-DAG: #[[$QT:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>
// CHECK-DAG: #[[$S:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
// CHECK-DAG: #[[$QUERY:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[$E:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d2)>
// CHECK-DAG: #[[$V:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d3, d1, d4)>
// CHECK-DAG: #[[$ROW4:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-DAG: #[[$BTHD:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d2, d1, d3)>
// CHECK-LABEL: func.func @attention_core
// CHECK: %[[Q4:.*]] = tensor.expand_shape %{{.*}} output_shape [2, 3, 2, 4]
// CHECK: %[[K4:.*]] = tensor.expand_shape %{{.*}} output_shape [2, 3, 2, 4]
// CHECK: %[[V4:.*]] = tensor.expand_shape %{{.*}} output_shape [2, 3, 2, 4]
// CHECK: %[[QT:.*]] = linalg.generic {indexing_maps = [#[[$QT_IN]], #[[$ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[Q4]] : tensor<2x3x2x4xf32>) outs(%{{.*}} : tensor<2x2x4x3xf32>)
// CHECK: arith.constant 5.000000e-01 : f32
// CHECK: arith.mulf
// CHECK: %[[SC:.*]] = linalg.generic {indexing_maps = [#[[$K]], #[[$QT]], #[[$S]]], iterator_types = ["parallel", "parallel", "parallel", "reduction", "parallel"]} ins(%[[K4]], %[[QT]] : tensor<2x3x2x4xf32>, tensor<2x2x4x3xf32>) outs(%{{.*}} : tensor<2x2x3x3xf32>)
// CHECK: %[[MAX:.*]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$QUERY]]], iterator_types = ["parallel", "parallel", "reduction", "parallel"]} ins(%[[SC]] : tensor<2x2x3x3xf32>) outs(%{{.*}} : tensor<2x2x3xf32>)
// CHECK: arith.maxnumf %{{.*}}, %{{.*}} fastmath<nnan> : f32
// CHECK: %[[EXP:.*]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$QUERY]], #[[$ID4]]], {{.*}}} ins(%[[SC]], %[[MAX]] : tensor<2x2x3x3xf32>, tensor<2x2x3xf32>)
// CHECK: arith.subf
// CHECK-NEXT: math.exp
// CHECK: %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$QUERY]]], iterator_types = ["parallel", "parallel", "reduction", "parallel"]} ins(%[[EXP]] : tensor<2x2x3x3xf32>) outs(%{{.*}} : tensor<2x2x3xf32>)
// CHECK: arith.addf
// CHECK: %[[PV:.*]] = linalg.generic {indexing_maps = [#[[$E]], #[[$V]], #[[$S]]], iterator_types = ["parallel", "parallel", "parallel", "reduction", "parallel"]} ins(%[[EXP]], %[[V4]] : tensor<2x2x3x3xf32>, tensor<2x3x2x4xf32>) outs(%{{.*}} : tensor<2x2x3x4xf32>)
// CHECK: %[[OUT:.*]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$ROW4]], #[[$BTHD]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[PV]], %[[SUM]] : tensor<2x2x3x4xf32>, tensor<2x2x3xf32>) outs(%{{.*}} : tensor<2x3x2x4xf32>)
// CHECK-NEXT: ^bb0(%[[A:.*]]: f32, %[[L:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: arith.divf %[[A]], %[[L]] : f32
// CHECK: tensor.collapse_shape %[[OUT]] {{\[\[}}0], [1], [2, 3]] : tensor<2x3x2x4xf32> into tensor<2x3x8xf32>
func.func @attention_core(%q: tensor<2x3x8xf32>, %k: tensor<2x3x8xf32>, %v: tensor<2x3x8xf32>) -> tensor<2x3x8xf32> {
  %0 = vit.attention_core %q, %k, %v num_heads = 2 : tensor<2x3x8xf32>
  return %0 : tensor<2x3x8xf32>
}
