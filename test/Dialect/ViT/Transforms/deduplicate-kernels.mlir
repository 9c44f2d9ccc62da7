// RUN: vitc-opt %s -vit-deduplicate-kernels -split-input-file | FileCheck %s

// Every block's copy of a kernel becomes one function, named after what the
// names share; calls follow it. Locations do not matter, the body does: a
// kernel that reads its operands differently stays on its own, and so do
// functions that are not kernels.

// CHECK-LABEL: func.func @blocks_N_norm(
// CHECK-SAME:    attributes {vit.kernel_name = "blocks.*.norm"}
// CHECK-NEXT:    vit.add %arg0, %arg1
// CHECK-LABEL: func.func @blocks_1_twice(
// CHECK-SAME:    attributes {vit.kernel_name = "blocks.1.twice"}
// CHECK-LABEL: func.func private @host_0(
// CHECK-LABEL: func.func private @host_1(
// CHECK-LABEL: func.func @vit(
// CHECK-NEXT:    %[[A:.*]] = call @blocks_N_norm(%arg0, %arg1)
// CHECK-NEXT:    %[[B:.*]] = call @blocks_1_twice(%[[A]], %arg1)
// CHECK-NEXT:    %[[C:.*]] = call @blocks_N_norm(%[[B]], %arg2)
// CHECK-NEXT:    %[[D:.*]] = call @blocks_N_norm(%[[C]], %arg1)
// CHECK-NEXT:    return %[[D]]
// CHECK-NOT:   blocks_0_norm
// CHECK-NOT:   blocks_1_norm
// CHECK-NOT:   blocks_2_norm
func.func @blocks_0_norm(%x: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<2x3xf32> attributes {vit.kernel_name = "blocks.0.norm"} {
  %s = vit.add %x, %b : tensor<2x3xf32>, tensor<3xf32>
  return %s : tensor<2x3xf32>
}
func.func @blocks_1_twice(%x: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<2x3xf32> attributes {vit.kernel_name = "blocks.1.twice"} {
  %s = vit.add %x, %x : tensor<2x3xf32>, tensor<2x3xf32>
  return %s : tensor<2x3xf32>
}
func.func @blocks_1_norm(%x: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<2x3xf32> attributes {vit.kernel_name = "blocks.1.norm"} {
  %s = vit.add %x, %b : tensor<2x3xf32>, tensor<3xf32> loc("blocks.1.norm")
  return %s : tensor<2x3xf32>
}
func.func @blocks_2_norm(%x: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<2x3xf32> attributes {vit.kernel_name = "blocks.2.norm"} {
  %s = vit.add %x, %b : tensor<2x3xf32>, tensor<3xf32>
  return %s : tensor<2x3xf32>
}
func.func private @host_0(%x: tensor<3xf32>) -> tensor<3xf32> {
  return %x : tensor<3xf32>
}
func.func private @host_1(%x: tensor<3xf32>) -> tensor<3xf32> {
  return %x : tensor<3xf32>
}
func.func @vit(%x: tensor<2x3xf32>, %b0: tensor<3xf32>, %b1: tensor<3xf32>) -> tensor<2x3xf32> {
  %0 = call @blocks_0_norm(%x, %b0) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %1 = call @blocks_1_twice(%0, %b0) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %2 = call @blocks_1_norm(%1, %b1) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %3 = call @blocks_2_norm(%2, %b0) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %3 : tensor<2x3xf32>
}

// -----

// Kernels of different types stay apart. Equal ones whose names differ
// within a part share what the part has in common, and names with another
// number of parts are listed after a comma.
// CHECK-LABEL: func.func @small(
// CHECK-LABEL: func.func @large(
// CHECK-LABEL: func.func @blocks_N_normN_norm(
// CHECK-SAME:    attributes {vit.kernel_name = "blocks.*.norm*,norm"}
// CHECK-NOT:   func.func @
func.func @small(%x: tensor<2xf32>) -> tensor<2xf32> attributes {vit.kernel_name = "small"} {
  %s = vit.add %x, %x : tensor<2xf32>, tensor<2xf32>
  return %s : tensor<2xf32>
}
func.func @large(%x: tensor<4xf32>) -> tensor<4xf32> attributes {vit.kernel_name = "large"} {
  %s = vit.add %x, %x : tensor<4xf32>, tensor<4xf32>
  return %s : tensor<4xf32>
}
func.func @blocks_0_norm1(%x: tensor<8xf32>) -> tensor<8xf32> attributes {vit.kernel_name = "blocks.0.norm1"} {
  return %x : tensor<8xf32>
}
func.func @blocks_0_norm2(%x: tensor<8xf32>) -> tensor<8xf32> attributes {vit.kernel_name = "blocks.0.norm2"} {
  return %x : tensor<8xf32>
}
func.func @norm(%x: tensor<8xf32>) -> tensor<8xf32> attributes {vit.kernel_name = "norm"} {
  return %x : tensor<8xf32>
}
func.func @blocks_11_norm1(%x: tensor<8xf32>) -> tensor<8xf32> attributes {vit.kernel_name = "blocks.11.norm1"} {
  return %x : tensor<8xf32>
}
