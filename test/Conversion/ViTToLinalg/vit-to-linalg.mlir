// RUN: vitc-opt %s -convert-vit-to-linalg -split-input-file | FileCheck %s

// A rank-2 linear is one transposed-B matmul into a zero-filled [M, N]
// tensor and nothing else.

// CHECK-DAG: #[[$LHS:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[$RHS:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[$OUT:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @linear_plain
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xf32>, %[[W:.*]]: tensor<16x8xf32>)
// CHECK-NOT: tensor.collapse_shape
// CHECK: %[[EMPTY:.*]] = tensor.empty() : tensor<4x16xf32>
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[INIT:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[EMPTY]] : tensor<4x16xf32>)
// CHECK: %[[MM:.*]] = linalg.matmul indexing_maps = [#[[$LHS]], #[[$RHS]], #[[$OUT]]] ins(%[[X]], %[[W]] : tensor<4x8xf32>, tensor<16x8xf32>) outs(%[[INIT]] : tensor<4x16xf32>)
// CHECK-NOT: linalg.generic
// CHECK: return %[[MM]]
func.func @linear_plain(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>) -> tensor<4x16xf32> {
  %0 = vit.linear %x, %w : tensor<4x8xf32>, tensor<16x8xf32> -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// Leading dimensions fold into M around the matmul; the bias is read
// through a map that keeps only the last dimension.

// CHECK-DAG: #[[$ID:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[$LAST:.*]] = affine_map<(d0, d1, d2) -> (d2)>
// CHECK-LABEL: func.func @linear_bias
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x8xf32>, %[[W:.*]]: tensor<16x8xf32>, %[[B:.*]]: tensor<16xf32>)
// CHECK: %[[ROWS:.*]] = tensor.collapse_shape %[[X]] {{\[\[}}0, 1], [2]] : tensor<2x3x8xf32> into tensor<6x8xf32>
// CHECK: %[[MM:.*]] = linalg.matmul indexing_maps = {{.*}} ins(%[[ROWS]], %[[W]] : tensor<6x8xf32>, tensor<16x8xf32>)
// CHECK: %[[ACC:.*]] = tensor.expand_shape %[[MM]] {{\[\[}}0, 1], [2]] output_shape [2, 3, 16] : tensor<6x16xf32> into tensor<2x3x16xf32>
// CHECK: %[[RES:.*]] = linalg.generic {indexing_maps = [#[[$ID]], #[[$LAST]], #[[$ID]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[ACC]], %[[B]] : tensor<2x3x16xf32>, tensor<16xf32>)
// CHECK-NEXT: ^bb0(%[[A:.*]]: f32, %[[BI:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[SUM:.*]] = arith.addf %[[A]], %[[BI]] : f32
// CHECK-NEXT: linalg.yield %[[SUM]] : f32
// CHECK: return %[[RES]]
func.func @linear_bias(%x: tensor<2x3x8xf32>, %w: tensor<16x8xf32>, %b: tensor<16xf32>) -> tensor<2x3x16xf32> {
  %0 = vit.linear %x, %w bias(%b : tensor<16xf32>) : tensor<2x3x8xf32>, tensor<16x8xf32> -> tensor<2x3x16xf32>
  return %0 : tensor<2x3x16xf32>
}

// -----

// Exact GELU: 0.5 * x * (1 + erf(x * (1 / sqrt(2)))).

