// Bias adds, GELUs and residual adds folded into the epilogue of the linear
// that feeds them, when that linear has no other user.
// RUN: vitc-opt %s -vit-fuse-epilogues -split-input-file | FileCheck %s
// RUN: vitc-opt %s -vit-fuse-epilogues -split-input-file -mlir-print-debuginfo -mlir-print-local-scope | FileCheck %s --check-prefix=LOC

// A [N] add after a bare linear is its bias.
// CHECK-LABEL: func.func @bias
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x5x64xf32>, %[[W:[^:]+]]: tensor<128x64xf32>, %[[B:[^:]+]]: tensor<128xf32>)
// CHECK-NEXT: %[[Y:.*]] = vit.linear %[[X]], %[[W]] bias(%[[B]] : tensor<128xf32>) : tensor<2x5x64xf32>, tensor<128x64xf32> -> tensor<2x5x128xf32>
// CHECK-NEXT: return %[[Y]] : tensor<2x5x128xf32>
func.func @bias(%x: tensor<2x5x64xf32>, %w: tensor<128x64xf32>, %b: tensor<128xf32>) -> tensor<2x5x128xf32> {
  %0 = vit.linear %x, %w : tensor<2x5x64xf32>, tensor<128x64xf32> -> tensor<2x5x128xf32>
  %1 = vit.add %0, %b : tensor<2x5x128xf32>, tensor<128xf32>
  return %1 : tensor<2x5x128xf32>
}

// -----

// The classifier: a rank-2 linear and its bias.
// CHECK-LABEL: func.func @bias_rank2
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x64xf32>, %[[W:[^:]+]]: tensor<10x64xf32>, %[[B:[^:]+]]: tensor<10xf32>)
// CHECK-NEXT: %[[Y:.*]] = vit.linear %[[X]], %[[W]] bias(%[[B]] : tensor<10xf32>) : tensor<2x64xf32>, tensor<10x64xf32> -> tensor<2x10xf32>
// CHECK-NEXT: return %[[Y]]
func.func @bias_rank2(%x: tensor<2x64xf32>, %w: tensor<10x64xf32>, %b: tensor<10xf32>) -> tensor<2x10xf32> {
  %0 = vit.linear %x, %w : tensor<2x64xf32>, tensor<10x64xf32> -> tensor<2x10xf32>
  %1 = vit.add %0, %b : tensor<2x10xf32>, tensor<10xf32>
  return %1 : tensor<2x10xf32>
}

// -----

// Linear, bias, GELU: one linear with both in its epilogue. The fused op keeps
// the linear's location.
// CHECK-LABEL: func.func @bias_gelu
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x5x64xf32>, %[[W:[^:]+]]: tensor<128x64xf32>, %[[B:[^:]+]]: tensor<128xf32>)
// CHECK-NEXT: %[[Y:.*]] = vit.linear %[[X]], %[[W]] bias(%[[B]] : tensor<128xf32>) gelu = tanh : tensor<2x5x64xf32>, tensor<128x64xf32> -> tensor<2x5x128xf32>
// CHECK-NEXT: return %[[Y]]
// LOC-LABEL: func.func @bias_gelu
// LOC-NEXT: vit.linear {{.*}} gelu = tanh {{.*}} loc("blocks.0.mlp.fc1")
// LOC-NEXT: return
func.func @bias_gelu(%x: tensor<2x5x64xf32>, %w: tensor<128x64xf32>, %b: tensor<128xf32>) -> tensor<2x5x128xf32> {
  %0 = vit.linear %x, %w : tensor<2x5x64xf32>, tensor<128x64xf32> -> tensor<2x5x128xf32> loc("blocks.0.mlp.fc1")
  %1 = vit.add %0, %b : tensor<2x5x128xf32>, tensor<128xf32> loc("blocks.0.mlp.fc1")
  %2 = vit.gelu %1 approximation = tanh : tensor<2x5x128xf32> loc("blocks.0.mlp.gelu")
  return %2 : tensor<2x5x128xf32>
}

// -----

