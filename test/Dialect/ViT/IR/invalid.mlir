// Verifier diagnostics of every vit op.
// RUN: vitc-opt %s -split-input-file -verify-diagnostics

func.func @weight_empty_name() {
  // expected-error @+1 {{'vit.weight' op expects a non-empty weight name}}
  %0 = vit.weight "" : tensor<4xf32>
  return
}

// -----

func.func @weight_dynamic_shape() {
  // expected-error @+1 {{must be statically shaped tensor}}
  %0 = vit.weight "w" : tensor<?xf32>
  return
}

// -----

func.func @weight_integer(%a: tensor<4xi32>) {
  // expected-error @+1 {{must be statically shaped tensor of 32-bit float or 16-bit float or bfloat16 type values}}
  %0 = vit.weight "w" : tensor<4xi32>
  return
}

// -----

func.func @patch_embed_image_rank(%image: tensor<224x224x3xf32>, %k: tensor<16x16x3x768xf32>, %b: tensor<768xf32>) {
  // expected-error @+1 {{'vit.patch_embed' op expects image of rank 4, got rank 3}}
  %0 = vit.patch_embed %image, %k, %b patch_size = 16 input_layout = nhwc kernel_layout = hwio : tensor<224x224x3xf32>, tensor<16x16x3x768xf32>, tensor<768xf32> -> tensor<1x196x768xf32>
  return
}

// -----

func.func @patch_embed_not_divisible(%image: tensor<1x3x225x224xf32>, %k: tensor<768x3x16x16xf32>, %b: tensor<768xf32>) {
  // expected-error @+1 {{expects image height and width divisible by patch_size 16, got 225x224}}
  %0 = vit.patch_embed %image, %k, %b patch_size = 16 input_layout = nchw kernel_layout = oihw : tensor<1x3x225x224xf32>, tensor<768x3x16x16xf32>, tensor<768xf32> -> tensor<1x196x768xf32>
  return
}

// -----

// An OIHW kernel given where the op says HWIO.
func.func @patch_embed_kernel_layout(%image: tensor<1x224x224x3xf32>, %k: tensor<768x3x16x16xf32>, %b: tensor<768xf32>) {
  // expected-error @+1 {{expects kernel of shape [16, 16, 3, 16], got [768, 3, 16, 16]}}
  %0 = vit.patch_embed %image, %k, %b patch_size = 16 input_layout = nhwc kernel_layout = hwio : tensor<1x224x224x3xf32>, tensor<768x3x16x16xf32>, tensor<768xf32> -> tensor<1x196x768xf32>
  return
}

// -----

// NCHW image read as NHWC: the kernel's channel count no longer matches.
func.func @patch_embed_input_layout(%image: tensor<1x3x224x224xf32>, %k: tensor<768x3x16x16xf32>, %b: tensor<768xf32>) {
  // expected-error @+1 {{expects image height and width divisible by patch_size 16, got 3x224}}
  %0 = vit.patch_embed %image, %k, %b patch_size = 16 input_layout = nhwc kernel_layout = oihw : tensor<1x3x224x224xf32>, tensor<768x3x16x16xf32>, tensor<768xf32> -> tensor<1x196x768xf32>
  return
}

// -----

func.func @patch_embed_bias(%image: tensor<1x3x224x224xf32>, %k: tensor<768x3x16x16xf32>, %b: tensor<384xf32>) {
  // expected-error @+1 {{expects bias of shape [768], got [384]}}
  %0 = vit.patch_embed %image, %k, %b patch_size = 16 input_layout = nchw kernel_layout = oihw : tensor<1x3x224x224xf32>, tensor<768x3x16x16xf32>, tensor<384xf32> -> tensor<1x196x768xf32>
  return
}

// -----

func.func @patch_embed_result(%image: tensor<1x3x224x224xf32>, %k: tensor<768x3x16x16xf32>, %b: tensor<768xf32>) {
  // expected-error @+1 {{expects result of shape [1, 196, 768], got [1, 197, 768]}}
  %0 = vit.patch_embed %image, %k, %b patch_size = 16 input_layout = nchw kernel_layout = oihw : tensor<1x3x224x224xf32>, tensor<768x3x16x16xf32>, tensor<768xf32> -> tensor<1x197x768xf32>
  return
}

// -----

func.func @patch_embed_zero_patch(%image: tensor<1x3x224x224xf32>, %k: tensor<768x3x16x16xf32>, %b: tensor<768xf32>) {
  // expected-error @+1 {{attribute 'patch_size' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %0 = vit.patch_embed %image, %k, %b patch_size = 0 input_layout = nchw kernel_layout = oihw : tensor<1x3x224x224xf32>, tensor<768x3x16x16xf32>, tensor<768xf32> -> tensor<1x196x768xf32>
  return
}

// -----

func.func @patch_embed_bad_layout(%image: tensor<1x3x224x224xf32>, %k: tensor<768x3x16x16xf32>, %b: tensor<768xf32>) {
  // expected-error @+1 {{expected string or keyword containing one of the following enum values for attribute 'input_layout' [nchw, nhwc]}}
  %0 = vit.patch_embed %image, %k, %b patch_size = 16 input_layout = chwn kernel_layout = oihw : tensor<1x3x224x224xf32>, tensor<768x3x16x16xf32>, tensor<768xf32> -> tensor<1x196x768xf32>
  return
}

