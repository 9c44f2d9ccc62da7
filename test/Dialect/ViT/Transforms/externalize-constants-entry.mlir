// RUN: vitc-opt %s -vit-externalize-constants=entry-point=model | FileCheck %s --check-prefix=SHARED

// A weight read by two kernels becomes one argument; the entry point can be
// chosen.
// SHARED-LABEL: func.func @model(
// SHARED-SAME:    %{{.*}}: tensor<2x3xf32>, %[[G:.*]]: tensor<3xf32> {vit.constant = 0 : i64})
// SHARED:         vit.kernel "n1" ins(%{{.*}}, %[[G]] :
// SHARED:         vit.kernel "n2" ins(%{{.*}}, %[[G]] :
// SHARED-LABEL: func.func @model_constants() -> tensor<3xf32>
// SHARED-COUNT-1: vit.weight "gamma"
func.func @model(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %g = vit.weight "gamma" : tensor<3xf32>
  %0 = vit.kernel "n1" ins(%x, %g : tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32> {
  ^bb0(%a: tensor<2x3xf32>, %b: tensor<3xf32>):
    %s = vit.add %a, %b : tensor<2x3xf32>, tensor<3xf32>
    vit.yield %s : tensor<2x3xf32>
  }
  %1 = vit.kernel "n2" ins(%0, %g : tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32> {
  ^bb0(%a: tensor<2x3xf32>, %b: tensor<3xf32>):
    %s = vit.add %a, %b : tensor<2x3xf32>, tensor<3xf32>
    vit.yield %s : tensor<2x3xf32>
  }
  return %1 : tensor<2x3xf32>
}

