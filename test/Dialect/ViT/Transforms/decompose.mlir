// Graph ops become linears, attention cores, adds, GELUs and weight-only
// tensor/linalg/arith work; decomposed ops are named after their layer.
// RUN: vitc-opt %s -vit-decompose -split-input-file | FileCheck %s
// RUN: vitc-opt %s -vit-decompose -split-input-file -mlir-print-debuginfo -mlir-print-local-scope | FileCheck %s --check-prefix=LOC
// RUN: vitc-opt %s -vit-decompose -split-input-file | FileCheck %s --check-prefix=GRAPH

// No graph-level op survives anywhere in the output. (`vit.attention ` with
// its space: vit.attention_core is what attention becomes.)
// GRAPH-NOT: vit.patch_embed
// GRAPH-NOT: vit.class_pos_embed
// GRAPH-NOT: vit.attention{{ }}
// GRAPH-NOT: vit.mlp
// GRAPH-NOT: vit.residual_add
// GRAPH-NOT: vit.classifier_head

// OIHW kernel [D, C, P, P]: collapsed to [D, C*P*P], already in the
// [c, row, col] order patchify flattens an OIHW patch in. Non-square image:
// 2 x 3 patches.
// CHECK-LABEL: func.func @patch_embed_nchw_oihw
// CHECK-SAME: (%[[IMAGE:[^:]+]]: tensor<2x3x32x48xf32>, %[[KERNEL:[^:]+]]: tensor<64x3x16x16xf32>, %[[BIAS:[^:]+]]: tensor<64xf32>)
// CHECK-DAG: %[[PATCHES:.*]] = vit.patchify %[[IMAGE]] patch_size = 16 input_layout = nchw kernel_layout = oihw : tensor<2x3x32x48xf32> -> tensor<2x6x768xf32>
// CHECK-DAG: %[[WEIGHT:.*]] = tensor.collapse_shape %[[KERNEL]] {{\[\[}}0], [1, 2, 3]] : tensor<64x3x16x16xf32> into tensor<64x768xf32>
// CHECK-NOT: linalg.transpose
// CHECK: %[[LINEAR:.*]] = vit.linear %[[PATCHES]], %[[WEIGHT]] : tensor<2x6x768xf32>, tensor<64x768xf32> -> tensor<2x6x64xf32>
// CHECK-NEXT: %[[SUM:.*]] = vit.add %[[LINEAR]], %[[BIAS]] : tensor<2x6x64xf32>, tensor<64xf32>
// CHECK-NEXT: return %[[SUM]] : tensor<2x6x64xf32>
// LOC-LABEL: func.func @patch_embed_nchw_oihw
// LOC: vit.patchify {{.*}} loc("patch_embed.patchify")
// LOC: tensor.collapse_shape {{.*}} loc("patch_embed")
// LOC: vit.linear {{.*}} loc("patch_embed")
// LOC-NEXT: vit.add {{.*}} loc("patch_embed")
func.func @patch_embed_nchw_oihw(%image: tensor<2x3x32x48xf32>, %kernel: tensor<64x3x16x16xf32>, %bias: tensor<64xf32>) -> tensor<2x6x64xf32> {
  %0 = vit.patch_embed %image, %kernel, %bias patch_size = 16 input_layout = nchw kernel_layout = oihw : tensor<2x3x32x48xf32>, tensor<64x3x16x16xf32>, tensor<64xf32> -> tensor<2x6x64xf32> loc("patch_embed")
  return %0 : tensor<2x6x64xf32>
}

// -----