// -----

func.func @patch_embed_element_types(%image: tensor<1x3x224x224xf16>, %k: tensor<768x3x16x16xf32>, %b: tensor<768xf32>) {
  // expected-error @+1 {{requires the same element type for all operands and results}}
  %0 = vit.patch_embed %image, %k, %b patch_size = 16 input_layout = nchw kernel_layout = oihw : tensor<1x3x224x224xf16>, tensor<768x3x16x16xf32>, tensor<768xf32> -> tensor<1x196x768xf32>
  return
}

// -----

func.func @class_pos_embed_width(%p: tensor<2x196x768xf32>, %cls: tensor<1x1x384xf32>, %pos: tensor<1x197x768xf32>) {
  // expected-error @+1 {{'vit.class_pos_embed' op expects class_token of shape [1, 1, 768], got [1, 1, 384]}}
  %0 = vit.class_pos_embed %p, %cls, %pos : tensor<2x196x768xf32>, tensor<1x1x384xf32>, tensor<1x197x768xf32> -> tensor<2x197x768xf32>
  return
}

// -----

// The position embedding must also cover the class token.
func.func @class_pos_embed_tokens(%p: tensor<2x196x768xf32>, %cls: tensor<1x1x768xf32>, %pos: tensor<1x196x768xf32>) {
  // expected-error @+1 {{expects position of shape [1, 197, 768], got [1, 196, 768]}}
  %0 = vit.class_pos_embed %p, %cls, %pos : tensor<2x196x768xf32>, tensor<1x1x768xf32>, tensor<1x196x768xf32> -> tensor<2x197x768xf32>
  return
}

// -----

func.func @class_pos_embed_result(%p: tensor<2x196x768xf32>, %cls: tensor<1x1x768xf32>, %pos: tensor<1x197x768xf32>) {
  // expected-error @+1 {{expects result of shape [2, 197, 768], got [2, 196, 768]}}
  %0 = vit.class_pos_embed %p, %cls, %pos : tensor<2x196x768xf32>, tensor<1x1x768xf32>, tensor<1x197x768xf32> -> tensor<2x196x768xf32>
  return
}

// -----

func.func @class_pos_embed_rank(%p: tensor<196x768xf32>, %cls: tensor<1x1x768xf32>, %pos: tensor<1x197x768xf32>) {
  // expected-error @+1 {{expects patches of rank 3, got rank 2}}
  %0 = vit.class_pos_embed %p, %cls, %pos : tensor<196x768xf32>, tensor<1x1x768xf32>, tensor<1x197x768xf32> -> tensor<2x197x768xf32>
  return
}

// -----

func.func @layer_norm_zero_epsilon(%x: tensor<2x197x768xf32>, %g: tensor<768xf32>, %b: tensor<768xf32>) {
  // expected-error @+1 {{'vit.layer_norm' op expects a positive finite epsilon, got 0}}
  %0 = vit.layer_norm %x, %g, %b epsilon = 0.0 : tensor<2x197x768xf32>, tensor<768xf32>, tensor<768xf32>
  return
}

// -----

func.func @layer_norm_negative_epsilon(%x: tensor<2x197x768xf32>, %g: tensor<768xf32>, %b: tensor<768xf32>) {
  // expected-error @+1 {{expects a positive finite epsilon, got -1.000000e-06}}
  %0 = vit.layer_norm %x, %g, %b epsilon = -1.0e-6 : tensor<2x197x768xf32>, tensor<768xf32>, tensor<768xf32>
  return
}

// -----

func.func @layer_norm_scale_width(%x: tensor<2x197x768xf32>, %g: tensor<384xf32>, %b: tensor<768xf32>) {
  // expected-error @+1 {{expects scale of shape [768], got [384]}}
  %0 = vit.layer_norm %x, %g, %b epsilon = 1.0e-6 : tensor<2x197x768xf32>, tensor<384xf32>, tensor<768xf32>
  return
}

// -----

func.func @layer_norm_shift_rank(%x: tensor<2x197x768xf32>, %g: tensor<768xf32>, %b: tensor<1x768xf32>) {
  // expected-error @+1 {{expects shift of shape [768], got [1, 768]}}
  %0 = vit.layer_norm %x, %g, %b epsilon = 1.0e-6 : tensor<2x197x768xf32>, tensor<768xf32>, tensor<1x768xf32>
  return
}

// -----

func.func @attention_heads_not_dividing(%x: tensor<1x197x768xf32>, %w: tensor<2304x768xf32>, %pw: tensor<768x768xf32>, %pb: tensor<768xf32>) {
  // expected-error @+1 {{'vit.attention' op expects num_heads (10) to divide the width (768)}}
  %0 = vit.attention %x qkv(%w : tensor<2304x768xf32>) proj(%pw, %pb : tensor<768x768xf32>, tensor<768xf32>) num_heads = 10 : tensor<1x197x768xf32>
  return
}

