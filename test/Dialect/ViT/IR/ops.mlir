// Round trip: parse, print, parse again; and through the generic form.
// RUN: vitc-opt %s | vitc-opt | FileCheck %s
// RUN: vitc-opt %s --mlir-print-op-generic | vitc-opt | FileCheck %s

// CHECK-LABEL: func.func @weight
func.func @weight() -> tensor<2304x768xf32> {
  // CHECK: vit.weight "blocks.0.attn.qkv.weight" : tensor<2304x768xf32>
  %0 = vit.weight "blocks.0.attn.qkv.weight" : tensor<2304x768xf32>
  return %0 : tensor<2304x768xf32>
}

// CHECK-LABEL: func.func @patch_embed_nhwc_hwio
func.func @patch_embed_nhwc_hwio(%image: tensor<8x224x224x3xf32>, %kernel: tensor<16x16x3x768xf32>, %bias: tensor<768xf32>) -> tensor<8x196x768xf32> {
  // CHECK: vit.patch_embed %{{.*}}, %{{.*}}, %{{.*}} patch_size = 16 input_layout = nhwc kernel_layout = hwio : tensor<8x224x224x3xf32>, tensor<16x16x3x768xf32>, tensor<768xf32> -> tensor<8x196x768xf32>
  %0 = vit.patch_embed %image, %kernel, %bias patch_size = 16 input_layout = nhwc kernel_layout = hwio : tensor<8x224x224x3xf32>, tensor<16x16x3x768xf32>, tensor<768xf32> -> tensor<8x196x768xf32>
  return %0 : tensor<8x196x768xf32>
}

// Non-square image, NCHW input, OIHW kernel, bf16.
// CHECK-LABEL: func.func @patch_embed_nchw_oihw
func.func @patch_embed_nchw_oihw(%image: tensor<2x3x64x32xbf16>, %kernel: tensor<96x3x16x16xbf16>, %bias: tensor<96xbf16>) -> tensor<2x8x96xbf16> {
  // CHECK: patch_size = 16 input_layout = nchw kernel_layout = oihw : tensor<2x3x64x32xbf16>, tensor<96x3x16x16xbf16>, tensor<96xbf16> -> tensor<2x8x96xbf16>
  %0 = vit.patch_embed %image, %kernel, %bias patch_size = 16 input_layout = nchw kernel_layout = oihw : tensor<2x3x64x32xbf16>, tensor<96x3x16x16xbf16>, tensor<96xbf16> -> tensor<2x8x96xbf16>
  return %0 : tensor<2x8x96xbf16>
}

// CHECK-LABEL: func.func @class_pos_embed
func.func @class_pos_embed(%patches: tensor<8x196x768xf32>, %cls: tensor<1x1x768xf32>, %pos: tensor<1x197x768xf32>) -> tensor<8x197x768xf32> {
  // CHECK: vit.class_pos_embed %{{.*}}, %{{.*}}, %{{.*}} : tensor<8x196x768xf32>, tensor<1x1x768xf32>, tensor<1x197x768xf32> -> tensor<8x197x768xf32>
  %0 = vit.class_pos_embed %patches, %cls, %pos : tensor<8x196x768xf32>, tensor<1x1x768xf32>, tensor<1x197x768xf32> -> tensor<8x197x768xf32>
  return %0 : tensor<8x197x768xf32>
}

// CHECK-LABEL: func.func @layer_norm
func.func @layer_norm(%x: tensor<8x197x768xf32>, %gamma: tensor<768xf32>, %beta: tensor<768xf32>) -> tensor<8x197x768xf32> {
  // CHECK: vit.layer_norm %{{.*}}, %{{.*}}, %{{.*}} epsilon = 9.9999999999999995E-7 : tensor<8x197x768xf32>, tensor<768xf32>, tensor<768xf32>
  %0 = vit.layer_norm %x, %gamma, %beta epsilon = 1.0e-6 : tensor<8x197x768xf32>, tensor<768xf32>, tensor<768xf32>
  return %0 : tensor<8x197x768xf32>
}

