// RUN: vitc-opt %s -vit-cuda-drop-workgroup-memory | FileCheck %s
// RUN: vitc-opt %s -vit-cuda-drop-workgroup-memory \
// RUN: | mlir-opt -scf-forall-to-for | FileCheck %s --check-prefix=LOOPS

// Workgroup buffers become host buffers freed at the end of the block that
// allocates them; views of them change type along.
// CHECK-LABEL: func.func @kernel
// CHECK-NOT:     #gpu.address_space
// CHECK:         scf.forall
// CHECK:           %[[BUFFER:.*]] = memref.alloc() : memref<4x8xf32>
// CHECK:           %[[ROW:.*]] = memref.subview %[[BUFFER]][%{{.*}}, 0] [1, 8] [1, 1] : memref<4x8xf32> to memref<1x8xf32, strided<[8, 1], offset: ?>>
// CHECK:           scf.forall
// CHECK:           scf.forall
// CHECK:           memref.dealloc %[[BUFFER]] : memref<4x8xf32>
// CHECK-NEXT:    } {mapping = [#gpu.block<linear_dim_0>]}

// Sequential sibling thread loops: every thread writes the buffer before
// any thread reads it, which is what the barrier between them ensures on
// the GPU.
// LOOPS-LABEL: func.func @kernel
// LOOPS:         scf.for
// LOOPS:           memref.alloc
// LOOPS:           scf.for
// LOOPS:             memref.store
// LOOPS:           scf.for
// LOOPS:             memref.load
// LOOPS:           memref.dealloc
func.func @kernel(%in: memref<16x8xf32>, %out: memref<16x8xf32>) attributes {vit.kernel_name = "kernel"} {
  scf.forall (%block) in (4) {
    %buffer = memref.alloc() : memref<4x8xf32, #gpu.address_space<workgroup>>
    %row = memref.subview %buffer[%block, 0] [1, 8] [1, 1] : memref<4x8xf32, #gpu.address_space<workgroup>> to memref<1x8xf32, strided<[8, 1], offset: ?>, #gpu.address_space<workgroup>>
    scf.forall (%thread) in (8) {
      %c0 = arith.constant 0 : index
      %value = memref.load %in[%block, %thread] : memref<16x8xf32>
      memref.store %value, %row[%c0, %thread] : memref<1x8xf32, strided<[8, 1], offset: ?>, #gpu.address_space<workgroup>>
    } {mapping = [#gpu.thread<linear_dim_0>]}
    scf.forall (%thread) in (8) {
      %c7 = arith.constant 7 : index
      %reversed = arith.subi %c7, %thread : index
      %value = memref.load %buffer[%block, %reversed] : memref<4x8xf32, #gpu.address_space<workgroup>>
      memref.store %value, %out[%block, %thread] : memref<16x8xf32>
    } {mapping = [#gpu.thread<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}
