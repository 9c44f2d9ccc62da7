// RUN: vitc-opt %s -split-input-file \
// RUN:     -convert-vit-to-linalg -vit-cuda-gather-data-movement \
// RUN:     -vit-cuda-fold-reshapes -vit-cuda-destination-abi \
// RUN:     -vit-cuda-mma-linear -vit-cuda-tile-and-distribute -canonicalize \
// RUN: | FileCheck %s
// RUN: vitc-opt %s -split-input-file -convert-vit-to-linalg \
// RUN:     -vit-cuda-gather-data-movement -vit-cuda-fold-reshapes \
// RUN:     -vit-cuda-destination-abi -vit-cuda-mma-linear=tf32=true \
// RUN: | FileCheck %s --check-prefix=TF32
// RUN: not vitc-opt %s -split-input-file -convert-vit-to-linalg \
// RUN:     -vit-cuda-destination-abi -vit-cuda-mma-linear=sm=75 2>&1 \
// RUN: | FileCheck %s --check-prefix=OLD

// OLD: error: a linear with 'bf16' weights needs the tensor cores of sm_80 or newer (mma.sync, cp.async); compiling for sm_75

// A linear with a bf16 weight, [200, 96] x [96, 64]^T: on an A100 (108
// multiprocessors) 64 x 64 tiles give 4 x 2 blocks, so the tile halves to
// 64 x 32 (4 x 3), then 32 x 32 (7 x 3). One block loop holds the two
// 3-stage operand buffers (rows of 32 elements), one loop of 128 threads
// (four warps) does the rest: weight chunks by cp.async with a zero-fill
// count, input elements loaded, rounded to bf16 and stored in pairs, both
// read by ldmatrix.x4 and multiplied by mma.sync m16n8k16 (bf16 operands,
// row.col, f32 accumulators), the K loop (two tiles of 32) carrying the
// 1 x 2 tiles of 16 x 8 of a warp, 8 accumulators, and the async group; then the bias epilogue stores each
// element inside [200, 96]. vit-cuda-tile-and-distribute leaves it alone.
// CHECK-LABEL: func.func @linear(
// CHECK-SAME:      %[[X:[^:]*]]: memref<2x100x64xf32>, %[[W:[^:]*]]: memref<96x64xbf16>, %[[B:[^:]*]]: memref<96xf32>, %[[OUT:[^:]*]]: memref<2x100x96xf32>)
// CHECK-SAME:      vit.cuda.block_size = 128 : i64
// CHECK-SAME:      vit.cuda.block_tile = array<i64: 32, 32>
// CHECK-SAME:      vit.cuda.kernel_kind = "mma_linear"
// CHECK-NOT:     linalg.
// CHECK:         %[[VIEW:.*]] = memref.collapse_shape %[[OUT]] {{\[\[}}0, 1], [2]] : memref<2x100x96xf32> into memref<200x96xf32>
// CHECK:         scf.forall (%{{.*}}, %{{.*}}) in (7, 3) {
// CHECK-DAG:       %[[SA:.*]] = memref.alloc() : memref<3x32x32xbf16, #gpu.address_space<workgroup>>
// CHECK-DAG:       %[[SB:.*]] = memref.alloc() : memref<3x32x32xbf16, #gpu.address_space<workgroup>>
// CHECK:           scf.forall (%{{.*}}) in (128) {
// CHECK:             nvgpu.device_async_copy %[[W]][%{{.*}}, %{{.*}}], %[[SB]][%{{.*}}, %{{.*}}, %{{.*}}], 8, %{{.*}} {bypassL1} : memref<96x64xbf16> to memref<3x32x32xbf16, #gpu.address_space<workgroup>>
// CHECK:             scf.if %{{.*}} -> (vector<2xbf16>) {
// CHECK:               memref.load %[[X]]
// CHECK:               arith.truncf %{{.*}} : f32 to bf16
// CHECK:               vector.from_elements
// CHECK:             vector.store %{{.*}}, %[[SA]]
// CHECK:             nvgpu.device_async_create_group
// CHECK:             %[[LOOP:.*]]:9 = scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args({{.*}}) -> (f32, f32, f32, f32, f32, f32, f32, f32, !nvgpu.device.async.token) {
// CHECK:               nvgpu.device_async_wait %{{.*}} {numGroups = 1 : i32}
// CHECK-NEXT:          gpu.barrier
// CHECK:               scf.if
// CHECK:                 nvgpu.device_async_copy
// CHECK:               nvgpu.device_async_create_group
// CHECK:               nvgpu.ldmatrix %[[SA]][{{.*}}] {numTiles = 4 : i32, transpose = false} : memref<3x32x32xbf16, #gpu.address_space<workgroup>> -> vector<4x2xbf16>
// CHECK:               nvgpu.ldmatrix %[[SB]][{{.*}}] {numTiles = 4 : i32, transpose = false} : memref<3x32x32xbf16, #gpu.address_space<workgroup>> -> vector<4x2xbf16>
// CHECK:               nvvm.mma.sync A[{{.*}}] B[{{.*}}] C[{{.*}}] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// CHECK-COUNT-3:       nvvm.mma.sync
// CHECK:               scf.yield
// CHECK:             nvgpu.device_async_wait %[[LOOP]]#8 {numGroups = 0 : i32}
// CHECK:             scf.if
// CHECK:               memref.load %[[B]]
// CHECK:               arith.addf %[[LOOP]]#0
// CHECK:               memref.store %{{.*}}, %[[VIEW]]
// CHECK:           } {mapping = [#gpu.thread<linear_dim_0>]}
// CHECK:         } {mapping = [#gpu.block<linear_dim_1>, #gpu.block<linear_dim_0>]}
// CHECK-NOT:     bufferization.materialize_in_destination
func.func @linear(%x: tensor<2x100x64xf32>, %w: tensor<96x64xbf16>, %b: tensor<96xf32>) -> tensor<2x100x96xf32> attributes {vit.kernel_name = "linear"} {
  %y = vit.linear %x, %w bias(%b : tensor<96xf32>) : tensor<2x100x64xf32>, tensor<96x64xbf16> -> tensor<2x100x96xf32>
  return %y : tensor<2x100x96xf32>
}

