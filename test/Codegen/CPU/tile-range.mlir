// RUN: vitc-opt %s -split-input-file -verify-diagnostics -vit-cpu-tile-range \
// RUN:   | FileCheck %s

// Kernels as vit-cpu-output-arguments leaves them: the last arguments are
// the outputs.

// A tile loop over [10, 32] in 4 x 16 tiles: its last row of tiles is
// partial. One loop numbers all 3 x 2 tiles in the order of the grid; the
// 2 x 2 full tiles and the 1 x 2 partial ones each get their own copy of
// the body, chosen by an scf.if, in which the tile sizes are constants.

// CHECK-LABEL: func.func private @linear(
// CHECK-SAME:    %[[X:[a-z0-9_]+]]: tensor<10x16xf32> {bufferization.writable = false},
// CHECK-SAME:    %[[OUT:[a-z0-9_]+]]: tensor<2x5x32xf32>, %[[BEGIN:[a-z0-9_]+]]: index, %[[END:[a-z0-9_]+]]: index) -> tensor<2x5x32xf32>
// CHECK-SAME:    vit.num_tiles = 6 : i64
// CHECK:         %[[DEST:.*]] = tensor.collapse_shape %[[OUT]] {{\[\[}}0, 1], [2]] : tensor<2x5x32xf32> into tensor<10x32xf32>
// CHECK-DAG:     %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG:     %[[C6:.*]] = arith.constant 6 : index
// CHECK:         %[[LB:.*]] = arith.maxsi %[[BEGIN]], %[[C0]]
// CHECK:         %[[UB:.*]] = arith.minsi %[[END]], %[[C6]]
// CHECK:         %[[LOOP:.*]] = scf.for %[[T:.*]] = %[[LB]] to %[[UB]] step %{{.*}} iter_args(%[[ACC:.*]] = %[[DEST]])
// CHECK:           %[[I:.*]] = arith.subi %[[T]], %[[C0]]
// CHECK:           %[[IJ:.*]]:2 = affine.delinearize_index %[[I]] into (3, 2)
// CHECK:           %[[ROW:.*]] = affine.apply #{{.*}}(%[[IJ]]#0)
// CHECK:           %[[COL:.*]] = affine.apply #{{.*}}(%[[IJ]]#1)
// CHECK:           %[[C2:.*]] = arith.constant 2 : index
// CHECK:           %[[ISFULL:.*]] = arith.cmpi slt, %[[IJ]]#0, %[[C2]]
// CHECK:           %[[NEXT:.*]] = scf.if %[[ISFULL]]
// CHECK:             %[[R4:.*]] = arith.constant 4 : index
// CHECK:             tensor.extract_slice %[[X]][%[[ROW]], 0] [%[[R4]], 16]
// CHECK:             %[[INS0:.*]] = tensor.insert_slice %{{.*}} into %[[ACC]][%[[ROW]], %[[COL]]] [%[[R4]], 16] [1, 1]
// CHECK:             scf.yield %[[INS0]]
// CHECK:           } else {
// CHECK:             %[[R2:.*]] = arith.constant 2 : index
// CHECK:             tensor.extract_slice %[[X]][%[[ROW]], 0] [%[[R2]], 16]
// CHECK:             %[[INS1:.*]] = tensor.insert_slice %{{.*}} into %[[ACC]][%[[ROW]], %[[COL]]] [%[[R2]], 16] [1, 1]
// CHECK:             scf.yield %[[INS1]]
// CHECK:           scf.yield %[[NEXT]]
// CHECK:         %[[RES:.*]] = tensor.expand_shape %[[LOOP]]
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

// With the rows inside the columns, as a linear's tiles are (a column
// block of the weight is read by every row tile, the last one partial),
// the partial tile of each column comes right after its full ones: tiles
// 0-2 are column 0's, 3-5 column 1's.
// CHECK-LABEL: func.func private @columns_outer(
// CHECK:         scf.for
// CHECK:           %[[IJ:.*]]:2 = affine.delinearize_index %{{.*}} into (2, 3)
// CHECK:           %[[C2:.*]] = arith.constant 2 : index
// CHECK:           %[[ISFULL:.*]] = arith.cmpi slt, %[[IJ]]#1, %[[C2]]
// CHECK:           scf.if %[[ISFULL]]
// CHECK:             %[[FULL:.*]] = arith.constant 4 : index
// CHECK:             tensor.extract_slice %{{.*}} [%[[FULL]], 16]
// CHECK:           } else {
// CHECK:             %[[PART:.*]] = arith.constant 2 : index
// CHECK:             tensor.extract_slice %{{.*}} [%[[PART]], 16]
func.func private @columns_outer(%x: tensor<10x16xf32>, %out: tensor<10x32xf32>) -> tensor<10x32xf32> attributes {vit.kernel_name = "columns_outer"} {
  %1 = scf.forall (%j, %i) = (0, 0) to (32, 10) step (16, 4) shared_outs(%o = %out) -> (tensor<10x32xf32>) {
    %rows = affine.min affine_map<(d0) -> (-d0 + 10, 4)>(%i)
    %s = tensor.extract_slice %x[%i, 0] [%rows, 16] [1, 1] : tensor<10x16xf32> to tensor<?x16xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %s into %o[%i, %j] [%rows, 16] [1, 1] : tensor<?x16xf32> into tensor<10x32xf32>
    }
  }
  return %1 : tensor<10x32xf32>
}

