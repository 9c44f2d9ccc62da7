// RUN: vitc-opt %s -split-input-file -vit-cpu-output-arguments | FileCheck %s

// The result is built in the output argument, reshaped like the tile
// loop's destination, which the function returns; inputs are not writable
// and the function is private.

// CHECK-LABEL: func.func private @linear(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<10x16xf32> {bufferization.writable = false},
// CHECK-SAME:    %[[OUT:[a-z0-9_]+]]: tensor<2x5x32xf32>) -> tensor<2x5x32xf32>
// CHECK-NOT:     tensor.empty
// CHECK:         %[[DEST:.*]] = tensor.collapse_shape %[[OUT]] {{\[\[}}0, 1], [2]] : tensor<2x5x32xf32> into tensor<10x32xf32>
// CHECK:         %[[LOOP:.*]] = scf.forall {{.*}} shared_outs(%{{.*}} = %[[DEST]])
// CHECK:         %[[RES:.*]] = tensor.expand_shape %[[LOOP]]
// CHECK:         return %[[RES]]
func.func @linear(%x: tensor<10x16xf32>) -> tensor<2x5x32xf32> attributes {vit.kernel_name = "linear"} {
  %0 = tensor.empty() : tensor<10x32xf32>
  %1 = scf.forall (%i, %j) = (0, 0) to (10, 32) step (4, 16) shared_outs(%o = %0) -> (tensor<10x32xf32>) {
    %rows = affine.min affine_map<(d0) -> (-d0 + 10, 4)>(%i)
    %s = tensor.extract_slice %x[%i, 0] [%rows, 16] [1, 1] : tensor<10x16xf32> to tensor<?x16xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %s into %o[%i, %j] [%rows, 16] [1, 1] : tensor<?x16xf32> into tensor<10x32xf32>
    }
  }
  %2 = tensor.expand_shape %1 [[0, 1], [2]] output_shape [2, 5, 32] : tensor<10x32xf32> into tensor<2x5x32xf32>
  return %2 : tensor<2x5x32xf32>
}

// -----

// The destination chain of an untiled kernel (two insert_slices into an
// empty tensor) starts from the output argument.

// CHECK-LABEL: func.func private @concat(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<1x4x8xf32> {bufferization.writable = false}, %[[T:[a-z0-9_]+]]: tensor<1x1x8xf32> {bufferization.writable = false},
// CHECK-SAME:    %[[OUT:[a-z0-9_]+]]: tensor<1x5x8xf32>) -> tensor<1x5x8xf32>
// CHECK:         %[[A:.*]] = tensor.insert_slice %[[T]] into %[[OUT]][0, 0, 0]
// CHECK:         %[[B:.*]] = tensor.insert_slice %[[X]] into %[[A]][0, 1, 0]
// CHECK:         return %[[B]]
func.func @concat(%x: tensor<1x4x8xf32>, %t: tensor<1x1x8xf32>) -> tensor<1x5x8xf32> attributes {vit.kernel_name = "concat"} {
  %e = tensor.empty() : tensor<1x5x8xf32>
  %0 = tensor.insert_slice %t into %e[0, 0, 0] [1, 1, 8] [1, 1, 1] : tensor<1x1x8xf32> into tensor<1x5x8xf32>
  %1 = tensor.insert_slice %x into %0[0, 1, 0] [1, 4, 8] [1, 1, 1] : tensor<1x4x8xf32> into tensor<1x5x8xf32>
  return %1 : tensor<1x5x8xf32>
}

// -----

// A result returned in longer rows (vit-cpu-pad-rows): the output is the
// padded tensor, the result is computed in its slice, and the insertion
// writes into the output itself, so bufferization copies nothing. A
// column block inserted into an empty tensor that another insertion then
// completes is a concatenation, whose chain is the destinations'.

// CHECK-LABEL: func.func private @padded(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<4x16xf32> {bufferization.writable = false},
// CHECK-SAME:    %[[OUT:[a-z0-9_]+]]: tensor<4x32xf32>) -> tensor<4x32xf32>
// CHECK:         %[[S:.*]] = tensor.extract_slice %[[OUT]][0, 0] [4, 16] [1, 1] : tensor<4x32xf32> to tensor<4x16xf32>
// CHECK:         %[[R:.*]] = linalg.generic {{.*}} outs(%[[S]] : tensor<4x16xf32>)
// CHECK:         %[[P:.*]] = tensor.insert_slice %[[R]] into %[[OUT]][0, 0] [4, 16] [1, 1]
// CHECK:         return %[[P]]
func.func @padded(%x: tensor<4x16xf32>) -> tensor<4x32xf32> attributes {vit.kernel_name = "padded"} {
  %e = tensor.empty() : tensor<4x16xf32>
  %0 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x16xf32>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %1 = arith.mulf %in, %in : f32
    linalg.yield %1 : f32
  } -> tensor<4x16xf32>
  %p = tensor.empty() : tensor<4x32xf32>
  %i = tensor.insert_slice %0 into %p[0, 0] [4, 16] [1, 1] : tensor<4x16xf32> into tensor<4x32xf32>
  return %i : tensor<4x32xf32>
}

// CHECK-LABEL: func.func private @concat_columns(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<4x16xf32> {bufferization.writable = false}, %[[Y:[a-z0-9_]+]]: tensor<4x16xf32> {bufferization.writable = false},
// CHECK-SAME:    %[[OUT:[a-z0-9_]+]]: tensor<4x32xf32>) -> tensor<4x32xf32>
// CHECK:         %[[A:.*]] = tensor.insert_slice %[[X]] into %[[OUT]][0, 0] [4, 16] [1, 1]
// CHECK:         %[[B:.*]] = tensor.insert_slice %[[Y]] into %[[A]][0, 16] [4, 16] [1, 1]
// CHECK:         return %[[B]]
func.func @concat_columns(%x: tensor<4x16xf32>, %y: tensor<4x16xf32>) -> tensor<4x32xf32> attributes {vit.kernel_name = "concat_columns"} {
  %p = tensor.empty() : tensor<4x32xf32>
  %i = tensor.insert_slice %x into %p[0, 0] [4, 16] [1, 1] : tensor<4x16xf32> into tensor<4x32xf32>
  %j = tensor.insert_slice %y into %i[0, 16] [4, 16] [1, 1] : tensor<4x16xf32> into tensor<4x32xf32>
  return %j : tensor<4x32xf32>
}

// -----

// A result that is no computed chain is copied into the output.

// CHECK-LABEL: func.func private @identity(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<4xf32> {bufferization.writable = false}, %[[OUT:[a-z0-9_]+]]: tensor<4xf32>)
// CHECK:         %[[C:.*]] = bufferization.materialize_in_destination %[[X]] in %[[OUT]]
// CHECK:         return %[[C]]
func.func @identity(%x: tensor<4xf32>) -> tensor<4xf32> attributes {vit.kernel_name = "identity"} {
  return %x : tensor<4xf32>
}

// -----

// Functions that are not kernels keep their signature.
// CHECK-LABEL: func.func @helper(%{{.*}}: tensor<4xf32>) -> tensor<4xf32> {
func.func @helper(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
