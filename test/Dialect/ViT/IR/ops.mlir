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