// -----

func.func @attention_zero_heads(%x: tensor<1x197x768xf32>, %w: tensor<2304x768xf32>, %pw: tensor<768x768xf32>, %pb: tensor<768xf32>) {
  // expected-error @+1 {{attribute 'num_heads' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %0 = vit.attention %x qkv(%w : tensor<2304x768xf32>) proj(%pw, %pb : tensor<768x768xf32>, tensor<768xf32>) num_heads = 0 : tensor<1x197x768xf32>
  return
}

// -----

func.func @attention_input_rank(%x: tensor<197x768xf32>, %w: tensor<2304x768xf32>, %pw: tensor<768x768xf32>, %pb: tensor<768xf32>) {
  // expected-error @+1 {{expects input of rank 3, got rank 2}}
  %0 = vit.attention %x qkv(%w : tensor<2304x768xf32>) proj(%pw, %pb : tensor<768x768xf32>, tensor<768xf32>) num_heads = 12 : tensor<197x768xf32>
  return
}

// -----

func.func @attention_two_projections(%x: tensor<1x197x768xf32>, %q: tensor<768x768xf32>, %k: tensor<768x768xf32>, %pw: tensor<768x768xf32>, %pb: tensor<768xf32>) {
  // expected-error @+1 {{expects 1 fused or 3 separate qkv weights, got 2}}
  %0 = vit.attention %x qkv(%q, %k : tensor<768x768xf32>, tensor<768x768xf32>) proj(%pw, %pb : tensor<768x768xf32>, tensor<768xf32>) num_heads = 12 : tensor<1x197x768xf32>
  return
}

// -----

func.func @attention_fused_shape(%x: tensor<1x197x768xf32>, %w: tensor<768x768xf32>, %pw: tensor<768x768xf32>, %pb: tensor<768xf32>) {
  // expected-error @+1 {{expects qkv weight of shape [2304, 768], got [768, 768]}}
  %0 = vit.attention %x qkv(%w : tensor<768x768xf32>) proj(%pw, %pb : tensor<768x768xf32>, tensor<768xf32>) num_heads = 12 : tensor<1x197x768xf32>
  return
}

// -----

// Separate projections are square; a transposed fused weight is not one.
func.func @attention_separate_shape(%x: tensor<1x197x768xf32>, %q: tensor<768x768xf32>, %k: tensor<768x768xf32>, %v: tensor<768x384xf32>, %pw: tensor<768x768xf32>, %pb: tensor<768xf32>) {
  // expected-error @+1 {{expects qkv weight of shape [768, 768], got [768, 384]}}
  %0 = vit.attention %x qkv(%q, %k, %v : tensor<768x768xf32>, tensor<768x768xf32>, tensor<768x384xf32>) proj(%pw, %pb : tensor<768x768xf32>, tensor<768xf32>) num_heads = 12 : tensor<1x197x768xf32>
  return
}

// -----

func.func @attention_bias_count(%x: tensor<1x197x768xf32>, %q: tensor<768x768xf32>, %b: tensor<768xf32>, %pw: tensor<768x768xf32>, %pb: tensor<768xf32>) {
  // expected-error @+1 {{expects as many qkv biases as qkv weights (3), got 1}}
  %0 = vit.attention %x qkv(%q, %q, %q : tensor<768x768xf32>, tensor<768x768xf32>, tensor<768x768xf32>) bias(%b : tensor<768xf32>) proj(%pw, %pb : tensor<768x768xf32>, tensor<768xf32>) num_heads = 12 : tensor<1x197x768xf32>
  return
}

// -----

func.func @attention_bias_shape(%x: tensor<1x197x768xf32>, %w: tensor<2304x768xf32>, %b: tensor<768xf32>, %pw: tensor<768x768xf32>, %pb: tensor<768xf32>) {
  // expected-error @+1 {{expects qkv bias of shape [2304], got [768]}}
  %0 = vit.attention %x qkv(%w : tensor<2304x768xf32>) bias(%b : tensor<768xf32>) proj(%pw, %pb : tensor<768x768xf32>, tensor<768xf32>) num_heads = 12 : tensor<1x197x768xf32>
  return
}

// -----

func.func @attention_proj(%x: tensor<1x197x768xf32>, %w: tensor<2304x768xf32>, %pw: tensor<768x384xf32>, %pb: tensor<768xf32>) {
  // expected-error @+1 {{expects proj weight of shape [768, 768], got [768, 384]}}
  %0 = vit.attention %x qkv(%w : tensor<2304x768xf32>) proj(%pw, %pb : tensor<768x384xf32>, tensor<768xf32>) num_heads = 12 : tensor<1x197x768xf32>
  return
}

// -----

func.func @mlp_fc1_width(%x: tensor<1x197x768xf32>, %w1: tensor<3072x384xf32>, %b1: tensor<3072xf32>, %w2: tensor<768x3072xf32>, %b2: tensor<768xf32>) {
  // expected-error @+1 {{'vit.mlp' op expects fc1 weight of shape [3072, 768], got [3072, 384]}}
  %0 = vit.mlp %x fc1(%w1, %b1) fc2(%w2, %b2) gelu = exact : tensor<1x197x768xf32>, tensor<3072x384xf32>, tensor<3072xf32>, tensor<768x3072xf32>, tensor<768xf32>
  return
}