// HWIO kernel [P, P, C, D] (Keras): collapsed to [P*P*C, D], then transposed
// to the [D, K] linear weight.
// CHECK-LABEL: func.func @patch_embed_nhwc_hwio
// CHECK-SAME: (%[[IMAGE:[^:]+]]: tensor<2x32x48x3xf32>, %[[KERNEL:[^:]+]]: tensor<16x16x3x64xf32>, %[[BIAS:[^:]+]]: tensor<64xf32>)
// CHECK-DAG: %[[PATCHES:.*]] = vit.patchify %[[IMAGE]] patch_size = 16 input_layout = nhwc kernel_layout = hwio : tensor<2x32x48x3xf32> -> tensor<2x6x768xf32>
// CHECK-DAG: %[[FLAT:.*]] = tensor.collapse_shape %[[KERNEL]] {{\[\[}}0, 1, 2], [3]] : tensor<16x16x3x64xf32> into tensor<768x64xf32>
// CHECK-DAG: %[[INIT:.*]] = tensor.empty() : tensor<64x768xf32>
// CHECK: %[[WEIGHT:.*]] = linalg.transpose ins(%[[FLAT]] : tensor<768x64xf32>) outs(%[[INIT]] : tensor<64x768xf32>) permutation = [1, 0]
// CHECK: %[[LINEAR:.*]] = vit.linear %[[PATCHES]], %[[WEIGHT]] : tensor<2x6x768xf32>, tensor<64x768xf32> -> tensor<2x6x64xf32>
// CHECK-NEXT: %[[SUM:.*]] = vit.add %[[LINEAR]], %[[BIAS]] : tensor<2x6x64xf32>, tensor<64xf32>
// CHECK-NEXT: return %[[SUM]]
// LOC-LABEL: func.func @patch_embed_nhwc_hwio
// LOC: vit.patchify {{.*}} loc("embed.patchify")
// LOC: linalg.transpose {{.*}} loc("embed")
// LOC: vit.linear {{.*}} loc("embed")
func.func @patch_embed_nhwc_hwio(%image: tensor<2x32x48x3xf32>, %kernel: tensor<16x16x3x64xf32>, %bias: tensor<64xf32>) -> tensor<2x6x64xf32> {
  %0 = vit.patch_embed %image, %kernel, %bias patch_size = 16 input_layout = nhwc kernel_layout = hwio : tensor<2x32x48x3xf32>, tensor<16x16x3x64xf32>, tensor<64xf32> -> tensor<2x6x64xf32> loc("embed")
  return %0 : tensor<2x6x64xf32>
}

// -----

// The image layout only changes how patchify reads the image; the weight
// follows the kernel layout alone. bf16 throughout.
// CHECK-LABEL: func.func @patch_embed_nhwc_oihw
// CHECK-SAME: (%[[IMAGE:[^:]+]]: tensor<1x32x32x3xbf16>, %[[KERNEL:[^:]+]]: tensor<96x3x8x8xbf16>, %[[BIAS:[^:]+]]: tensor<96xbf16>)
// CHECK-DAG: %[[PATCHES:.*]] = vit.patchify %[[IMAGE]] patch_size = 8 input_layout = nhwc kernel_layout = oihw : tensor<1x32x32x3xbf16> -> tensor<1x16x192xbf16>
// CHECK-DAG: %[[WEIGHT:.*]] = tensor.collapse_shape %[[KERNEL]] {{\[\[}}0], [1, 2, 3]] : tensor<96x3x8x8xbf16> into tensor<96x192xbf16>
// CHECK-NOT: linalg.transpose
// CHECK: %[[LINEAR:.*]] = vit.linear %[[PATCHES]], %[[WEIGHT]] : tensor<1x16x192xbf16>, tensor<96x192xbf16> -> tensor<1x16x96xbf16>
// CHECK-NEXT: vit.add %[[LINEAR]], %[[BIAS]] : tensor<1x16x96xbf16>, tensor<96xbf16>
func.func @patch_embed_nhwc_oihw(%image: tensor<1x32x32x3xbf16>, %kernel: tensor<96x3x8x8xbf16>, %bias: tensor<96xbf16>) -> tensor<1x16x96xbf16> {
  %0 = vit.patch_embed %image, %kernel, %bias patch_size = 8 input_layout = nhwc kernel_layout = oihw : tensor<1x32x32x3xbf16>, tensor<96x3x8x8xbf16>, tensor<96xbf16> -> tensor<1x16x96xbf16>
  return %0 : tensor<1x16x96xbf16>
}

// -----

