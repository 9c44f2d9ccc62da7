// RUN: vitc-opt %s -convert-vit-to-linalg -vit-cuda-to-ptx="sm=80" \
// RUN: | FileCheck %s --check-prefixes=CHECK,SM80
// RUN: vitc-opt %s -convert-vit-to-linalg -vit-cuda-to-ptx="sm=90" \
// RUN: | FileCheck %s --check-prefixes=CHECK,SM90

// One PTX module holds every kernel: an entry per kernel function, with
// one global pointer per input and output, static shared memory for the
// workgroup buffers, barriers between thread loops, and correctly rounded
// square roots and divisions computed without libdevice.
// CHECK-LABEL: gpu.binary @vit_kernels
// SM80-SAME:     #nvvm.target<O = 3, chip = "sm_80">
// SM90-SAME:     #nvvm.target<O = 3, chip = "sm_90">
// SM80-SAME:     .target sm_80
// SM90-SAME:     .target sm_90
// CHECK-NOT:     .extern
// CHECK-NOT:     __nv_
// CHECK-SAME:    .visible .entry layer_norm(
// CHECK-SAME:    .param .u64 .ptr .align 1 layer_norm_param_3\0A)
// CHECK-SAME:    .shared
// CHECK-SAME:    bar.sync
// CHECK-SAME:    sqrt.rn.f32
// CHECK-SAME:    rcp.rn.f32
// CHECK-SAME:    .visible .entry linear(
// CHECK-SAME:    .param .u64 .ptr .align 1 linear_param_3\0A)
// CHECK-SAME:    .maxntid 256, 1, 1
// CHECK-SAME:    div.rn.f32
// CHECK-NOT:     __nv_
// CHECK-NOT:     .extern
func.func @layer_norm(%x: tensor<2x100x64xf32>, %s: tensor<64xf32>, %t: tensor<64xf32>) -> tensor<2x100x64xf32> attributes {vit.kernel_name = "layer_norm"} {
  %y = vit.layer_norm %x, %s, %t epsilon = 1.0e-6 : tensor<2x100x64xf32>, tensor<64xf32>, tensor<64xf32>
  return %y : tensor<2x100x64xf32>
}
func.func @linear(%x: tensor<2x100x64xf32>, %w: tensor<96x64xf32>, %b: tensor<96xf32>) -> tensor<2x100x96xf32> attributes {vit.kernel_name = "linear"} {
  %y = vit.linear %x, %w bias(%b : tensor<96xf32>) gelu = exact : tensor<2x100x64xf32>, tensor<96x64xf32> -> tensor<2x100x96xf32>
  return %y : tensor<2x100x96xf32>
}