// A GELU straight after a bare linear.
// CHECK-LABEL: func.func @gelu_no_bias
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x5x64xf32>, %[[W:[^:]+]]: tensor<128x64xf32>)
// CHECK-NEXT: %[[Y:.*]] = vit.linear %[[X]], %[[W]] gelu = exact : tensor<2x5x64xf32>, tensor<128x64xf32> -> tensor<2x5x128xf32>
// CHECK-NEXT: return %[[Y]]
func.func @gelu_no_bias(%x: tensor<2x5x64xf32>, %w: tensor<128x64xf32>) -> tensor<2x5x128xf32> {
  %0 = vit.linear %x, %w : tensor<2x5x64xf32>, tensor<128x64xf32> -> tensor<2x5x128xf32>
  %1 = vit.gelu %0 approximation = exact : tensor<2x5x128xf32>
  return %1 : tensor<2x5x128xf32>
}

// -----

// A full-shape add with the linear as lhs: the other operand is the residual.
// CHECK-LABEL: func.func @residual_linear_lhs
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x5x64xf32>, %[[W:[^:]+]]: tensor<64x64xf32>, %[[R:[^:]+]]: tensor<2x5x64xf32>)
// CHECK-NEXT: %[[Y:.*]] = vit.linear %[[X]], %[[W]] residual(%[[R]] : tensor<2x5x64xf32>) : tensor<2x5x64xf32>, tensor<64x64xf32> -> tensor<2x5x64xf32>
// CHECK-NEXT: return %[[Y]]
func.func @residual_linear_lhs(%x: tensor<2x5x64xf32>, %w: tensor<64x64xf32>, %r: tensor<2x5x64xf32>) -> tensor<2x5x64xf32> {
  %0 = vit.linear %x, %w : tensor<2x5x64xf32>, tensor<64x64xf32> -> tensor<2x5x64xf32>
  %1 = vit.add %0, %r : tensor<2x5x64xf32>, tensor<2x5x64xf32>
  return %1 : tensor<2x5x64xf32>
}

// -----

// The residual stream as lhs (how residual_add decomposes), the linear (with
// its bias already folded) as rhs.
// CHECK-LABEL: func.func @residual_linear_rhs
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x5x64xf32>, %[[W:[^:]+]]: tensor<64x64xf32>, %[[B:[^:]+]]: tensor<64xf32>, %[[R:[^:]+]]: tensor<2x5x64xf32>)
// CHECK-NEXT: %[[Y:.*]] = vit.linear %[[X]], %[[W]] bias(%[[B]] : tensor<64xf32>) residual(%[[R]] : tensor<2x5x64xf32>) : tensor<2x5x64xf32>, tensor<64x64xf32> -> tensor<2x5x64xf32>
// CHECK-NEXT: return %[[Y]]
func.func @residual_linear_rhs(%x: tensor<2x5x64xf32>, %w: tensor<64x64xf32>, %b: tensor<64xf32>, %r: tensor<2x5x64xf32>) -> tensor<2x5x64xf32> {
  %0 = vit.linear %x, %w bias(%b : tensor<64xf32>) : tensor<2x5x64xf32>, tensor<64x64xf32> -> tensor<2x5x64xf32>
  %1 = vit.add %r, %0 : tensor<2x5x64xf32>, tensor<2x5x64xf32>
  return %1 : tensor<2x5x64xf32>
}

// -----

// A [T, N] position embedding added to the patch embeddings: a broadcast
// residual.
// CHECK-LABEL: func.func @residual_broadcast
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x4x768xf32>, %[[W:[^:]+]]: tensor<64x768xf32>, %[[B:[^:]+]]: tensor<64xf32>, %[[POS:[^:]+]]: tensor<4x64xf32>)
// CHECK-NEXT: %[[Y:.*]] = vit.linear %[[X]], %[[W]] bias(%[[B]] : tensor<64xf32>) residual(%[[POS]] : tensor<4x64xf32>) : tensor<2x4x768xf32>, tensor<64x768xf32> -> tensor<2x4x64xf32>
// CHECK-NEXT: return %[[Y]]
func.func @residual_broadcast(%x: tensor<2x4x768xf32>, %w: tensor<64x768xf32>, %b: tensor<64xf32>, %pos: tensor<4x64xf32>) -> tensor<2x4x64xf32> {
  %0 = vit.linear %x, %w : tensor<2x4x768xf32>, tensor<64x768xf32> -> tensor<2x4x64xf32>
  %1 = vit.add %0, %b : tensor<2x4x64xf32>, tensor<64xf32>
  %2 = vit.add %1, %pos : tensor<2x4x64xf32>, tensor<4x64xf32>
  return %2 : tensor<2x4x64xf32>
}