// CHECK-LABEL: func.func @linear_gelu_exact
// CHECK: %[[MM:.*]] = linalg.matmul
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} ins(%[[MM]] : tensor<4x16xf32>)
// CHECK-NEXT: ^bb0(%[[V:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[RSQRT2:.*]] = arith.constant 0.707106769 : f32
// CHECK-NEXT: %[[ARG:.*]] = arith.mulf %[[V]], %[[RSQRT2]] : f32
// CHECK-NEXT: %[[ERF:.*]] = math.erf %[[ARG]] : f32
// CHECK-NEXT: %[[HALF:.*]] = arith.constant 5.000000e-01 : f32
// CHECK-NEXT: %[[HX:.*]] = arith.mulf %[[HALF]], %[[V]] : f32
// CHECK-NEXT: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT: %[[S:.*]] = arith.addf %[[ONE]], %[[ERF]] : f32
// CHECK-NEXT: %[[G:.*]] = arith.mulf %[[HX]], %[[S]] : f32
// CHECK-NEXT: linalg.yield %[[G]] : f32
func.func @linear_gelu_exact(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>) -> tensor<4x16xf32> {
  %0 = vit.linear %x, %w gelu = exact : tensor<4x8xf32>, tensor<16x8xf32> -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// Tanh GELU: 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3))).

// CHECK-LABEL: func.func @linear_gelu_tanh
// CHECK: %[[MM:.*]] = linalg.matmul
// CHECK: linalg.generic {{.*}} ins(%[[MM]] : tensor<4x16xf32>)
// CHECK-NEXT: ^bb0(%[[V:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[SQ:.*]] = arith.mulf %[[V]], %[[V]] : f32
// CHECK-NEXT: %[[CUBE:.*]] = arith.mulf %[[SQ]], %[[V]] : f32
// CHECK-NEXT: %[[K:.*]] = arith.constant 4.471500e-02 : f32
// CHECK-NEXT: %[[KC:.*]] = arith.mulf %[[K]], %[[CUBE]] : f32
// CHECK-NEXT: %[[POLY:.*]] = arith.addf %[[V]], %[[KC]] : f32
// CHECK-NEXT: %[[C:.*]] = arith.constant 0.797884583 : f32
// CHECK-NEXT: %[[ARG:.*]] = arith.mulf %[[C]], %[[POLY]] : f32
// CHECK-NEXT: %[[T:.*]] = math.tanh %[[ARG]] : f32
// CHECK-NEXT: %[[HALF:.*]] = arith.constant 5.000000e-01 : f32
// CHECK-NEXT: %[[HX:.*]] = arith.mulf %[[HALF]], %[[V]] : f32
// CHECK-NEXT: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT: %[[S:.*]] = arith.addf %[[ONE]], %[[T]] : f32
// CHECK-NEXT: %[[G:.*]] = arith.mulf %[[HX]], %[[S]] : f32
// CHECK-NEXT: linalg.yield %[[G]] : f32
// CHECK-NOT: math.erf
func.func @linear_gelu_tanh(%x: tensor<4x8xf32>, %w: tensor<16x8xf32>) -> tensor<4x16xf32> {
  %0 = vit.linear %x, %w gelu = tanh : tensor<4x8xf32>, tensor<16x8xf32> -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// A residual of the result's shape is read with the identity map.

// CHECK-DAG: #[[$ID:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @linear_residual
// CHECK-SAME: %[[R:[^:]*]]: tensor<2x3x16xf32>)
// CHECK: %[[ACC:.*]] = tensor.expand_shape
// CHECK: linalg.generic {indexing_maps = [#[[$ID]], #[[$ID]], #[[$ID]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[ACC]], %[[R]] : tensor<2x3x16xf32>, tensor<2x3x16xf32>)
// CHECK-NEXT: ^bb0(%[[A:.*]]: f32, %[[RES:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[SUM:.*]] = arith.addf %[[A]], %[[RES]] : f32
// CHECK-NEXT: linalg.yield %[[SUM]] : f32
func.func @linear_residual(%x: tensor<2x3x8xf32>, %w: tensor<16x8xf32>, %r: tensor<2x3x16xf32>) -> tensor<2x3x16xf32> {
  %0 = vit.linear %x, %w residual(%r : tensor<2x3x16xf32>) : tensor<2x3x8xf32>, tensor<16x8xf32> -> tensor<2x3x16xf32>
  return %0 : tensor<2x3x16xf32>
}

// -----

// The full epilogue is one generic: bias, then GELU, then the residual,
// here broadcast over the batch (a position embedding).

// CHECK-DAG: #[[$ID:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[$LAST:.*]] = affine_map<(d0, d1, d2) -> (d2)>
// CHECK-DAG: #[[$TRAIL:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-LABEL: func.func @linear_bias_gelu_broadcast_residual
// CHECK-SAME: %[[B:[^:]*]]: tensor<16xf32>, %[[R:[^:]*]]: tensor<3x16xf32>)
// CHECK: %[[ACC:.*]] = tensor.expand_shape
// CHECK: linalg.generic {indexing_maps = [#[[$ID]], #[[$LAST]], #[[$TRAIL]], #[[$ID]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[ACC]], %[[B]], %[[R]] : tensor<2x3x16xf32>, tensor<16xf32>, tensor<3x16xf32>)
// CHECK-NEXT: ^bb0(%[[A:.*]]: f32, %[[BI:.*]]: f32, %[[RES:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[BIASED:.*]] = arith.addf %[[A]], %[[BI]] : f32
// CHECK: %[[ERF:.*]] = math.erf %{{.*}} : f32
// CHECK: %[[S:.*]] = arith.addf %{{.*}}, %[[ERF]] : f32
// CHECK-NEXT: %[[G:.*]] = arith.mulf %{{.*}}, %[[S]] : f32
// CHECK-NEXT: %[[OUT:.*]] = arith.addf %[[G]], %[[RES]] : f32
// CHECK-NEXT: linalg.yield %[[OUT]] : f32
func.func @linear_bias_gelu_broadcast_residual(%x: tensor<2x3x8xf32>, %w: tensor<16x8xf32>, %b: tensor<16xf32>, %r: tensor<3x16xf32>) -> tensor<2x3x16xf32> {
  %0 = vit.linear %x, %w bias(%b : tensor<16xf32>) gelu = exact residual(%r : tensor<3x16xf32>) : tensor<2x3x8xf32>, tensor<16x8xf32> -> tensor<2x3x16xf32>
  return %0 : tensor<2x3x16xf32>
}

// -----

// CHECK-DAG: #[[$ID:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[$TRAIL:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-LABEL: func.func @add_broadcast
// CHECK-SAME: (%[[L:.*]]: tensor<2x3x4xf32>, %[[R:.*]]: tensor<3x4xf32>)
// CHECK: %[[EMPTY:.*]] = tensor.empty() : tensor<2x3x4xf32>
// CHECK: %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[$ID]], #[[$TRAIL]], #[[$ID]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[L]], %[[R]] : tensor<2x3x4xf32>, tensor<3x4xf32>) outs(%[[EMPTY]] : tensor<2x3x4xf32>)
// CHECK-NEXT: ^bb0(%[[A:.*]]: f32, %[[B:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[S:.*]] = arith.addf %[[A]], %[[B]] : f32
// CHECK-NEXT: linalg.yield %[[S]] : f32
// CHECK: return %[[SUM]]
func.func @add_broadcast(%lhs: tensor<2x3x4xf32>, %rhs: tensor<3x4xf32>) -> tensor<2x3x4xf32> {
  %0 = vit.add %lhs, %rhs : tensor<2x3x4xf32>, tensor<3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

// The constants take the element type.

// CHECK-DAG: #[[$ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @gelu_bf16
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xbf16>)
// CHECK: linalg.generic {indexing_maps = [#[[$ID]], #[[$ID]]], iterator_types = ["parallel", "parallel"]} ins(%[[X]] : tensor<4x8xbf16>)
// CHECK: arith.constant {{.*}} : bf16
// CHECK: math.tanh %{{.*}} : bf16
func.func @gelu_bf16(%x: tensor<4x8xbf16>) -> tensor<4x8xbf16> {
  %0 = vit.gelu %x approximation = tanh : tensor<4x8xbf16>
  return %0 : tensor<4x8xbf16>
}

// -----

// mean = sum / D and variance = sum((x - mean)^2) / D as reductions over the
// last dimension, then (x - mean) * rsqrt(variance + epsilon) * scale + shift.

// CHECK-DAG: #[[$ID:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[$ROW:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[$LAST:.*]] = affine_map<(d0, d1, d2) -> (d2)>
// CHECK-DAG: #[[$ID2:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @layer_norm
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>, %[[G:.*]]: tensor<4xf32>, %[[B:.*]]: tensor<4xf32>)
// CHECK: %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[$ID]], #[[$ROW]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X]] : tensor<2x3x4xf32>) outs(%{{.*}} : tensor<2x3xf32>)
// CHECK-NEXT: ^bb0(%[[E:.*]]: f32, %[[ACC:.*]]: f32):
// CHECK-NEXT: %[[ADD:.*]] = arith.addf %[[ACC]], %[[E]] : f32
// CHECK-NEXT: linalg.yield %[[ADD]]
// CHECK: %[[MEAN:.*]] = linalg.generic {indexing_maps = [#[[$ID2]], #[[$ID2]]], iterator_types = ["parallel", "parallel"]} ins(%[[SUM]] : tensor<2x3xf32>)
// CHECK: arith.constant 4.000000e+00 : f32
// CHECK-NEXT: arith.divf
// CHECK: %[[SQ:.*]] = linalg.generic {indexing_maps = [#[[$ID]], #[[$ROW]], #[[$ROW]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X]], %[[MEAN]] : tensor<2x3x4xf32>, tensor<2x3xf32>)
// CHECK-NEXT: ^bb0(%[[E:.*]]: f32, %[[M:.*]]: f32, %[[ACC:.*]]: f32):
// CHECK-NEXT: %[[C:.*]] = arith.subf %[[E]], %[[M]] : f32
// CHECK-NEXT: %[[C2:.*]] = arith.mulf %[[C]], %[[C]] : f32
// CHECK-NEXT: arith.addf %[[ACC]], %[[C2]] : f32
// CHECK: %[[RSTD:.*]] = linalg.generic {indexing_maps = [#[[$ID2]], #[[$ID2]]], iterator_types = ["parallel", "parallel"]} ins(%[[SQ]] : tensor<2x3xf32>)
// CHECK-NEXT: ^bb0(%[[S:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[D:.*]] = arith.constant 4.000000e+00 : f32
// CHECK-NEXT: %[[VAR:.*]] = arith.divf %[[S]], %[[D]] : f32
// CHECK-NEXT: %[[EPS:.*]] = arith.constant 9.99999974E-6 : f32
// CHECK-NEXT: %[[VE:.*]] = arith.addf %[[VAR]], %[[EPS]] : f32
// CHECK-NEXT: math.rsqrt %[[VE]] : f32
// CHECK: %[[OUT:.*]] = linalg.generic {indexing_maps = [#[[$ID]], #[[$ROW]], #[[$ROW]], #[[$LAST]], #[[$LAST]], #[[$ID]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[X]], %[[MEAN]], %[[RSTD]], %[[G]], %[[B]] : {{.*}})
// CHECK-NEXT: ^bb0(%[[E:.*]]: f32, %[[M:.*]]: f32, %[[R:.*]]: f32, %[[SC:.*]]: f32, %[[SH:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[C:.*]] = arith.subf %[[E]], %[[M]] : f32
// CHECK-NEXT: %[[N:.*]] = arith.mulf %[[C]], %[[R]] : f32
// CHECK-NEXT: %[[NS:.*]] = arith.mulf %[[N]], %[[SC]] : f32
// CHECK-NEXT: %[[Y:.*]] = arith.addf %[[NS]], %[[SH]] : f32
// CHECK-NEXT: linalg.yield %[[Y]] : f32
// CHECK: return %[[OUT]]
func.func @layer_norm(%x: tensor<2x3x4xf32>, %gamma: tensor<4xf32>, %beta: tensor<4xf32>) -> tensor<2x3x4xf32> {
  %0 = vit.layer_norm %x, %gamma, %beta epsilon = 1.0e-5 : tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

// A rank-1 input reduces to rank-0 statistics.

// CHECK-DAG: #[[$ID:.*]] = affine_map<(d0) -> (d0)>
// CHECK-DAG: #[[$ALL:.*]] = affine_map<(d0) -> ()>
// CHECK-LABEL: func.func @layer_norm_rank1
// CHECK: linalg.generic {indexing_maps = [#[[$ID]], #[[$ALL]]], iterator_types = ["reduction"]} ins(%{{.*}} : tensor<4xf32>) outs(%{{.*}} : tensor<f32>)
// CHECK: math.rsqrt
// CHECK: linalg.generic {indexing_maps = [#[[$ID]], #[[$ALL]], #[[$ALL]], #[[$ID]], #[[$ID]], #[[$ID]]], iterator_types = ["parallel"]}
func.func @layer_norm_rank1(%x: tensor<4xf32>, %gamma: tensor<4xf32>, %beta: tensor<4xf32>) -> tensor<4xf32> {
  %0 = vit.layer_norm %x, %gamma, %beta epsilon = 1.0e-5 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Two heads of 4 channels: q, k, v viewed as [B, T, H, dh]; scores
// [B, H, T, T] = q . k over dh; a softmax over the keys with the max
// subtracted and scale 1/sqrt(4); then p . v over the keys, back to [B, T, D].

// CHECK-DAG: #[[$Q:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d2, d1, d4)>
// CHECK-DAG: #[[$K:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d3, d1, d4)>
// CHECK-DAG: #[[$S:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[$ID4:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[$ROW4:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-DAG: #[[$P:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
// CHECK-DAG: #[[$V:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d4, d1, d3)>
// CHECK-DAG: #[[$O:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d2, d1, d3)>
// CHECK-LABEL: func.func @attention_core
// CHECK-SAME: (%[[Q:.*]]: tensor<2x3x8xf32>, %[[K:.*]]: tensor<2x3x8xf32>, %[[V:.*]]: tensor<2x3x8xf32>)
// CHECK: %[[Q4:.*]] = tensor.expand_shape %[[Q]] {{\[\[}}0], [1], [2, 3]] output_shape [2, 3, 2, 4] : tensor<2x3x8xf32> into tensor<2x3x2x4xf32>
// CHECK: %[[K4:.*]] = tensor.expand_shape %[[K]] {{\[\[}}0], [1], [2, 3]] output_shape [2, 3, 2, 4]
// CHECK: %[[V4:.*]] = tensor.expand_shape %[[V]] {{\[\[}}0], [1], [2, 3]] output_shape [2, 3, 2, 4]
// CHECK: %[[SC:.*]] = linalg.generic {indexing_maps = [#[[$Q]], #[[$K]], #[[$S]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[Q4]], %[[K4]] : tensor<2x3x2x4xf32>, tensor<2x3x2x4xf32>) outs(%{{.*}} : tensor<2x2x3x3xf32>)
// CHECK-NEXT: ^bb0(%[[A:.*]]: f32, %[[B:.*]]: f32, %[[ACC:.*]]: f32):
// CHECK-NEXT: %[[AB:.*]] = arith.mulf %[[A]], %[[B]] : f32
// CHECK-NEXT: arith.addf %[[ACC]], %[[AB]] : f32
// CHECK: %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK-NEXT: %[[MAXINIT:.*]] = linalg.fill ins(%[[NEGINF]] : f32)
// CHECK-NEXT: %[[MAX:.*]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$ROW4]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[SC]] : tensor<2x2x3x3xf32>) outs(%[[MAXINIT]] : tensor<2x2x3xf32>)
// CHECK-NEXT: ^bb0(%[[E:.*]]: f32, %[[ACC:.*]]: f32):
// CHECK-NEXT: arith.maximumf %[[ACC]], %[[E]] : f32
// CHECK: %[[EXP:.*]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$ROW4]], #[[$ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[SC]], %[[MAX]] : tensor<2x2x3x3xf32>, tensor<2x2x3xf32>)
// CHECK-NEXT: ^bb0(%[[E:.*]]: f32, %[[M:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[SCALE:.*]] = arith.constant 5.000000e-01 : f32
// CHECK-NEXT: %[[ES:.*]] = arith.mulf %[[E]], %[[SCALE]] : f32
// CHECK-NEXT: %[[MS:.*]] = arith.mulf %[[M]], %[[SCALE]] : f32
// CHECK-NEXT: %[[D:.*]] = arith.subf %[[ES]], %[[MS]] : f32
// CHECK-NEXT: math.exp %[[D]] : f32
// CHECK: %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$ROW4]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[EXP]] : tensor<2x2x3x3xf32>)
// CHECK-NEXT: ^bb0(%[[E:.*]]: f32, %[[ACC:.*]]: f32):
// CHECK-NEXT: arith.addf %[[ACC]], %[[E]] : f32
// CHECK: %[[PROB:.*]] = linalg.generic {indexing_maps = [#[[$ID4]], #[[$ROW4]], #[[$ID4]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[EXP]], %[[SUM]] : tensor<2x2x3x3xf32>, tensor<2x2x3xf32>)
// CHECK-NEXT: ^bb0(%[[E:.*]]: f32, %[[L:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: arith.divf %[[E]], %[[L]] : f32
// CHECK: %[[OUT:.*]] = linalg.generic {indexing_maps = [#[[$P]], #[[$V]], #[[$O]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[PROB]], %[[V4]] : tensor<2x2x3x3xf32>, tensor<2x3x2x4xf32>) outs(%{{.*}} : tensor<2x3x2x4xf32>)
// CHECK-NEXT: ^bb0(%[[A:.*]]: f32, %[[B:.*]]: f32, %[[ACC:.*]]: f32):
// CHECK-NEXT: %[[AB:.*]] = arith.mulf %[[A]], %[[B]] : f32
// CHECK-NEXT: arith.addf %[[ACC]], %[[AB]] : f32
// CHECK: %[[RES:.*]] = tensor.collapse_shape %[[OUT]] {{\[\[}}0], [1], [2, 3]] : tensor<2x3x2x4xf32> into tensor<2x3x8xf32>
// CHECK: return %[[RES]]
func.func @attention_core(%q: tensor<2x3x8xf32>, %k: tensor<2x3x8xf32>, %v: tensor<2x3x8xf32>) -> tensor<2x3x8xf32> {
  %0 = vit.attention_core %q, %k, %v num_heads = 2 : tensor<2x3x8xf32>
  return %0 : tensor<2x3x8xf32>
}

// -----

// NCHW [B, C, H, W] -> [B, C, gh, P, gw, P]; OIHW patches are [c, row, col].

// CHECK-LABEL: func.func @patchify_nchw_oihw
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4x6xf32>)
// CHECK: %[[E:.*]] = tensor.expand_shape %[[X]] {{\[\[}}0], [1], [2, 3], [4, 5]] output_shape [2, 3, 2, 2, 3, 2] : tensor<2x3x4x6xf32> into tensor<2x3x2x2x3x2xf32>
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<2x2x3x3x2x2xf32>
// CHECK: %[[T:.*]] = linalg.transpose ins(%[[E]] : tensor<2x3x2x2x3x2xf32>) outs(%[[INIT]] : tensor<2x2x3x3x2x2xf32>) permutation = [0, 2, 4, 1, 3, 5]
// CHECK: %[[P:.*]] = tensor.collapse_shape %[[T]] {{\[\[}}0], [1, 2], [3, 4, 5]] : tensor<2x2x3x3x2x2xf32> into tensor<2x6x12xf32>
// CHECK: return %[[P]]
func.func @patchify_nchw_oihw(%x: tensor<2x3x4x6xf32>) -> tensor<2x6x12xf32> {
  %0 = vit.patchify %x patch_size = 2 input_layout = nchw kernel_layout = oihw : tensor<2x3x4x6xf32> -> tensor<2x6x12xf32>
  return %0 : tensor<2x6x12xf32>
}

// -----

// HWIO patches are [row, col, c].

// CHECK-LABEL: func.func @patchify_nchw_hwio
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0], [1], [2, 3], [4, 5]] output_shape [2, 3, 2, 2, 3, 2]
// CHECK: linalg.transpose ins(%{{.*}} : tensor<2x3x2x2x3x2xf32>) outs(%{{.*}} : tensor<2x2x3x2x2x3xf32>) permutation = [0, 2, 4, 3, 5, 1]
// CHECK: tensor.collapse_shape %{{.*}} {{\[\[}}0], [1, 2], [3, 4, 5]] : tensor<2x2x3x2x2x3xf32> into tensor<2x6x12xf32>
func.func @patchify_nchw_hwio(%x: tensor<2x3x4x6xf32>) -> tensor<2x6x12xf32> {
  %0 = vit.patchify %x patch_size = 2 input_layout = nchw kernel_layout = hwio : tensor<2x3x4x6xf32> -> tensor<2x6x12xf32>
  return %0 : tensor<2x6x12xf32>
}

