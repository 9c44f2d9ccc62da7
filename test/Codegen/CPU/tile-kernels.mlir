// RUN: vitc-opt %s -split-input-file -vit-cpu-tile-kernels="rows-per-tile=4 columns-per-tile=16 query-rows-per-tile=2" | FileCheck %s

// A linear: the expand_shape between matmul and epilogue is folded away,
// the epilogue is tiled over 4 rows x 16 columns of [10, 32] (the last row
// tile is partial; column tiles are the outer loop, so consecutive tiles
// share a block of the weight) and the fill and the matmul are fused into the tile,
// reading only their slices of the input and the weight.

// CHECK-LABEL: func.func @linear(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<2x5x16xf32>, %[[W:[a-z0-9_]+]]: tensor<32x16xf32>, %[[B:[a-z0-9_]+]]: tensor<32xf32>, %[[R:[a-z0-9_]+]]: tensor<2x5x32xf32>)
// CHECK-DAG:     %[[XR:[a-z0-9_]+]] = tensor.collapse_shape %[[X]] {{\[\[}}0, 1], [2]] : tensor<2x5x16xf32> into tensor<10x16xf32>
// CHECK-DAG:     %[[RR:[a-z0-9_]+]] = tensor.collapse_shape %[[R]] {{\[\[}}0, 1], [2]] : tensor<2x5x32xf32> into tensor<10x32xf32>
// CHECK:         %[[T:[a-z0-9_]+]] = scf.forall (%[[J:[a-z0-9_]+]], %[[I:[a-z0-9_]+]]) = (0, 0) to (32, 10) step (16, 4) shared_outs(%[[O:[a-z0-9_]+]] = %{{.*}}) -> (tensor<10x32xf32>)
// CHECK:           %[[ROWS:[a-z0-9_]+]] = affine.min
// CHECK:           %[[XS:[a-z0-9_]+]] = tensor.extract_slice %[[XR]][%[[I]], 0] [%[[ROWS]], 16] [1, 1]
// CHECK:           %[[WS:[a-z0-9_]+]] = tensor.extract_slice %[[W]][%[[J]], 0] [16, 16] [1, 1]
// CHECK:           %[[F:[a-z0-9_]+]] = linalg.fill {{.*}} -> tensor<?x16xf32>
// CHECK:           %[[M:[a-z0-9_]+]] = linalg.matmul {{.*}} ins(%[[XS]], %[[WS]] : {{.*}}) outs(%[[F]] : tensor<?x16xf32>)
// CHECK:           %[[E:[a-z0-9_]+]] = linalg.generic {{.*}} ins(%[[M]], {{.*}}) outs({{.*}}tensor<?x16xf32>)
// CHECK:           tensor.parallel_insert_slice %[[E]] into %[[O]][%[[I]], %[[J]]] [%[[ROWS]], 16] [1, 1]
// CHECK:         %[[RES:[a-z0-9_]+]] = tensor.expand_shape %[[T]] {{\[\[}}0, 1], [2]] output_shape [2, 5, 32]
// CHECK:         return %[[RES]]
func.func @linear(%x: tensor<2x5x16xf32>, %w: tensor<32x16xf32>, %b: tensor<32xf32>, %r: tensor<2x5x32xf32>) -> tensor<2x5x32xf32> attributes {vit.kernel_name = "linear"} {
  %cst = arith.constant 0.0 : f32
  %xr = tensor.collapse_shape %x [[0, 1], [2]] : tensor<2x5x16xf32> into tensor<10x16xf32>
  %e0 = tensor.empty() : tensor<10x32xf32>
  %f = linalg.fill ins(%cst : f32) outs(%e0 : tensor<10x32xf32>) -> tensor<10x32xf32>
  %m = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>]
      ins(%xr, %w : tensor<10x16xf32>, tensor<32x16xf32>) outs(%f : tensor<10x32xf32>) -> tensor<10x32xf32>
  %me = tensor.expand_shape %m [[0, 1], [2]] output_shape [2, 5, 32] : tensor<10x32xf32> into tensor<2x5x32xf32>
  %e1 = tensor.empty() : tensor<2x5x32xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%me, %b, %r : tensor<2x5x32xf32>, tensor<32xf32>, tensor<2x5x32xf32>) outs(%e1 : tensor<2x5x32xf32>) {
  ^bb0(%in: f32, %bias: f32, %res: f32, %out: f32):
    %0 = arith.addf %in, %bias : f32
    %1 = arith.addf %0, %res : f32
    linalg.yield %1 : f32
  } -> tensor<2x5x32xf32>
  return %y : tensor<2x5x32xf32>
}

