// RUN: vitc-opt %s -vit-cpu-approximate-math | FileCheck %s

// exp, erf and tanh become polynomials (no math ops, so no libm calls);
// rsqrt becomes a division by sqrt, itself one instruction.

// CHECK-LABEL: func.func @functions(
// CHECK-NOT:     math.exp
// CHECK-NOT:     math.erf
// CHECK-NOT:     math.tanh
// CHECK-NOT:     math.rsqrt
// CHECK:         math.sqrt %{{.*}} : vector<16xf32>
// CHECK:         arith.divf
// CHECK-NOT:     math.exp
// CHECK-NOT:     math.erf
// CHECK-NOT:     math.tanh
// CHECK-NOT:     math.rsqrt
func.func @functions(%x: vector<16xf32>, %s: f32) -> (vector<16xf32>, vector<16xf32>, f32, vector<16xf32>) {
  %0 = math.exp %x : vector<16xf32>
  %1 = math.erf %x : vector<16xf32>
  %2 = math.tanh %s : f32
  %3 = math.rsqrt %x : vector<16xf32>
  return %0, %1, %2, %3 : vector<16xf32>, vector<16xf32>, f32, vector<16xf32>
}
