// RUN: vitc-opt %s -split-input-file -verify-diagnostics \
// RUN:     -convert-vit-to-linalg -vit-cuda-gather-data-movement \
// RUN:     -vit-cuda-fold-reshapes \
// RUN:     -vit-approximate-math="functions=exp,erf,tanh kernels-only=true" \
// RUN:     -vit-cuda-destination-abi -vit-cuda-tile-and-distribute \
// RUN: | FileCheck %s
// RUN: vitc-opt %s -split-input-file -verify-diagnostics \
// RUN:     -convert-vit-to-linalg -vit-cuda-gather-data-movement \
// RUN:     -vit-cuda-fold-reshapes \
// RUN:     -vit-approximate-math="functions=exp,erf,tanh kernels-only=true" \
// RUN:     -vit-cuda-destination-abi \
// RUN:     -vit-cuda-tile-and-distribute="max-tile=4" \
// RUN: | FileCheck %s --check-prefix=SMALL

// Linear: [200, 96] output tiles of 8 x 32 (64 x 64 halved until the 108
// multiprocessors of an A100 have a block each, down to 8 x 32) on a grid
// of 25 x 3 blocks. The tile accumulates in workgroup memory over K steps
// of 16; each step first copies the step's operand tiles into padded
// workgroup buffers (rows of 17), then multiplies them. The bias epilogue
// writes the output tile.
// CHECK-LABEL: func.func @linear(
// CHECK-SAME:      %{{.*}}: memref<2x100x64xf32>, %{{.*}}: memref<96x64xf32>, %{{.*}}: memref<96xf32>, %[[OUT:.*]]: memref<2x100x96xf32>)
// CHECK-SAME:      vit.cuda.block_size = 256 : i64
// CHECK-SAME:      vit.cuda.block_tile = array<i64: 8, 32>
// CHECK-SAME:      vit.cuda.kernel_kind = "linear"
// CHECK:         %[[RESULT:.*]] = scf.forall (%{{.*}}, %{{.*}}) in (25, 3) shared_outs(%[[TILES:.*]] = %{{.*}}) -> (tensor<200x96xf32>)
// CHECK:           %[[ACC:.*]] = bufferization.alloc_tensor() {memory_space = #gpu.address_space<workgroup>} : tensor<8x32xf32>
// CHECK:           %[[ZERO:.*]] = scf.forall (%{{.*}}, %{{.*}}) in (8, 32) shared_outs(%{{.*}} = %[[ACC]])
// CHECK:             linalg.fill
// CHECK:           } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
// CHECK:           %[[PRODUCTS:.*]] = scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[SUM:.*]] = %[[ZERO]])
// CHECK:             %[[A:.*]] = bufferization.alloc_tensor() {memory_space = #gpu.address_space<workgroup>} : tensor<8x17xf32>
// CHECK:             %[[A_VIEW:.*]] = tensor.extract_slice %[[A]][0, 0] [8, 16] [1, 1]
// CHECK:             %[[A_STEP:.*]] = scf.forall (%{{.*}}, %{{.*}}) in (8, 16) shared_outs(%{{.*}} = %[[A_VIEW]])
// CHECK:               linalg.copy
// CHECK:             %[[B:.*]] = bufferization.alloc_tensor() {memory_space = #gpu.address_space<workgroup>} : tensor<32x17xf32>
// CHECK:             %[[B_VIEW:.*]] = tensor.extract_slice %[[B]][0, 0] [32, 16] [1, 1]
// CHECK:             %[[B_STEP:.*]] = scf.forall (%{{.*}}, %{{.*}}) in (16, 16) shared_outs(%{{.*}} = %[[B_VIEW]])
// CHECK:               linalg.copy
// CHECK:             %[[STEP:.*]] = scf.forall (%{{.*}}, %{{.*}}) in (8, 32) shared_outs(%{{.*}} = %[[SUM]])
// CHECK:               tensor.extract_slice %[[A_STEP]]
// CHECK:               tensor.extract_slice %[[B_STEP]]
// CHECK:               linalg.matmul
// CHECK:             scf.yield %[[STEP]]
// CHECK:           %[[TILE:.*]] = tensor.extract_slice %[[TILES]]
// CHECK:           scf.forall (%{{.*}}, %{{.*}}) in (8, 32) shared_outs(%{{.*}} = %[[TILE]])
// CHECK:             tensor.extract_slice %[[PRODUCTS]]
// CHECK:             linalg.generic
// CHECK:           } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
// CHECK:         } {mapping = [#gpu.block<linear_dim_1>, #gpu.block<linear_dim_0>]}
// CHECK:         %[[VIEW:.*]] = memref.collapse_shape %[[OUT]]
// CHECK:         bufferization.materialize_in_destination %[[RESULT]] in restrict writable %[[VIEW]]