// timm layout: one fused qkv projection with bias.
// CHECK-LABEL: func.func @attention_fused
func.func @attention_fused(%x: tensor<8x197x768xf32>, %w: tensor<2304x768xf32>, %b: tensor<2304xf32>, %pw: tensor<768x768xf32>, %pb: tensor<768xf32>) -> tensor<8x197x768xf32> {
  // CHECK: vit.attention %{{.*}} qkv(%{{.*}} : tensor<2304x768xf32>) bias(%{{.*}} : tensor<2304xf32>) proj(%{{.*}}, %{{.*}} : tensor<768x768xf32>, tensor<768xf32>) num_heads = 12 : tensor<8x197x768xf32>
  %0 = vit.attention %x qkv(%w : tensor<2304x768xf32>) bias(%b : tensor<2304xf32>) proj(%pw, %pb : tensor<768x768xf32>, tensor<768xf32>) num_heads = 12 : tensor<8x197x768xf32>
  return %0 : tensor<8x197x768xf32>
}

// Hugging Face layout without qkv bias (the Keras construction): separate
// q, k and v projections.
// CHECK-LABEL: func.func @attention_separate_no_bias
func.func @attention_separate_no_bias(%x: tensor<1x5x64xf32>, %q: tensor<64x64xf32>, %k: tensor<64x64xf32>, %v: tensor<64x64xf32>, %pw: tensor<64x64xf32>, %pb: tensor<64xf32>) -> tensor<1x5x64xf32> {
  // CHECK: vit.attention %{{.*}} qkv(%{{.*}}, %{{.*}}, %{{.*}} : tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>) proj(%{{.*}}, %{{.*}} : tensor<64x64xf32>, tensor<64xf32>) num_heads = 4 : tensor<1x5x64xf32>
  %0 = vit.attention %x qkv(%q, %k, %v : tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>) proj(%pw, %pb : tensor<64x64xf32>, tensor<64xf32>) num_heads = 4 : tensor<1x5x64xf32>
  return %0 : tensor<1x5x64xf32>
}

// CHECK-LABEL: func.func @mlp
func.func @mlp(%x: tensor<8x197x768xf32>, %w1: tensor<3072x768xf32>, %b1: tensor<3072xf32>, %w2: tensor<768x3072xf32>, %b2: tensor<768xf32>) -> (tensor<8x197x768xf32>, tensor<8x197x768xf32>) {
  // CHECK: vit.mlp %{{.*}} fc1(%{{.*}}, %{{.*}}) fc2(%{{.*}}, %{{.*}}) gelu = exact : tensor<8x197x768xf32>, tensor<3072x768xf32>, tensor<3072xf32>, tensor<768x3072xf32>, tensor<768xf32>
  %0 = vit.mlp %x fc1(%w1, %b1) fc2(%w2, %b2) gelu = exact : tensor<8x197x768xf32>, tensor<3072x768xf32>, tensor<3072xf32>, tensor<768x3072xf32>, tensor<768xf32>
  // CHECK: gelu = tanh
  %1 = vit.mlp %x fc1(%w1, %b1) fc2(%w2, %b2) gelu = tanh : tensor<8x197x768xf32>, tensor<3072x768xf32>, tensor<3072xf32>, tensor<768x3072xf32>, tensor<768xf32>
  return %0, %1 : tensor<8x197x768xf32>, tensor<8x197x768xf32>
}

// CHECK-LABEL: func.func @residual_add
func.func @residual_add(%a: tensor<8x197x768xf32>, %b: tensor<8x197x768xf32>) -> tensor<8x197x768xf32> {
  // CHECK: vit.residual_add %{{.*}}, %{{.*}} : tensor<8x197x768xf32>
  %0 = vit.residual_add %a, %b : tensor<8x197x768xf32>
  return %0 : tensor<8x197x768xf32>
}