// -----

// The decomposed MLP plus its residual add: two linears, the first with
// `bias gelu`, the second with `bias residual`.
// CHECK-LABEL: func.func @mlp_chain
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x5x64xf32>, %[[N:[^:]+]]: tensor<2x5x64xf32>, %[[W1:[^:]+]]: tensor<128x64xf32>, %[[B1:[^:]+]]: tensor<128xf32>, %[[W2:[^:]+]]: tensor<64x128xf32>, %[[B2:[^:]+]]: tensor<64xf32>)
// CHECK-NOT: vit.add
// CHECK-NOT: vit.gelu
// CHECK: %[[FC1:.*]] = vit.linear %[[N]], %[[W1]] bias(%[[B1]] : tensor<128xf32>) gelu = exact : tensor<2x5x64xf32>, tensor<128x64xf32> -> tensor<2x5x128xf32>
// CHECK-NEXT: %[[FC2:.*]] = vit.linear %[[FC1]], %[[W2]] bias(%[[B2]] : tensor<64xf32>) residual(%[[X]] : tensor<2x5x64xf32>) : tensor<2x5x128xf32>, tensor<64x128xf32> -> tensor<2x5x64xf32>
// CHECK-NEXT: return %[[FC2]] : tensor<2x5x64xf32>
// CHECK-NEXT: }
// LOC-LABEL: func.func @mlp_chain
// LOC-NEXT: vit.linear {{.*}} loc("blocks.0.mlp.fc1")
// LOC-NEXT: vit.linear {{.*}} loc("blocks.0.mlp.fc2")
// LOC-NEXT: return
func.func @mlp_chain(%x: tensor<2x5x64xf32>, %normed: tensor<2x5x64xf32>, %w1: tensor<128x64xf32>, %b1: tensor<128xf32>, %w2: tensor<64x128xf32>, %b2: tensor<64xf32>) -> tensor<2x5x64xf32> {
  %0 = vit.linear %normed, %w1 : tensor<2x5x64xf32>, tensor<128x64xf32> -> tensor<2x5x128xf32> loc("blocks.0.mlp.fc1")
  %1 = vit.add %0, %b1 : tensor<2x5x128xf32>, tensor<128xf32> loc("blocks.0.mlp.fc1")
  %2 = vit.gelu %1 approximation = exact : tensor<2x5x128xf32> loc("blocks.0.mlp.gelu")
  %3 = vit.linear %2, %w2 : tensor<2x5x128xf32>, tensor<64x128xf32> -> tensor<2x5x64xf32> loc("blocks.0.mlp.fc2")
  %4 = vit.add %3, %b2 : tensor<2x5x64xf32>, tensor<64xf32> loc("blocks.0.mlp.fc2")
  %5 = vit.add %x, %4 : tensor<2x5x64xf32>, tensor<2x5x64xf32> loc("blocks.0.add2")
  return %5 : tensor<2x5x64xf32>
}

// -----

// After a GELU, a [N] add can no longer be the bias (that would go inside
// the GELU): it becomes a broadcast residual.
// CHECK-LABEL: func.func @add_after_gelu
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x5x64xf32>, %[[W:[^:]+]]: tensor<128x64xf32>, %[[B:[^:]+]]: tensor<128xf32>)
// CHECK-NEXT: %[[Y:.*]] = vit.linear %[[X]], %[[W]] gelu = exact residual(%[[B]] : tensor<128xf32>) : tensor<2x5x64xf32>, tensor<128x64xf32> -> tensor<2x5x128xf32>
// CHECK-NEXT: return %[[Y]]
func.func @add_after_gelu(%x: tensor<2x5x64xf32>, %w: tensor<128x64xf32>, %b: tensor<128xf32>) -> tensor<2x5x128xf32> {
  %0 = vit.linear %x, %w gelu = exact : tensor<2x5x64xf32>, tensor<128x64xf32> -> tensor<2x5x128xf32>
  %1 = vit.add %0, %b : tensor<2x5x128xf32>, tensor<128xf32>
  return %1 : tensor<2x5x128xf32>
}

// -----

