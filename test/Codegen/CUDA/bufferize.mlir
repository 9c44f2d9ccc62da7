// RUN: vitc-opt %s -convert-vit-to-linalg -vit-cuda-gather-data-movement \
// RUN:     -vit-cuda-fold-reshapes \
// RUN:     -vit-approximate-math="functions=exp,erf,tanh kernels-only=true" \
// RUN:     -vit-cuda-destination-abi -vit-cuda-tile-and-distribute \
// RUN:     -vit-cuda-bufferize | FileCheck %s

// The target-neutral GPU form: no tensors, no copies; the matmul tile is a
// workgroup buffer allocated inside the block loop and the epilogue writes
// the output argument (through a view) in place.
// CHECK-LABEL: func.func @linear(
// CHECK-SAME:      %[[X:[^:]*]]: memref<2x100x64xf32>, %{{.*}}: memref<96x64xf32>, %{{.*}}: memref<96xf32>, %[[OUT:.*]]: memref<2x100x96xf32>)
// CHECK-NOT:     tensor
// CHECK-NOT:     memref.copy
// CHECK-DAG:     %[[ROWS:.*]] = memref.collapse_shape %[[X]]
// CHECK-DAG:     %[[OUTPUT:.*]] = memref.collapse_shape %[[OUT]] {{.*}} into memref<200x96xf32>
// CHECK:         scf.forall (%{{.*}}, %{{.*}}) in (25, 3) {
// CHECK:           memref.subview %[[ROWS]]
// CHECK:           %[[ACC:.*]] = memref.alloc() {{.*}} : memref<8x32xf32, #gpu.address_space<workgroup>>
// CHECK:           scf.forall
// CHECK:             linalg.fill {{.*}} #gpu.address_space<workgroup>>)
// CHECK:             linalg.matmul
// CHECK:           } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
// CHECK:           %[[TILE:.*]] = memref.subview %[[OUTPUT]]
// CHECK:           scf.forall
// CHECK:             memref.subview %[[ACC]]
// CHECK:             %[[ELEMENT:.*]] = memref.subview %[[TILE]]
// CHECK:             linalg.generic {{.*}} outs(%[[ELEMENT]]
// CHECK:           } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
// CHECK:         } {mapping = [#gpu.block<linear_dim_1>, #gpu.block<linear_dim_0>]}
// CHECK-NOT:     memref.copy
// CHECK:         return
func.func @linear(%x: tensor<2x100x64xf32>, %w: tensor<96x64xf32>, %b: tensor<96xf32>) -> tensor<2x100x96xf32> attributes {vit.kernel_name = "linear"} {
  %y = vit.linear %x, %w bias(%b : tensor<96xf32>) : tensor<2x100x64xf32>, tensor<96x64xf32> -> tensor<2x100x96xf32>
  return %y : tensor<2x100x96xf32>
}
