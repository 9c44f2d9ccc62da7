// RUN: vitc-opt %s -vit-cpu-codegen-pipeline="rows-per-tile=4 columns-per-tile=16" | FileCheck %s

// A linear with a GELU epilogue, from linalg on tensors to LLVM dialect:
// one exported entry point in the bindings convention calling the internal
// kernel, vector code, no calls to libm or MLIR's runtime library, and only
// malloc/free for the tile's temporaries.

// CHECK-NOT:   llvm.func @erff
// CHECK-NOT:   llvm.func @memrefCopy
// CHECK-DAG:   llvm.func @malloc(i64) -> !llvm.ptr
// CHECK-DAG:   llvm.func @free(!llvm.ptr)
// CHECK:       llvm.func internal @fc1_impl(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: i64, %{{.*}}: i64)
// CHECK:         llvm.fmul {{.*}} : vector<16xf32>
// CHECK:         llvm.intr.vector.reduce.fadd
// CHECK:       llvm.func @fc1(%{{.*}}: !llvm.ptr, %{{.*}}: i64, %{{.*}}: i64)
// CHECK-SAME:    vit.kernel_name = "fc1", vit.num_tiles = 6 : i64
// CHECK:         llvm.call @fc1_impl
// CHECK-NOT:   llvm.call @erff
func.func @fc1(%x: tensor<1x10x32xf32>, %w: tensor<32x32xf32>, %b: tensor<32xf32>) -> tensor<1x10x32xf32> attributes {vit.kernel_name = "fc1"} {
  %cst = arith.constant 0.0 : f32
  %xr = tensor.collapse_shape %x [[0, 1], [2]] : tensor<1x10x32xf32> into tensor<10x32xf32>
  %e0 = tensor.empty() : tensor<10x32xf32>
  %f = linalg.fill ins(%cst : f32) outs(%e0 : tensor<10x32xf32>) -> tensor<10x32xf32>
  %m = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>]
      ins(%xr, %w : tensor<10x32xf32>, tensor<32x32xf32>) outs(%f : tensor<10x32xf32>) -> tensor<10x32xf32>
  %me = tensor.expand_shape %m [[0, 1], [2]] output_shape [1, 10, 32] : tensor<10x32xf32> into tensor<1x10x32xf32>
  %e1 = tensor.empty() : tensor<1x10x32xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%me, %b : tensor<1x10x32xf32>, tensor<32xf32>) outs(%e1 : tensor<1x10x32xf32>) {
  ^bb0(%in: f32, %bias: f32, %out: f32):
    %c = arith.constant 0.707106769 : f32
    %half = arith.constant 0.5 : f32
    %one = arith.constant 1.0 : f32
    %0 = arith.addf %in, %bias : f32
    %1 = arith.mulf %0, %c : f32
    %2 = math.erf %1 : f32
    %3 = arith.addf %2, %one : f32
    %4 = arith.mulf %0, %half : f32
    %5 = arith.mulf %4, %3 : f32
    linalg.yield %5 : f32
  } -> tensor<1x10x32xf32>
  return %y : tensor<1x10x32xf32>
}
