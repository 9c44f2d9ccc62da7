// RUN: vitc-opt %s -vit-cpu-lower-copies | FileCheck %s

// CHECK-LABEL: func.func @strided_copy(
// CHECK-SAME:    %[[SRC:.*]]: memref<4x8xf32>, %[[DST:.*]]: memref<4x8xf32, strided<[16, 1]>>)
// CHECK-NEXT:    linalg.copy ins(%[[SRC]] : memref<4x8xf32>) outs(%[[DST]] : memref<4x8xf32, strided<[16, 1]>>)
// CHECK-NOT:     memref.copy
func.func @strided_copy(%src: memref<4x8xf32>, %dst: memref<4x8xf32, strided<[16, 1]>>) {
  memref.copy %src, %dst : memref<4x8xf32> to memref<4x8xf32, strided<[16, 1]>>
  return
}