// Position rows 1.. are added to the patches; the class token plus position
// row 0 is weight-only work (arith.addf), prepended to every sequence.
// CHECK-LABEL: func.func @class_pos_embed
// CHECK-SAME: (%[[PATCHES:[^:]+]]: tensor<2x4x64xf32>)
// CHECK: %[[CLS:.*]] = vit.weight "cls_token" : tensor<1x1x64xf32>
// CHECK: %[[POS:.*]] = vit.weight "pos_embed" : tensor<1x5x64xf32>
// CHECK: %[[POS_ROWS:.*]] = tensor.extract_slice %[[POS]][0, 1, 0] [1, 4, 64] [1, 1, 1] : tensor<1x5x64xf32> to tensor<4x64xf32>
// CHECK: %[[TOKENS:.*]] = vit.add %[[PATCHES]], %[[POS_ROWS]] : tensor<2x4x64xf32>, tensor<4x64xf32>
// CHECK-DAG: %[[CLS_ROW:.*]] = tensor.collapse_shape %[[CLS]] {{\[\[}}0, 1, 2]] : tensor<1x1x64xf32> into tensor<64xf32>
// CHECK-DAG: %[[POS_ROW0:.*]] = tensor.extract_slice %[[POS]][0, 0, 0] [1, 1, 64] [1, 1, 1] : tensor<1x5x64xf32> to tensor<64xf32>
// CHECK: %[[ROW:.*]] = arith.addf %[[CLS_ROW]], %[[POS_ROW0]] : tensor<64xf32>
// CHECK: %[[RESULT:.*]] = vit.prepend_token %[[TOKENS]], %[[ROW]] : tensor<2x4x64xf32>, tensor<64xf32> -> tensor<2x5x64xf32>
// CHECK: return %[[RESULT]] : tensor<2x5x64xf32>
// LOC-LABEL: func.func @class_pos_embed
// LOC: vit.add {{.*}} loc("class_pos_embed.position")
// LOC: arith.addf {{.*}} loc("class_pos_embed")
// LOC: vit.prepend_token {{.*}} loc("class_pos_embed")
func.func @class_pos_embed(%patches: tensor<2x4x64xf32>) -> tensor<2x5x64xf32> {
  %cls = vit.weight "cls_token" : tensor<1x1x64xf32>
  %pos = vit.weight "pos_embed" : tensor<1x5x64xf32>
  %0 = vit.class_pos_embed %patches, %cls, %pos : tensor<2x4x64xf32>, tensor<1x1x64xf32>, tensor<1x5x64xf32> -> tensor<2x5x64xf32> loc("class_pos_embed")
  return %0 : tensor<2x5x64xf32>
}

// -----

// timm: one fused [3D, D] projection with bias. q, k and v are the channel
// ranges [0, D), [D, 2D) and [2D, 3D) of its output.
// CHECK-LABEL: func.func @attention_fused_bias
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x5x64xf32>, %[[W:[^:]+]]: tensor<192x64xf32>, %[[B:[^:]+]]: tensor<192xf32>, %[[PW:[^:]+]]: tensor<64x64xf32>, %[[PB:[^:]+]]: tensor<64xf32>)
// CHECK-NOT: tensor.concat
// CHECK: %[[QKV:.*]] = vit.linear %[[X]], %[[W]] : tensor<2x5x64xf32>, tensor<192x64xf32> -> tensor<2x5x192xf32>
// CHECK-NEXT: %[[QKVB:.*]] = vit.add %[[QKV]], %[[B]] : tensor<2x5x192xf32>, tensor<192xf32>
// CHECK-NEXT: %[[Q:.*]] = tensor.extract_slice %[[QKVB]][0, 0, 0] [2, 5, 64] [1, 1, 1] : tensor<2x5x192xf32> to tensor<2x5x64xf32>
// CHECK-NEXT: %[[K:.*]] = tensor.extract_slice %[[QKVB]][0, 0, 64] [2, 5, 64] [1, 1, 1] : tensor<2x5x192xf32> to tensor<2x5x64xf32>
// CHECK-NEXT: %[[V:.*]] = tensor.extract_slice %[[QKVB]][0, 0, 128] [2, 5, 64] [1, 1, 1] : tensor<2x5x192xf32> to tensor<2x5x64xf32>
// CHECK-NEXT: %[[CORE:.*]] = vit.attention_core %[[Q]], %[[K]], %[[V]] num_heads = 2 : tensor<2x5x64xf32>
// CHECK-NEXT: %[[PROJ:.*]] = vit.linear %[[CORE]], %[[PW]] : tensor<2x5x64xf32>, tensor<64x64xf32> -> tensor<2x5x64xf32>
// CHECK-NEXT: %[[OUT:.*]] = vit.add %[[PROJ]], %[[PB]] : tensor<2x5x64xf32>, tensor<64xf32>
// CHECK-NEXT: return %[[OUT]] : tensor<2x5x64xf32>
// LOC-LABEL: func.func @attention_fused_bias
// LOC: vit.linear {{.*}} loc("blocks.0.attn.qkv")
// LOC-NEXT: vit.add {{.*}} loc("blocks.0.attn.qkv")
// LOC-NEXT: tensor.extract_slice {{.*}} loc("blocks.0.attn.core")
// LOC-NEXT: tensor.extract_slice {{.*}} loc("blocks.0.attn.core")
// LOC-NEXT: tensor.extract_slice {{.*}} loc("blocks.0.attn.core")
// LOC-NEXT: vit.attention_core {{.*}} loc("blocks.0.attn.core")
// LOC-NEXT: vit.linear {{.*}} loc("blocks.0.attn.proj")
// LOC-NEXT: vit.add {{.*}} loc("blocks.0.attn.proj")
func.func @attention_fused_bias(%x: tensor<2x5x64xf32>, %w: tensor<192x64xf32>, %b: tensor<192xf32>, %pw: tensor<64x64xf32>, %pb: tensor<64xf32>) -> tensor<2x5x64xf32> {
  %0 = vit.attention %x qkv(%w : tensor<192x64xf32>) bias(%b : tensor<192xf32>) proj(%pw, %pb : tensor<64x64xf32>, tensor<64xf32>) num_heads = 2 : tensor<2x5x64xf32> loc("blocks.0.attn")
  return %0 : tensor<2x5x64xf32>
}