// -----

// A linear with its weight in panels [4, 16, 8] (vit-pack-linear-weights):
// the product and its epilogue are [10, 4, 8], read as [2, 5, 32] through
// reshapes. Tiles are 4 rows x 2 whole panels (16 columns / 8): the fill and
// the panel contraction fuse into the tile, each reading its rows of the
// input and its 2 panels of the weight, and the bias is sliced to them.

// CHECK-LABEL: func.func @panels(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<2x5x16xf32>, %[[W:[a-z0-9_]+]]: tensor<4x16x8xf32>, %[[B:[a-z0-9_]+]]: tensor<32xf32>)
// CHECK:         %[[T:[a-z0-9_]+]] = scf.forall (%[[P:[a-z0-9_]+]], %[[I:[a-z0-9_]+]]) = (0, 0) to (4, 10) step (2, 4) shared_outs(%[[O:[a-z0-9_]+]] = %{{.*}}) -> (tensor<10x4x8xf32>)
// CHECK:           %[[ROWS:[a-z0-9_]+]] = affine.min
// CHECK:           %[[XS:[a-z0-9_]+]] = tensor.extract_slice %{{.*}}[%[[I]], 0] [%[[ROWS]], 16] [1, 1]
// CHECK:           %[[WS:[a-z0-9_]+]] = tensor.extract_slice %[[W]][%[[P]], 0, 0] [2, 16, 8] [1, 1, 1]
// CHECK:           %[[F:[a-z0-9_]+]] = linalg.fill {{.*}} -> tensor<?x2x8xf32>
// CHECK:           %[[M:[a-z0-9_]+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction", "parallel"]} ins(%[[XS]], %[[WS]] : tensor<?x16xf32>, tensor<2x16x8xf32>) outs(%[[F]] : tensor<?x2x8xf32>)
// CHECK:           tensor.extract_slice %[[B]][%{{.*}}] [16] [1]
// CHECK:           %[[E:[a-z0-9_]+]] = linalg.generic {{.*}} ins(%[[M]], {{.*}}) outs({{.*}}tensor<?x2x8xf32>)
// CHECK:           tensor.parallel_insert_slice %[[E]] into %[[O]][%[[I]], %[[P]], 0] [%[[ROWS]], 2, 8] [1, 1, 1]
// CHECK:         %[[SPLIT:[a-z0-9_]+]] = tensor.expand_shape %[[T]] {{\[\[}}0, 1], [2], [3]] output_shape [2, 5, 4, 8]
// CHECK:         %[[RES:[a-z0-9_]+]] = tensor.collapse_shape %[[SPLIT]] {{\[\[}}0], [1], [2, 3]] : tensor<2x5x4x8xf32> into tensor<2x5x32xf32>
// CHECK:         return %[[RES]]
func.func @panels(%arg0: tensor<2x5x16xf32>, %arg1: tensor<4x16x8xf32>, %arg2: tensor<32xf32>) -> tensor<2x5x32xf32> attributes {vit.kernel_name = "panels"} {
  %cst = arith.constant 0.000000e+00 : f32
  %collapsed = tensor.collapse_shape %arg0 [[0, 1], [2]] : tensor<2x5x16xf32> into tensor<10x16xf32>
  %0 = tensor.empty() : tensor<10x4x8xf32>
  %1 = linalg.fill ins(%cst : f32) outs(%0 : tensor<10x4x8xf32>) -> tensor<10x4x8xf32>
  %2 = linalg.generic {indexing_maps = [affine_map<(m, p, k, r) -> (m, k)>, affine_map<(m, p, k, r) -> (p, k, r)>, affine_map<(m, p, k, r) -> (m, p, r)>], iterator_types = ["parallel", "parallel", "reduction", "parallel"]}
      ins(%collapsed, %arg1 : tensor<10x16xf32>, tensor<4x16x8xf32>) outs(%1 : tensor<10x4x8xf32>) {
  ^bb0(%in: f32, %w: f32, %out: f32):
    %5 = arith.mulf %in, %w : f32
    %6 = arith.addf %out, %5 : f32
    linalg.yield %6 : f32
  } -> tensor<10x4x8xf32>
  %expanded = tensor.expand_shape %2 [[0, 1], [2], [3]] output_shape [2, 5, 4, 8] : tensor<10x4x8xf32> into tensor<2x5x4x8xf32>
  %bias = tensor.expand_shape %arg2 [[0, 1]] output_shape [4, 8] : tensor<32xf32> into tensor<4x8xf32>
  %3 = tensor.empty() : tensor<2x5x4x8xf32>
  %4 = linalg.generic {indexing_maps = [affine_map<(b, t, p, r) -> (b, t, p, r)>, affine_map<(b, t, p, r) -> (p, r)>, affine_map<(b, t, p, r) -> (b, t, p, r)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%expanded, %bias : tensor<2x5x4x8xf32>, tensor<4x8xf32>) outs(%3 : tensor<2x5x4x8xf32>) {
  ^bb0(%in: f32, %b: f32, %out: f32):
    %5 = arith.addf %in, %b : f32
    linalg.yield %5 : f32
  } -> tensor<2x5x4x8xf32>
  %collapsed_1 = tensor.collapse_shape %4 [[0], [1], [2, 3]] : tensor<2x5x4x8xf32> into tensor<2x5x32xf32>
  return %collapsed_1 : tensor<2x5x32xf32>
}

// -----

// Row statistics and their consumer: tiles of one image and 4 tokens, the
// whole feature dimension, with the reduction fused into each tile.

// CHECK-LABEL: func.func @center_rows(
// CHECK:         scf.forall (%[[B:[a-z0-9_]+]], %[[T:[a-z0-9_]+]]) = (0, 0) to (2, 5) step (1, 4)
// CHECK:           linalg.fill {{.*}} -> tensor<1x?xf32>
// CHECK:           linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]{{.*}}outs({{.*}}tensor<1x?xf32>)
// CHECK:           linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel"]{{.*}}outs({{.*}}tensor<1x?x16xf32>)
// CHECK:           tensor.parallel_insert_slice
// CHECK-NOT:     linalg.generic
func.func @center_rows(%x: tensor<2x5x16xf32>) -> tensor<2x5x16xf32> attributes {vit.kernel_name = "center"} {
  %cst = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<2x5xf32>
  %f = linalg.fill ins(%cst : f32) outs(%e0 : tensor<2x5xf32>) -> tensor<2x5xf32>
  %sum = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x : tensor<2x5x16xf32>) outs(%f : tensor<2x5xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %0 = arith.addf %acc, %in : f32
    linalg.yield %0 : f32
  } -> tensor<2x5xf32>
  %e1 = tensor.empty() : tensor<2x5x16xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x, %sum : tensor<2x5x16xf32>, tensor<2x5xf32>) outs(%e1 : tensor<2x5x16xf32>) {
  ^bb0(%in: f32, %s: f32, %out: f32):
    %0 = arith.subf %in, %s : f32
    linalg.yield %0 : f32
  } -> tensor<2x5x16xf32>
  return %y : tensor<2x5x16xf32>
}

