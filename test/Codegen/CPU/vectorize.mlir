// RUN: vitc-opt %s -split-input-file -vit-cpu-vectorize | FileCheck %s
// RUN: vitc-opt %s -split-input-file -vit-cpu-vectorize=vector-width=8 \
// RUN: | FileCheck %s --check-prefix=AVX2
// RUN: vitc-opt %s -split-input-file -vit-cpu-vectorize \
// RUN:   -loop-invariant-subset-hoisting -canonicalize | FileCheck %s --check-prefix=HOIST

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

// out[i, x] = sum_y p[i, y] v[y, x], an outer product: vectorized along x
// two vectors at a time (32 lanes of the default AVX-512 width), contiguous
// in v and out; p does not depend on x, so blocks of 8 rows (16 of the 24
// accumulator registers an outer product gets) share each pair of vectors
// of v. The reduction over y is the innermost loop.

// CHECK-LABEL: func.func @rows_times_matrix(
// CHECK-DAG:     %[[C5:.*]] = arith.constant 5 : index
// CHECK-DAG:     %[[C32:.*]] = arith.constant 32 : index
// CHECK-DAG:     %[[C64:.*]] = arith.constant 64 : index
// CHECK:         scf.for %{{.*}} = %{{.*}} to %[[C64]] step %[[C32]]
// CHECK:           scf.for %{{.*}} = %{{.*}} to %[[C5]] step
// CHECK:             vector.transfer_read {{.*}} : tensor<8x5xf32>, vector<8x32x1xf32>
// CHECK:             vector.transfer_read {{.*}} : tensor<5x64xf32>, vector<8x32x1xf32>
// CHECK:             vector.multi_reduction <add>, {{.*}} [2] : vector<8x32x1xf32> to vector<8x32xf32>
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

// A tile of a linear with packed weights, out[m, p, r] = sum_k x[m, k]
// w[p, k, r] with loops (m, p, k, r): an outer product along r. With
// AVX-512 (the default width, 16) each row takes the panel's 32 features as
// two vectors, and the 8 rows fit the 24 accumulator registers (16 used):
// one block per panel, k innermost, each step broadcasting x[m, k] and
// reading w[p, k, 0:32] once for the 8 rows. With AVX2 (width 8) a row
// takes 16 features and the block has 4 rows (8 of 12 registers; 8 rows
// would need 16).