// CHECK-LABEL: func.func @classifier_head
func.func @classifier_head(%x: tensor<8x197x768xf32>, %w: tensor<1000x768xf32>, %b: tensor<1000xf32>) -> tensor<8x1000xf32> {
  // CHECK: vit.classifier_head %{{.*}}, %{{.*}}, %{{.*}} : tensor<8x197x768xf32>, tensor<1000x768xf32>, tensor<1000xf32> -> tensor<8x1000xf32>
  %0 = vit.classifier_head %x, %w, %b : tensor<8x197x768xf32>, tensor<1000x768xf32>, tensor<1000xf32> -> tensor<8x1000xf32>
  return %0 : tensor<8x1000xf32>
}

//===----------------------------------------------------------------------===//
// Decomposed operations
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @patchify_nchw_oihw
// CHECK-SAME: (%[[IMAGE:[^:]+]]: tensor<2x3x64x32xf32>)
func.func @patchify_nchw_oihw(%image: tensor<2x3x64x32xf32>) -> tensor<2x8x768xf32> {
  // CHECK: %[[P:.*]] = vit.patchify %[[IMAGE]] patch_size = 16 input_layout = nchw kernel_layout = oihw : tensor<2x3x64x32xf32> -> tensor<2x8x768xf32>
  // CHECK: return %[[P]]
  %0 = vit.patchify %image patch_size = 16 input_layout = nchw kernel_layout = oihw : tensor<2x3x64x32xf32> -> tensor<2x8x768xf32>
  return %0 : tensor<2x8x768xf32>
}

// CHECK-LABEL: func.func @patchify_nhwc_hwio
func.func @patchify_nhwc_hwio(%image: tensor<1x32x32x3xbf16>) -> tensor<1x16x192xbf16> {
  // CHECK: vit.patchify %{{.*}} patch_size = 8 input_layout = nhwc kernel_layout = hwio : tensor<1x32x32x3xbf16> -> tensor<1x16x192xbf16>
  %0 = vit.patchify %image patch_size = 8 input_layout = nhwc kernel_layout = hwio : tensor<1x32x32x3xbf16> -> tensor<1x16x192xbf16>
  return %0 : tensor<1x16x192xbf16>
}

// CHECK-LABEL: func.func @linear_plain
// CHECK-SAME: (%[[X:[^:]+]]: tensor<8x197x768xf32>, %[[W:[^:]+]]: tensor<3072x768xf32>)
func.func @linear_plain(%x: tensor<8x197x768xf32>, %w: tensor<3072x768xf32>) -> tensor<8x197x3072xf32> {
  // No epilogue: nothing between the weight and the types.
  // CHECK: vit.linear %[[X]], %[[W]] : tensor<8x197x768xf32>, tensor<3072x768xf32> -> tensor<8x197x3072xf32>
  %0 = vit.linear %x, %w : tensor<8x197x768xf32>, tensor<3072x768xf32> -> tensor<8x197x3072xf32>
  return %0 : tensor<8x197x3072xf32>
}

// A rank-2 input (the classifier's class tokens).
// CHECK-LABEL: func.func @linear_bias
// CHECK-SAME: (%[[X:[^:]+]]: tensor<8x768xf32>, %[[W:[^:]+]]: tensor<1000x768xf32>, %[[B:[^:]+]]: tensor<1000xf32>)
func.func @linear_bias(%x: tensor<8x768xf32>, %w: tensor<1000x768xf32>, %b: tensor<1000xf32>) -> tensor<8x1000xf32> {
  // CHECK: vit.linear %[[X]], %[[W]] bias(%[[B]] : tensor<1000xf32>) : tensor<8x768xf32>, tensor<1000x768xf32> -> tensor<8x1000xf32>
  %0 = vit.linear %x, %w bias(%b : tensor<1000xf32>) : tensor<8x768xf32>, tensor<1000x768xf32> -> tensor<8x1000xf32>
  return %0 : tensor<8x1000xf32>
}