// -----

// NHWC [B, H, W, C] -> [B, gh, P, gw, P, C].

// CHECK-LABEL: func.func @patchify_nhwc_hwio
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0], [1, 2], [3, 4], [5]] output_shape [2, 2, 2, 3, 2, 3] : tensor<2x4x6x3xf32> into tensor<2x2x2x3x2x3xf32>
// CHECK: linalg.transpose ins(%{{.*}} : tensor<2x2x2x3x2x3xf32>) outs(%{{.*}} : tensor<2x2x3x2x2x3xf32>) permutation = [0, 1, 3, 2, 4, 5]
// CHECK: tensor.collapse_shape %{{.*}} {{\[\[}}0], [1, 2], [3, 4, 5]] : tensor<2x2x3x2x2x3xf32> into tensor<2x6x12xf32>
func.func @patchify_nhwc_hwio(%x: tensor<2x4x6x3xf32>) -> tensor<2x6x12xf32> {
  %0 = vit.patchify %x patch_size = 2 input_layout = nhwc kernel_layout = hwio : tensor<2x4x6x3xf32> -> tensor<2x6x12xf32>
  return %0 : tensor<2x6x12xf32>
}

// -----

// CHECK-LABEL: func.func @patchify_nhwc_oihw
// CHECK: linalg.transpose ins(%{{.*}} : tensor<2x2x2x3x2x3xf32>) outs(%{{.*}} : tensor<2x2x3x3x2x2xf32>) permutation = [0, 1, 3, 5, 2, 4]
// CHECK: tensor.collapse_shape %{{.*}} {{\[\[}}0], [1, 2], [3, 4, 5]] : tensor<2x2x3x3x2x2xf32> into tensor<2x6x12xf32>
func.func @patchify_nhwc_oihw(%x: tensor<2x4x6x3xf32>) -> tensor<2x6x12xf32> {
  %0 = vit.patchify %x patch_size = 2 input_layout = nhwc kernel_layout = oihw : tensor<2x4x6x3xf32> -> tensor<2x6x12xf32>
  return %0 : tensor<2x6x12xf32>
}