// A second [N] add when the bias is taken: a residual, the bias kept.
// CHECK-LABEL: func.func @second_bias
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x5x64xf32>, %[[W:[^:]+]]: tensor<128x64xf32>, %[[B:[^:]+]]: tensor<128xf32>, %[[C:[^:]+]]: tensor<128xf32>)
// CHECK-NEXT: %[[Y:.*]] = vit.linear %[[X]], %[[W]] bias(%[[B]] : tensor<128xf32>) residual(%[[C]] : tensor<128xf32>) : tensor<2x5x64xf32>, tensor<128x64xf32> -> tensor<2x5x128xf32>
// CHECK-NEXT: return %[[Y]]
func.func @second_bias(%x: tensor<2x5x64xf32>, %w: tensor<128x64xf32>, %b: tensor<128xf32>, %c: tensor<128xf32>) -> tensor<2x5x128xf32> {
  %0 = vit.linear %x, %w bias(%b : tensor<128xf32>) : tensor<2x5x64xf32>, tensor<128x64xf32> -> tensor<2x5x128xf32>
  %1 = vit.add %0, %c : tensor<2x5x128xf32>, tensor<128xf32>
  return %1 : tensor<2x5x128xf32>
}

// -----

// The lhs linear's residual is taken, but the rhs linear's epilogue is free
// and it has no other user: the add is its residual.
// CHECK-LABEL: func.func @residual_into_rhs_linear
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x5x64xf32>, %[[Y:[^:]+]]: tensor<2x5x64xf32>, %[[W:[^:]+]]: tensor<64x64xf32>, %[[R:[^:]+]]: tensor<2x5x64xf32>)
// CHECK-NEXT: %[[A:.*]] = vit.linear %[[X]], %[[W]] residual(%[[R]] : tensor<2x5x64xf32>) : tensor<2x5x64xf32>, tensor<64x64xf32> -> tensor<2x5x64xf32>
// CHECK-NEXT: %[[B:.*]] = vit.linear %[[Y]], %[[W]] residual(%[[A]] : tensor<2x5x64xf32>) : tensor<2x5x64xf32>, tensor<64x64xf32> -> tensor<2x5x64xf32>
// CHECK-NEXT: return %[[B]]
func.func @residual_into_rhs_linear(%x: tensor<2x5x64xf32>, %y: tensor<2x5x64xf32>, %w: tensor<64x64xf32>, %r: tensor<2x5x64xf32>) -> tensor<2x5x64xf32> {
  %0 = vit.linear %x, %w residual(%r : tensor<2x5x64xf32>) : tensor<2x5x64xf32>, tensor<64x64xf32> -> tensor<2x5x64xf32>
  %1 = vit.linear %y, %w : tensor<2x5x64xf32>, tensor<64x64xf32> -> tensor<2x5x64xf32>
  %2 = vit.add %0, %1 : tensor<2x5x64xf32>, tensor<2x5x64xf32>
  return %2 : tensor<2x5x64xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Not fused
//===----------------------------------------------------------------------===//

// The linear's result is also returned: folding the add would lose it.
// CHECK-LABEL: func.func @linear_two_users
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x5x64xf32>, %[[W:[^:]+]]: tensor<128x64xf32>, %[[B:[^:]+]]: tensor<128xf32>)
// CHECK-NEXT: %[[Y:.*]] = vit.linear %[[X]], %[[W]] : tensor<2x5x64xf32>, tensor<128x64xf32> -> tensor<2x5x128xf32>
// CHECK-NEXT: %[[S:.*]] = vit.add %[[Y]], %[[B]] : tensor<2x5x128xf32>, tensor<128xf32>
// CHECK-NEXT: return %[[Y]], %[[S]]
func.func @linear_two_users(%x: tensor<2x5x64xf32>, %w: tensor<128x64xf32>, %b: tensor<128xf32>) -> (tensor<2x5x128xf32>, tensor<2x5x128xf32>) {
  %0 = vit.linear %x, %w : tensor<2x5x64xf32>, tensor<128x64xf32> -> tensor<2x5x128xf32>
  %1 = vit.add %0, %b : tensor<2x5x128xf32>, tensor<128xf32>
  return %0, %1 : tensor<2x5x128xf32>, tensor<2x5x128xf32>
}

// -----