// -----

// fc2 given in [in, out] (Keras) order instead of [out, in].
func.func @mlp_fc2_transposed(%x: tensor<1x197x768xf32>, %w1: tensor<3072x768xf32>, %b1: tensor<3072xf32>, %w2: tensor<3072x768xf32>, %b2: tensor<768xf32>) {
  // expected-error @+1 {{expects fc2 weight of shape [768, 3072], got [3072, 768]}}
  %0 = vit.mlp %x fc1(%w1, %b1) fc2(%w2, %b2) gelu = exact : tensor<1x197x768xf32>, tensor<3072x768xf32>, tensor<3072xf32>, tensor<3072x768xf32>, tensor<768xf32>
  return
}

// -----

func.func @mlp_fc1_bias(%x: tensor<1x197x768xf32>, %w1: tensor<3072x768xf32>, %b1: tensor<768xf32>, %w2: tensor<768x3072xf32>, %b2: tensor<768xf32>) {
  // expected-error @+1 {{expects fc1 bias of shape [3072], got [768]}}
  %0 = vit.mlp %x fc1(%w1, %b1) fc2(%w2, %b2) gelu = exact : tensor<1x197x768xf32>, tensor<3072x768xf32>, tensor<768xf32>, tensor<768x3072xf32>, tensor<768xf32>
  return
}

// -----

func.func @mlp_fc2_bias(%x: tensor<1x197x768xf32>, %w1: tensor<3072x768xf32>, %b1: tensor<3072xf32>, %w2: tensor<768x3072xf32>, %b2: tensor<3072xf32>) {
  // expected-error @+1 {{expects fc2 bias of shape [768], got [3072]}}
  %0 = vit.mlp %x fc1(%w1, %b1) fc2(%w2, %b2) gelu = exact : tensor<1x197x768xf32>, tensor<3072x768xf32>, tensor<3072xf32>, tensor<768x3072xf32>, tensor<3072xf32>
  return
}

// -----

func.func @mlp_input_rank(%x: tensor<768xf32>, %w1: tensor<3072x768xf32>, %b1: tensor<3072xf32>, %w2: tensor<768x3072xf32>, %b2: tensor<768xf32>) {
  // expected-error @+1 {{expects input of rank 3, got rank 1}}
  %0 = vit.mlp %x fc1(%w1, %b1) fc2(%w2, %b2) gelu = exact : tensor<768xf32>, tensor<3072x768xf32>, tensor<3072xf32>, tensor<768x3072xf32>, tensor<768xf32>
  return
}

// -----

func.func @mlp_bad_gelu(%x: tensor<1x197x768xf32>, %w1: tensor<3072x768xf32>, %b1: tensor<3072xf32>, %w2: tensor<768x3072xf32>, %b2: tensor<768xf32>) {
  // expected-error @+1 {{expected string or keyword containing one of the following enum values for attribute 'gelu' [exact, tanh]}}
  %0 = vit.mlp %x fc1(%w1, %b1) fc2(%w2, %b2) gelu = erf : tensor<1x197x768xf32>, tensor<3072x768xf32>, tensor<3072xf32>, tensor<768x3072xf32>, tensor<768xf32>
  return
}

// -----

func.func @residual_add_generic(%a: tensor<1x197x768xf32>, %b: tensor<1x196x768xf32>) {
  // expected-error @+1 {{'vit.residual_add' op requires the same type for all operands and results}}
  %0 = "vit.residual_add"(%a, %b) : (tensor<1x197x768xf32>, tensor<1x196x768xf32>) -> tensor<1x197x768xf32>
  return
}

// -----

func.func @classifier_head_width(%x: tensor<2x197x768xf32>, %w: tensor<1000x384xf32>, %b: tensor<1000xf32>) {
  // expected-error @+1 {{'vit.classifier_head' op expects weight of shape [1000, 768], got [1000, 384]}}
  %0 = vit.classifier_head %x, %w, %b : tensor<2x197x768xf32>, tensor<1000x384xf32>, tensor<1000xf32> -> tensor<2x1000xf32>
  return
}

// -----

func.func @classifier_head_bias(%x: tensor<2x197x768xf32>, %w: tensor<1000x768xf32>, %b: tensor<10xf32>) {
  // expected-error @+1 {{expects bias of shape [1000], got [10]}}
  %0 = vit.classifier_head %x, %w, %b : tensor<2x197x768xf32>, tensor<1000x768xf32>, tensor<10xf32> -> tensor<2x1000xf32>
  return
}

// -----

func.func @classifier_head_result(%x: tensor<2x197x768xf32>, %w: tensor<1000x768xf32>, %b: tensor<1000xf32>) {
  // expected-error @+1 {{expects result of shape [2, 1000], got [2, 197, 1000]}}
  %0 = vit.classifier_head %x, %w, %b : tensor<2x197x768xf32>, tensor<1000x768xf32>, tensor<1000xf32> -> tensor<2x197x1000xf32>
  return
}