// -----

// Keras: fused projection without bias, so no add between the QKV linear and
// the slices. D = 96. Without a NameLoc the decomposed ops keep the
// attention's own location.
// CHECK-LABEL: func.func @attention_fused_no_bias
// CHECK-SAME: (%[[X:[^:]+]]: tensor<1x7x96xf32>, %[[W:[^:]+]]: tensor<288x96xf32>, %[[PW:[^:]+]]: tensor<96x96xf32>, %[[PB:[^:]+]]: tensor<96xf32>)
// CHECK: %[[QKV:.*]] = vit.linear %[[X]], %[[W]] : tensor<1x7x96xf32>, tensor<288x96xf32> -> tensor<1x7x288xf32>
// CHECK-NEXT: %[[Q:.*]] = tensor.extract_slice %[[QKV]][0, 0, 0] [1, 7, 96] [1, 1, 1] : tensor<1x7x288xf32> to tensor<1x7x96xf32>
// CHECK-NEXT: %[[K:.*]] = tensor.extract_slice %[[QKV]][0, 0, 96] [1, 7, 96] [1, 1, 1]
// CHECK-NEXT: %[[V:.*]] = tensor.extract_slice %[[QKV]][0, 0, 192] [1, 7, 96] [1, 1, 1]
// CHECK-NEXT: %[[CORE:.*]] = vit.attention_core %[[Q]], %[[K]], %[[V]] num_heads = 3 : tensor<1x7x96xf32>
// CHECK-NEXT: %[[PROJ:.*]] = vit.linear %[[CORE]], %[[PW]] : tensor<1x7x96xf32>, tensor<96x96xf32> -> tensor<1x7x96xf32>
// CHECK-NEXT: %[[OUT:.*]] = vit.add %[[PROJ]], %[[PB]] : tensor<1x7x96xf32>, tensor<96xf32>
// CHECK-NEXT: return %[[OUT]]
// LOC-LABEL: func.func @attention_fused_no_bias
// LOC: vit.linear {{.*}} loc("{{.*}}decompose.mlir":[[# @LINE + 7]]:8)
// LOC: vit.attention_core {{.*}} loc("{{.*}}decompose.mlir":[[# @LINE + 6]]:8)
// LOC: vit.linear {{.*}} loc("{{.*}}decompose.mlir":[[# @LINE + 5]]:8)
// LOC-NEXT: vit.add {{.*}} loc("{{.*}}decompose.mlir":[[# @LINE + 4]]:8)
// The add is the last op before the return.
// LOC-NEXT: return
func.func @attention_fused_no_bias(%x: tensor<1x7x96xf32>, %w: tensor<288x96xf32>, %pw: tensor<96x96xf32>, %pb: tensor<96xf32>) -> tensor<1x7x96xf32> {
  %0 = vit.attention %x qkv(%w : tensor<288x96xf32>) proj(%pw, %pb : tensor<96x96xf32>, tensor<96xf32>) num_heads = 3 : tensor<1x7x96xf32>
  return %0 : tensor<1x7x96xf32>
}

