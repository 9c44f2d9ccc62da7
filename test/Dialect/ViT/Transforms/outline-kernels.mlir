// RUN: vitc-opt %s -vit-outline-kernels -split-input-file -verify-diagnostics | FileCheck %s

// Each kernel becomes a function named after it (non-identifier characters
// become '_') and a call in its place; @vit is left as the dispatch list.
// Each function records the multiply-accumulates of its ops.

// CHECK-LABEL: func.func @blocks_0_attn_qkv(
// CHECK-SAME:    %[[X:.*]]: tensor<2x3xf32>, %[[B:.*]]: tensor<3xf32>) -> tensor<2x3xf32>
// CHECK-SAME:    attributes {vit.kernel_name = "blocks.0.attn.qkv", vit.multiply_accumulates = 0 : i64}
// CHECK-NEXT:    %[[S:.*]] = vit.add %[[X]], %[[B]]
// CHECK-NEXT:    return %[[S]] : tensor<2x3xf32>
// CHECK-LABEL: func.func @head(
// CHECK-SAME:    attributes {vit.kernel_name = "head", vit.multiply_accumulates = 0 : i64}
// CHECK-LABEL: func.func @vit(
// CHECK-SAME:    %[[IN:[a-z0-9]+]]: tensor<2x3xf32>, %[[C:[a-z0-9]+]]: tensor<3xf32>
// CHECK-NEXT:    %[[R0:.*]] = call @blocks_0_attn_qkv(%[[IN]], %[[C]])
// CHECK-NEXT:    %[[R1:.*]] = call @head(%[[R0]], %[[C]])
// CHECK-NEXT:    return %[[R1]]
// CHECK-NOT:   vit.kernel
func.func @vit(%x: tensor<2x3xf32>, %c: tensor<3xf32> {vit.constant = 0 : i64}) -> tensor<2x3xf32> {
  %0 = vit.kernel "blocks.0.attn.qkv" ins(%x, %c : tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32> {
  ^bb0(%a: tensor<2x3xf32>, %b: tensor<3xf32>):
    %s = vit.add %a, %b : tensor<2x3xf32>, tensor<3xf32>
    vit.yield %s : tensor<2x3xf32>
  }
  %1 = vit.kernel "head" ins(%0, %c : tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32> {
  ^bb0(%a: tensor<2x3xf32>, %b: tensor<3xf32>):
    %s = vit.add %a, %b : tensor<2x3xf32>, tensor<3xf32>
    vit.yield %s : tensor<2x3xf32>
  }
  return %1 : tensor<2x3xf32>
}

// -----

// A kernel whose sanitized name clashes with an existing symbol is renamed,
// and the call follows the new name.
// CHECK-LABEL: func.func private @a_b(tensor<2xf32>) -> tensor<2xf32>
// CHECK-LABEL: func.func @a_b_0(
// CHECK-SAME:    attributes {vit.kernel_name = "a.b", vit.multiply_accumulates = 0 : i64}
// CHECK-LABEL: func.func @vit(
// CHECK:         call @a_b_0(
func.func private @a_b(tensor<2xf32>) -> tensor<2xf32>
func.func @vit(%x: tensor<2xf32>) -> tensor<2xf32> {
  %0 = vit.kernel "a.b" ins(%x : tensor<2xf32>) -> tensor<2xf32> {
  ^bb0(%a: tensor<2xf32>):
    vit.yield %a : tensor<2xf32>
  }
  return %0 : tensor<2xf32>
}

// -----

// expected-error @+1 {{no entry function @vit with a body}}
module {
}

// -----

// A linear's multiply-accumulates: 2 x 5 rows, 64 inputs, 128 outputs.
// CHECK-LABEL: func.func @fc(
// CHECK-SAME:    attributes {vit.kernel_name = "fc", vit.multiply_accumulates = 81920 : i64}
func.func @vit(%x: tensor<2x5x64xf32>, %w: tensor<128x64xf32>) -> tensor<2x5x128xf32> {
  %0 = vit.kernel "fc" ins(%x, %w : tensor<2x5x64xf32>, tensor<128x64xf32>) -> tensor<2x5x128xf32> {
  ^bb0(%a: tensor<2x5x64xf32>, %b: tensor<128x64xf32>):
    %y = vit.linear %a, %b : tensor<2x5x64xf32>, tensor<128x64xf32> -> tensor<2x5x128xf32>
    vit.yield %y : tensor<2x5x128xf32>
  }
  return %0 : tensor<2x5x128xf32>
}