// Two consumers of one linear: neither the GELU nor the residual add is
// folded.
// CHECK-LABEL: func.func @linear_two_consumers
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x5x64xf32>, %[[W:[^:]+]]: tensor<64x64xf32>, %[[R:[^:]+]]: tensor<2x5x64xf32>)
// CHECK-NEXT: %[[Y:.*]] = vit.linear %[[X]], %[[W]] : tensor<2x5x64xf32>, tensor<64x64xf32> -> tensor<2x5x64xf32>
// CHECK-NEXT: %[[G:.*]] = vit.gelu %[[Y]] approximation = exact
// CHECK-NEXT: %[[S:.*]] = vit.add %[[R]], %[[Y]]
// CHECK-NEXT: return %[[G]], %[[S]]
func.func @linear_two_consumers(%x: tensor<2x5x64xf32>, %w: tensor<64x64xf32>, %r: tensor<2x5x64xf32>) -> (tensor<2x5x64xf32>, tensor<2x5x64xf32>) {
  %0 = vit.linear %x, %w : tensor<2x5x64xf32>, tensor<64x64xf32> -> tensor<2x5x64xf32>
  %1 = vit.gelu %0 approximation = exact : tensor<2x5x64xf32>
  %2 = vit.add %r, %0 : tensor<2x5x64xf32>, tensor<2x5x64xf32>
  return %1, %2 : tensor<2x5x64xf32>, tensor<2x5x64xf32>
}

// -----

// The GELU comes before the residual in the epilogue, so a linear that already
// adds a residual cannot take a GELU.
// CHECK-LABEL: func.func @gelu_after_residual
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x5x64xf32>, %[[W:[^:]+]]: tensor<64x64xf32>, %[[R:[^:]+]]: tensor<2x5x64xf32>)
// CHECK-NEXT: %[[Y:.*]] = vit.linear %[[X]], %[[W]] residual(%[[R]] : tensor<2x5x64xf32>) : tensor<2x5x64xf32>, tensor<64x64xf32> -> tensor<2x5x64xf32>
// CHECK-NEXT: %[[G:.*]] = vit.gelu %[[Y]] approximation = exact : tensor<2x5x64xf32>
// CHECK-NEXT: return %[[G]]
func.func @gelu_after_residual(%x: tensor<2x5x64xf32>, %w: tensor<64x64xf32>, %r: tensor<2x5x64xf32>) -> tensor<2x5x64xf32> {
  %0 = vit.linear %x, %w residual(%r : tensor<2x5x64xf32>) : tensor<2x5x64xf32>, tensor<64x64xf32> -> tensor<2x5x64xf32>
  %1 = vit.gelu %0 approximation = exact : tensor<2x5x64xf32>
  return %1 : tensor<2x5x64xf32>
}

// -----

// One GELU per epilogue.
// CHECK-LABEL: func.func @gelu_after_gelu
// CHECK-NEXT: %[[Y:.*]] = vit.linear %{{.*}}, %{{.*}} gelu = exact :
// CHECK-NEXT: %[[G:.*]] = vit.gelu %[[Y]] approximation = tanh
// CHECK-NEXT: return %[[G]]
func.func @gelu_after_gelu(%x: tensor<2x5x64xf32>, %w: tensor<64x64xf32>) -> tensor<2x5x64xf32> {
  %0 = vit.linear %x, %w gelu = exact : tensor<2x5x64xf32>, tensor<64x64xf32> -> tensor<2x5x64xf32>
  %1 = vit.gelu %0 approximation = tanh : tensor<2x5x64xf32>
  return %1 : tensor<2x5x64xf32>
}

// -----

