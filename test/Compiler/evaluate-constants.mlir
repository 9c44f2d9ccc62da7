// RUN: vitc-opt %s -vit-evaluate-constants -split-input-file -verify-diagnostics | FileCheck %s

// The constants function leaves the module (the compiler evaluates it
// through the pipeline's hook, which vitc-opt does not set); the rest stays.
// CHECK-NOT:   @vit_constants
// CHECK-LABEL: func.func @vit(
// CHECK-SAME:    {vit.constant = 0 : i64}
// CHECK-NOT:   @vit_constants
func.func @vit(%x: tensor<2xf32>, %c: tensor<2xf32> {vit.constant = 0 : i64}) -> tensor<2xf32> {
  return %x : tensor<2xf32>
}
func.func @vit_constants() -> tensor<2xf32> {
  %w = vit.weight "w" : tensor<2xf32>
  return %w : tensor<2xf32>
}

// -----

// Without a constants function the fusion pipeline has not run.
// expected-error @below {{no constants function @vit_constants with a body; run the fusion pipeline first}}
module {
  func.func @vit(%x: tensor<2xf32>) -> tensor<2xf32> {
    return %x : tensor<2xf32>
  }
}