// -----

// f16 weights on a grid that fills the multiprocessors: 64 x 64 tiles,
// warp tiles of 32 x 32 (2 x 4 MMAs of 16 x 8 per k16 step, 32
// accumulators), each thread copying two weight chunks per stage. GELU and
// a residual fuse into the epilogue.
// CHECK-LABEL: func.func @wide(
// CHECK-SAME:      vit.cuda.block_tile = array<i64: 64, 64>
// CHECK:         scf.forall (%{{.*}}, %{{.*}}) in (16, 48) {
// CHECK-DAG:       memref.alloc() : memref<3x64x32xf16, #gpu.address_space<workgroup>>
// CHECK:           scf.forall (%{{.*}}) in (128) {
// CHECK-COUNT-2:     nvgpu.device_async_copy {{.*}} : memref<3072x128xf16> to memref<3x64x32xf16, #gpu.address_space<workgroup>>
// CHECK:             arith.truncf %{{.*}} : f32 to f16
// CHECK:             scf.for {{.*}} -> (f32, {{.*}}, !nvgpu.device.async.token) {
// CHECK-COUNT-16:      nvvm.mma.sync {{.*}} shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (vector<2xf16>, vector<2xf16>, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// CHECK-NOT:           nvvm.mma.sync
// CHECK:               scf.yield
// CHECK:             math.erf
func.func @wide(%x: tensor<1000x128xf32>, %w: tensor<3072x128xf16>, %b: tensor<3072xf32>, %r: tensor<1000x3072xf32>) -> tensor<1000x3072xf32> attributes {vit.kernel_name = "wide"} {
  %y = vit.linear %x, %w bias(%b : tensor<3072xf32>) gelu = exact residual(%r : tensor<1000x3072xf32>) : tensor<1000x128xf32>, tensor<3072x128xf16> -> tensor<1000x3072xf32>
  return %y : tensor<1000x3072xf32>
}

