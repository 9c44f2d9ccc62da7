// RUN: vitc-opt %s -split-input-file -convert-vit-to-linalg \
// RUN:     -vit-cuda-gather-data-movement \
// RUN:     -vit-cuda-fold-reshapes | FileCheck %s

// Patch embedding (after the gather of its patches): the epilogue is
// collapsed to the matmul's [M, N].
// CHECK-LABEL: func.func @patch_embed
// CHECK:         %[[MATMUL:.*]] = linalg.matmul
// CHECK:         %[[EPILOGUE:.*]] = linalg.generic
// CHECK-SAME:        ins(%[[MATMUL]], %arg2 : tensor<8x16xf32>, tensor<16xf32>)
// CHECK:         } -> tensor<8x16xf32>
// CHECK:         %[[RESULT:.*]] = tensor.expand_shape %[[EPILOGUE]] {{\[\[}}0, 1], [2]]
// CHECK:         return %[[RESULT]]
func.func @patch_embed(%image: tensor<2x3x8x8xf32>, %w: tensor<16x48xf32>, %b: tensor<16xf32>) -> tensor<2x4x16xf32> attributes {vit.kernel_name = "patch_embed"} {
  %patches = vit.patchify %image patch_size = 4 input_layout = nchw kernel_layout = oihw : tensor<2x3x8x8xf32> -> tensor<2x4x48xf32>
  %y = vit.linear %patches, %w bias(%b : tensor<16xf32>) gelu = exact : tensor<2x4x48xf32>, tensor<16x48xf32> -> tensor<2x4x16xf32>
  return %y : tensor<2x4x16xf32>
}

// -----

// A residual broadcast over the batch cannot be read from the collapsed
// [batch * tokens] rows: that epilogue keeps its dimensions.
// CHECK-LABEL: func.func @position_embedding
// CHECK:         linalg.matmul
// CHECK:         tensor.expand_shape
// CHECK:         linalg.generic
// CHECK-SAME:        tensor<2x4x16xf32>, tensor<4x16xf32>
func.func @position_embedding(%x: tensor<2x4x48xf32>, %w: tensor<16x48xf32>, %p: tensor<4x16xf32>) -> tensor<2x4x16xf32> attributes {vit.kernel_name = "position_embedding"} {
  %y = vit.linear %x, %w residual(%p : tensor<4x16xf32>) : tensor<2x4x48xf32>, tensor<16x48xf32> -> tensor<2x4x16xf32>
  return %y : tensor<2x4x16xf32>
}

// -----

// Functions that are not kernels are left alone.
// CHECK-LABEL: func.func @not_a_kernel
// CHECK:         linalg.matmul
// CHECK:         tensor.expand_shape
// CHECK:         linalg.generic
// CHECK-SAME:        tensor<2x4x16xf32>, tensor<16xf32>
func.func @not_a_kernel(%x: tensor<2x4x48xf32>, %w: tensor<16x48xf32>, %b: tensor<16xf32>) -> tensor<2x4x16xf32> {
  %y = vit.linear %x, %w bias(%b : tensor<16xf32>) gelu = exact : tensor<2x4x48xf32>, tensor<16x48xf32> -> tensor<2x4x16xf32>
  return %y : tensor<2x4x16xf32>
}