// -----

func.func @classifier_head_weight_rank(%x: tensor<2x197x768xf32>, %w: tensor<768xf32>, %b: tensor<1000xf32>) {
  // expected-error @+1 {{expects weight of rank 2, got rank 1}}
  %0 = vit.classifier_head %x, %w, %b : tensor<2x197x768xf32>, tensor<768xf32>, tensor<1000xf32> -> tensor<2x1000xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Decomposed operations
//===----------------------------------------------------------------------===//

func.func @patchify_not_divisible(%image: tensor<1x3x30x32xf32>) {
  // expected-error @+1 {{'vit.patchify' op expects image height and width divisible by patch_size 16, got 30x32}}
  %0 = vit.patchify %image patch_size = 16 input_layout = nchw kernel_layout = oihw : tensor<1x3x30x32xf32> -> tensor<1x2x768xf32>
  return
}

// -----

// NHWC: the height and width are dimensions 1 and 2.
func.func @patchify_not_divisible_nhwc(%image: tensor<1x32x24x3xf32>) {
  // expected-error @+1 {{expects image height and width divisible by patch_size 16, got 32x24}}
  %0 = vit.patchify %image patch_size = 16 input_layout = nhwc kernel_layout = hwio : tensor<1x32x24x3xf32> -> tensor<1x2x768xf32>
  return
}

// -----

// The result holds C*P*P values per patch, not P*P.
func.func @patchify_result(%image: tensor<2x3x32x64xf32>) {
  // expected-error @+1 {{'vit.patchify' op expects result of shape [2, 8, 768], got [2, 8, 256]}}
  %0 = vit.patchify %image patch_size = 16 input_layout = nchw kernel_layout = oihw : tensor<2x3x32x64xf32> -> tensor<2x8x256xf32>
  return
}

// -----

// An NHWC image's channels are its last dimension.
func.func @patchify_result_nhwc(%image: tensor<2x32x32x3xf32>) {
  // expected-error @+1 {{expects result of shape [2, 4, 768], got [2, 4, 8192]}}
  %0 = vit.patchify %image patch_size = 16 input_layout = nhwc kernel_layout = hwio : tensor<2x32x32x3xf32> -> tensor<2x4x8192xf32>
  return
}

// -----

func.func @patchify_image_rank(%image: tensor<3x32x32xf32>) {
  // expected-error @+1 {{'vit.patchify' op expects image of rank 4, got rank 3}}
  %0 = vit.patchify %image patch_size = 16 input_layout = nchw kernel_layout = oihw : tensor<3x32x32xf32> -> tensor<1x4x768xf32>
  return
}

// -----

func.func @linear_weight_k(%x: tensor<2x5x64xf32>, %w: tensor<128x32xf32>) {
  // expected-error @+1 {{'vit.linear' op expects weight of shape [128, 64], got [128, 32]}}
  %0 = vit.linear %x, %w : tensor<2x5x64xf32>, tensor<128x32xf32> -> tensor<2x5x128xf32>
  return
}

// -----

// A narrow weight needs f32 activations; f16 activations with a bf16
// weight have no defined product precision.
func.func @linear_weight_type(%x: tensor<2x5x64xf16>, %w: tensor<128x64xbf16>) {
  // expected-error @+1 {{'vit.linear' op expects a weight of the result's element type, or bf16/f16 with f32 results; got 'bf16' with 'f16'}}
  %0 = vit.linear %x, %w : tensor<2x5x64xf16>, tensor<128x64xbf16> -> tensor<2x5x128xf16>
  return
}

// -----

func.func @linear_bias_type(%x: tensor<2x5x64xf32>, %w: tensor<128x64xbf16>, %b: tensor<128xbf16>) {
  // expected-error @+1 {{'vit.linear' op expects input, bias and residual of the result's element type 'f32'}}
  %0 = vit.linear %x, %w bias(%b : tensor<128xbf16>) : tensor<2x5x64xf32>, tensor<128x64xbf16> -> tensor<2x5x128xf32>
  return
}

// -----

// A Keras [in, out] weight where [out, in] is expected.
func.func @linear_weight_transposed(%x: tensor<2x5x64xf32>, %w: tensor<64x128xf32>) {
  // expected-error @+1 {{expects weight of shape [64, 64], got [64, 128]}}
  %0 = vit.linear %x, %w : tensor<2x5x64xf32>, tensor<64x128xf32> -> tensor<2x5x64xf32>
  return
}

// -----

func.func @linear_weight_rank(%x: tensor<2x5x64xf32>, %w: tensor<64xf32>) {
  // expected-error @+1 {{'vit.linear' op expects weight of rank 2, got rank 1}}
  %0 = vit.linear %x, %w : tensor<2x5x64xf32>, tensor<64xf32> -> tensor<2x5x64xf32>
  return
}

// -----

func.func @linear_packed_weight_features(%x: tensor<2x5x64xf32>, %w: tensor<3x64x16xf32>) {
  // expected-error @+1 {{'vit.linear' op expects a packed weight [P, 64, R] with P * R = 64, got [3, 64, 16]}}
  %0 = vit.linear %x, %w : tensor<2x5x64xf32>, tensor<3x64x16xf32> -> tensor<2x5x64xf32>
  return
}

// -----

func.func @linear_packed_weight_reduction(%x: tensor<2x5x64xf32>, %w: tensor<4x32x16xf32>) {
  // expected-error @+1 {{'vit.linear' op expects a packed weight [P, 64, R] with P * R = 64, got [4, 32, 16]}}
  %0 = vit.linear %x, %w : tensor<2x5x64xf32>, tensor<4x32x16xf32> -> tensor<2x5x64xf32>
  return
}

// -----

func.func @linear_bias(%x: tensor<2x5x64xf32>, %w: tensor<128x64xf32>, %b: tensor<64xf32>) {
  // expected-error @+1 {{'vit.linear' op expects bias of shape [128], got [64]}}
  %0 = vit.linear %x, %w bias(%b : tensor<64xf32>) : tensor<2x5x64xf32>, tensor<128x64xf32> -> tensor<2x5x128xf32>
  return
}

// -----

func.func @linear_bias_rank(%x: tensor<2x5x64xf32>, %w: tensor<128x64xf32>, %b: tensor<1x128xf32>) {
  // expected-error @+1 {{expects bias of shape [128], got [1, 128]}}
  %0 = vit.linear %x, %w bias(%b : tensor<1x128xf32>) : tensor<2x5x64xf32>, tensor<128x64xf32> -> tensor<2x5x128xf32>
  return
}

// -----

func.func @linear_result(%x: tensor<2x5x64xf32>, %w: tensor<128x64xf32>) {
  // expected-error @+1 {{'vit.linear' op expects result of shape [2, 5, 128], got [2, 5, 64]}}
  %0 = vit.linear %x, %w : tensor<2x5x64xf32>, tensor<128x64xf32> -> tensor<2x5x64xf32>
  return
}

// -----

// The leading dimensions are kept, not flattened.
func.func @linear_result_rank(%x: tensor<2x5x64xf32>, %w: tensor<128x64xf32>) {
  // expected-error @+1 {{expects result of shape [2, 5, 128], got [10, 128]}}
  %0 = vit.linear %x, %w : tensor<2x5x64xf32>, tensor<128x64xf32> -> tensor<10x128xf32>
  return
}

// -----

// [B, N] is a leading part of [B, T, N], not a trailing one.
func.func @linear_residual_leading(%x: tensor<2x5x64xf32>, %w: tensor<128x64xf32>, %r: tensor<2x128xf32>) {
  // expected-error @+1 {{'vit.linear' op expects residual of the result's shape [2, 5, 128] or a trailing part of it, got [2, 128]}}
  %0 = vit.linear %x, %w residual(%r : tensor<2x128xf32>) : tensor<2x5x64xf32>, tensor<128x64xf32> -> tensor<2x5x128xf32>
  return
}

// -----

// The residual is added after the projection: it has the output width.
func.func @linear_residual_input_width(%x: tensor<2x5x64xf32>, %w: tensor<128x64xf32>, %r: tensor<2x5x64xf32>) {
  // expected-error @+1 {{expects residual of the result's shape [2, 5, 128] or a trailing part of it, got [2, 5, 64]}}
  %0 = vit.linear %x, %w residual(%r : tensor<2x5x64xf32>) : tensor<2x5x64xf32>, tensor<128x64xf32> -> tensor<2x5x128xf32>
  return
}

// -----

func.func @linear_residual_higher_rank(%x: tensor<2x5x64xf32>, %w: tensor<128x64xf32>, %r: tensor<1x2x5x128xf32>) {
  // expected-error @+1 {{expects residual of the result's shape [2, 5, 128] or a trailing part of it, got [1, 2, 5, 128]}}
  %0 = vit.linear %x, %w residual(%r : tensor<1x2x5x128xf32>) : tensor<2x5x64xf32>, tensor<128x64xf32> -> tensor<2x5x128xf32>
  return
}

// -----

func.func @linear_input_rank(%x: tensor<64xf32>, %w: tensor<128x64xf32>) {
  // expected-error @+1 {{'vit.linear' op expects input of rank at least 2, got rank 1}}
  %0 = vit.linear %x, %w : tensor<64xf32>, tensor<128x64xf32> -> tensor<128xf32>
  return
}

// -----

func.func @linear_element_types(%x: tensor<2x5x64xf16>, %w: tensor<128x64xf32>) {
  // expected-error @+1 {{'vit.linear' op expects input, bias and residual of the result's element type 'f32'}}
  %0 = vit.linear %x, %w : tensor<2x5x64xf16>, tensor<128x64xf32> -> tensor<2x5x128xf32>
  return
}

// -----

func.func @linear_bad_gelu(%x: tensor<2x5x64xf32>, %w: tensor<128x64xf32>) {
  // expected-error @+1 {{expected string or keyword containing one of the following enum values for attribute 'gelu' [exact, tanh]}}
  %0 = vit.linear %x, %w gelu = sigmoid : tensor<2x5x64xf32>, tensor<128x64xf32> -> tensor<2x5x128xf32>
  return
}

// -----

// [B, N] against [B, T, N]: a leading part, not a trailing one.
func.func @add_rhs_leading(%a: tensor<2x5x64xf32>, %b: tensor<2x64xf32>) {
  // expected-error @+1 {{'vit.add' op expects rhs of lhs's shape [2, 5, 64] or a trailing part of it, got [2, 64]}}
  %0 = vit.add %a, %b : tensor<2x5x64xf32>, tensor<2x64xf32>
  return
}

// -----

// Only the rhs is broadcast: the operands cannot be swapped.
func.func @add_rhs_larger(%a: tensor<64xf32>, %b: tensor<2x5x64xf32>) {
  // expected-error @+1 {{expects rhs of lhs's shape [64] or a trailing part of it, got [2, 5, 64]}}
  %0 = vit.add %a, %b : tensor<64xf32>, tensor<2x5x64xf32>
  return
}

// -----

func.func @add_rhs_width(%a: tensor<2x5x64xf32>, %b: tensor<128xf32>) {
  // expected-error @+1 {{expects rhs of lhs's shape [2, 5, 64] or a trailing part of it, got [128]}}
  %0 = vit.add %a, %b : tensor<2x5x64xf32>, tensor<128xf32>
  return
}

// -----

func.func @add_result_type(%a: tensor<2x5x64xf32>, %b: tensor<64xf32>) {
  // expected-error @+1 {{'vit.add' op failed to verify that all of {lhs, result} have same type}}
  %0 = "vit.add"(%a, %b) : (tensor<2x5x64xf32>, tensor<64xf32>) -> tensor<2x5x128xf32>
  return
}

// -----

func.func @gelu_result_type(%a: tensor<2x5x64xf32>) {
  // expected-error @+1 {{'vit.gelu' op requires the same type for all operands and results}}
  %0 = "vit.gelu"(%a) <{approximation = 0 : i32}> : (tensor<2x5x64xf32>) -> tensor<2x5x64xf16>
  return
}

// -----

func.func @attention_core_heads_not_dividing(%q: tensor<1x5x64xf32>) {
  // expected-error @+1 {{'vit.attention_core' op expects num_heads (5) to divide the width (64)}}
  %0 = vit.attention_core %q, %q, %q num_heads = 5 : tensor<1x5x64xf32>
  return
}

// -----

func.func @attention_core_zero_heads(%q: tensor<1x5x64xf32>) {
  // expected-error @+1 {{attribute 'num_heads' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %0 = vit.attention_core %q, %q, %q num_heads = 0 : tensor<1x5x64xf32>
  return
}

// -----

func.func @attention_core_rank(%q: tensor<5x64xf32>) {
  // expected-error @+1 {{'vit.attention_core' op expects query of rank 3, got rank 2}}
  %0 = vit.attention_core %q, %q, %q num_heads = 2 : tensor<5x64xf32>
  return
}

// -----

func.func @attention_core_value_type(%q: tensor<1x5x64xf32>, %k: tensor<1x6x64xf32>) {
  // expected-error @+1 {{'vit.attention_core' op failed to verify that all of {key, value} have same type}}
  %0 = "vit.attention_core"(%q, %k, %q) <{num_heads = 2 : i64}> : (tensor<1x5x64xf32>, tensor<1x6x64xf32>, tensor<1x5x64xf32>) -> tensor<1x5x64xf32>
  return
}

// -----

func.func @attention_core_result_type(%q: tensor<1x1x64xf32>, %k: tensor<1x6x64xf32>) {
  // expected-error @+1 {{'vit.attention_core' op failed to verify that all of {query, result} have same type}}
  %0 = "vit.attention_core"(%q, %k, %k) <{num_heads = 2 : i64}> : (tensor<1x1x64xf32>, tensor<1x6x64xf32>, tensor<1x6x64xf32>) -> tensor<1x6x64xf32>
  return
}

// -----

// Fewer queries than keys are fine; other batches or widths are not.
func.func @attention_core_key_width(%q: tensor<1x1x64xf32>, %k: tensor<1x6x32xf32>) {
  // expected-error @+1 {{'vit.attention_core' op expects keys of the queries' batch and width, [1, 6, 32] against [1, 1, 64]}}
  %0 = vit.attention_core %q, %k, %k num_heads = 2 : tensor<1x1x64xf32>, tensor<1x6x32xf32>
  return
}

// -----

func.func @attention_core_key_batch(%q: tensor<2x1x64xf32>, %k: tensor<1x6x64xf32>) {
  // expected-error @+1 {{'vit.attention_core' op expects keys of the queries' batch and width, [1, 6, 64] against [2, 1, 64]}}
  %0 = vit.attention_core %q, %k, %k num_heads = 2 : tensor<2x1x64xf32>, tensor<1x6x64xf32>
  return
}

// -----

// A [1, D] row where the token is [D].
func.func @prepend_token_token_shape(%t: tensor<2x4x64xf32>, %c: tensor<1x64xf32>) {
  // expected-error @+1 {{'vit.prepend_token' op expects token of shape [64], got [1, 64]}}
  %0 = vit.prepend_token %t, %c : tensor<2x4x64xf32>, tensor<1x64xf32> -> tensor<2x5x64xf32>
  return
}

// -----

func.func @prepend_token_token_width(%t: tensor<2x4x64xf32>, %c: tensor<32xf32>) {
  // expected-error @+1 {{expects token of shape [64], got [32]}}
  %0 = vit.prepend_token %t, %c : tensor<2x4x64xf32>, tensor<32xf32> -> tensor<2x5x64xf32>
  return
}

// -----

// The result has one more token than the input.
func.func @prepend_token_result(%t: tensor<2x4x64xf32>, %c: tensor<64xf32>) {
  // expected-error @+1 {{'vit.prepend_token' op expects result of shape [2, 5, 64], got [2, 4, 64]}}
  %0 = vit.prepend_token %t, %c : tensor<2x4x64xf32>, tensor<64xf32> -> tensor<2x4x64xf32>
  return
}

// -----

func.func @prepend_token_rank(%t: tensor<4x64xf32>, %c: tensor<64xf32>) {
  // expected-error @+1 {{'vit.prepend_token' op expects tokens of rank 3, got rank 2}}
  %0 = vit.prepend_token %t, %c : tensor<4x64xf32>, tensor<64xf32> -> tensor<5x64xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Kernels
//===----------------------------------------------------------------------===//

func.func @kernel_empty_name(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'vit.kernel' op expects a non-empty kernel name}}
  %0 = vit.kernel "" ins(%x : tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    vit.yield %a : tensor<4xf32>
  }
  return %0 : tensor<4xf32>
}

