// RUN: vitc-opt %s -vit-cuda-math-to-intrinsics | FileCheck %s

// convert-gpu-to-nvvm would call libdevice for these; NVPTX has correctly
// rounded instructions for all of them.
// CHECK-LABEL: func.func @math
// CHECK-SAME:      (%[[X:.*]]: f32, %[[Y:.*]]: f64)
// CHECK-DAG:     %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG:     %[[SQRT:.*]] = llvm.call_intrinsic "llvm.sqrt.f32"(%[[X]]) : (f32) -> f32
// CHECK:         %[[ROOT:.*]] = llvm.call_intrinsic "llvm.sqrt.f32"(%[[X]]) : (f32) -> f32
// CHECK:         %[[RSQRT:.*]] = arith.divf %[[ONE]], %[[ROOT]] : f32
// CHECK:         %[[FLOOR:.*]] = llvm.call_intrinsic "llvm.floor.f32"(%[[X]]) : (f32) -> f32
// CHECK:         %[[CEIL:.*]] = llvm.call_intrinsic "llvm.ceil.f32"(%[[X]]) : (f32) -> f32
// CHECK:         %[[ABS:.*]] = llvm.call_intrinsic "llvm.fabs.f32"(%[[X]]) : (f32) -> f32
// Other types are left to the usual lowering.
// CHECK:         %[[WIDE:.*]] = math.sqrt %[[Y]] : f64
// CHECK:         return %[[SQRT]], %[[RSQRT]], %[[FLOOR]], %[[CEIL]], %[[ABS]], %[[WIDE]]
func.func @math(%x: f32, %y: f64) -> (f32, f32, f32, f32, f32, f64) {
  %sqrt = math.sqrt %x : f32
  %rsqrt = math.rsqrt %x : f32
  %floor = math.floor %x : f32
  %ceil = math.ceil %x : f32
  %abs = math.absf %x : f32
  %wide = math.sqrt %y : f64
  return %sqrt, %rsqrt, %floor, %ceil, %abs, %wide : f32, f32, f32, f32, f32, f64
}