// -----

// Hugging Face: separate q, k and v weights and biases, concatenated (weight
// work) into one [3D, D] projection and one [3D] bias.
// CHECK-LABEL: func.func @attention_separate_bias
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x5x64xf32>, %[[WQ:[^:]+]]: tensor<64x64xf32>, %[[WK:[^:]+]]: tensor<64x64xf32>, %[[WV:[^:]+]]: tensor<64x64xf32>, %[[BQ:[^:]+]]: tensor<64xf32>, %[[BK:[^:]+]]: tensor<64xf32>, %[[BV:[^:]+]]: tensor<64xf32>, %[[PW:[^:]+]]: tensor<64x64xf32>, %[[PB:[^:]+]]: tensor<64xf32>)
// CHECK-DAG: %[[W:.*]] = tensor.concat dim(0) %[[WQ]], %[[WK]], %[[WV]] : (tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<192x64xf32>
// CHECK-DAG: %[[B:.*]] = tensor.concat dim(0) %[[BQ]], %[[BK]], %[[BV]] : (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<192xf32>
// CHECK: %[[QKV:.*]] = vit.linear %[[X]], %[[W]] : tensor<2x5x64xf32>, tensor<192x64xf32> -> tensor<2x5x192xf32>
// CHECK-NEXT: %[[QKVB:.*]] = vit.add %[[QKV]], %[[B]] : tensor<2x5x192xf32>, tensor<192xf32>
// CHECK-NEXT: %[[Q:.*]] = tensor.extract_slice %[[QKVB]][0, 0, 0] [2, 5, 64] [1, 1, 1]
// CHECK-NEXT: %[[K:.*]] = tensor.extract_slice %[[QKVB]][0, 0, 64] [2, 5, 64] [1, 1, 1]
// CHECK-NEXT: %[[V:.*]] = tensor.extract_slice %[[QKVB]][0, 0, 128] [2, 5, 64] [1, 1, 1]
// CHECK-NEXT: %[[CORE:.*]] = vit.attention_core %[[Q]], %[[K]], %[[V]] num_heads = 4 : tensor<2x5x64xf32>
// CHECK-NEXT: %[[PROJ:.*]] = vit.linear %[[CORE]], %[[PW]]
// CHECK-NEXT: %[[OUT:.*]] = vit.add %[[PROJ]], %[[PB]]
// CHECK-NEXT: return %[[OUT]]
// LOC-LABEL: func.func @attention_separate_bias
// LOC-COUNT-2: tensor.concat {{.*}} loc("blocks.3.attn")
// LOC: vit.linear {{.*}} loc("blocks.3.attn.qkv")
// LOC: vit.attention_core {{.*}} loc("blocks.3.attn.core")
// LOC: vit.linear {{.*}} loc("blocks.3.attn.proj")
func.func @attention_separate_bias(%x: tensor<2x5x64xf32>, %q: tensor<64x64xf32>, %k: tensor<64x64xf32>, %v: tensor<64x64xf32>, %bq: tensor<64xf32>, %bk: tensor<64xf32>, %bv: tensor<64xf32>, %pw: tensor<64x64xf32>, %pb: tensor<64xf32>) -> tensor<2x5x64xf32> {
  %0 = vit.attention %x qkv(%q, %k, %v : tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>) bias(%bq, %bk, %bv : tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) proj(%pw, %pb : tensor<64x64xf32>, tensor<64xf32>) num_heads = 4 : tensor<2x5x64xf32> loc("blocks.3.attn")
  return %0 : tensor<2x5x64xf32>
}

// -----

// Separate projections without bias: one concatenation, no QKV bias add.
// CHECK-LABEL: func.func @attention_separate_no_bias
// CHECK-SAME: (%[[X:[^:]+]]: tensor<1x5x64xf32>, %[[WQ:[^:]+]]: tensor<64x64xf32>, %[[WK:[^:]+]]: tensor<64x64xf32>, %[[WV:[^:]+]]: tensor<64x64xf32>,
// CHECK: %[[W:.*]] = tensor.concat dim(0) %[[WQ]], %[[WK]], %[[WV]] : (tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<192x64xf32>
// CHECK-NOT: tensor.concat
// CHECK: %[[QKV:.*]] = vit.linear %[[X]], %[[W]] : tensor<1x5x64xf32>, tensor<192x64xf32> -> tensor<1x5x192xf32>
// CHECK-NEXT: tensor.extract_slice %[[QKV]][0, 0, 0] [1, 5, 64] [1, 1, 1]
func.func @attention_separate_no_bias(%x: tensor<1x5x64xf32>, %q: tensor<64x64xf32>, %k: tensor<64x64xf32>, %v: tensor<64x64xf32>, %pw: tensor<64x64xf32>, %pb: tensor<64xf32>) -> tensor<1x5x64xf32> {
  %0 = vit.attention %x qkv(%q, %k, %v : tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>) proj(%pw, %pb : tensor<64x64xf32>, tensor<64xf32>) num_heads = 4 : tensor<1x5x64xf32>
  return %0 : tensor<1x5x64xf32>
}

