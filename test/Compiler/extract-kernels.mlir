// RUN: vitc-opt %s -vit-extract-kernels | FileCheck %s

// Only kernel functions (with vit.kernel_name and a body) stay for code
// generation: the dispatch list and every other function leave.
// CHECK:       module {
// CHECK-NEXT:    func.func @k(
// CHECK-SAME:      attributes {vit.kernel_name = "k"}
// CHECK-NEXT:      return
// CHECK-NEXT:    }
// CHECK-NEXT:  }
func.func private @declared(tensor<2xf32>) -> tensor<2xf32> attributes {vit.kernel_name = "declared"}
func.func @k(%x: tensor<2xf32>) -> tensor<2xf32> attributes {vit.kernel_name = "k"} {
  return %x : tensor<2xf32>
}
func.func @helper(%x: tensor<2xf32>) -> tensor<2xf32> {
  return %x : tensor<2xf32>
}
func.func @vit(%x: tensor<2xf32>) -> tensor<2xf32> {
  %0 = call @k(%x) : (tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}
