// RUN: vitc-opt %s -split-input-file -verify-diagnostics \
// RUN:     -vit-cuda-destination-abi | FileCheck %s

// Inputs become buffers read in place; the result is written into an output
// buffer appended to the arguments. The reshape at the end moves onto the
// output, so that the op computing the result writes the buffer itself.
// CHECK-LABEL: func.func @kernel(
// CHECK-SAME:      %[[IN:.*]]: memref<4x16xf32>, %[[OUT:.*]]: memref<1x4x16xf32>)
// CHECK-SAME:      attributes {vit.kernel_name = "k"}
// CHECK:         %[[X:.*]] = bufferization.to_tensor %[[IN]] restrict
// CHECK:         %[[Y:.*]] = linalg.generic {{.*}} ins(%[[X]] : tensor<4x16xf32>)
// CHECK-NOT:     tensor.expand_shape
// CHECK:         %[[VIEW:.*]] = memref.collapse_shape %[[OUT]] {{\[\[}}0, 1], [2]] : memref<1x4x16xf32> into memref<4x16xf32>
// CHECK:         bufferization.materialize_in_destination %[[Y]] in restrict writable %[[VIEW]]
// CHECK:         return{{$}}
func.func @kernel(%x: tensor<4x16xf32>) -> tensor<1x4x16xf32> attributes {vit.kernel_name = "k"} {
  %empty = tensor.empty() : tensor<4x16xf32>
  %y = linalg.generic {
      indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
      iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x16xf32>) outs(%empty : tensor<4x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %twice = arith.addf %in, %in : f32
    linalg.yield %twice : f32
  } -> tensor<4x16xf32>
  %expanded = tensor.expand_shape %y [[0, 1], [2]] output_shape [1, 4, 16] : tensor<4x16xf32> into tensor<1x4x16xf32>
  return %expanded : tensor<1x4x16xf32>
}

// Callers pass the inputs' buffers and a freshly allocated output, read
// after the call.
// CHECK-LABEL: func.func @caller(
// CHECK-SAME:      %[[ARG:.*]]: tensor<4x16xf32>) -> tensor<1x4x16xf32>
// CHECK:         %[[BUFFER:.*]] = bufferization.to_buffer %[[ARG]] read_only
// CHECK:         %[[OUTPUT:.*]] = memref.alloc() : memref<1x4x16xf32>
// CHECK:         call @kernel(%[[BUFFER]], %[[OUTPUT]]) : (memref<4x16xf32>, memref<1x4x16xf32>) -> ()
// CHECK:         %[[RESULT:.*]] = bufferization.to_tensor %[[OUTPUT]] restrict writable
// CHECK:         return %[[RESULT]]
func.func @caller(%x: tensor<4x16xf32>) -> tensor<1x4x16xf32> {
  %y = call @kernel(%x) : (tensor<4x16xf32>) -> tensor<1x4x16xf32>
  return %y : tensor<1x4x16xf32>
}

// -----

// A kernel's shapes are its launch's: they must be static.
// expected-error @below {{kernel functions must take and return statically shaped tensors}}
func.func @dynamic(%x: tensor<?x16xf32>) -> tensor<?x16xf32> attributes {vit.kernel_name = "dynamic"} {
  return %x : tensor<?x16xf32>
}