// Capped at 4, the tile is 4 x 4; the 4 x 16 operand copies of a K step
// need the most threads, two warps.
// SMALL-LABEL: func.func @linear(
// SMALL-SAME:      vit.cuda.block_size = 64 : i64
// SMALL-SAME:      vit.cuda.block_tile = array<i64: 4, 4>
// SMALL:         scf.forall (%{{.*}}, %{{.*}}) in (50, 24)
func.func @linear(%x: tensor<2x100x64xf32>, %w: tensor<96x64xf32>, %b: tensor<96xf32>) -> tensor<2x100x96xf32> attributes {vit.kernel_name = "linear"} {
  %y = vit.linear %x, %w bias(%b : tensor<96xf32>) : tensor<2x100x64xf32>, tensor<96x64xf32> -> tensor<2x100x96xf32>
  return %y : tensor<2x100x96xf32>
}

// -----

// Layer norm: one row per block. Each row sum is split over 32 threads
// that read interleaved elements, then reduced by one thread; statistics
// stay in workgroup memory; all 64 threads normalize.
// CHECK-LABEL: func.func @layer_norm(
// CHECK-SAME:      vit.cuda.block_size = 64 : i64
// CHECK-SAME:      vit.cuda.block_tile = array<i64: 1, 1, 0>
// CHECK-SAME:      vit.cuda.kernel_kind = "row_reduction"
// CHECK:         scf.forall (%{{.*}}, %{{.*}}) in (2, 100)
// CHECK:           tensor.expand_shape %{{.*}} {{\[\[}}0], [1], [2, 3]] output_shape [1, 1, 2, 32]
// CHECK:           %[[PARTIALS:.*]] = bufferization.alloc_tensor() {memory_space = #gpu.address_space<workgroup>} : tensor<1x1x32xf32>
// CHECK:           scf.forall (%{{.*}}) in (32) shared_outs(%{{.*}} = %[[PARTIALS]])
// CHECK:           scf.forall (%{{.*}}) in (32)
// CHECK:             linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction", "parallel"]
// CHECK:           scf.forall (%{{.*}}) in (1)
// CHECK:             linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]
// CHECK:           scf.forall (%{{.*}}) in (64)
// CHECK:         } {mapping = [#gpu.block<linear_dim_1>, #gpu.block<linear_dim_0>]}
func.func @layer_norm(%x: tensor<2x100x64xf32>, %s: tensor<64xf32>, %t: tensor<64xf32>) -> tensor<2x100x64xf32> attributes {vit.kernel_name = "layer_norm"} {
  %y = vit.layer_norm %x, %s, %t epsilon = 1.0e-6 : tensor<2x100x64xf32>, tensor<64xf32>, tensor<64xf32>
  return %y : tensor<2x100x64xf32>
}

// -----

// Attention: a block owns 4 query rows of one head of one image (16 halved
// for occupancy); scores, exponentials and probabilities of those rows
// live in workgroup memory, sized for a full tile although the last tile
// has 2 rows.
// CHECK-LABEL: func.func @attention(
// CHECK-SAME:      vit.cuda.block_tile = array<i64: 1, 1, 4, 0, 0>
// CHECK-SAME:      vit.cuda.kernel_kind = "attention"
// CHECK:         scf.forall (%{{.*}}, %{{.*}}, %{{.*}}) in (2, 2, 13)
// CHECK-COUNT-3:   bufferization.alloc_tensor() {memory_space = #gpu.address_space<workgroup>} : tensor<1x1x4x50xf32>
// CHECK:         } {mapping = [#gpu.block<linear_dim_2>, #gpu.block<linear_dim_1>, #gpu.block<linear_dim_0>]}
func.func @attention(%qkv: tensor<2x50x96xf32>) -> tensor<2x50x32xf32> attributes {vit.kernel_name = "attention"} {
  %q = tensor.extract_slice %qkv[0, 0, 0] [2, 50, 32] [1, 1, 1] : tensor<2x50x96xf32> to tensor<2x50x32xf32>
  %k = tensor.extract_slice %qkv[0, 0, 32] [2, 50, 32] [1, 1, 1] : tensor<2x50x96xf32> to tensor<2x50x32xf32>
  %v = tensor.extract_slice %qkv[0, 0, 64] [2, 50, 32] [1, 1, 1] : tensor<2x50x96xf32> to tensor<2x50x32xf32>
  %y = vit.attention_core %q, %k, %v num_heads = 2 : tensor<2x50x32xf32>
  return %y : tensor<2x50x32xf32>
}

// -----

// A kernel is one launch writing one result.
// expected-error @below {{expected one kernel result computed by a linalg op}}
func.func @two_results(%x: tensor<2x4x8xf32>, %y: tensor<2x4x8xf32>) -> (tensor<2x4x8xf32>, tensor<2x4x8xf32>) attributes {vit.kernel_name = "two_results"} {
  %sum = vit.add %x, %y : tensor<2x4x8xf32>, tensor<2x4x8xf32>
  %twice = vit.add %sum, %y : tensor<2x4x8xf32>, tensor<2x4x8xf32>
  return %sum, %twice : tensor<2x4x8xf32>, tensor<2x4x8xf32>
}