// -----

// A batched contraction out[b, i, h, x] = sum_y p[b, h, i, y] v[b, y, h, x]
// whose p is computed in the kernel (the shape of attention's last step):
// tiles are (image, head, 2 query rows: query-rows-per-tile), and p is
// computed per tile.

// CHECK-LABEL: func.func @batched_contraction(
// CHECK:         scf.forall (%{{.*}}, %{{.*}}, %{{.*}}) = (0, 0, 0) to (2, 3, 5) step (1, 1, 2)
// CHECK:           math.exp
// CHECK:           linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]
// CHECK-SAME:        outs({{.*}} : tensor<1x?x1x8xf32>)
func.func @batched_contraction(%s: tensor<2x3x5x5xf32>, %v: tensor<2x5x3x8xf32>) -> tensor<2x5x3x8xf32> attributes {vit.kernel_name = "core"} {
  %cst = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<2x3x5x5xf32>
  %p = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%s : tensor<2x3x5x5xf32>) outs(%e0 : tensor<2x3x5x5xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = math.exp %in : f32
    linalg.yield %0 : f32
  } -> tensor<2x3x5x5xf32>
  %e1 = tensor.empty() : tensor<2x5x3x8xf32>
  %f = linalg.fill ins(%cst : f32) outs(%e1 : tensor<2x5x3x8xf32>) -> tensor<2x5x3x8xf32>
  %o = linalg.generic {indexing_maps = [affine_map<(b, h, i, x, y) -> (b, h, i, y)>, affine_map<(b, h, i, x, y) -> (b, y, h, x)>, affine_map<(b, h, i, x, y) -> (b, i, h, x)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%p, %v : tensor<2x3x5x5xf32>, tensor<2x5x3x8xf32>) outs(%f : tensor<2x5x3x8xf32>) {
  ^bb0(%a: f32, %c: f32, %acc: f32):
    %0 = arith.mulf %a, %c : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<2x5x3x8xf32>
  return %o : tensor<2x5x3x8xf32>
}

// -----

// A concatenation has no linalg root and stays untiled; functions that are
// not kernels are left alone.

// CHECK-LABEL: func.func @concat(
// CHECK-NOT:     scf.forall
// CHECK:         tensor.insert_slice
// CHECK-LABEL: func.func @not_a_kernel(
// CHECK-NOT:     scf.forall
func.func @concat(%x: tensor<1x4x8xf32>, %t: tensor<1x1x8xf32>) -> tensor<1x5x8xf32> attributes {vit.kernel_name = "concat"} {
  %e = tensor.empty() : tensor<1x5x8xf32>
  %0 = tensor.insert_slice %t into %e[0, 0, 0] [1, 1, 8] [1, 1, 1] : tensor<1x1x8xf32> into tensor<1x5x8xf32>
  %1 = tensor.insert_slice %x into %0[0, 1, 0] [1, 4, 8] [1, 1, 1] : tensor<1x4x8xf32> into tensor<1x5x8xf32>
  return %1 : tensor<1x5x8xf32>
}
func.func @not_a_kernel(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %e = tensor.empty() : tensor<4x8xf32>
  %0 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

// A result returned in longer rows (vit-cpu-pad-rows) is tiled as if
// unpadded: the root is the op inserted into the padded tensor, and the
// insertion stays outside the tile loop. Inserting a column block into an
// empty tensor that something else then fills is no padding: that kernel
// stays untiled.

// CHECK-LABEL: func.func @padded(
// CHECK:         %[[T:[a-z0-9_]+]] = scf.forall (%{{.*}}) = (0) to (10) step (4) {{.*}} -> (tensor<10x16xf32>)
// CHECK:         %[[E:[a-z0-9_]+]] = tensor.empty() : tensor<10x32xf32>
// CHECK:         %[[P:[a-z0-9_]+]] = tensor.insert_slice %[[T]] into %[[E]][0, 0] [10, 16] [1, 1]
// CHECK:         return %[[P]]
// CHECK-LABEL: func.func @concat_columns(
// CHECK-NOT:     scf.forall
// CHECK:         return
func.func @padded(%x: tensor<10x16xf32>) -> tensor<10x32xf32> attributes {vit.kernel_name = "padded"} {
  %e = tensor.empty() : tensor<10x16xf32>
  %0 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<10x16xf32>) outs(%e : tensor<10x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %1 = arith.mulf %in, %in : f32
    linalg.yield %1 : f32
  } -> tensor<10x16xf32>
  %p = tensor.empty() : tensor<10x32xf32>
  %i = tensor.insert_slice %0 into %p[0, 0] [10, 16] [1, 1] : tensor<10x16xf32> into tensor<10x32xf32>
  return %i : tensor<10x32xf32>
}
func.func @concat_columns(%x: tensor<10x16xf32>, %y: tensor<10x16xf32>) -> tensor<10x32xf32> attributes {vit.kernel_name = "concat_columns"} {
  %e = tensor.empty() : tensor<10x16xf32>
  %0 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<10x16xf32>) outs(%e : tensor<10x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %2 = arith.mulf %in, %in : f32
    linalg.yield %2 : f32
  } -> tensor<10x16xf32>
  %p = tensor.empty() : tensor<10x32xf32>
  %i = tensor.insert_slice %0 into %p[0, 0] [10, 16] [1, 1] : tensor<10x16xf32> into tensor<10x32xf32>
  %j = tensor.insert_slice %y into %i[0, 16] [10, 16] [1, 1] : tensor<10x16xf32> into tensor<10x32xf32>
  return %j : tensor<10x32xf32>
}