// CHECK-LABEL: func.func @linear_gelu
// CHECK-SAME: (%[[X:[^:]+]]: tensor<8x197x768xf32>, %[[W:[^:]+]]: tensor<3072x768xf32>, %[[B:[^:]+]]: tensor<3072xf32>)
func.func @linear_gelu(%x: tensor<8x197x768xf32>, %w: tensor<3072x768xf32>, %b: tensor<3072xf32>) -> (tensor<8x197x3072xf32>, tensor<8x197x3072xf32>) {
  // CHECK: vit.linear %[[X]], %[[W]] bias(%[[B]] : tensor<3072xf32>) gelu = exact : tensor<8x197x768xf32>, tensor<3072x768xf32> -> tensor<8x197x3072xf32>
  %0 = vit.linear %x, %w bias(%b : tensor<3072xf32>) gelu = exact : tensor<8x197x768xf32>, tensor<3072x768xf32> -> tensor<8x197x3072xf32>
  // GELU without a bias.
  // CHECK: vit.linear %[[X]], %[[W]] gelu = tanh : tensor<8x197x768xf32>, tensor<3072x768xf32> -> tensor<8x197x3072xf32>
  %1 = vit.linear %x, %w gelu = tanh : tensor<8x197x768xf32>, tensor<3072x768xf32> -> tensor<8x197x3072xf32>
  return %0, %1 : tensor<8x197x3072xf32>, tensor<8x197x3072xf32>
}

// CHECK-LABEL: func.func @linear_residual_full
// CHECK-SAME: (%[[X:[^:]+]]: tensor<8x197x3072xf32>, %[[W:[^:]+]]: tensor<768x3072xf32>, %[[B:[^:]+]]: tensor<768xf32>, %[[R:[^:]+]]: tensor<8x197x768xf32>)
func.func @linear_residual_full(%x: tensor<8x197x3072xf32>, %w: tensor<768x3072xf32>, %b: tensor<768xf32>, %r: tensor<8x197x768xf32>) -> (tensor<8x197x768xf32>, tensor<8x197x768xf32>) {
  // CHECK: vit.linear %[[X]], %[[W]] bias(%[[B]] : tensor<768xf32>) residual(%[[R]] : tensor<8x197x768xf32>) : tensor<8x197x3072xf32>, tensor<768x3072xf32> -> tensor<8x197x768xf32>
  %0 = vit.linear %x, %w bias(%b : tensor<768xf32>) residual(%r : tensor<8x197x768xf32>) : tensor<8x197x3072xf32>, tensor<768x3072xf32> -> tensor<8x197x768xf32>
  // The whole epilogue, printed in application order.
  // CHECK: vit.linear %[[X]], %[[W]] bias(%[[B]] : tensor<768xf32>) gelu = exact residual(%[[R]] : tensor<8x197x768xf32>) : tensor<8x197x3072xf32>, tensor<768x3072xf32> -> tensor<8x197x768xf32>
  %1 = vit.linear %x, %w bias(%b : tensor<768xf32>) gelu = exact residual(%r : tensor<8x197x768xf32>) : tensor<8x197x3072xf32>, tensor<768x3072xf32> -> tensor<8x197x768xf32>
  return %0, %1 : tensor<8x197x768xf32>, tensor<8x197x768xf32>
}

// A [T, N] position embedding broadcast over the batch.
// CHECK-LABEL: func.func @linear_residual_broadcast
// CHECK-SAME: (%[[X:[^:]+]]: tensor<8x196x768xf32>, %[[W:[^:]+]]: tensor<768x768xf32>, %[[P:[^:]+]]: tensor<196x768xf32>)
func.func @linear_residual_broadcast(%x: tensor<8x196x768xf32>, %w: tensor<768x768xf32>, %pos: tensor<196x768xf32>) -> tensor<8x196x768xf32> {
  // CHECK: vit.linear %[[X]], %[[W]] residual(%[[P]] : tensor<196x768xf32>) : tensor<8x196x768xf32>, tensor<768x768xf32> -> tensor<8x196x768xf32>
  %0 = vit.linear %x, %w residual(%pos : tensor<196x768xf32>) : tensor<8x196x768xf32>, tensor<768x768xf32> -> tensor<8x196x768xf32>
  return %0 : tensor<8x196x768xf32>
}

