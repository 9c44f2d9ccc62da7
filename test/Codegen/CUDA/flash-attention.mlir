// RUN: vitc-opt %s -split-input-file \
// RUN:     -convert-vit-to-linalg -vit-cuda-gather-data-movement \
// RUN:     -vit-cuda-fold-reshapes -vit-cuda-destination-abi \
// RUN:     -vit-cuda-flash-attention -vit-cuda-tile-and-distribute -canonicalize \
// RUN: | FileCheck %s
// RUN: vitc-opt %s -split-input-file \
// RUN:     -convert-vit-to-linalg -vit-cuda-gather-data-movement \
// RUN:     -vit-cuda-fold-reshapes -vit-cuda-destination-abi \
// RUN:     -vit-cuda-flash-attention=precision=f16 -canonicalize \
// RUN: | FileCheck %s --check-prefix=F16
// RUN: not vitc-opt %s -convert-vit-to-linalg -vit-cuda-destination-abi \
// RUN:     -vit-cuda-flash-attention=precision=f8 2>&1 \
// RUN: | FileCheck %s --check-prefix=BAD

// BAD: error: vit-cuda-flash-attention: unknown precision 'f8'; expected bf16 or f16

// Two images of 50 tokens, two heads of width 32: one block of 128 threads
// per (image x head, 64 queries), 4 x 1 blocks. Q is computed, rounded to
// bf16 and stored once, then each warp loads its 16 x 32 Q fragments (two
// k16 steps) with ldmatrix. The loop over 2 blocks of 32 keys carries the
// maxima and sums of the thread's two rows and the 4 x 4 accumulators of
// O (a warp's 16 x 32); each step stages K and V between barriers, computes
// S with mma.sync (K rows as B's columns), scales it into base 2 with
// log2(e) / sqrt(32) = 0.255, masks keys past 50, takes row maxima over the
// quad (shuffles 1 and 2), rescales by exp2, and adds P V, reading V with
// ldmatrix.trans. The result, divided by the quad's row sum, is stored in
// the [2, 50, 2, 32] view of the output for the queries inside 50.
// CHECK-LABEL: func.func @attention(
// CHECK-SAME:      %[[QKV:[^:]*]]: memref<2x50x96xf32>, %[[OUT:[^:]*]]: memref<2x50x64xf32>)
// CHECK-SAME:      vit.cuda.block_size = 128 : i64
// CHECK-SAME:      vit.cuda.block_tile = array<i64: 1, 64>
// CHECK-SAME:      vit.cuda.kernel_kind = "flash_attention"
// CHECK-SAME:      vit.cuda.min_blocks_per_multiprocessor = 1 : i64
// CHECK-DAG:     %[[SCALE:.*]] = arith.constant 0.255034{{[0-9]*}} : f32
// CHECK-DAG:     %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK-NOT:     linalg.
// CHECK:         %[[VIEW:.*]] = memref.expand_shape %[[OUT]] {{\[\[}}0], [1], [2, 3]] output_shape [2, 50, 2, 32]
// CHECK:         scf.forall (%{{.*}}, %{{.*}}) in (4, 1) {
// CHECK-DAG:       %[[Q:.*]] = memref.alloc() : memref<64x32xbf16, #gpu.address_space<workgroup>>
// CHECK-DAG:       %[[K:.*]] = memref.alloc() : memref<32x32xbf16, #gpu.address_space<workgroup>>
// CHECK-DAG:       %[[V:.*]] = memref.alloc() : memref<32x32xbf16, #gpu.address_space<workgroup>>
// CHECK:           scf.forall (%{{.*}}) in (128) {
// CHECK:             memref.load %[[QKV]]
// CHECK:             arith.truncf %{{.*}} : f32 to bf16
// CHECK:             vector.store %{{.*}}, %[[Q]]
// CHECK:             gpu.barrier
// CHECK-COUNT-2:     nvgpu.ldmatrix %[[Q]][{{.*}}] {numTiles = 4 : i32, transpose = false}
// CHECK:             %[[LOOP:.*]]:20 = scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args({{.*}}) -> (f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32) {
// CHECK:               gpu.barrier
// CHECK:               vector.store %{{.*}}, %[[K]]
// CHECK:               vector.store %{{.*}}, %[[V]]
// CHECK:               gpu.barrier
// CHECK:               nvgpu.ldmatrix %[[K]][{{.*}}] {numTiles = 4 : i32, transpose = false}
// CHECK:               nvvm.mma.sync {{.*}} multiplicandAPtxType = #nvvm.mma_type<bf16>
// CHECK:               arith.cmpi ult, %{{.*}}, %{{.*}} : index
// CHECK:               %[[SCALED:.*]] = arith.mulf %{{.*}}, %[[SCALE]] : f32
// CHECK:               arith.select %{{.*}}, %[[SCALED]], %[[NEGINF]] : f32
// CHECK:               gpu.shuffle xor %{{.*}}, %{{.*}}, %{{.*}} : f32
// CHECK:               math.exp2
// CHECK:               nvgpu.ldmatrix %[[V]][{{.*}}] {numTiles = 4 : i32, transpose = true}
// CHECK:               nvvm.mma.sync
// CHECK:               scf.yield
// CHECK:             gpu.shuffle xor %[[LOOP]]#2
// CHECK:             arith.divf
// CHECK:             scf.if
// CHECK:               memref.store %{{.*}}, %[[VIEW]]
// CHECK:           } {mapping = [#gpu.thread<linear_dim_0>]}
// CHECK:         } {mapping = [#gpu.block<linear_dim_1>, #gpu.block<linear_dim_0>]}
// F16-LABEL: func.func @attention(
// F16:         memref.alloc() : memref<64x32xf16, #gpu.address_space<workgroup>>
// F16:         nvvm.mma.sync {{.*}} : (vector<2xf16>, vector<2xf16>, f32) -> !llvm.struct<(f32, f32, f32, f32)>
func.func @attention(%qkv: tensor<2x50x96xf32>) -> tensor<2x50x64xf32> attributes {vit.kernel_name = "attention"} {
  %q = tensor.extract_slice %qkv[0, 0, 0] [2, 50, 64] [1, 1, 1] : tensor<2x50x96xf32> to tensor<2x50x64xf32>
  %k = tensor.extract_slice %qkv[0, 0, 16] [2, 50, 64] [1, 1, 1] : tensor<2x50x96xf32> to tensor<2x50x64xf32>
  %v = tensor.extract_slice %qkv[0, 0, 32] [2, 50, 64] [1, 1, 1] : tensor<2x50x96xf32> to tensor<2x50x64xf32>
  %y = vit.attention_core %q, %k, %v num_heads = 2 : tensor<2x50x64xf32>
  return %y : tensor<2x50x64xf32>
}

// -----

// A linear is not attention: untouched (here, by the SIMT tiling).
// CHECK-LABEL: func.func @linear(
// CHECK-SAME:      vit.cuda.kernel_kind = "linear"
// CHECK-NOT:     nvvm.mma.sync
func.func @linear(%x: tensor<2x100x64xf32>, %w: tensor<96x64xf32>) -> tensor<2x100x96xf32> attributes {vit.kernel_name = "linear"} {
  %y = vit.linear %x, %w : tensor<2x100x64xf32>, tensor<96x64xf32> -> tensor<2x100x96xf32>
  return %y : tensor<2x100x96xf32>
}