// -----

// CHECK-LABEL: func.func @mlp_exact
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x5x64xf32>, %[[W1:[^:]+]]: tensor<128x64xf32>, %[[B1:[^:]+]]: tensor<128xf32>, %[[W2:[^:]+]]: tensor<64x128xf32>, %[[B2:[^:]+]]: tensor<64xf32>)
// CHECK-NEXT: %[[FC1:.*]] = vit.linear %[[X]], %[[W1]] : tensor<2x5x64xf32>, tensor<128x64xf32> -> tensor<2x5x128xf32>
// CHECK-NEXT: %[[H:.*]] = vit.add %[[FC1]], %[[B1]] : tensor<2x5x128xf32>, tensor<128xf32>
// CHECK-NEXT: %[[G:.*]] = vit.gelu %[[H]] approximation = exact : tensor<2x5x128xf32>
// CHECK-NEXT: %[[FC2:.*]] = vit.linear %[[G]], %[[W2]] : tensor<2x5x128xf32>, tensor<64x128xf32> -> tensor<2x5x64xf32>
// CHECK-NEXT: %[[OUT:.*]] = vit.add %[[FC2]], %[[B2]] : tensor<2x5x64xf32>, tensor<64xf32>
// CHECK-NEXT: return %[[OUT]] : tensor<2x5x64xf32>
// LOC-LABEL: func.func @mlp_exact
// LOC-NEXT: vit.linear {{.*}} loc("blocks.0.mlp.fc1")
// LOC-NEXT: vit.add {{.*}} loc("blocks.0.mlp.fc1")
// LOC-NEXT: vit.gelu {{.*}} loc("blocks.0.mlp.gelu")
// LOC-NEXT: vit.linear {{.*}} loc("blocks.0.mlp.fc2")
// LOC-NEXT: vit.add {{.*}} loc("blocks.0.mlp.fc2")
func.func @mlp_exact(%x: tensor<2x5x64xf32>, %w1: tensor<128x64xf32>, %b1: tensor<128xf32>, %w2: tensor<64x128xf32>, %b2: tensor<64xf32>) -> tensor<2x5x64xf32> {
  %0 = vit.mlp %x fc1(%w1, %b1) fc2(%w2, %b2) gelu = exact : tensor<2x5x64xf32>, tensor<128x64xf32>, tensor<128xf32>, tensor<64x128xf32>, tensor<64xf32> loc("blocks.0.mlp")
  return %0 : tensor<2x5x64xf32>
}

// -----

// CHECK-LABEL: func.func @mlp_tanh
// CHECK-NEXT: %[[FC1:.*]] = vit.linear
// CHECK-NEXT: %[[H:.*]] = vit.add %[[FC1]]
// CHECK-NEXT: %[[G:.*]] = vit.gelu %[[H]] approximation = tanh : tensor<2x5x128xf32>
// CHECK-NEXT: %[[FC2:.*]] = vit.linear %[[G]]
// CHECK-NEXT: vit.add %[[FC2]]
func.func @mlp_tanh(%x: tensor<2x5x64xf32>, %w1: tensor<128x64xf32>, %b1: tensor<128xf32>, %w2: tensor<64x128xf32>, %b2: tensor<64xf32>) -> tensor<2x5x64xf32> {
  %0 = vit.mlp %x fc1(%w1, %b1) fc2(%w2, %b2) gelu = tanh : tensor<2x5x64xf32>, tensor<128x64xf32>, tensor<128xf32>, tensor<64x128xf32>, tensor<64xf32>
  return %0 : tensor<2x5x64xf32>
}

// -----