// -----

// Attention (contractions of activations with activations, no linear)
// takes query-rows-per-tile rows (2 here, against rows-per-tile 4): its
// query rows are the vectors of its key-major scores.

// CHECK-LABEL: func.func @attention_rows(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<1x2x10x4xf32>, %[[V:[a-z0-9_]+]]: tensor<1x2x4x8xf32>)
// CHECK:         scf.forall (%[[B:[a-z0-9_]+]], %[[H:[a-z0-9_]+]], %[[I:[a-z0-9_]+]]) = (0, 0, 0) to (1, 2, 10) step (1, 1, 2)
// CHECK:           %[[VS:[a-z0-9_]+]] = tensor.extract_slice %[[V]][%[[B]], %[[H]], 0, 0] [1, 1, 4, 8] [1, 1, 1, 1]
// CHECK:           linalg.generic {{.*}} ins(%{{.*}}, %[[VS]] : tensor<1x1x2x4xf32>, tensor<1x1x4x8xf32>)
func.func @attention_rows(%x: tensor<1x2x10x4xf32>, %v: tensor<1x2x4x8xf32>) -> tensor<1x2x10x8xf32> attributes {vit.kernel_name = "pv"} {
  %cst = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2x10x8xf32>
  %f = linalg.fill ins(%cst : f32) outs(%e : tensor<1x2x10x8xf32>) -> tensor<1x2x10x8xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(b, h, i, c, j) -> (b, h, i, j)>, affine_map<(b, h, i, c, j) -> (b, h, j, c)>, affine_map<(b, h, i, c, j) -> (b, h, i, c)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %v : tensor<1x2x10x4xf32>, tensor<1x2x4x8xf32>) outs(%f : tensor<1x2x10x8xf32>) {
  ^bb0(%in: f32, %w: f32, %acc: f32):
    %0 = arith.mulf %in, %w : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<1x2x10x8xf32>
  return %y : tensor<1x2x10x8xf32>
}