// -----

// Both dimensions partial: four shapes of tile (full, last column, last
// row, corner), told apart by a chain of tests on the tile's coordinates.
// CHECK-LABEL: func.func private @two_partial_dims(
// CHECK:         %[[IJ:.*]]:2 = affine.delinearize_index %{{.*}} into (3, 3)
// CHECK:         %[[ROWFULL:.*]] = arith.cmpi slt, %[[IJ]]#0, %{{.*}}
// CHECK:         %[[COLFULL:.*]] = arith.cmpi slt, %[[IJ]]#1, %{{.*}}
// CHECK:         %[[BOTH:.*]] = arith.andi %[[ROWFULL]], %[[COLFULL]]
// CHECK:         scf.if %[[BOTH]]
// CHECK-DAG:       %[[A4:.*]] = arith.constant 4 : index
// CHECK-DAG:       %[[A8:.*]] = arith.constant 8 : index
// CHECK:           tensor.extract_slice %{{.*}} [%[[A4]], %[[A8]]] [1, 1]
// CHECK:         } else {
// CHECK:           %[[ROWFULL2:.*]] = arith.cmpi slt, %[[IJ]]#0, %{{.*}}
// CHECK:           %[[COLLAST:.*]] = arith.cmpi sge, %[[IJ]]#1, %{{.*}}
// CHECK:           %[[FIRST:.*]] = arith.andi %[[ROWFULL2]], %[[COLLAST]]
// CHECK:           scf.if %[[FIRST]]
// CHECK:             %[[B4:.*]] = arith.constant 4 : index
// CHECK:             %[[B4C:.*]] = arith.constant 4 : index
// CHECK:             tensor.extract_slice %{{.*}} [%[[B4]], %[[B4C]]] [1, 1]
// CHECK:           } else {
// CHECK:             %[[ROWLAST:.*]] = arith.cmpi sge, %[[IJ]]#0, %{{.*}}
// CHECK:             %[[COLFULL3:.*]] = arith.cmpi slt, %[[IJ]]#1, %{{.*}}
// CHECK:             %[[THIRD:.*]] = arith.andi %[[ROWLAST]], %[[COLFULL3]]
// CHECK:             scf.if %[[THIRD]]
// CHECK:               %[[C2:.*]] = arith.constant 2 : index
// CHECK:               %[[C8:.*]] = arith.constant 8 : index
// CHECK:               tensor.extract_slice %{{.*}} [%[[C2]], %[[C8]]] [1, 1]
// CHECK:             } else {
// CHECK:               %[[D2:.*]] = arith.constant 2 : index
// CHECK:               %[[D4:.*]] = arith.constant 4 : index
// CHECK:               tensor.extract_slice %{{.*}} [%[[D2]], %[[D4]]] [1, 1]
func.func private @two_partial_dims(%x: tensor<10x20xf32>, %out: tensor<10x20xf32>) -> tensor<10x20xf32> attributes {vit.kernel_name = "two_partial_dims"} {
  %1 = scf.forall (%i, %j) = (0, 0) to (10, 20) step (4, 8) shared_outs(%o = %out) -> (tensor<10x20xf32>) {
    %rows = affine.min affine_map<(d0) -> (-d0 + 10, 4)>(%i)
    %cols = affine.min affine_map<(d0) -> (-d0 + 20, 8)>(%j)
    %s = tensor.extract_slice %x[%i, %j] [%rows, %cols] [1, 1] : tensor<10x20xf32> to tensor<?x?xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %s into %o[%i, %j] [%rows, %cols] [1, 1] : tensor<?x?xf32> into tensor<10x20xf32>
    }
  }
  return %1 : tensor<10x20xf32>
}

// -----

// The tile sizes are constants: 4 rows in the full tiles' body, the
// remaining 2 in the partial tile's.
// CHECK-LABEL: func.func private @remainder(
// CHECK:         scf.for
// CHECK:           scf.if
// CHECK:             %[[FULL:.*]] = arith.constant 4 : index
// CHECK:             tensor.extract_slice %{{.*}} [%[[FULL]], 16]
// CHECK:           } else {
// CHECK:             %[[PART:.*]] = arith.constant 2 : index
// CHECK:             tensor.extract_slice %{{.*}} [%[[PART]], 16]
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