// Token 0 of every image, rank-reduced to [B, D], then the classifier linear.
// CHECK-LABEL: func.func @classifier_head
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x5x64xf32>, %[[W:[^:]+]]: tensor<10x64xf32>, %[[B:[^:]+]]: tensor<10xf32>)
// CHECK-NEXT: %[[CLS:.*]] = tensor.extract_slice %[[X]][0, 0, 0] [2, 1, 64] [1, 1, 1] : tensor<2x5x64xf32> to tensor<2x64xf32>
// CHECK-NEXT: %[[LOGITS:.*]] = vit.linear %[[CLS]], %[[W]] : tensor<2x64xf32>, tensor<10x64xf32> -> tensor<2x10xf32>
// CHECK-NEXT: %[[OUT:.*]] = vit.add %[[LOGITS]], %[[B]] : tensor<2x10xf32>, tensor<10xf32>
// CHECK-NEXT: return %[[OUT]] : tensor<2x10xf32>
// LOC-LABEL: func.func @classifier_head
// LOC-NEXT: tensor.extract_slice {{.*}} loc("head")
// LOC-NEXT: vit.linear {{.*}} loc("head")
// LOC-NEXT: vit.add {{.*}} loc("head")
func.func @classifier_head(%x: tensor<2x5x64xf32>, %w: tensor<10x64xf32>, %b: tensor<10xf32>) -> tensor<2x10xf32> {
  %0 = vit.classifier_head %x, %w, %b : tensor<2x5x64xf32>, tensor<10x64xf32>, tensor<10xf32> -> tensor<2x10xf32> loc("head")
  return %0 : tensor<2x10xf32>
}

// -----

// The residual stream stays the lhs.
// CHECK-LABEL: func.func @residual_add
// CHECK-SAME: (%[[RESIDUAL:[^:]+]]: tensor<2x5x64xf32>, %[[UPDATE:[^:]+]]: tensor<2x5x64xf32>)
// CHECK-NEXT: %[[SUM:.*]] = vit.add %[[RESIDUAL]], %[[UPDATE]] : tensor<2x5x64xf32>, tensor<2x5x64xf32>
// CHECK-NEXT: return %[[SUM]]
// LOC-LABEL: func.func @residual_add
// LOC-NEXT: vit.add {{.*}} loc("blocks.0.add1")
func.func @residual_add(%residual: tensor<2x5x64xf32>, %update: tensor<2x5x64xf32>) -> tensor<2x5x64xf32> {
  %0 = vit.residual_add %residual, %update : tensor<2x5x64xf32> loc("blocks.0.add1")
  return %0 : tensor<2x5x64xf32>
}

// -----

// Already a compute op: left alone, location included.
// CHECK-LABEL: func.func @layer_norm
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x5x64xf32>, %[[G:[^:]+]]: tensor<64xf32>, %[[B:[^:]+]]: tensor<64xf32>)
// CHECK-NEXT: %[[N:.*]] = vit.layer_norm %[[X]], %[[G]], %[[B]] epsilon = 9.9999999999999995E-7 : tensor<2x5x64xf32>, tensor<64xf32>, tensor<64xf32>
// CHECK-NEXT: return %[[N]]
// LOC-LABEL: func.func @layer_norm
// LOC-NEXT: vit.layer_norm {{.*}} loc("blocks.0.norm1")
func.func @layer_norm(%x: tensor<2x5x64xf32>, %g: tensor<64xf32>, %b: tensor<64xf32>) -> tensor<2x5x64xf32> {
  %0 = vit.layer_norm %x, %g, %b epsilon = 1.0e-6 : tensor<2x5x64xf32>, tensor<64xf32>, tensor<64xf32> loc("blocks.0.norm1")
  return %0 : tensor<2x5x64xf32>
}

// -----