// -----

// A patch embedding: the linear reads the image rearranged into patches of
// a 3 x 3 grid. Its tiles are whole rows of the grid, 3 patches (not the 4
// of rows-per-tile), so a tile's patches are a box of the grid: the slice
// of the rearranged copy moves above the collapses and the rearrangement
// (linalg.transpose) fuses into the tile, reading only the tile's 4 rows of
// pixels of one image (the patch is 4 x 4). No whole-image copy is left
// before the tile loop.

// CHECK-LABEL: func.func @patch_embed(
// CHECK-SAME:    %[[IMG:[a-z0-9_]+]]: tensor<2x2x12x12xf32>
// CHECK-NOT:     linalg.transpose
// CHECK:         scf.forall (%[[J:[a-z0-9_]+]], %[[B:[a-z0-9_]+]], %[[I:[a-z0-9_]+]]) = (0, 0, 0) to (16, 2, 9) step (16, 1, 3)
// CHECK:           %[[GRID:[a-z0-9_]+]]:2 = affine.delinearize_index %[[I]] into (3, 3)
// CHECK:           %[[Y:[a-z0-9_]+]] = affine.linearize_index disjoint [%[[GRID]]#0, %{{.*}}] by (3, 4)
// CHECK:           %[[PIXELS:[a-z0-9_]+]] = tensor.extract_slice %[[IMG]][%[[B]], 0, %[[Y]], 0] [1, 2, 4, 12] [1, 1, 1, 1]
// CHECK:           %[[SPLIT:[a-z0-9_]+]] = tensor.expand_shape %[[PIXELS]]
// CHECK:           %[[PATCHES:[a-z0-9_]+]] = linalg.transpose ins(%[[SPLIT]] : tensor<1x2x1x4x3x4xf32>) outs(%{{.*}} : tensor<1x1x3x2x4x4xf32>)
// CHECK:           %[[ROWS:[a-z0-9_]+]] = tensor.collapse_shape %[[PATCHES]]
// CHECK:           %[[A:[a-z0-9_]+]] = tensor.collapse_shape %[[ROWS]] {{.*}} into tensor<3x32xf32>
// CHECK:           linalg.matmul {{.*}} ins(%[[A]], %{{.*}} : tensor<3x32xf32>, tensor<16x32xf32>)
func.func @patch_embed(%arg0: tensor<2x2x12x12xf32>, %arg1: tensor<16x32xf32>, %arg2: tensor<16xf32>, %arg3: tensor<9x16xf32>) -> tensor<2x9x16xf32> attributes {vit.kernel_name = "patch_embed"} {
  %expanded = tensor.expand_shape %arg0 [[0], [1], [2, 3], [4, 5]] output_shape [2, 2, 3, 4, 3, 4] : tensor<2x2x12x12xf32> into tensor<2x2x3x4x3x4xf32>
  %0 = tensor.empty() : tensor<2x3x3x2x4x4xf32>
  %transposed = linalg.transpose ins(%expanded : tensor<2x2x3x4x3x4xf32>) outs(%0 : tensor<2x3x3x2x4x4xf32>) permutation = [0, 2, 4, 1, 3, 5]
  %collapsed = tensor.collapse_shape %transposed [[0], [1, 2], [3, 4, 5]] : tensor<2x3x3x2x4x4xf32> into tensor<2x9x32xf32>
  %collapsed_0 = tensor.collapse_shape %collapsed [[0, 1], [2]] : tensor<2x9x32xf32> into tensor<18x32xf32>
  %1 = tensor.empty() : tensor<18x16xf32>
  %cst = arith.constant 0.000000e+00 : f32
  %2 = linalg.fill ins(%cst : f32) outs(%1 : tensor<18x16xf32>) -> tensor<18x16xf32>
  %3 = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>] ins(%collapsed_0, %arg1 : tensor<18x32xf32>, tensor<16x32xf32>) outs(%2 : tensor<18x16xf32>) -> tensor<18x16xf32>
  %expanded_1 = tensor.expand_shape %3 [[0, 1], [2]] output_shape [2, 9, 16] : tensor<18x16xf32> into tensor<2x9x16xf32>
  %4 = tensor.empty() : tensor<2x9x16xf32>
  %5 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%expanded_1, %arg2, %arg3 : tensor<2x9x16xf32>, tensor<16xf32>, tensor<9x16xf32>) outs(%4 : tensor<2x9x16xf32>) {
  ^bb0(%in: f32, %in_2: f32, %in_3: f32, %out: f32):
    %6 = arith.addf %in, %in_2 : f32
    %7 = arith.addf %6, %in_3 : f32
    linalg.yield %7 : f32
  } -> tensor<2x9x16xf32>
  return %5 : tensor<2x9x16xf32>
}

