// RUN: vitc-opt %s -split-input-file -vit-cpu-vectorize | FileCheck %s

// A transposed-B matmul tile [8 x 16, K = 32]: K is contiguous in both
// inputs, so the tile is split into 16 partial sums per output element.
// The 4 x 4 blocks of outputs keep 16 accumulator vectors: the loop over
// the 2 K steps reads 4 rows of each input per step; the column blocks are
// the outer loop, so a block of weight rows stays in cache across the rows.
// Each block then reduces its 16 lanes once.

// CHECK-LABEL: func.func @matmul_tile(
// CHECK-DAG:     %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG:     %[[C4:.*]] = arith.constant 4 : index
// CHECK-DAG:     %[[C8:.*]] = arith.constant 8 : index
// CHECK-DAG:     %[[C16:.*]] = arith.constant 16 : index
// CHECK:         scf.for %[[COL:.*]] = %{{.*}} to %[[C16]] step %[[C4]]
// CHECK:           scf.for %[[ROW:.*]] = %{{.*}} to %[[C8]] step %[[C4]]
// CHECK:             scf.for %[[K:.*]] = %{{.*}} to %[[C2]] step
// CHECK:               %[[A:.*]] = vector.transfer_read {{.*}} : tensor<4x2x16xf32>, vector<4x4x1x16xf32>
// CHECK:               %[[B:.*]] = vector.transfer_read {{.*}} : tensor<4x2x16xf32>, vector<4x4x1x16xf32>
// CHECK:               arith.mulf %[[A]], %[[B]] : vector<4x4x1x16xf32>
// CHECK:             vector.multi_reduction <add>, %{{.*}}, %{{.*}} [2] : vector<4x4x16xf32> to vector<4x4xf32>
// CHECK-NOT:     linalg.matmul
func.func @matmul_tile(%a: tensor<8x32xf32>, %b: tensor<16x32xf32>, %c: tensor<8x16xf32>) -> tensor<8x16xf32> attributes {vit.kernel_name = "matmul"} {
  %m = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>]
      ins(%a, %b : tensor<8x32xf32>, tensor<16x32xf32>) outs(%c : tensor<8x16xf32>) -> tensor<8x16xf32>
  return %m : tensor<8x16xf32>
}

// -----

// An element-wise op is vectorized along its contiguous last dimension, one
// row at a time; math functions are applied to vectors.

// CHECK-LABEL: func.func @elementwise(
// CHECK:         scf.for
// CHECK:           vector.transfer_read {{.*}} vector<1x16xf32>
// CHECK:           math.erf %{{.*}} : vector<1x16xf32>
// CHECK:           vector.transfer_write {{.*}} : vector<1x16xf32>, tensor<5x16xf32>
// CHECK-NOT:     linalg.generic
func.func @elementwise(%x: tensor<5x16xf32>) -> tensor<5x16xf32> attributes {vit.kernel_name = "elementwise"} {
  %e = tensor.empty() : tensor<5x16xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<5x16xf32>) outs(%e : tensor<5x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = math.erf %in : f32
    linalg.yield %0 : f32
  } -> tensor<5x16xf32>
  return %y : tensor<5x16xf32>
}

// -----

// out[i, x] = sum_y p[i, y] v[y, x]: vectorized along x (64 lanes, 4
// registers), contiguous in v and out; p does not depend on x, so blocks of
// 4 rows (16 accumulator registers) share each row of v. The reduction over
// y is the innermost loop.

// CHECK-LABEL: func.func @rows_times_matrix(
// CHECK-DAG:     %[[C4:.*]] = arith.constant 4 : index
// CHECK-DAG:     %[[C5:.*]] = arith.constant 5 : index
// CHECK-DAG:     %[[C8:.*]] = arith.constant 8 : index
// CHECK:         scf.for %{{.*}} = %{{.*}} to %[[C8]] step %[[C4]]
// CHECK:           scf.for %{{.*}} = %{{.*}} to %[[C5]] step
// CHECK:             vector.transfer_read {{.*}} : tensor<8x5xf32>, vector<4x64x1xf32>
// CHECK:             vector.transfer_read {{.*}} : tensor<5x64xf32>, vector<4x64x1xf32>
// CHECK:             vector.multi_reduction <add>, {{.*}} [2] : vector<4x64x1xf32> to vector<4x64xf32>
func.func @rows_times_matrix(%p: tensor<8x5xf32>, %v: tensor<5x64xf32>, %o: tensor<8x64xf32>) -> tensor<8x64xf32> attributes {vit.kernel_name = "pv"} {
  %r = linalg.generic {indexing_maps = [affine_map<(i, x, y) -> (i, y)>, affine_map<(i, x, y) -> (y, x)>, affine_map<(i, x, y) -> (i, x)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%p, %v : tensor<8x5xf32>, tensor<5x64xf32>) outs(%o : tensor<8x64xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %0 = arith.mulf %a, %b : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<8x64xf32>
  return %r : tensor<8x64xf32>
}

// -----

// Without a static vector dimension (a dynamic number of rows of per-row
// values) an op stays scalar; functions that are not kernels are skipped.

// CHECK-LABEL: func.func @dynamic_rows(
// CHECK:         linalg.generic
// CHECK-NOT:     vector.
// CHECK-LABEL: func.func @not_a_kernel(
// CHECK:         linalg.generic
func.func @dynamic_rows(%x: tensor<1x?xf32>) -> tensor<1x?xf32> attributes {vit.kernel_name = "dynamic"} {
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      outs(%x : tensor<1x?xf32>) {
  ^bb0(%out: f32):
    %0 = arith.mulf %out, %out : f32
    linalg.yield %0 : f32
  } -> tensor<1x?xf32>
  return %y : tensor<1x?xf32>
}
func.func @not_a_kernel(%x: tensor<5x16xf32>) -> tensor<5x16xf32> {
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      outs(%x : tensor<5x16xf32>) {
  ^bb0(%out: f32):
    %0 = arith.mulf %out, %out : f32
    linalg.yield %0 : f32
  } -> tensor<5x16xf32>
  return %y : tensor<5x16xf32>
}