// An encoder block as vitc emits it: every graph op is decomposed, the
// residual stream threads through the two adds, and each op keeps telling
// which layer it comes from.
// CHECK-LABEL: func.func @encoder_block
// CHECK-SAME: (%[[X:[^:]+]]: tensor<1x5x64xf32>)
// CHECK: %[[N1:.*]] = vit.layer_norm %[[X]],
// CHECK: %[[QKV:.*]] = vit.linear %[[N1]],
// CHECK: vit.attention_core
// CHECK: %[[PROJ:.*]] = vit.linear
// CHECK-NEXT: %[[ATTN:.*]] = vit.add %[[PROJ]], %{{.*}} : tensor<1x5x64xf32>, tensor<64xf32>
// CHECK-NEXT: %[[R1:.*]] = vit.add %[[X]], %[[ATTN]] : tensor<1x5x64xf32>, tensor<1x5x64xf32>
// CHECK: %[[N2:.*]] = vit.layer_norm %[[R1]],
// CHECK: %[[FC1:.*]] = vit.linear %[[N2]],
// CHECK: vit.gelu
// CHECK: %[[FC2:.*]] = vit.linear
// CHECK-NEXT: %[[MLP:.*]] = vit.add %[[FC2]], %{{.*}} : tensor<1x5x64xf32>, tensor<64xf32>
// CHECK-NEXT: %[[R2:.*]] = vit.add %[[R1]], %[[MLP]] : tensor<1x5x64xf32>, tensor<1x5x64xf32>
// CHECK-NEXT: return %[[R2]]
// LOC-LABEL: func.func @encoder_block
// LOC: vit.layer_norm {{.*}} loc("blocks.0.norm1")
// LOC: vit.linear {{.*}} loc("blocks.0.attn.qkv")
// LOC: vit.attention_core {{.*}} loc("blocks.0.attn.core")
// LOC: vit.linear {{.*}} loc("blocks.0.attn.proj")
// LOC: vit.add {{.*}} loc("blocks.0.add1")
// LOC: vit.layer_norm {{.*}} loc("blocks.0.norm2")
// LOC: vit.linear {{.*}} loc("blocks.0.mlp.fc1")
// LOC: vit.gelu {{.*}} loc("blocks.0.mlp.gelu")
// LOC: vit.linear {{.*}} loc("blocks.0.mlp.fc2")
// LOC: vit.add {{.*}} loc("blocks.0.add2")
func.func @encoder_block(%arg0: tensor<1x5x64xf32>) -> tensor<1x5x64xf32> {
  %6 = vit.weight "blocks.0.norm1.weight" : tensor<64xf32>
  %7 = vit.weight "blocks.0.norm1.bias" : tensor<64xf32>
  %8 = vit.layer_norm %arg0, %6, %7 epsilon = 9.9999999999999995E-7 : tensor<1x5x64xf32>, tensor<64xf32>, tensor<64xf32> loc("blocks.0.norm1")
  %9 = vit.weight "blocks.0.attn.qkv.weight" : tensor<192x64xf32>
  %10 = vit.weight "blocks.0.attn.qkv.bias" : tensor<192xf32>
  %11 = vit.weight "blocks.0.attn.proj.weight" : tensor<64x64xf32>
  %12 = vit.weight "blocks.0.attn.proj.bias" : tensor<64xf32>
  %13 = vit.attention %8 qkv(%9 : tensor<192x64xf32>) bias(%10 : tensor<192xf32>) proj(%11, %12 : tensor<64x64xf32>, tensor<64xf32>) num_heads = 2 : tensor<1x5x64xf32> loc("blocks.0.attn")
  %14 = vit.residual_add %arg0, %13 : tensor<1x5x64xf32> loc("blocks.0.add1")
  %15 = vit.weight "blocks.0.norm2.weight" : tensor<64xf32>
  %16 = vit.weight "blocks.0.norm2.bias" : tensor<64xf32>
  %17 = vit.layer_norm %14, %15, %16 epsilon = 9.9999999999999995E-7 : tensor<1x5x64xf32>, tensor<64xf32>, tensor<64xf32> loc("blocks.0.norm2")
  %18 = vit.weight "blocks.0.mlp.fc1.weight" : tensor<128x64xf32>
  %19 = vit.weight "blocks.0.mlp.fc1.bias" : tensor<128xf32>
  %20 = vit.weight "blocks.0.mlp.fc2.weight" : tensor<64x128xf32>
  %21 = vit.weight "blocks.0.mlp.fc2.bias" : tensor<64xf32>
  %22 = vit.mlp %17 fc1(%18, %19) fc2(%20, %21) gelu = exact : tensor<1x5x64xf32>, tensor<128x64xf32>, tensor<128xf32>, tensor<64x128xf32>, tensor<64xf32> loc("blocks.0.mlp")
  %23 = vit.residual_add %14, %22 : tensor<1x5x64xf32> loc("blocks.0.add2")
  return %23 : tensor<1x5x64xf32>
}