// -----

// A patch embedding: the input elements are gathered from the image by the
// kernel's own gather (patchify), inside the tensor-core kernel.
// CHECK-LABEL: func.func @patch_embed(
// CHECK-SAME:      %[[IMAGE:[^:]*]]: memref<2x3x32x32xf32>
// CHECK-SAME:      vit.cuda.kernel_kind = "mma_linear"
// CHECK:         scf.if %{{.*}} -> (vector<2xbf16>) {
// CHECK:           memref.load %[[IMAGE]]
// CHECK:           arith.truncf
func.func @patch_embed(%image: tensor<2x3x32x32xf32>, %w: tensor<64x768xbf16>, %b: tensor<64xf32>) -> tensor<2x4x64xf32> attributes {vit.kernel_name = "patch_embed"} {
  %p = vit.patchify %image patch_size = 16 input_layout = nchw kernel_layout = oihw : tensor<2x3x32x32xf32> -> tensor<2x4x768xf32>
  %y = vit.linear %p, %w bias(%b : tensor<64xf32>) : tensor<2x4x768xf32>, tensor<64x768xbf16> -> tensor<2x4x64xf32>
  return %y : tensor<2x4x64xf32>
}

// -----

// A layer norm fused into the linear (vit-form-kernels'
// layer-norm-into-linear): before the pipeline, each warp sums rows w, w +
// 4, ... of the block's 32 (lanes striding over the 64 features, a
// butterfly of XOR shuffles), and lane 0 stores what the kernel keeps of
// each sum, the mean and then 1/sqrt(variance + eps) computed once per row,
// in a [2 x 32] f32 shared buffer, with a barrier after each. The operand's
// elements are then normalized as they are loaded, reading both from shared
// memory; no reduction is left in the kernel.
// CHECK-LABEL: func.func @normalized(
// CHECK-SAME:      %[[X:[^:]*]]: memref<2x100x64xf32>, %[[GAMMA:[^:]*]]: memref<64xf32>, %[[BETA:[^:]*]]: memref<64xf32>, %[[W:[^:]*]]: memref<96x64xbf16>
// CHECK-SAME:      vit.cuda.kernel_kind = "mma_linear"
// CHECK-NOT:     linalg.
// CHECK:         scf.forall (%{{.*}}, %{{.*}}) in (7, 3) {
// CHECK:           %[[STATS:.*]] = memref.alloc() : memref<2x32xf32, #gpu.address_space<workgroup>>
// CHECK:           scf.forall (%{{.*}}) in (128) {
// CHECK:             scf.for %{{.*}} = %[[C0:.*]] to %[[C8:.*]] step
// CHECK:               %[[SUM:.*]] = scf.for %{{.*}} = %[[LANE:.*]] to %[[C64:.*]] step %[[C32:.*]] iter_args(%{{.*}} = %{{.*}}) -> (f32) {
// CHECK:                 memref.load %[[X]]
// CHECK:               gpu.shuffle xor %[[SUM]]
// CHECK-COUNT-4:       gpu.shuffle xor
// CHECK:               %[[MEAN:.*]] = arith.divf
// CHECK:               scf.if
// CHECK-NEXT:            memref.store %[[MEAN]], %[[STATS]][%[[C0]], %{{.*}}]
// CHECK:             gpu.barrier
// CHECK:             scf.for %{{.*}} = %[[C0]] to %[[C8]] step
// CHECK:               scf.for %{{.*}} = %[[LANE]] to %[[C64]] step %[[C32]]
// CHECK:                 memref.load %[[X]]
// CHECK:                 memref.load %[[STATS]][%[[C0]], %{{.*}}]
// CHECK:                 arith.subf
// CHECK-COUNT-5:       gpu.shuffle xor
// CHECK:               %[[INV:.*]] = math.rsqrt
// CHECK:               scf.if
// CHECK-NEXT:            memref.store %[[INV]], %[[STATS]][%[[C1:.*]], %{{.*}}]
// CHECK:             gpu.barrier
// CHECK:             nvgpu.device_async_copy %[[W]]
// CHECK:             scf.if %{{.*}} -> (vector<2xbf16>) {
// CHECK:               memref.load %[[X]]
// CHECK:               memref.load %[[STATS]][%[[C0]], %{{.*}}]
// CHECK:               memref.load %[[STATS]][%[[C1]], %{{.*}}]
// CHECK:               memref.load %[[GAMMA]]
// CHECK:               memref.load %[[BETA]]
// CHECK-NOT:           math.rsqrt
// CHECK:               arith.truncf %{{.*}} : f32 to bf16
// CHECK:             nvvm.mma.sync
func.func @normalized(%x: tensor<2x100x64xf32>, %g: tensor<64xf32>, %beta: tensor<64xf32>, %w: tensor<96x64xbf16>) -> tensor<2x100x96xf32> attributes {vit.kernel_name = "normalized"} {
  %n = vit.layer_norm %x, %g, %beta epsilon = 1.0e-6 : tensor<2x100x64xf32>, tensor<64xf32>, tensor<64xf32>
  %y = vit.linear %n, %w : tensor<2x100x64xf32>, tensor<96x64xbf16> -> tensor<2x100x96xf32>
  return %y : tensor<2x100x96xf32>
}

