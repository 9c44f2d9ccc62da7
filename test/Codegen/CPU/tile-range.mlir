// RUN: vitc-opt %s -split-input-file -verify-diagnostics -vit-cpu-tile-range \
// RUN:   | FileCheck %s

// Kernels as vit-cpu-output-arguments leaves them: the last arguments are
// the outputs.

// A tile loop over [10, 32] in 4 x 16 tiles: its last row of tiles is
// partial, so the 2 x 2 full tiles (numbers 0-3) and the 1 x 2 partial ones
// (4-5) get their own loops, in which the tile sizes are constants.

// CHECK-LABEL: func.func private @linear(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<10x16xf32> {bufferization.writable = false},
// CHECK-SAME:    %[[OUT:[a-z0-9_]+]]: tensor<2x5x32xf32>, %[[BEGIN:[a-z0-9_]+]]: index, %[[END:[a-z0-9_]+]]: index) -> tensor<2x5x32xf32>
// CHECK-SAME:    vit.num_tiles = 6 : i64
// CHECK:         %[[DEST:.*]] = tensor.collapse_shape %[[OUT]] {{\[\[}}0, 1], [2]] : tensor<2x5x32xf32> into tensor<10x32xf32>
// CHECK-DAG:     %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG:     %[[C4:.*]] = arith.constant 4 : index
// CHECK:         %[[LB0:.*]] = arith.maxsi %[[BEGIN]], %[[C0]]
// CHECK:         %[[UB0:.*]] = arith.minsi %[[END]], %[[C4]]
// CHECK:         %[[FULL:.*]] = scf.for %[[T0:.*]] = %[[LB0]] to %[[UB0]] step %{{.*}} iter_args(%[[ACC0:.*]] = %[[DEST]])
// CHECK:           %[[I0:.*]] = arith.subi %[[T0]], %[[C0]]
// CHECK:           %[[IJ0:.*]]:2 = affine.delinearize_index %[[I0]] into (2, 2)
// CHECK:           %[[ROW0:.*]] = affine.apply #{{.*}}(%[[IJ0]]#0)
// CHECK:           %[[COL0:.*]] = affine.apply #{{.*}}(%[[IJ0]]#1)
// CHECK:           tensor.extract_slice %[[X]][%[[ROW0]], 0] [%[[R0:.*]], 16]
// CHECK:           %[[INS0:.*]] = tensor.insert_slice %{{.*}} into %[[ACC0]][%[[ROW0]], %[[COL0]]] [%[[R0]], 16] [1, 1]
// CHECK:           scf.yield %[[INS0]]
// CHECK-DAG:     %[[C6:.*]] = arith.constant 6 : index
// CHECK:         %[[LB1:.*]] = arith.maxsi %[[BEGIN]], %[[C4]]
// CHECK:         %[[UB1:.*]] = arith.minsi %[[END]], %[[C6]]
// CHECK:         %[[PART:.*]] = scf.for %[[T1:.*]] = %[[LB1]] to %[[UB1]] step %{{.*}} iter_args(%[[ACC1:.*]] = %[[FULL]])
// CHECK:           %[[I1:.*]] = arith.subi %[[T1]], %[[C4]]
// CHECK:           affine.delinearize_index %[[I1]] into (1, 2)
// CHECK:           tensor.insert_slice
// CHECK:         %[[RES:.*]] = tensor.expand_shape %[[PART]]
// CHECK:         return %[[RES]]
func.func private @linear(%x: tensor<10x16xf32> {bufferization.writable = false}, %out: tensor<2x5x32xf32>) -> tensor<2x5x32xf32> attributes {vit.kernel_name = "linear"} {
  %0 = tensor.collapse_shape %out [[0, 1], [2]] : tensor<2x5x32xf32> into tensor<10x32xf32>
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

// The tile sizes are constants: 4 rows in the full tiles' loop, the
// remaining 2 in the partial tile's.
// CHECK-LABEL: func.func private @remainder(
// CHECK:         scf.for
// CHECK:           %[[FULL:.*]] = arith.constant 4 : index
// CHECK:           tensor.extract_slice %{{.*}} [%[[FULL]], 16]
// CHECK:         scf.for
// CHECK:           %[[PART:.*]] = arith.constant 2 : index
// CHECK:           tensor.extract_slice %{{.*}} [%[[PART]], 16]
func.func private @remainder(%x: tensor<10x16xf32>, %out: tensor<10x16xf32>) -> tensor<10x16xf32> attributes {vit.kernel_name = "remainder"} {
  %1 = scf.forall (%i) = (0) to (10) step (4) shared_outs(%o = %out) -> (tensor<10x16xf32>) {
    %rows = affine.min affine_map<(d0) -> (-d0 + 10, 4)>(%i)
    %s = tensor.extract_slice %x[%i, 0] [%rows, 16] [1, 1] : tensor<10x16xf32> to tensor<?x16xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %s into %o[%i, 0] [%rows, 16] [1, 1] : tensor<?x16xf32> into tensor<10x16xf32>
    }
  }
  return %1 : tensor<10x16xf32>
}