// CHECK-LABEL: func.func @panel_tile(
// CHECK:         scf.for %[[P:.*]] = %{{.*}} to %{{.*}} step
// CHECK-NEXT:      scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step
// CHECK-NEXT:        vector.transfer_read %{{.*}}[%{{.*}}, %[[K]]]{{.*}} : tensor<8x16xf32>, vector<8x1x1x32xf32>
// CHECK-NEXT:        vector.transfer_read %{{.*}}[%[[P]], %[[K]], %{{.*}}]{{.*}} : tensor<2x16x32xf32>, vector<8x1x1x32xf32>
// CHECK:             vector.multi_reduction <add>, {{.*}} [2] : vector<8x1x1x32xf32> to vector<8x1x32xf32>
// AVX2-LABEL: func.func @panel_tile(
// AVX2:         scf.for
// AVX2-NEXT:      scf.for %{{.*}} = %{{.*}} to %{{.*}} step %[[C4:.*]] iter_args
// AVX2-NEXT:        scf.for %{{.*}} = %{{.*}} to %{{.*}} step %[[C16:.*]] iter_args
// AVX2-NEXT:          scf.for
// AVX2-NEXT:            vector.transfer_read {{.*}} : tensor<8x16xf32>, vector<4x1x1x16xf32>
// AVX2-NEXT:            vector.transfer_read {{.*}} : tensor<2x16x32xf32>, vector<4x1x1x16xf32>
func.func @panel_tile(%x: tensor<8x16xf32>, %w: tensor<2x16x32xf32>, %o: tensor<8x2x32xf32>) -> tensor<8x2x32xf32> attributes {vit.kernel_name = "panels"} {
  %r = linalg.generic {indexing_maps = [affine_map<(m, p, k, r) -> (m, k)>, affine_map<(m, p, k, r) -> (p, k, r)>, affine_map<(m, p, k, r) -> (m, p, r)>], iterator_types = ["parallel", "parallel", "reduction", "parallel"]}
      ins(%x, %w : tensor<8x16xf32>, tensor<2x16x32xf32>) outs(%o : tensor<8x2x32xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %0 = arith.mulf %a, %b : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<8x2x32xf32>
  return %r : tensor<8x2x32xf32>
}

// -----

// The same outer product from a zero fill, then an epilogue adding a bias
// and a residual: the epilogue is tiled by the register block and the fill
// and the outer product are fused into each block. Each block's k loop
// accumulates from zeros, the epilogue adds to the sums, and the block is
// written once, to the output: no temporary tile is filled, stored or read
// back (once the pipeline hoists the accumulators out of the k loop, as the
// HOIST run does, the zeros and the sums stay in registers).

// CHECK-LABEL: func.func @panel_epilogue(
// CHECK-SAME:    %[[O:[^:]+]]: tensor<8x2x32xf32>) -> tensor<8x2x32xf32>
// CHECK-DAG:     %[[ZEROS:.*]] = arith.constant dense<0.000000e+00> : vector<8x1x32xf32>
// CHECK:         scf.for %[[P:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[OUT:.*]] = %[[O]])
// CHECK:           %[[Z:.*]] = vector.transfer_write %[[ZEROS]], %{{.*}} : vector<8x1x32xf32>, tensor<8x1x32xf32>
// CHECK:           %[[ACC:.*]] = scf.for %{{.*}} iter_args(%{{.*}} = %[[Z]]) -> (tensor<8x1x32xf32>)
// CHECK:             vector.multi_reduction <add>, {{.*}} [2] : vector<8x1x1x32xf32> to vector<8x1x32xf32>
// CHECK:           %[[V:.*]] = vector.transfer_read %[[ACC]]{{.*}} : tensor<8x1x32xf32>, vector<8x1x32xf32>
// CHECK:           %[[BIAS:.*]] = vector.transfer_read {{.*}} : tensor<2x32xf32>, vector<8x1x32xf32>
// CHECK:           %[[RES:.*]] = vector.transfer_read {{.*}} : tensor<8x2x32xf32>, vector<8x1x32xf32>
// CHECK:           %[[SUM:.*]] = arith.addf %[[V]], %[[BIAS]] : vector<8x1x32xf32>
// CHECK:           %[[Y:.*]] = arith.addf %[[SUM]], %[[RES]] : vector<8x1x32xf32>
// CHECK:           vector.transfer_write %[[Y]], %[[OUT]][%{{.*}}, %[[P]], %{{.*}}] {{.*}} : vector<8x1x32xf32>, tensor<8x2x32xf32>
// CHECK-NOT:     linalg.
// HOIST-LABEL: func.func @panel_epilogue(
// HOIST-NOT:     tensor.empty
// HOIST:         %[[ACC:.*]] = scf.for %{{.*}} iter_args(%{{.*}} = %[[ZEROS:.*]]) -> (vector<8x1x32xf32>)
// HOIST:         arith.addf %[[ACC]], %{{.*}} : vector<8x1x32xf32>
// AVX2-LABEL: func.func @panel_epilogue(
// AVX2:         vector.multi_reduction <add>, {{.*}} : vector<4x1x1x16xf32> to vector<4x1x16xf32>
// AVX2:         arith.addf %{{.*}} : vector<4x1x16xf32>
func.func @panel_epilogue(%x: tensor<8x16xf32>, %w: tensor<2x16x32xf32>, %b: tensor<2x32xf32>, %res: tensor<8x2x32xf32>, %o: tensor<8x2x32xf32>) -> tensor<8x2x32xf32> attributes {vit.kernel_name = "panels"} {
  %cst = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x2x32xf32>
  %z = linalg.fill ins(%cst : f32) outs(%e : tensor<8x2x32xf32>) -> tensor<8x2x32xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(m, p, k, r) -> (m, k)>, affine_map<(m, p, k, r) -> (p, k, r)>, affine_map<(m, p, k, r) -> (m, p, r)>], iterator_types = ["parallel", "parallel", "reduction", "parallel"]}
      ins(%x, %w : tensor<8x16xf32>, tensor<2x16x32xf32>) outs(%z : tensor<8x2x32xf32>) {
  ^bb0(%a: f32, %bw: f32, %acc: f32):
    %0 = arith.mulf %a, %bw : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<8x2x32xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(m, p, r) -> (m, p, r)>, affine_map<(m, p, r) -> (p, r)>, affine_map<(m, p, r) -> (m, p, r)>, affine_map<(m, p, r) -> (m, p, r)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%r, %b, %res : tensor<8x2x32xf32>, tensor<2x32xf32>, tensor<8x2x32xf32>) outs(%o : tensor<8x2x32xf32>) {
  ^bb0(%in: f32, %bias: f32, %resid: f32, %out: f32):
    %0 = arith.addf %in, %bias : f32
    %1 = arith.addf %0, %resid : f32
    linalg.yield %1 : f32
  } -> tensor<8x2x32xf32>
  return %y : tensor<8x2x32xf32>
}