// -----

// A slice of a collapsed [3, 4] moves above the collapse when the tile's
// rows are a box of it: 4-row tiles of a [1, 12, 4] copied from a transposed
// [1, 3, 4, 4] are its rows (offsets multiples of 4), and the transposition
// fuses into the tile. Of a [2, 6] the same tiles straddle its rows: the
// slice stays, and the transposition is computed whole before the loop.

// CHECK-LABEL: func.func @aligned_rows(
// CHECK-NOT:     linalg.transpose
// CHECK:         scf.forall
// CHECK:           linalg.transpose ins(%{{.*}} : tensor<1x4x1x4xf32>) outs(%{{.*}} : tensor<1x1x4x4xf32>)
// CHECK-LABEL: func.func @straddling_rows(
// CHECK:         %[[T:[a-z0-9_]+]] = linalg.transpose ins(%{{.*}} : tensor<1x6x2x4xf32>) outs(%{{.*}} : tensor<1x2x6x4xf32>)
// CHECK:         %[[C:[a-z0-9_]+]] = tensor.collapse_shape %[[T]]
// CHECK:         scf.forall
// CHECK:           tensor.extract_slice %[[C]]
// CHECK-NOT:       linalg.transpose
func.func @aligned_rows(%x: tensor<1x4x3x4xf32>) -> tensor<1x12x4xf32> attributes {vit.kernel_name = "aligned"} {
  %e = tensor.empty() : tensor<1x3x4x4xf32>
  %t = linalg.transpose ins(%x : tensor<1x4x3x4xf32>) outs(%e : tensor<1x3x4x4xf32>) permutation = [0, 2, 1, 3]
  %c = tensor.collapse_shape %t [[0], [1, 2], [3]] : tensor<1x3x4x4xf32> into tensor<1x12x4xf32>
  %e2 = tensor.empty() : tensor<1x12x4xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%c : tensor<1x12x4xf32>) outs(%e2 : tensor<1x12x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.negf %in : f32
    linalg.yield %0 : f32
  } -> tensor<1x12x4xf32>
  return %y : tensor<1x12x4xf32>
}
func.func @straddling_rows(%x: tensor<1x6x2x4xf32>) -> tensor<1x12x4xf32> attributes {vit.kernel_name = "straddling"} {
  %e = tensor.empty() : tensor<1x2x6x4xf32>
  %t = linalg.transpose ins(%x : tensor<1x6x2x4xf32>) outs(%e : tensor<1x2x6x4xf32>) permutation = [0, 2, 1, 3]
  %c = tensor.collapse_shape %t [[0], [1, 2], [3]] : tensor<1x2x6x4xf32> into tensor<1x12x4xf32>
  %e2 = tensor.empty() : tensor<1x12x4xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%c : tensor<1x12x4xf32>) outs(%e2 : tensor<1x12x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.negf %in : f32
    linalg.yield %0 : f32
  } -> tensor<1x12x4xf32>
  return %y : tensor<1x12x4xf32>
}