// -----

// CHECK-LABEL: func.func @prepend_token
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>, %[[T:.*]]: tensor<4xf32>)
// CHECK: %[[ROWINIT:.*]] = tensor.empty() : tensor<2x1x4xf32>
// CHECK: %[[ROW:.*]] = linalg.broadcast ins(%[[T]] : tensor<4xf32>) outs(%[[ROWINIT]] : tensor<2x1x4xf32>) dimensions = [0, 1]
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<2x4x4xf32>
// CHECK: %[[FIRST:.*]] = tensor.insert_slice %[[ROW]] into %[[INIT]][0, 0, 0] [2, 1, 4] [1, 1, 1] : tensor<2x1x4xf32> into tensor<2x4x4xf32>
// CHECK: %[[ALL:.*]] = tensor.insert_slice %[[X]] into %[[FIRST]][0, 1, 0] [2, 3, 4] [1, 1, 1] : tensor<2x3x4xf32> into tensor<2x4x4xf32>
// CHECK: return %[[ALL]]
func.func @prepend_token(%x: tensor<2x3x4xf32>, %t: tensor<4xf32>) -> tensor<2x4x4xf32> {
  %0 = vit.prepend_token %x, %t : tensor<2x3x4xf32>, tensor<4xf32> -> tensor<2x4x4xf32>
  return %0 : tensor<2x4x4xf32>
}

