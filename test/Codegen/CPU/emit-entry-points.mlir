// RUN: vitc-opt %s -split-input-file -vit-cpu-emit-entry-points -verify-diagnostics | FileCheck %s

// A lowered kernel with two inputs and one output becomes internal
// @k_impl; the exported @k loads the three data pointers from bindings[0..2]
// and passes them with the tile range. Other functions become internal.

// CHECK-LABEL: llvm.func internal @helper()
// CHECK-LABEL: llvm.func internal @k_impl(
// CHECK-SAME:    %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: i64, %{{.*}}: i64)
// CHECK-NOT:     vit.kernel_name
// CHECK-LABEL: llvm.func @k(
// CHECK-SAME:    %[[BINDINGS:.*]]: !llvm.ptr, %[[BEGIN:.*]]: i64, %[[END:.*]]: i64)
// CHECK-SAME:    attributes {vit.kernel_name = "k", vit.num_tiles = 6 : i64}
// CHECK-NEXT:    %[[P0:.*]] = llvm.getelementptr %[[BINDINGS]][0] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK-NEXT:    %[[A:.*]] = llvm.load %[[P0]] : !llvm.ptr -> !llvm.ptr
// CHECK-NEXT:    %[[P1:.*]] = llvm.getelementptr %[[BINDINGS]][1] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK-NEXT:    %[[B:.*]] = llvm.load %[[P1]] : !llvm.ptr -> !llvm.ptr
// CHECK-NEXT:    %[[P2:.*]] = llvm.getelementptr %[[BINDINGS]][2] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK-NEXT:    %[[C:.*]] = llvm.load %[[P2]] : !llvm.ptr -> !llvm.ptr
// CHECK-NEXT:    llvm.call @k_impl(%[[A]], %[[B]], %[[C]], %[[BEGIN]], %[[END]])
// CHECK-NEXT:    llvm.return
// CHECK:       llvm.func @malloc(i64) -> !llvm.ptr
llvm.func @helper() {
  llvm.return
}
llvm.func @k(%a: !llvm.ptr, %b: !llvm.ptr, %c: !llvm.ptr, %begin: i64, %end: i64) attributes {vit.kernel_name = "k", vit.num_tiles = 6 : i64} {
  llvm.call @helper() : () -> ()
  llvm.return
}
llvm.func @malloc(i64) -> !llvm.ptr

// -----

// A kernel still taking memref descriptors was not lowered with bare
// pointers.
// expected-error @+1 {{kernel is not (ptr..., i64, i64) -> void after lowering}}
llvm.func @descriptor(%a: !llvm.struct<(ptr, ptr, i64)>, %begin: i64, %end: i64) attributes {vit.kernel_name = "descriptor"} {
  llvm.return
}