// No linear on either side.
// CHECK-LABEL: func.func @add_without_linear
// CHECK-SAME: (%[[A:[^:]+]]: tensor<2x5x64xf32>, %[[B:[^:]+]]: tensor<2x5x64xf32>, %[[C:[^:]+]]: tensor<64xf32>, %[[N:[^:]+]]: tensor<64xf32>, %[[M:[^:]+]]: tensor<64xf32>)
// CHECK-NEXT: %[[S:.*]] = vit.add %[[A]], %[[B]] : tensor<2x5x64xf32>, tensor<2x5x64xf32>
// CHECK-NEXT: %[[T:.*]] = vit.add %[[S]], %[[C]] : tensor<2x5x64xf32>, tensor<64xf32>
// CHECK-NEXT: %[[L:.*]] = vit.layer_norm %[[T]], %[[N]], %[[M]]
// CHECK-NEXT: %[[U:.*]] = vit.add %[[L]], %[[C]] : tensor<2x5x64xf32>, tensor<64xf32>
// CHECK-NEXT: %[[G:.*]] = vit.gelu %[[U]] approximation = exact
// CHECK-NEXT: return %[[G]]
// CHECK-NOT: vit.linear
func.func @add_without_linear(%a: tensor<2x5x64xf32>, %b: tensor<2x5x64xf32>, %c: tensor<64xf32>, %n: tensor<64xf32>, %m: tensor<64xf32>) -> tensor<2x5x64xf32> {
  %0 = vit.add %a, %b : tensor<2x5x64xf32>, tensor<2x5x64xf32>
  %1 = vit.add %0, %c : tensor<2x5x64xf32>, tensor<64xf32>
  %2 = vit.layer_norm %1, %n, %m epsilon = 1.0e-6 : tensor<2x5x64xf32>, tensor<64xf32>, tensor<64xf32>
  %3 = vit.add %2, %c : tensor<2x5x64xf32>, tensor<64xf32>
  %4 = vit.gelu %3 approximation = exact : tensor<2x5x64xf32>
  return %4 : tensor<2x5x64xf32>
}

// -----

// One residual per epilogue: a second residual add stays a vit.add.
// CHECK-LABEL: func.func @second_residual
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x5x64xf32>, %[[W:[^:]+]]: tensor<64x64xf32>, %[[R1:[^:]+]]: tensor<2x5x64xf32>, %[[R2:[^:]+]]: tensor<2x5x64xf32>)
// CHECK-NEXT: %[[Y:.*]] = vit.linear %[[X]], %[[W]] residual(%[[R1]] : tensor<2x5x64xf32>) : tensor<2x5x64xf32>, tensor<64x64xf32> -> tensor<2x5x64xf32>
// CHECK-NEXT: %[[S:.*]] = vit.add %[[Y]], %[[R2]] : tensor<2x5x64xf32>, tensor<2x5x64xf32>
// CHECK-NEXT: %[[T:.*]] = vit.add %[[R2]], %[[S]] : tensor<2x5x64xf32>, tensor<2x5x64xf32>
// CHECK-NEXT: return %[[T]]
func.func @second_residual(%x: tensor<2x5x64xf32>, %w: tensor<64x64xf32>, %r1: tensor<2x5x64xf32>, %r2: tensor<2x5x64xf32>) -> tensor<2x5x64xf32> {
  %0 = vit.linear %x, %w : tensor<2x5x64xf32>, tensor<64x64xf32> -> tensor<2x5x64xf32>
  %1 = vit.add %0, %r1 : tensor<2x5x64xf32>, tensor<2x5x64xf32>
  %2 = vit.add %1, %r2 : tensor<2x5x64xf32>, tensor<2x5x64xf32>
  %3 = vit.add %r2, %2 : tensor<2x5x64xf32>, tensor<2x5x64xf32>
  return %3 : tensor<2x5x64xf32>
}

// -----

// The linear is the broadcast rhs: the add's result is larger than the
// linear's, so it cannot become the linear's epilogue.
// CHECK-LABEL: func.func @broadcast_linear_rhs
// CHECK-SAME: (%[[A:[^:]+]]: tensor<2x5x64xf32>, %[[X:[^:]+]]: tensor<5x32xf32>, %[[W:[^:]+]]: tensor<64x32xf32>)
// CHECK-NEXT: %[[Y:.*]] = vit.linear %[[X]], %[[W]] : tensor<5x32xf32>, tensor<64x32xf32> -> tensor<5x64xf32>
// CHECK-NEXT: %[[S:.*]] = vit.add %[[A]], %[[Y]] : tensor<2x5x64xf32>, tensor<5x64xf32>
// CHECK-NEXT: return %[[S]]
func.func @broadcast_linear_rhs(%a: tensor<2x5x64xf32>, %x: tensor<5x32xf32>, %w: tensor<64x32xf32>) -> tensor<2x5x64xf32> {
  %0 = vit.linear %x, %w : tensor<5x32xf32>, tensor<64x32xf32> -> tensor<5x64xf32>
  %1 = vit.add %a, %0 : tensor<2x5x64xf32>, tensor<5x64xf32>
  return %1 : tensor<2x5x64xf32>
}
