// RUN: vitc-opt %s -vit-cuda-fuse-multiply-add | FileCheck %s

// CHECK-LABEL: func.func @fuse
// CHECK-SAME:      (%[[A:.*]]: f32, %[[B:.*]]: f32, %[[C:.*]]: f32, %[[D:.*]]: f64)
// CHECK:         %[[LEFT:.*]] = math.fma %[[A]], %[[B]], %[[C]] : f32
// CHECK:         %[[RIGHT:.*]] = math.fma %[[A]], %[[C]], %[[B]] : f32
// A product with another use stays, so it is not computed twice.
// CHECK:         %[[SHARED:.*]] = arith.mulf %[[B]], %[[C]] : f32
// CHECK:         %[[KEPT:.*]] = arith.addf %[[SHARED]], %[[A]] : f32
// Only f32.
// CHECK:         %[[WIDE:.*]] = arith.mulf %[[D]], %[[D]] : f64
// CHECK:         arith.addf %[[WIDE]], %[[D]] : f64
func.func @fuse(%a: f32, %b: f32, %c: f32, %d: f64) -> (f32, f32, f32, f32, f64) {
  %p = arith.mulf %a, %b : f32
  %left = arith.addf %p, %c : f32
  %q = arith.mulf %a, %c : f32
  %right = arith.addf %b, %q : f32
  %shared = arith.mulf %b, %c : f32
  %kept = arith.addf %shared, %a : f32
  %wide = arith.mulf %d, %d : f64
  %sum = arith.addf %wide, %d : f64
  return %left, %right, %kept, %shared, %sum : f32, f32, f32, f32, f64
}