// CHECK-LABEL: func.func @add
// CHECK-SAME: (%[[A:[^:]+]]: tensor<8x197x768xf32>, %[[B:[^:]+]]: tensor<8x197x768xf32>, %[[BIAS:[^:]+]]: tensor<768xf32>, %[[POS:[^:]+]]: tensor<197x768xf32>)
func.func @add(%a: tensor<8x197x768xf32>, %b: tensor<8x197x768xf32>, %bias: tensor<768xf32>, %pos: tensor<197x768xf32>) -> (tensor<8x197x768xf32>, tensor<8x197x768xf32>, tensor<8x197x768xf32>) {
  // CHECK: vit.add %[[A]], %[[B]] : tensor<8x197x768xf32>, tensor<8x197x768xf32>
  %0 = vit.add %a, %b : tensor<8x197x768xf32>, tensor<8x197x768xf32>
  // CHECK: vit.add %[[A]], %[[BIAS]] : tensor<8x197x768xf32>, tensor<768xf32>
  %1 = vit.add %a, %bias : tensor<8x197x768xf32>, tensor<768xf32>
  // CHECK: vit.add %[[A]], %[[POS]] : tensor<8x197x768xf32>, tensor<197x768xf32>
  %2 = vit.add %a, %pos : tensor<8x197x768xf32>, tensor<197x768xf32>
  return %0, %1, %2 : tensor<8x197x768xf32>, tensor<8x197x768xf32>, tensor<8x197x768xf32>
}

// CHECK-LABEL: func.func @gelu
// CHECK-SAME: (%[[X:[^:]+]]: tensor<8x197x3072xf16>)
func.func @gelu(%x: tensor<8x197x3072xf16>) -> (tensor<8x197x3072xf16>, tensor<8x197x3072xf16>) {
  // CHECK: vit.gelu %[[X]] approximation = exact : tensor<8x197x3072xf16>
  %0 = vit.gelu %x approximation = exact : tensor<8x197x3072xf16>
  // CHECK: vit.gelu %[[X]] approximation = tanh : tensor<8x197x3072xf16>
  %1 = vit.gelu %x approximation = tanh : tensor<8x197x3072xf16>
  return %0, %1 : tensor<8x197x3072xf16>, tensor<8x197x3072xf16>
}

// CHECK-LABEL: func.func @attention_core
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<8x197x768xf32>, %[[K:[^:]+]]: tensor<8x197x768xf32>, %[[V:[^:]+]]: tensor<8x197x768xf32>)
func.func @attention_core(%q: tensor<8x197x768xf32>, %k: tensor<8x197x768xf32>, %v: tensor<8x197x768xf32>) -> tensor<8x197x768xf32> {
  // CHECK: vit.attention_core %[[Q]], %[[K]], %[[V]] num_heads = 12 : tensor<8x197x768xf32>
  %0 = vit.attention_core %q, %k, %v num_heads = 12 : tensor<8x197x768xf32>
  return %0 : tensor<8x197x768xf32>
}

// Fewer queries than keys: the query's type, then the key's.
// CHECK-LABEL: func.func @attention_core_class_token
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<8x1x768xf32>, %[[K:[^:]+]]: tensor<8x197x768xf32>, %[[V:[^:]+]]: tensor<8x197x768xf32>)
func.func @attention_core_class_token(%q: tensor<8x1x768xf32>, %k: tensor<8x197x768xf32>, %v: tensor<8x197x768xf32>) -> tensor<8x1x768xf32> {
  // CHECK: vit.attention_core %[[Q]], %[[K]], %[[V]] num_heads = 12 : tensor<8x1x768xf32>, tensor<8x197x768xf32>
  %0 = vit.attention_core %q, %k, %v num_heads = 12 : tensor<8x1x768xf32>, tensor<8x197x768xf32>
  return %0 : tensor<8x1x768xf32>
}

// CHECK-LABEL: func.func @prepend_token
// CHECK-SAME: (%[[TOKENS:[^:]+]]: tensor<8x196x768xf32>, %[[TOKEN:[^:]+]]: tensor<768xf32>)
func.func @prepend_token(%tokens: tensor<8x196x768xf32>, %token: tensor<768xf32>) -> tensor<8x197x768xf32> {
  // CHECK: vit.prepend_token %[[TOKENS]], %[[TOKEN]] : tensor<8x196x768xf32>, tensor<768xf32> -> tensor<8x197x768xf32>
  %0 = vit.prepend_token %tokens, %token : tensor<8x196x768xf32>, tensor<768xf32> -> tensor<8x197x768xf32>
  return %0 : tensor<8x197x768xf32>
}

