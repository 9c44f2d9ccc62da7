// RUN: vitc-opt %s -split-input-file -vit-approximate-math=expand=rsqrt \
// RUN:   | FileCheck %s --check-prefix=CPU
// RUN: vitc-opt %s -split-input-file \
// RUN:     -vit-approximate-math="functions=exp,erf,tanh kernels-only=true" \
// RUN:   | FileCheck %s --check-prefix=CUDA

// The CPU's configuration: exp, erf and tanh become polynomials (no math
// ops, so no libm calls); rsqrt becomes a division by sqrt, itself one
// instruction. Every function is rewritten.

// CPU-LABEL: func.func @functions(
// CPU-NOT:     math.exp
// CPU-NOT:     math.erf
// CPU-NOT:     math.tanh
// CPU-NOT:     math.rsqrt
// CPU:         math.sqrt %{{.*}} : vector<16xf32>
// CPU:         arith.divf
// CPU-NOT:     math.exp
// CPU-NOT:     math.erf
// CPU-NOT:     math.tanh
// CPU-NOT:     math.rsqrt

// CUDA's configuration leaves functions that are not kernels alone.
// CUDA-LABEL: func.func @functions(
// CUDA:         math.exp
// CUDA:         math.erf
// CUDA:         math.tanh
// CUDA:         math.rsqrt
func.func @functions(%x: vector<16xf32>, %s: f32) -> (vector<16xf32>, vector<16xf32>, f32, vector<16xf32>) {
  %0 = math.exp %x : vector<16xf32>
  %1 = math.erf %x : vector<16xf32>
  %2 = math.tanh %s : f32
  %3 = math.rsqrt %x : vector<16xf32>
  return %0, %1, %2, %3 : vector<16xf32>, vector<16xf32>, f32, vector<16xf32>
}

// -----

// In kernels, CUDA's configuration approximates exp, erf and tanh only:
// sqrt and rsqrt become instructions (vit-cuda-math-to-intrinsics).

// CUDA-LABEL: func.func @kernel(
// CUDA-NOT:     math.exp
// CUDA-NOT:     math.erf
// CUDA-NOT:     math.tanh
// CUDA:         math.fma
// CUDA-NOT:     math.exp
// CUDA-NOT:     math.erf
// CUDA-NOT:     math.tanh
// CUDA:         math.rsqrt %{{.*}} : f32
// CUDA:         math.sqrt %{{.*}} : f32
// CUDA-NOT:     math.exp
// CUDA-NOT:     math.erf
// CUDA-NOT:     math.tanh
func.func @kernel(%s: f32) -> (f32, f32, f32, f32, f32) attributes {vit.kernel_name = "kernel"} {
  %0 = math.exp %s : f32
  %1 = math.erf %s : f32
  %2 = math.tanh %s : f32
  %3 = math.rsqrt %s : f32
  %4 = math.sqrt %s : f32
  return %0, %1, %2, %3, %4 : f32, f32, f32, f32, f32
}

// -----

// erf, on both targets: x clamped to [-3.92, 3.92] by compare and select
// (a NaN stays NaN), then x P(x^2) / Q(x^2) with P of degree 6 and Q of
// degree 4 by Horner's rule: 10 FMAs, no selects between pieces. Its
// accuracy is measured in erf-accuracy.mlir.

// CPU-LABEL: func.func @erf(
// CPU-SAME:    %[[X:[a-z0-9_]+]]: vector<8xf32>
// CPU:         %[[ABOVE:[a-z0-9_]+]] = arith.cmpf ogt, %[[X]], %[[HI:[a-z0-9_]+]]
// CPU:         %[[X1:[a-z0-9_]+]] = arith.select %[[ABOVE]], %[[HI]], %[[X]]
// CPU:         %[[BELOW:[a-z0-9_]+]] = arith.cmpf olt, %[[X1]], %[[LO:[a-z0-9_]+]]
// CPU:         %[[XC:[a-z0-9_]+]] = arith.select %[[BELOW]], %[[LO]], %[[X1]]
// CPU:         %[[T:[a-z0-9_]+]] = arith.mulf %[[XC]], %[[XC]]
// CPU-COUNT-5: math.fma %{{.*}}, %[[T]],
// CPU:         %[[P:[a-z0-9_]+]] = math.fma %{{.*}}, %[[T]],
// CPU-COUNT-3: math.fma %{{.*}}, %[[T]],
// CPU:         %[[Q:[a-z0-9_]+]] = math.fma %{{.*}}, %[[T]],
// CPU:         %[[XP:[a-z0-9_]+]] = arith.mulf %[[XC]], %[[P]]
// CPU:         %[[R:[a-z0-9_]+]] = arith.divf %[[XP]], %[[Q]]
// CPU-NOT:     arith.select
// CPU:         return %[[R]]
// CUDA-LABEL: func.func @erf(
// CUDA-NOT:     math.erf
// CUDA-COUNT-10: math.fma
// CUDA:         arith.divf
func.func @erf(%x: vector<8xf32>) -> vector<8xf32> attributes {vit.kernel_name = "gelu"} {
  %0 = math.erf %x : vector<8xf32>
  return %0 : vector<8xf32>
}