// -----

// An f32 weight keeps the SIMT schedule.
// CHECK-LABEL: func.func @fp32(
// CHECK-SAME:      vit.cuda.kernel_kind = "linear"
// CHECK-NOT:     nvvm.mma.sync
func.func @fp32(%x: tensor<2x100x64xf32>, %w: tensor<96x64xf32>) -> tensor<2x100x96xf32> attributes {vit.kernel_name = "fp32"} {
  %y = vit.linear %x, %w : tensor<2x100x64xf32>, tensor<96x64xf32> -> tensor<2x100x96xf32>
  return %y : tensor<2x100x96xf32>
}

// -----

// tf32 (with the pass's tf32 option): an f32 weight and input, rows of 32
// f32 (8 chunks of 4), cp.async of 4 elements, ldmatrix moving f32 as b16
// pairs, m16n8k8 MMAs on operands rounded by cvt.rna.tf32.f32 as they are
// loaded.
// TF32-LABEL: func.func @tf32(
// TF32-SAME:      vit.cuda.kernel_kind = "mma_linear"
// TF32:         memref.alloc() : memref<3x32x32xf32, #gpu.address_space<workgroup>>
// TF32:         nvgpu.device_async_copy {{.*}}, 4, %{{.*}} {bypassL1} : memref<96x64xf32> to memref<3x32x32xf32, #gpu.address_space<workgroup>>
// TF32:         nvgpu.ldmatrix {{.*}} -> vector<4x1xf32>
// TF32:         nvvm.convert.float.to.tf32 %{{.*}} {rnd = #nvvm.fp_rnd_mode<rna>}
// TF32:         nvvm.mma.sync {{.*}} multiplicandAPtxType = #nvvm.mma_type<tf32>, multiplicandBPtxType = #nvvm.mma_type<tf32>, shape = #nvvm.shape<m = 16, n = 8, k = 8>}
func.func @tf32(%x: tensor<2x100x64xf32>, %w: tensor<96x64xf32>) -> tensor<2x100x96xf32> attributes {vit.kernel_name = "tf32"} {
  %y = vit.linear %x, %w : tensor<2x100x64xf32>, tensor<96x64xf32> -> tensor<2x100x96xf32>
  return %y : tensor<2x100x96xf32>
}