// -----

// Ops inside kernel bodies are lowered in place; the kernel, its yield and
// the weights stay.

// CHECK-LABEL: func.func @inside_kernel
// CHECK: %[[W:.*]] = vit.weight "fc1.weight" : tensor<16x8xf32>
// CHECK: %[[K:.*]] = vit.kernel "fc1" ins(%{{.*}}, %[[W]] : tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32> {
// CHECK-NEXT: ^bb0(%[[A:.*]]: tensor<4x8xf32>, %[[B:.*]]: tensor<16x8xf32>):
// CHECK-NOT: vit.linear
// CHECK-NOT: vit.gelu
// CHECK: %[[MM:.*]] = linalg.matmul indexing_maps = {{.*}} ins(%[[A]], %[[B]] : tensor<4x8xf32>, tensor<16x8xf32>)
// CHECK: %[[G:.*]] = linalg.generic {{.*}} ins(%[[MM]] : tensor<4x16xf32>)
// CHECK: math.erf
// CHECK: vit.yield %[[G]] : tensor<4x16xf32>
// CHECK-NEXT: }
// CHECK: return %[[K]]
func.func @inside_kernel(%x: tensor<4x8xf32>) -> tensor<4x16xf32> {
  %w = vit.weight "fc1.weight" : tensor<16x8xf32>
  %0 = vit.kernel "fc1" ins(%x, %w : tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32> {
  ^bb0(%a: tensor<4x8xf32>, %b: tensor<16x8xf32>):
    %1 = vit.linear %a, %b : tensor<4x8xf32>, tensor<16x8xf32> -> tensor<4x16xf32>
    %2 = vit.gelu %1 approximation = exact : tensor<4x16xf32>
    vit.yield %2 : tensor<4x16xf32>
  }
  return %0 : tensor<4x16xf32>
}

// -----

// Graph-level ops are vit-decompose's job and are left alone.

// CHECK-LABEL: func.func @graph_ops_untouched
// CHECK: vit.mlp
// CHECK: vit.residual_add
// CHECK-NOT: linalg.
func.func @graph_ops_untouched(%x: tensor<2x3x4xf32>, %w1: tensor<8x4xf32>, %b1: tensor<8xf32>, %w2: tensor<4x8xf32>, %b2: tensor<4xf32>) -> tensor<2x3x4xf32> {
  %0 = vit.mlp %x fc1(%w1, %b1) fc2(%w2, %b2) gelu = exact : tensor<2x3x4xf32>, tensor<8x4xf32>, tensor<8xf32>, tensor<4x8xf32>, tensor<4xf32>
  %1 = vit.residual_add %x, %0 : tensor<2x3x4xf32>
  return %1 : tensor<2x3x4xf32>
}

// -----

// A bf16 weight: the input is rounded to bf16 by an element-wise op first,
// and the matmul takes both operands in bf16, accumulating in f32.

// CHECK-LABEL: func.func @linear_bf16
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xf32>, %[[W:.*]]: tensor<16x8xbf16>)
// CHECK: %[[ROUNDED:.*]] = linalg.generic {{.*}} ins(%[[X]] : tensor<4x8xf32>) outs(%{{.*}} : tensor<4x8xbf16>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %{{.*}}: bf16):
// CHECK-NEXT:   %[[T:.*]] = arith.truncf %[[IN]] : f32 to bf16
// CHECK-NEXT:   linalg.yield %[[T]] : bf16
// CHECK: %[[INIT:.*]] = linalg.fill {{.*}} -> tensor<4x16xf32>
// CHECK: linalg.matmul {{.*}} ins(%[[ROUNDED]], %[[W]] : tensor<4x8xbf16>, tensor<16x8xbf16>) outs(%[[INIT]] : tensor<4x16xf32>)
func.func @linear_bf16(%x: tensor<4x8xf32>, %w: tensor<16x8xbf16>) -> tensor<4x16xf32> {
  %0 = vit.linear %x, %w : tensor<4x8xf32>, tensor<16x8xbf16> -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}