// -----

// An epilogue may write its result transposed (attention's division by the
// row sums goes from [heads, queries, channels] to [queries, heads,
// channels]): it is fused all the same, and each block's quotients are
// written once, through a transposing write.

// CHECK-LABEL: func.func @transposed_epilogue(
// CHECK-DAG:     %[[ZEROS:.*]] = arith.constant dense<0.000000e+00> : vector<8x1x32xf32>
// CHECK:         vector.transfer_write %[[ZEROS]]
// CHECK:         %[[ACC:.*]] = scf.for
// CHECK:         %[[V:.*]] = vector.transfer_read %[[ACC]]
// CHECK:         %[[Q:.*]] = arith.divf %[[V]], %{{.*}} : vector<8x1x32xf32>
// CHECK:         vector.transfer_write %[[Q]], %{{.*}} {in_bounds = [true, true, true], permutation_map = #{{.*}}} : vector<8x1x32xf32>, tensor<1x8x32xf32>
// CHECK-NOT:     linalg.
func.func @transposed_epilogue(%x: tensor<8x16xf32>, %w: tensor<2x16x32xf32>, %s: tensor<8xf32>, %o: tensor<2x8x32xf32>) -> tensor<2x8x32xf32> attributes {vit.kernel_name = "panels"} {
  %cst = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x2x32xf32>
  %z = linalg.fill ins(%cst : f32) outs(%e : tensor<8x2x32xf32>) -> tensor<8x2x32xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(m, p, k, r) -> (m, k)>, affine_map<(m, p, k, r) -> (p, k, r)>, affine_map<(m, p, k, r) -> (m, p, r)>], iterator_types = ["parallel", "parallel", "reduction", "parallel"]}
      ins(%x, %w : tensor<8x16xf32>, tensor<2x16x32xf32>) outs(%z : tensor<8x2x32xf32>) {
  ^bb0(%a: f32, %bw: f32, %acc: f32):
    %0 = arith.mulf %a, %bw : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<8x2x32xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(m, p, r) -> (m, p, r)>, affine_map<(m, p, r) -> (m)>, affine_map<(m, p, r) -> (p, m, r)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%r, %s : tensor<8x2x32xf32>, tensor<8xf32>) outs(%o : tensor<2x8x32xf32>) {
  ^bb0(%in: f32, %sum: f32, %out: f32):
    %0 = arith.divf %in, %sum : f32
    linalg.yield %0 : f32
  } -> tensor<2x8x32xf32>
  return %y : tensor<2x8x32xf32>
}

// -----

