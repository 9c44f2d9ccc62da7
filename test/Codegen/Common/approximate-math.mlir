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