//===----------------------------------------------------------------------===//
// Kernels
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @kernel_with_inputs
// CHECK-SAME: (%[[X:[^:]+]]: tensor<8x197x768xf32>, %[[W:[^:]+]]: tensor<3072x768xf32>, %[[B:[^:]+]]: tensor<3072xf32>)
func.func @kernel_with_inputs(%x: tensor<8x197x768xf32>, %w: tensor<3072x768xf32>, %b: tensor<3072xf32>) -> tensor<8x197x3072xf32> {
  // CHECK: %[[K:.*]] = vit.kernel "blocks.0.mlp.fc1" ins(%[[X]], %[[W]], %[[B]] : tensor<8x197x768xf32>, tensor<3072x768xf32>, tensor<3072xf32>) -> tensor<8x197x3072xf32> {
  // CHECK-NEXT: ^bb0(%[[BX:[^:]+]]: tensor<8x197x768xf32>, %[[BW:[^:]+]]: tensor<3072x768xf32>, %[[BB:[^:]+]]: tensor<3072xf32>):
  // CHECK-NEXT: %[[Y:.*]] = vit.linear %[[BX]], %[[BW]] bias(%[[BB]] : tensor<3072xf32>) gelu = exact : tensor<8x197x768xf32>, tensor<3072x768xf32> -> tensor<8x197x3072xf32>
  // CHECK-NEXT: vit.yield %[[Y]] : tensor<8x197x3072xf32>
  // CHECK-NEXT: }
  // CHECK-NEXT: return %[[K]] : tensor<8x197x3072xf32>
  %0 = vit.kernel "blocks.0.mlp.fc1" ins(%x, %w, %b : tensor<8x197x768xf32>, tensor<3072x768xf32>, tensor<3072xf32>) -> tensor<8x197x3072xf32> {
  ^bb0(%a: tensor<8x197x768xf32>, %bw: tensor<3072x768xf32>, %bb: tensor<3072xf32>):
    %1 = vit.linear %a, %bw bias(%bb : tensor<3072xf32>) gelu = exact : tensor<8x197x768xf32>, tensor<3072x768xf32> -> tensor<8x197x3072xf32>
    vit.yield %1 : tensor<8x197x3072xf32>
  }
  return %0 : tensor<8x197x3072xf32>
}

// No inputs, two results, and an attribute dictionary.
// CHECK-LABEL: func.func @kernel_without_inputs
func.func @kernel_without_inputs() -> (tensor<4xf32>, tensor<2x4xf32>) {
  // CHECK: %[[K:[^:]+]]:2 = vit.kernel "constants" ins() -> tensor<4xf32>, tensor<2x4xf32> attributes {vit.note = "compile time"} {
  // CHECK-NEXT: %[[C:.*]] = arith.constant dense<1.000000e+00> : tensor<4xf32>
  // CHECK-NEXT: %[[D:.*]] = arith.constant dense<2.000000e+00> : tensor<2x4xf32>
  // CHECK-NEXT: vit.yield %[[C]], %[[D]] : tensor<4xf32>, tensor<2x4xf32>
  // CHECK-NEXT: }
  // CHECK-NEXT: return %[[K]]#0, %[[K]]#1 : tensor<4xf32>, tensor<2x4xf32>
  %0:2 = vit.kernel "constants" ins() -> tensor<4xf32>, tensor<2x4xf32> attributes {vit.note = "compile time"} {
    %c = arith.constant dense<1.0> : tensor<4xf32>
    %d = arith.constant dense<2.0> : tensor<2x4xf32>
    vit.yield %c, %d : tensor<4xf32>, tensor<2x4xf32>
  }
  return %0#0, %0#1 : tensor<4xf32>, tensor<2x4xf32>
}