// An epilogue with a polynomial to evaluate (GELU's erf) keeps its own pass
// over the tile: on a whole register block at once it would spill. The
// outer product accumulates in the zero-filled temporary, which the
// epilogue then reads one vector at a time.

// CHECK-LABEL: func.func @panel_gelu(
// CHECK:         %[[T:.*]] = scf.for {{.*}} -> (tensor<8x2x32xf32>)
// CHECK:           vector.transfer_write {{.*}} : vector<1x1x32xf32>, tensor<8x2x32xf32>
// CHECK:         %[[ACC:.*]] = scf.for {{.*}} -> (tensor<8x2x32xf32>)
// CHECK:           vector.multi_reduction <add>, {{.*}} : vector<8x1x1x32xf32> to vector<8x1x32xf32>
// CHECK:         scf.for
// CHECK:           vector.transfer_read %[[ACC]]{{.*}} : tensor<8x2x32xf32>, vector<1x1x32xf32>
// CHECK:           math.erf %{{.*}} : vector<1x1x32xf32>
func.func @panel_gelu(%x: tensor<8x16xf32>, %w: tensor<2x16x32xf32>, %o: tensor<8x2x32xf32>) -> tensor<8x2x32xf32> attributes {vit.kernel_name = "panels"} {
  %cst = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x2x32xf32>
  %z = linalg.fill ins(%cst : f32) outs(%e : tensor<8x2x32xf32>) -> tensor<8x2x32xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(m, p, k, r) -> (m, k)>, affine_map<(m, p, k, r) -> (p, k, r)>, affine_map<(m, p, k, r) -> (m, p, r)>], iterator_types = ["parallel", "parallel", "reduction", "parallel"]}
      ins(%x, %w : tensor<8x16xf32>, tensor<2x16x32xf32>) outs(%z : tensor<8x2x32xf32>) {
  ^bb0(%a: f32, %bw: f32, %acc: f32):
    %0 = arith.mulf %a, %bw : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<8x2x32xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(m, p, r) -> (m, p, r)>, affine_map<(m, p, r) -> (m, p, r)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%r : tensor<8x2x32xf32>) outs(%o : tensor<8x2x32xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = math.erf %in : f32
    linalg.yield %0 : f32
  } -> tensor<8x2x32xf32>
  return %y : tensor<8x2x32xf32>
}

// -----

// Attention's key-major scores, s[j, i] = sum_d k[j, d] qT[d, i]: an outer
// product along the contiguous queries i, blocks of keys j sharing each
// vector of qT. No block near the register budget divides 13 keys (a prime,
// as 197 is), so the keys are split into 12, taken as whole blocks, and the
// remainder of 1: with AVX-512 12 keys x 32 queries (24 accumulators), with
// AVX2 blocks of 6 keys x 16 queries.