// -----

func.func @kernel_block_arg_type(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'vit.kernel' op expects the body's arguments to have the types of the inputs}}
  %0 = vit.kernel "k" ins(%x : tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf16>):
    %c = arith.constant dense<0.0> : tensor<4xf32>
    vit.yield %c : tensor<4xf32>
  }
  return %0 : tensor<4xf32>
}

// -----

// One block argument per input, in order.
func.func @kernel_block_arg_count(%x: tensor<4xf32>, %w: tensor<8xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'vit.kernel' op expects the body's arguments to have the types of the inputs}}
  %0 = vit.kernel "k" ins(%x, %w : tensor<4xf32>, tensor<8xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    vit.yield %a : tensor<4xf32>
  }
  return %0 : tensor<4xf32>
}

// -----

func.func @kernel_block_arg_order(%x: tensor<4xf32>, %w: tensor<8xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'vit.kernel' op expects the body's arguments to have the types of the inputs}}
  %0 = vit.kernel "k" ins(%x, %w : tensor<4xf32>, tensor<8xf32>) -> tensor<4xf32> {
  ^bb0(%b: tensor<8xf32>, %a: tensor<4xf32>):
    vit.yield %a : tensor<4xf32>
  }
  return %0 : tensor<4xf32>
}

// -----

func.func @kernel_yield_type(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'vit.kernel' op expects the yielded values to have the types of the results}}
  %0 = vit.kernel "k" ins(%x : tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    %c = arith.constant dense<0.0> : tensor<8xf32>
    vit.yield %c : tensor<8xf32>
  }
  return %0 : tensor<4xf32>
}

