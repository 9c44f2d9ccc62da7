// RUN: vitc-opt %s -split-input-file -convert-vit-to-linalg \
// RUN:     -vit-cuda-gather-data-movement | FileCheck %s

// Prepend token: the insert_slices become one element-wise gather that
// reads the token row or the shifted tokens.
// CHECK-LABEL: func.func @prepend_token
// CHECK-NOT:     tensor.insert_slice
// CHECK:         linalg.generic
// CHECK-SAME:        iterator_types = ["parallel", "parallel", "parallel"]
// CHECK-SAME:        outs(%{{.*}} : tensor<2x5x8xf32>)
// CHECK:           %[[ROW:.*]] = linalg.index 1 : index
// CHECK:           %[[TOKEN:.*]] = tensor.extract %arg0[%{{.*}}, %{{.*}}, %{{.*}}] : tensor<2x4x8xf32>
// CHECK:           %[[CLS:.*]] = tensor.extract %arg1[%{{.*}}] : tensor<8xf32>
// CHECK:           %[[PICK:.*]] = arith.select %{{.*}}, %[[TOKEN]], %[[CLS]] : f32
// CHECK:           linalg.yield %[[PICK]]
// CHECK-NOT:     tensor.insert_slice
func.func @prepend_token(%x: tensor<2x4x8xf32>, %t: tensor<8xf32>) -> tensor<2x5x8xf32> attributes {vit.kernel_name = "prepend_token"} {
  %y = vit.prepend_token %x, %t : tensor<2x4x8xf32>, tensor<8xf32> -> tensor<2x5x8xf32>
  return %y : tensor<2x5x8xf32>
}

// -----

// Patch embedding: the patchify transpose under reshapes becomes a gather
// of [tokens, patch elements] that the matmul reads directly.
// CHECK-LABEL: func.func @patch_embed
// CHECK-NOT:     linalg.transpose
// CHECK:         %[[PATCHES:.*]] = linalg.generic
// CHECK-SAME:        outs(%{{.*}} : tensor<8x48xf32>)
// CHECK:           affine.delinearize_index %{{.*}} into (2, 4)
// CHECK:           affine.delinearize_index %{{.*}} into (3, 4, 4)
// CHECK:           tensor.extract %arg0[{{.*}}] : tensor<2x3x8x8xf32>
// CHECK:         linalg.matmul {{.*}} ins(%[[PATCHES]], %arg1
func.func @patch_embed(%image: tensor<2x3x8x8xf32>, %w: tensor<16x48xf32>, %b: tensor<16xf32>) -> tensor<2x4x16xf32> attributes {vit.kernel_name = "patch_embed"} {
  %patches = vit.patchify %image patch_size = 4 input_layout = nchw kernel_layout = oihw : tensor<2x3x8x8xf32> -> tensor<2x4x48xf32>
  %y = vit.linear %patches, %w bias(%b : tensor<16xf32>) gelu = exact : tensor<2x4x48xf32>, tensor<16x48xf32> -> tensor<2x4x16xf32>
  return %y : tensor<2x4x16xf32>
}

// -----

// Functions that are not kernels are left alone.
// CHECK-LABEL: func.func @not_a_kernel
// CHECK:         linalg.transpose
func.func @not_a_kernel(%image: tensor<2x3x8x8xf32>, %w: tensor<16x48xf32>) -> tensor<2x4x16xf32> {
  %patches = vit.patchify %image patch_size = 4 input_layout = nchw kernel_layout = oihw : tensor<2x3x8x8xf32> -> tensor<2x4x48xf32>
  %y = vit.linear %patches, %w gelu = exact : tensor<2x4x48xf32>, tensor<16x48xf32> -> tensor<2x4x16xf32>
  return %y : tensor<2x4x16xf32>
}