// CHECK-LABEL: func.func @key_major_scores(
// CHECK:         tensor.extract_slice %{{.*}}[0, 0] [12, 32] [1, 1] : tensor<13x32xf32> to tensor<12x32xf32>
// CHECK:         scf.for
// CHECK:           vector.transfer_read {{.*}} : tensor<13x4xf32>, vector<12x1x32xf32>
// CHECK:           vector.transfer_read {{.*}} : tensor<4x32xf32>, vector<12x1x32xf32>
// CHECK:         tensor.extract_slice %{{.*}}[12, 0] [1, 32] [1, 1] : tensor<13x32xf32> to tensor<1x32xf32>
// CHECK:         scf.for
// CHECK:           vector.transfer_read {{.*}} : tensor<13x4xf32>, vector<1x1x32xf32>
// AVX2-LABEL: func.func @key_major_scores(
// AVX2:         scf.for %{{.*}} = %{{.*}} to %c12 step %c6
// AVX2:           vector.transfer_read {{.*}} : tensor<13x4xf32>, vector<6x1x16xf32>
// AVX2:         tensor.extract_slice %{{.*}}[12, 0] [1, 32] [1, 1]
// AVX2:           vector.transfer_read {{.*}} : tensor<13x4xf32>, vector<1x1x16xf32>
func.func @key_major_scores(%k: tensor<13x4xf32>, %q: tensor<4x32xf32>, %o: tensor<13x32xf32>) -> tensor<13x32xf32> attributes {vit.kernel_name = "scores"} {
  %r = linalg.generic {indexing_maps = [affine_map<(j, d, i) -> (j, d)>, affine_map<(j, d, i) -> (d, i)>, affine_map<(j, d, i) -> (j, i)>], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%k, %q : tensor<13x4xf32>, tensor<4x32xf32>) outs(%o : tensor<13x32xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %0 = arith.mulf %a, %b : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<13x32xf32>
  return %r : tensor<13x32xf32>
}

// -----

// Attention's products out[i, d] = sum_j e[j, i] v[j, d] with key-major
// probabilities: the rows i of a block are contiguous in e, so the read of
// e broadcast along d is unrolled to one row per read (a scalar load and a
// broadcast each) instead of a transposition: 8 reads with AVX-512 (8 rows
// x 32 channels), 4 with AVX2.

// CHECK-LABEL: func.func @key_major_products(
// CHECK:         scf.for
// CHECK-COUNT-8:   vector.transfer_read {{.*}} : tensor<5x8xf32>, vector<1x1x32xf32>
// CHECK-NOT:       tensor<5x8xf32>, vector<8x1x32xf32>
// CHECK:           vector.transfer_read {{.*}} : tensor<5x32xf32>, vector<8x1x32xf32>
// AVX2-LABEL: func.func @key_major_products(
// AVX2-COUNT-4:   vector.transfer_read {{.*}} : tensor<5x8xf32>, vector<1x1x16xf32>
// AVX2-NOT:       tensor<5x8xf32>, vector<4x1x16xf32>
// AVX2:           vector.transfer_read {{.*}} : tensor<5x32xf32>, vector<4x1x16xf32>
func.func @key_major_products(%e: tensor<5x8xf32>, %v: tensor<5x32xf32>, %o: tensor<8x32xf32>) -> tensor<8x32xf32> attributes {vit.kernel_name = "pv"} {
  %r = linalg.generic {indexing_maps = [affine_map<(i, j, d) -> (j, i)>, affine_map<(i, j, d) -> (j, d)>, affine_map<(i, j, d) -> (i, d)>], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%e, %v : tensor<5x8xf32>, tensor<5x32xf32>) outs(%o : tensor<8x32xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %0 = arith.mulf %a, %b : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<8x32xf32>
  return %r : tensor<8x32xf32>
}

// -----

// An outer product's vectors are whole registers where a multiple of the
// width divides the extent: 24 queries take vectors of 8 with AVX2, not 12
// (which LLVM would assemble lane by lane); with AVX-512 no multiple of 16
// divides 24, and the whole extent is one vector.

// CHECK-LABEL: func.func @queries_24(
// CHECK:         vector.transfer_read {{.*}} : tensor<4x24xf32>, vector<6x1x24xf32>
// AVX2-LABEL: func.func @queries_24(
// AVX2:         scf.for %{{.*}} = %{{.*}} to %c24 step %c8
// AVX2:           vector.transfer_read {{.*}} : tensor<4x24xf32>, vector<6x1x8xf32>
func.func @queries_24(%k: tensor<6x4xf32>, %q: tensor<4x24xf32>, %o: tensor<6x24xf32>) -> tensor<6x24xf32> attributes {vit.kernel_name = "scores"} {
  %r = linalg.generic {indexing_maps = [affine_map<(j, d, i) -> (j, d)>, affine_map<(j, d, i) -> (d, i)>, affine_map<(j, d, i) -> (j, i)>], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%k, %q : tensor<6x4xf32>, tensor<4x24xf32>) outs(%o : tensor<6x24xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %0 = arith.mulf %a, %b : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<6x24xf32>
  return %r : tensor<6x24xf32>
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