// -----

// An untiled kernel has one tile and computes only for a non-empty range;
// otherwise it returns its output unchanged.

// CHECK-LABEL: func.func private @concat(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<1x4x8xf32>, %[[T:[a-z0-9_]+]]: tensor<1x1x8xf32>,
// CHECK-SAME:    %[[OUT:[a-z0-9_]+]]: tensor<1x5x8xf32>, %[[BEGIN:[a-z0-9_]+]]: index, %[[END:[a-z0-9_]+]]: index)
// CHECK-SAME:    vit.num_tiles = 1 : i64
// CHECK:         %[[NONEMPTY:.*]] = arith.cmpi slt, %[[BEGIN]], %[[END]]
// CHECK:         %[[R:.*]] = scf.if %[[NONEMPTY]]
// CHECK:           %[[A:.*]] = tensor.insert_slice %[[T]] into %[[OUT]][0, 0, 0]
// CHECK:           %[[B:.*]] = tensor.insert_slice %[[X]] into %[[A]][0, 1, 0]
// CHECK:           scf.yield %[[B]]
// CHECK:         } else {
// CHECK:           scf.yield %[[OUT]]
// CHECK:         return %[[R]]
func.func private @concat(%x: tensor<1x4x8xf32>, %t: tensor<1x1x8xf32>, %out: tensor<1x5x8xf32>) -> tensor<1x5x8xf32> attributes {vit.kernel_name = "concat"} {
  %0 = tensor.insert_slice %t into %out[0, 0, 0] [1, 1, 8] [1, 1, 1] : tensor<1x1x8xf32> into tensor<1x5x8xf32>
  %1 = tensor.insert_slice %x into %0[0, 1, 0] [1, 4, 8] [1, 1, 1] : tensor<1x4x8xf32> into tensor<1x5x8xf32>
  return %1 : tensor<1x5x8xf32>
}

// -----

// A copied result runs under the guard too.

// CHECK-LABEL: func.func private @identity(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<4xf32>, %[[OUT:[a-z0-9_]+]]: tensor<4xf32>
// CHECK:         scf.if
// CHECK:           %[[C:.*]] = bufferization.materialize_in_destination %[[X]] in %[[OUT]]
// CHECK:           scf.yield %[[C]]
func.func private @identity(%x: tensor<4xf32>, %out: tensor<4xf32>) -> tensor<4xf32> attributes {vit.kernel_name = "identity"} {
  %0 = bufferization.materialize_in_destination %x in %out : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// The outputs must be there.

// expected-error @below {{kernel function without output arguments; run vit-cpu-output-arguments first}}
func.func @no_outputs(%x: tensor<4xf32>) -> tensor<8xf32> attributes {vit.kernel_name = "no_outputs"} {
  %0 = tensor.empty() : tensor<8xf32>
  return %0 : tensor<8xf32>
}

// -----

// Functions that are not kernels keep their signature.
// CHECK-LABEL: func.func @helper(%{{.*}}: tensor<4xf32>) -> tensor<4xf32> {
func.func @helper(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