// -----

func.func @kernel_yield_count(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  // expected-error @+1 {{'vit.kernel' op expects the yielded values to have the types of the results}}
  %0:2 = vit.kernel "k" ins(%x : tensor<4xf32>) -> tensor<4xf32>, tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    vit.yield %a : tensor<4xf32>
  }
  return %0#0, %0#1 : tensor<4xf32>, tensor<4xf32>
}

// -----

// The body sees only its block arguments.
func.func @kernel_isolated(%x: tensor<4xf32>, %y: tensor<4xf32>) -> tensor<4xf32> {
  // expected-note @+1 {{required by region isolation constraints}}
  %0 = vit.kernel "k" ins(%x : tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    // expected-error @+1 {{'vit.yield' op using value defined outside the region}}
    vit.yield %y : tensor<4xf32>
  }
  return %0 : tensor<4xf32>
}

// -----

// A body that does not end with its vit.yield (only possible in the generic
// form). The diagnostic has to say that the terminator is missing, wherever
// it is reported (hence one line); the verifier must not read the body's last
// op as a vit.yield.
func.func @kernel_no_yield(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'vit.kernel' op expects the body to end with a 'vit.yield' terminator}}
  %0 = "vit.kernel"(%x) <{name = "k"}> ({ ^bb0(%a: tensor<4xf32>): %c = "arith.addf"(%a, %a) <{fastmath = #arith.fastmath<none>}> : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32> }) : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @yield_outside_kernel(%x: tensor<4xf32>) {
  // expected-error @+1 {{'vit.yield' op expects parent op 'vit.kernel'}}
  vit.yield %x : tensor<4xf32>
  return
}

// -----

func.func @kernel_without_results(%x: tensor<4xf32>) {
  // expected-error @+1 {{'vit.kernel' op expects at least one result}}
  "vit.kernel"(%x) <{name = "k"}> ({ ^bb0(%a: tensor<4xf32>): "vit.yield"() : () -> () }) : (tensor<4xf32>) -> ()
  return
}
