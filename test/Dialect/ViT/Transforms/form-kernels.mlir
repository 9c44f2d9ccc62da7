// Every compute op becomes the anchor of one vit.kernel; cheap single-use
// producers join it; weight-only values stay outside and are passed in.
// RUN: vitc-opt %s -vit-form-kernels -split-input-file | FileCheck %s
// RUN: vitc-opt %s -vit-form-kernels=layer-norm-into-linear=true -split-input-file \
// RUN: | FileCheck %s --check-prefix=LN
// With a multiple that the width (64) is, the same; with one it is not (48),
// as without the option: every layer norm keeps its own kernel.
// RUN: vitc-opt %s -vit-form-kernels="layer-norm-into-linear=true layer-norm-into-linear-multiple=32" \
// RUN:   -split-input-file | FileCheck %s --check-prefix=LN
// RUN: vitc-opt %s -vit-form-kernels="layer-norm-into-linear=true layer-norm-into-linear-multiple=48" \
// RUN:   -split-input-file | FileCheck %s

// One kernel per anchor, named after the anchor's NameLoc, or after the op
// when it has none; names repeat with _1, _2 suffixes. The body's block
// arguments are the inputs in order, and each kernel's result feeds the next.
// CHECK-LABEL: func.func @names
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x5x64xf32>, %[[G:[^:]+]]: tensor<64xf32>, %[[B:[^:]+]]: tensor<64xf32>, %[[W:[^:]+]]: tensor<64x64xf32>)
// CHECK-NEXT: %[[K0:.*]] = vit.kernel "blocks.0.norm1" ins(%[[X]], %[[G]], %[[B]] : tensor<2x5x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<2x5x64xf32> {
// CHECK-NEXT: ^bb0(%[[A0:[^:]+]]: tensor<2x5x64xf32>, %[[A1:[^:]+]]: tensor<64xf32>, %[[A2:[^:]+]]: tensor<64xf32>):
// CHECK-NEXT: %[[N:.*]] = vit.layer_norm %[[A0]], %[[A1]], %[[A2]] epsilon = 9.9999999999999995E-7 : tensor<2x5x64xf32>, tensor<64xf32>, tensor<64xf32>
// CHECK-NEXT: vit.yield %[[N]] : tensor<2x5x64xf32>
// CHECK-NEXT: }
// CHECK-NEXT: %[[K1:.*]] = vit.kernel "linear" ins(%[[K0]], %[[W]] : tensor<2x5x64xf32>, tensor<64x64xf32>) -> tensor<2x5x64xf32> {
// CHECK-NEXT: ^bb0(%[[A0:[^:]+]]: tensor<2x5x64xf32>, %[[A1:[^:]+]]: tensor<64x64xf32>):
// CHECK-NEXT: %[[Y:.*]] = vit.linear %[[A0]], %[[A1]] : tensor<2x5x64xf32>, tensor<64x64xf32> -> tensor<2x5x64xf32>
// CHECK-NEXT: vit.yield %[[Y]] : tensor<2x5x64xf32>
// CHECK-NEXT: }
// CHECK-NEXT: %[[K2:.*]] = vit.kernel "linear_1" ins(%[[K1]], %[[W]] :
// CHECK: %[[K3:.*]] = vit.kernel "fc" ins(%[[K2]], %[[W]] :
// CHECK: %[[K4:.*]] = vit.kernel "fc_1" ins(%[[K3]], %[[W]] :
// CHECK: %[[K5:.*]] = vit.kernel "gelu" ins(%[[K4]] : tensor<2x5x64xf32>) -> tensor<2x5x64xf32> {
// CHECK-NEXT: ^bb0(%[[A0:[^:]+]]: tensor<2x5x64xf32>):
// CHECK-NEXT: %[[GELU:.*]] = vit.gelu %[[A0]] approximation = exact : tensor<2x5x64xf32>
// CHECK-NEXT: vit.yield %[[GELU]]
// CHECK-NEXT: }
// An operand used twice is one input.
// CHECK-NEXT: %[[K6:.*]] = vit.kernel "add" ins(%[[K5]] : tensor<2x5x64xf32>) -> tensor<2x5x64xf32> {
// CHECK-NEXT: ^bb0(%[[A0:[^:]+]]: tensor<2x5x64xf32>):
// CHECK-NEXT: %[[SUM:.*]] = vit.add %[[A0]], %[[A0]] : tensor<2x5x64xf32>, tensor<2x5x64xf32>
// CHECK-NEXT: vit.yield %[[SUM]]
// CHECK-NEXT: }
// CHECK-NEXT: %[[K7:.*]] = vit.kernel "linear_2" ins(%[[K6]], %[[W]] :
// CHECK: return %[[K7]] : tensor<2x5x64xf32>
func.func @names(%x: tensor<2x5x64xf32>, %g: tensor<64xf32>, %b: tensor<64xf32>, %w: tensor<64x64xf32>) -> tensor<2x5x64xf32> {
  %0 = vit.layer_norm %x, %g, %b epsilon = 1.0e-6 : tensor<2x5x64xf32>, tensor<64xf32>, tensor<64xf32> loc("blocks.0.norm1")
  %1 = vit.linear %0, %w : tensor<2x5x64xf32>, tensor<64x64xf32> -> tensor<2x5x64xf32>
  %2 = vit.linear %1, %w : tensor<2x5x64xf32>, tensor<64x64xf32> -> tensor<2x5x64xf32>
  %3 = vit.linear %2, %w : tensor<2x5x64xf32>, tensor<64x64xf32> -> tensor<2x5x64xf32> loc("fc")
  %4 = vit.linear %3, %w : tensor<2x5x64xf32>, tensor<64x64xf32> -> tensor<2x5x64xf32> loc("fc")
  %5 = vit.gelu %4 approximation = exact : tensor<2x5x64xf32>
  %6 = vit.add %5, %5 : tensor<2x5x64xf32>, tensor<2x5x64xf32>
  %7 = vit.linear %6, %w : tensor<2x5x64xf32>, tensor<64x64xf32> -> tensor<2x5x64xf32>
  return %7 : tensor<2x5x64xf32>
}

// -----

// Names are unique within a function: the next function starts over.
// CHECK-LABEL: func.func @first
// CHECK: vit.kernel "linear" ins
// CHECK: vit.kernel "linear_1" ins
// CHECK-LABEL: func.func @second
// CHECK: vit.kernel "linear" ins
// CHECK-NOT: vit.kernel
// CHECK: return
func.func @first(%x: tensor<2x64xf32>, %w: tensor<64x64xf32>) -> tensor<2x64xf32> {
  %0 = vit.linear %x, %w : tensor<2x64xf32>, tensor<64x64xf32> -> tensor<2x64xf32>
  %1 = vit.linear %0, %w : tensor<2x64xf32>, tensor<64x64xf32> -> tensor<2x64xf32>
  return %1 : tensor<2x64xf32>
}
func.func @second(%x: tensor<2x64xf32>, %w: tensor<64x64xf32>) -> tensor<2x64xf32> {
  %0 = vit.linear %x, %w : tensor<2x64xf32>, tensor<64x64xf32> -> tensor<2x64xf32>
  return %0 : tensor<2x64xf32>
}

// -----

// A linear with its whole epilogue: inputs in operand order (input, weight,
// bias, residual), block arguments likewise.
// CHECK-LABEL: func.func @epilogue_inputs
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x5x128xf32>, %[[W:[^:]+]]: tensor<64x128xf32>, %[[B:[^:]+]]: tensor<64xf32>, %[[R:[^:]+]]: tensor<2x5x64xf32>)
// CHECK-NEXT: %[[K:.*]] = vit.kernel "blocks.0.mlp.fc2" ins(%[[X]], %[[W]], %[[B]], %[[R]] : tensor<2x5x128xf32>, tensor<64x128xf32>, tensor<64xf32>, tensor<2x5x64xf32>) -> tensor<2x5x64xf32> {
// CHECK-NEXT: ^bb0(%[[A0:[^:]+]]: tensor<2x5x128xf32>, %[[A1:[^:]+]]: tensor<64x128xf32>, %[[A2:[^:]+]]: tensor<64xf32>, %[[A3:[^:]+]]: tensor<2x5x64xf32>):
// CHECK-NEXT: %[[Y:.*]] = vit.linear %[[A0]], %[[A1]] bias(%[[A2]] : tensor<64xf32>) gelu = tanh residual(%[[A3]] : tensor<2x5x64xf32>) : tensor<2x5x128xf32>, tensor<64x128xf32> -> tensor<2x5x64xf32>
// CHECK-NEXT: vit.yield %[[Y]] : tensor<2x5x64xf32>
// CHECK-NEXT: }
// CHECK-NEXT: return %[[K]] : tensor<2x5x64xf32>
func.func @epilogue_inputs(%x: tensor<2x5x128xf32>, %w: tensor<64x128xf32>, %b: tensor<64xf32>, %r: tensor<2x5x64xf32>) -> tensor<2x5x64xf32> {
  %0 = vit.linear %x, %w bias(%b : tensor<64xf32>) gelu = tanh residual(%r : tensor<2x5x64xf32>) : tensor<2x5x128xf32>, tensor<64x128xf32> -> tensor<2x5x64xf32> loc("blocks.0.mlp.fc2")
  return %0 : tensor<2x5x64xf32>
}

// -----

// The patch embedding as decomposition and epilogue fusion leave it: the
// single-use patchify joins its linear's kernel, the kernel reshaped to a
// linear weight (weight-only) stays outside and is an input, and so is the
// weight-only slice of the position embedding.
// CHECK-LABEL: func.func @patch_embed
// CHECK-SAME: (%[[IMAGE:[^:]+]]: tensor<2x3x32x32xf32>)
// CHECK-DAG: %[[KERNEL:.*]] = vit.weight "patch_embed.proj.weight" : tensor<64x3x16x16xf32>
// CHECK-DAG: %[[BIAS:.*]] = vit.weight "patch_embed.proj.bias" : tensor<64xf32>
// CHECK-DAG: %[[POS:.*]] = vit.weight "pos_embed" : tensor<1x5x64xf32>
// CHECK-DAG: %[[WEIGHT:.*]] = tensor.collapse_shape %[[KERNEL]] {{\[\[}}0], [1, 2, 3]] : tensor<64x3x16x16xf32> into tensor<64x768xf32>
// CHECK-DAG: %[[ROWS:.*]] = tensor.extract_slice %[[POS]][0, 1, 0] [1, 4, 64] [1, 1, 1] : tensor<1x5x64xf32> to tensor<4x64xf32>
// CHECK-NOT: vit.patchify
// CHECK: %[[K:.*]] = vit.kernel "patch_embed" ins(%[[IMAGE]], %[[WEIGHT]], %[[BIAS]], %[[ROWS]] : tensor<2x3x32x32xf32>, tensor<64x768xf32>, tensor<64xf32>, tensor<4x64xf32>) -> tensor<2x4x64xf32> {
// CHECK-NEXT: ^bb0(%[[A0:[^:]+]]: tensor<2x3x32x32xf32>, %[[A1:[^:]+]]: tensor<64x768xf32>, %[[A2:[^:]+]]: tensor<64xf32>, %[[A3:[^:]+]]: tensor<4x64xf32>):
// CHECK-NEXT: %[[P:.*]] = vit.patchify %[[A0]] patch_size = 16 input_layout = nchw kernel_layout = oihw : tensor<2x3x32x32xf32> -> tensor<2x4x768xf32>
// CHECK-NEXT: %[[Y:.*]] = vit.linear %[[P]], %[[A1]] bias(%[[A2]] : tensor<64xf32>) residual(%[[A3]] : tensor<4x64xf32>) : tensor<2x4x768xf32>, tensor<64x768xf32> -> tensor<2x4x64xf32>
// CHECK-NEXT: vit.yield %[[Y]] : tensor<2x4x64xf32>
// CHECK-NEXT: }
// CHECK-NEXT: return %[[K]] : tensor<2x4x64xf32>
func.func @patch_embed(%image: tensor<2x3x32x32xf32>) -> tensor<2x4x64xf32> {
  %0 = vit.weight "patch_embed.proj.weight" : tensor<64x3x16x16xf32>
  %1 = vit.weight "patch_embed.proj.bias" : tensor<64xf32>
  %2 = vit.patchify %image patch_size = 16 input_layout = nchw kernel_layout = oihw : tensor<2x3x32x32xf32> -> tensor<2x4x768xf32> loc("patch_embed.patchify")
  %collapsed = tensor.collapse_shape %0 [[0], [1, 2, 3]] : tensor<64x3x16x16xf32> into tensor<64x768xf32> loc("patch_embed")
  %pos = vit.weight "pos_embed" : tensor<1x5x64xf32>
  %rows = tensor.extract_slice %pos[0, 1, 0] [1, 4, 64] [1, 1, 1] : tensor<1x5x64xf32> to tensor<4x64xf32> loc("class_pos_embed")
  %3 = vit.linear %2, %collapsed bias(%1 : tensor<64xf32>) residual(%rows : tensor<4x64xf32>) : tensor<2x4x768xf32>, tensor<64x768xf32> -> tensor<2x4x64xf32> loc("patch_embed")
  return %3 : tensor<2x4x64xf32>
}

// -----

// Keras patch embedding: the HWIO kernel's collapse, tensor.empty and
// transpose are weight-only and stay outside; the transposed weight is the
// input.
// CHECK-LABEL: func.func @patch_embed_hwio
// CHECK-SAME: (%[[IMAGE:[^:]+]]: tensor<1x32x32x3xf32>)
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<64x768xf32>
// CHECK: %[[WEIGHT:.*]] = linalg.transpose ins(%[[FLAT]] : tensor<768x64xf32>) outs(%[[INIT]] : tensor<64x768xf32>) permutation = [1, 0]
// CHECK: %[[K:.*]] = vit.kernel "linear" ins(%[[IMAGE]], %[[WEIGHT]] : tensor<1x32x32x3xf32>, tensor<64x768xf32>) -> tensor<1x4x64xf32> {
// CHECK-NEXT: ^bb0(%[[A0:[^:]+]]: tensor<1x32x32x3xf32>, %[[A1:[^:]+]]: tensor<64x768xf32>):
// CHECK-NEXT: %[[P:.*]] = vit.patchify %[[A0]] patch_size = 16 input_layout = nhwc kernel_layout = hwio
// CHECK-NEXT: %[[Y:.*]] = vit.linear %[[P]], %[[A1]] :
// CHECK-NEXT: vit.yield %[[Y]]
// CHECK-NEXT: }
// CHECK-NEXT: return %[[K]]
func.func @patch_embed_hwio(%image: tensor<1x32x32x3xf32>) -> tensor<1x4x64xf32> {
  %kernel = vit.weight "patch_embed.proj.weight" : tensor<16x16x3x64xf32>
  %flat = tensor.collapse_shape %kernel [[0, 1, 2], [3]] : tensor<16x16x3x64xf32> into tensor<768x64xf32>
  %init = tensor.empty() : tensor<64x768xf32>
  %weight = linalg.transpose ins(%flat : tensor<768x64xf32>) outs(%init : tensor<64x768xf32>) permutation = [1, 0]
  %patches = vit.patchify %image patch_size = 16 input_layout = nhwc kernel_layout = hwio : tensor<1x32x32x3xf32> -> tensor<1x4x768xf32>
  %0 = vit.linear %patches, %weight : tensor<1x4x768xf32>, tensor<64x768xf32> -> tensor<1x4x64xf32>
  return %0 : tensor<1x4x64xf32>
}

// -----

// A patchify with two users is not recomputed in both kernels: it stays
// outside and both take its result.
// CHECK-LABEL: func.func @patchify_two_users
// CHECK-SAME: (%[[IMAGE:[^:]+]]: tensor<2x3x32x32xf32>, %[[W1:[^:]+]]: tensor<64x768xf32>, %[[W2:[^:]+]]: tensor<32x768xf32>)
// CHECK-NEXT: %[[P:.*]] = vit.patchify %[[IMAGE]] patch_size = 16
// CHECK-NEXT: %[[K1:.*]] = vit.kernel "a" ins(%[[P]], %[[W1]] : tensor<2x4x768xf32>, tensor<64x768xf32>) -> tensor<2x4x64xf32> {
// CHECK-NEXT: ^bb0(%[[A0:[^:]+]]: tensor<2x4x768xf32>, %[[A1:[^:]+]]: tensor<64x768xf32>):
// CHECK-NEXT: %[[Y1:.*]] = vit.linear %[[A0]], %[[A1]] :
// CHECK-NEXT: vit.yield %[[Y1]]
// CHECK-NEXT: }
// CHECK-NEXT: %[[K2:.*]] = vit.kernel "b" ins(%[[P]], %[[W2]] : tensor<2x4x768xf32>, tensor<32x768xf32>) -> tensor<2x4x32xf32> {
// CHECK-NEXT: ^bb0(%[[A0:[^:]+]]: tensor<2x4x768xf32>, %[[A1:[^:]+]]: tensor<32x768xf32>):
// CHECK-NEXT: %[[Y2:.*]] = vit.linear %[[A0]], %[[A1]] :
// CHECK-NEXT: vit.yield %[[Y2]]
// CHECK-NEXT: }
// CHECK-NEXT: return %[[K1]], %[[K2]]
func.func @patchify_two_users(%image: tensor<2x3x32x32xf32>, %w1: tensor<64x768xf32>, %w2: tensor<32x768xf32>) -> (tensor<2x4x64xf32>, tensor<2x4x32xf32>) {
  %p = vit.patchify %image patch_size = 16 input_layout = nchw kernel_layout = oihw : tensor<2x3x32x32xf32> -> tensor<2x4x768xf32>
  %0 = vit.linear %p, %w1 : tensor<2x4x768xf32>, tensor<64x768xf32> -> tensor<2x4x64xf32> loc("a")
  %1 = vit.linear %p, %w2 : tensor<2x4x768xf32>, tensor<32x768xf32> -> tensor<2x4x32xf32> loc("b")
  return %0, %1 : tensor<2x4x64xf32>, tensor<2x4x32xf32>
}

// -----

// Attention: the q/k/v slices join the core's kernel, whose only input is the
// QKV projection's result.
// CHECK-LABEL: func.func @attention
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x5x64xf32>)
// CHECK-DAG: %[[W:.*]] = vit.weight "blocks.0.attn.qkv.weight" : tensor<192x64xf32>
// CHECK-DAG: %[[B:.*]] = vit.weight "blocks.0.attn.qkv.bias" : tensor<192xf32>
// CHECK-DAG: %[[PW:.*]] = vit.weight "blocks.0.attn.proj.weight" : tensor<64x64xf32>
// CHECK-DAG: %[[PB:.*]] = vit.weight "blocks.0.attn.proj.bias" : tensor<64xf32>
// CHECK: %[[QKV:.*]] = vit.kernel "blocks.0.attn.qkv" ins(%[[X]], %[[W]], %[[B]] : tensor<2x5x64xf32>, tensor<192x64xf32>, tensor<192xf32>) -> tensor<2x5x192xf32> {
// CHECK-NEXT: ^bb0(%[[A0:[^:]+]]: tensor<2x5x64xf32>, %[[A1:[^:]+]]: tensor<192x64xf32>, %[[A2:[^:]+]]: tensor<192xf32>):
// CHECK-NEXT: %[[Y:.*]] = vit.linear %[[A0]], %[[A1]] bias(%[[A2]] : tensor<192xf32>) :
// CHECK-NEXT: vit.yield %[[Y]] : tensor<2x5x192xf32>
// CHECK-NEXT: }
// CHECK-NOT: tensor.extract_slice
// CHECK: %[[CORE:.*]] = vit.kernel "blocks.0.attn.core" ins(%[[QKV]] : tensor<2x5x192xf32>) -> tensor<2x5x64xf32> {
// CHECK-NEXT: ^bb0(%[[A:[^:]+]]: tensor<2x5x192xf32>):
// CHECK-NEXT: %[[Q:.*]] = tensor.extract_slice %[[A]][0, 0, 0] [2, 5, 64] [1, 1, 1] : tensor<2x5x192xf32> to tensor<2x5x64xf32>
// CHECK-NEXT: %[[K:.*]] = tensor.extract_slice %[[A]][0, 0, 64] [2, 5, 64] [1, 1, 1] : tensor<2x5x192xf32> to tensor<2x5x64xf32>
// CHECK-NEXT: %[[V:.*]] = tensor.extract_slice %[[A]][0, 0, 128] [2, 5, 64] [1, 1, 1] : tensor<2x5x192xf32> to tensor<2x5x64xf32>
// CHECK-NEXT: %[[O:.*]] = vit.attention_core %[[Q]], %[[K]], %[[V]] num_heads = 2 : tensor<2x5x64xf32>
// CHECK-NEXT: vit.yield %[[O]] : tensor<2x5x64xf32>
// CHECK-NEXT: }
// CHECK-NEXT: %[[PROJ:.*]] = vit.kernel "blocks.0.attn.proj" ins(%[[CORE]], %[[PW]], %[[PB]], %[[X]] : tensor<2x5x64xf32>, tensor<64x64xf32>, tensor<64xf32>, tensor<2x5x64xf32>) -> tensor<2x5x64xf32> {
// CHECK-NEXT: ^bb0(%[[A0:[^:]+]]: tensor<2x5x64xf32>, %[[A1:[^:]+]]: tensor<64x64xf32>, %[[A2:[^:]+]]: tensor<64xf32>, %[[A3:[^:]+]]: tensor<2x5x64xf32>):
// CHECK-NEXT: %[[Y:.*]] = vit.linear %[[A0]], %[[A1]] bias(%[[A2]] : tensor<64xf32>) residual(%[[A3]] : tensor<2x5x64xf32>) :
// CHECK-NEXT: vit.yield %[[Y]]
// CHECK-NEXT: }
// CHECK-NEXT: return %[[PROJ]] : tensor<2x5x64xf32>
func.func @attention(%x: tensor<2x5x64xf32>) -> tensor<2x5x64xf32> {
  %w = vit.weight "blocks.0.attn.qkv.weight" : tensor<192x64xf32>
  %b = vit.weight "blocks.0.attn.qkv.bias" : tensor<192xf32>
  %pw = vit.weight "blocks.0.attn.proj.weight" : tensor<64x64xf32>
  %pb = vit.weight "blocks.0.attn.proj.bias" : tensor<64xf32>
  %qkv = vit.linear %x, %w bias(%b : tensor<192xf32>) : tensor<2x5x64xf32>, tensor<192x64xf32> -> tensor<2x5x192xf32> loc("blocks.0.attn.qkv")
  %q = tensor.extract_slice %qkv[0, 0, 0] [2, 5, 64] [1, 1, 1] : tensor<2x5x192xf32> to tensor<2x5x64xf32> loc("blocks.0.attn.core")
  %k = tensor.extract_slice %qkv[0, 0, 64] [2, 5, 64] [1, 1, 1] : tensor<2x5x192xf32> to tensor<2x5x64xf32> loc("blocks.0.attn.core")
  %v = tensor.extract_slice %qkv[0, 0, 128] [2, 5, 64] [1, 1, 1] : tensor<2x5x192xf32> to tensor<2x5x64xf32> loc("blocks.0.attn.core")
  %core = vit.attention_core %q, %k, %v num_heads = 2 : tensor<2x5x64xf32> loc("blocks.0.attn.core")
  %proj = vit.linear %core, %pw bias(%pb : tensor<64xf32>) residual(%x : tensor<2x5x64xf32>) : tensor<2x5x64xf32>, tensor<64x64xf32> -> tensor<2x5x64xf32> loc("blocks.0.attn.proj")
  return %proj : tensor<2x5x64xf32>
}

// -----

// Separate q/k/v weights: the concatenations are weight-only and stay
// outside; the QKV kernel takes the concatenated weight and bias.
// CHECK-LABEL: func.func @attention_separate
// CHECK-SAME: (%[[X:[^:]+]]: tensor<1x5x64xf32>)
// CHECK: %[[W:.*]] = tensor.concat dim(0)
// CHECK: %[[B:.*]] = tensor.concat dim(0)
// CHECK-NEXT: %[[QKV:.*]] = vit.kernel "linear" ins(%[[X]], %[[W]], %[[B]] : tensor<1x5x64xf32>, tensor<192x64xf32>, tensor<192xf32>)
// CHECK-NOT: tensor.concat
// CHECK: vit.kernel "attention_core" ins(%[[QKV]] : tensor<1x5x192xf32>)
func.func @attention_separate(%x: tensor<1x5x64xf32>) -> tensor<1x5x64xf32> {
  %wq = vit.weight "q.weight" : tensor<64x64xf32>
  %wk = vit.weight "k.weight" : tensor<64x64xf32>
  %wv = vit.weight "v.weight" : tensor<64x64xf32>
  %bq = vit.weight "q.bias" : tensor<64xf32>
  %bk = vit.weight "k.bias" : tensor<64xf32>
  %bv = vit.weight "v.bias" : tensor<64xf32>
  %w = tensor.concat dim(0) %wq, %wk, %wv : (tensor<64x64xf32>, tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<192x64xf32>
  %b = tensor.concat dim(0) %bq, %bk, %bv : (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<192xf32>
  %qkv = vit.linear %x, %w bias(%b : tensor<192xf32>) : tensor<1x5x64xf32>, tensor<192x64xf32> -> tensor<1x5x192xf32>
  %q = tensor.extract_slice %qkv[0, 0, 0] [1, 5, 64] [1, 1, 1] : tensor<1x5x192xf32> to tensor<1x5x64xf32>
  %k = tensor.extract_slice %qkv[0, 0, 64] [1, 5, 64] [1, 1, 1] : tensor<1x5x192xf32> to tensor<1x5x64xf32>
  %v = tensor.extract_slice %qkv[0, 0, 128] [1, 5, 64] [1, 1, 1] : tensor<1x5x192xf32> to tensor<1x5x64xf32>
  %core = vit.attention_core %q, %k, %v num_heads = 4 : tensor<1x5x64xf32>
  return %core : tensor<1x5x64xf32>
}

// -----

// The class token row: collapse, slice and arith.addf on weights stay outside
// and the row is the prepend kernel's input.
// CHECK-LABEL: func.func @class_token
// CHECK-SAME: (%[[TOKENS:[^:]+]]: tensor<2x4x64xf32>)
// CHECK-DAG: %[[CLS:.*]] = vit.weight "cls_token" : tensor<1x1x64xf32>
// CHECK-DAG: %[[POS:.*]] = vit.weight "pos_embed" : tensor<1x5x64xf32>
// CHECK-DAG: %[[FLAT:.*]] = tensor.collapse_shape %[[CLS]]
// CHECK-DAG: %[[ROW0:.*]] = tensor.extract_slice %[[POS]][0, 0, 0] [1, 1, 64] [1, 1, 1]
// CHECK: %[[ROW:.*]] = arith.addf %[[FLAT]], %[[ROW0]] : tensor<64xf32>
// CHECK-NEXT: %[[K:.*]] = vit.kernel "class_pos_embed" ins(%[[TOKENS]], %[[ROW]] : tensor<2x4x64xf32>, tensor<64xf32>) -> tensor<2x5x64xf32> {
// CHECK-NEXT: ^bb0(%[[A0:[^:]+]]: tensor<2x4x64xf32>, %[[A1:[^:]+]]: tensor<64xf32>):
// CHECK-NEXT: %[[Y:.*]] = vit.prepend_token %[[A0]], %[[A1]] : tensor<2x4x64xf32>, tensor<64xf32> -> tensor<2x5x64xf32>
// CHECK-NEXT: vit.yield %[[Y]] : tensor<2x5x64xf32>
// CHECK-NEXT: }
// CHECK-NEXT: return %[[K]]
func.func @class_token(%tokens: tensor<2x4x64xf32>) -> tensor<2x5x64xf32> {
  %cls = vit.weight "cls_token" : tensor<1x1x64xf32>
  %pos = vit.weight "pos_embed" : tensor<1x5x64xf32>
  %flat = tensor.collapse_shape %cls [[0, 1, 2]] : tensor<1x1x64xf32> into tensor<64xf32>
  %row0 = tensor.extract_slice %pos[0, 0, 0] [1, 1, 64] [1, 1, 1] : tensor<1x5x64xf32> to tensor<64xf32>
  %row = arith.addf %flat, %row0 : tensor<64xf32>
  %0 = vit.prepend_token %tokens, %row : tensor<2x4x64xf32>, tensor<64xf32> -> tensor<2x5x64xf32> loc("class_pos_embed")
  return %0 : tensor<2x5x64xf32>
}

// -----

// Slices of activations: a single-use one (the classifier's class tokens)
// joins its consumer's kernel; one with two users stays outside.
// CHECK-LABEL: func.func @activation_slices
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x5x64xf32>, %[[W:[^:]+]]: tensor<10x64xf32>, %[[B:[^:]+]]: tensor<10xf32>)
// CHECK-NEXT: %[[HEAD:.*]] = vit.kernel "head" ins(%[[X]], %[[W]], %[[B]] : tensor<2x5x64xf32>, tensor<10x64xf32>, tensor<10xf32>) -> tensor<2x10xf32> {
// CHECK-NEXT: ^bb0(%[[A0:[^:]+]]: tensor<2x5x64xf32>, %[[A1:[^:]+]]: tensor<10x64xf32>, %[[A2:[^:]+]]: tensor<10xf32>):
// CHECK-NEXT: %[[CLS:.*]] = tensor.extract_slice %[[A0]][0, 0, 0] [2, 1, 64] [1, 1, 1] : tensor<2x5x64xf32> to tensor<2x64xf32>
// CHECK-NEXT: %[[Y:.*]] = vit.linear %[[CLS]], %[[A1]] bias(%[[A2]] : tensor<10xf32>) : tensor<2x64xf32>, tensor<10x64xf32> -> tensor<2x10xf32>
// CHECK-NEXT: vit.yield %[[Y]]
// CHECK-NEXT: }
// CHECK-NEXT: %[[S:.*]] = tensor.extract_slice %[[X]][0, 1, 0] [2, 1, 64] [1, 1, 1] : tensor<2x5x64xf32> to tensor<2x64xf32>
// CHECK-NEXT: %[[K1:.*]] = vit.kernel "linear" ins(%[[S]], %[[W]] : tensor<2x64xf32>, tensor<10x64xf32>)
// CHECK-NEXT: ^bb0(%[[A0:[^:]+]]: tensor<2x64xf32>, %[[A1:[^:]+]]: tensor<10x64xf32>):
// CHECK-NEXT: vit.linear %[[A0]], %[[A1]] :
// CHECK: %[[K2:.*]] = vit.kernel "linear_1" ins(%[[S]], %[[W]] : tensor<2x64xf32>, tensor<10x64xf32>)
// CHECK-NEXT: ^bb0(%[[A0:[^:]+]]: tensor<2x64xf32>, %[[A1:[^:]+]]: tensor<10x64xf32>):
// CHECK-NEXT: vit.linear %[[A0]], %[[A1]] :
// CHECK: return %[[HEAD]], %[[K1]], %[[K2]]
func.func @activation_slices(%x: tensor<2x5x64xf32>, %w: tensor<10x64xf32>, %b: tensor<10xf32>) -> (tensor<2x10xf32>, tensor<2x10xf32>, tensor<2x10xf32>) {
  %cls = tensor.extract_slice %x[0, 0, 0] [2, 1, 64] [1, 1, 1] : tensor<2x5x64xf32> to tensor<2x64xf32> loc("head")
  %0 = vit.linear %cls, %w bias(%b : tensor<10xf32>) : tensor<2x64xf32>, tensor<10x64xf32> -> tensor<2x10xf32> loc("head")
  %s = tensor.extract_slice %x[0, 1, 0] [2, 1, 64] [1, 1, 1] : tensor<2x5x64xf32> to tensor<2x64xf32>
  %1 = vit.linear %s, %w : tensor<2x64xf32>, tensor<10x64xf32> -> tensor<2x10xf32>
  %2 = vit.linear %s, %w : tensor<2x64xf32>, tensor<10x64xf32> -> tensor<2x10xf32>
  return %0, %1, %2 : tensor<2x10xf32>, tensor<2x10xf32>, tensor<2x10xf32>
}

// -----

// A weight slice with a single use still stays outside: it is computed once
// at compile time, not in the kernel.
// CHECK-LABEL: func.func @weight_slice
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x4x64xf32>)
// CHECK-NEXT: %[[POS:.*]] = vit.weight "pos_embed" : tensor<1x5x64xf32>
// CHECK-NEXT: %[[ROWS:.*]] = tensor.extract_slice %[[POS]][0, 1, 0] [1, 4, 64] [1, 1, 1] : tensor<1x5x64xf32> to tensor<4x64xf32>
// CHECK-NEXT: %[[K:.*]] = vit.kernel "class_pos_embed.position" ins(%[[X]], %[[ROWS]] : tensor<2x4x64xf32>, tensor<4x64xf32>) -> tensor<2x4x64xf32> {
// CHECK-NEXT: ^bb0(%[[A0:[^:]+]]: tensor<2x4x64xf32>, %[[A1:[^:]+]]: tensor<4x64xf32>):
// CHECK-NEXT: %[[Y:.*]] = vit.add %[[A0]], %[[A1]] : tensor<2x4x64xf32>, tensor<4x64xf32>
// CHECK-NEXT: vit.yield %[[Y]]
// CHECK-NEXT: }
// CHECK-NEXT: return %[[K]]
func.func @weight_slice(%x: tensor<2x4x64xf32>) -> tensor<2x4x64xf32> {
  %pos = vit.weight "pos_embed" : tensor<1x5x64xf32>
  %rows = tensor.extract_slice %pos[0, 1, 0] [1, 4, 64] [1, 1, 1] : tensor<1x5x64xf32> to tensor<4x64xf32>
  %0 = vit.add %x, %rows : tensor<2x4x64xf32>, tensor<4x64xf32> loc("class_pos_embed.position")
  return %0 : tensor<2x4x64xf32>
}

// -----

// A weight already moved into an argument by vit-externalize-constants
// (marked vit.constant) is still a weight: its slice stays outside. A plain
// argument is an activation: its single-use slice joins the kernel.
// CHECK-LABEL: func.func @constant_argument
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x4x64xf32>, %[[POS:[^:]+]]: tensor<1x5x64xf32> {vit.constant = 0 : i64}, %[[ACT:[^:]+]]: tensor<1x5x64xf32>)
// CHECK-NEXT: %[[ROWS:.*]] = tensor.extract_slice %[[POS]][0, 1, 0] [1, 4, 64] [1, 1, 1] : tensor<1x5x64xf32> to tensor<4x64xf32>
// CHECK-NEXT: %[[K0:.*]] = vit.kernel "add" ins(%[[X]], %[[ROWS]] : tensor<2x4x64xf32>, tensor<4x64xf32>) -> tensor<2x4x64xf32> {
// CHECK-NEXT: ^bb0(%[[A0:[^:]+]]: tensor<2x4x64xf32>, %[[A1:[^:]+]]: tensor<4x64xf32>):
// CHECK-NEXT: %[[Y:.*]] = vit.add %[[A0]], %[[A1]]
// CHECK-NEXT: vit.yield %[[Y]]
// CHECK-NEXT: }
// Inputs come in the order the group's ops (slice first) use them.
// CHECK-NEXT: %[[K1:.*]] = vit.kernel "add_1" ins(%[[ACT]], %[[K0]] : tensor<1x5x64xf32>, tensor<2x4x64xf32>) -> tensor<2x4x64xf32> {
// CHECK-NEXT: ^bb0(%[[A0:[^:]+]]: tensor<1x5x64xf32>, %[[A1:[^:]+]]: tensor<2x4x64xf32>):
// CHECK-NEXT: %[[S:.*]] = tensor.extract_slice %[[A0]][0, 1, 0] [1, 4, 64] [1, 1, 1] : tensor<1x5x64xf32> to tensor<4x64xf32>
// CHECK-NEXT: %[[Z:.*]] = vit.add %[[A1]], %[[S]]
// CHECK-NEXT: vit.yield %[[Z]]
// CHECK-NEXT: }
// CHECK-NEXT: return %[[K1]]
func.func @constant_argument(%x: tensor<2x4x64xf32>, %pos: tensor<1x5x64xf32> {vit.constant = 0 : i64}, %act: tensor<1x5x64xf32>) -> tensor<2x4x64xf32> {
  %rows = tensor.extract_slice %pos[0, 1, 0] [1, 4, 64] [1, 1, 1] : tensor<1x5x64xf32> to tensor<4x64xf32>
  %0 = vit.add %x, %rows : tensor<2x4x64xf32>, tensor<4x64xf32>
  %s = tensor.extract_slice %act[0, 1, 0] [1, 4, 64] [1, 1, 1] : tensor<1x5x64xf32> to tensor<4x64xf32>
  %1 = vit.add %0, %s : tensor<2x4x64xf32>, tensor<4x64xf32>
  return %1 : tensor<2x4x64xf32>
}

// -----

// With layer-norm-into-linear, a layer norm that only a linear's input reads
// joins the linear's kernel (inputs in the order the layer norm, then the
// linear use them). One with a second reader, or read by anything but a
// linear's input, stays a kernel of its own; so do all by default.
// CHECK-LABEL: func.func @layer_norm_into_linear
// CHECK: vit.kernel "norm1" ins
// CHECK: vit.kernel "qkv" ins
// CHECK: vit.kernel "norm2" ins
// CHECK: vit.kernel "fc1" ins
// CHECK: vit.kernel "add" ins
// LN-LABEL: func.func @layer_norm_into_linear
// LN-SAME: (%[[X:[^:]+]]: tensor<2x5x64xf32>, %[[G:[^:]+]]: tensor<64xf32>, %[[B:[^:]+]]: tensor<64xf32>, %[[W:[^:]+]]: tensor<64x64xf32>)
// LN-NEXT: %[[K0:.*]] = vit.kernel "qkv" ins(%[[X]], %[[G]], %[[B]], %[[W]] : tensor<2x5x64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64x64xf32>) -> tensor<2x5x64xf32> {
// LN-NEXT: ^bb0(%[[A0:[^:]+]]: tensor<2x5x64xf32>, %[[A1:[^:]+]]: tensor<64xf32>, %[[A2:[^:]+]]: tensor<64xf32>, %[[A3:[^:]+]]: tensor<64x64xf32>):
// LN-NEXT: %[[N:.*]] = vit.layer_norm %[[A0]], %[[A1]], %[[A2]]
// LN-NEXT: %[[Y:.*]] = vit.linear %[[N]], %[[A3]]
// LN-NEXT: vit.yield %[[Y]]
// LN-NEXT: }
// LN-NEXT: %[[K1:.*]] = vit.kernel "norm2" ins(%[[K0]], %[[G]], %[[B]] :
// LN-NEXT: ^bb0
// LN-NEXT: vit.layer_norm
// LN-NEXT: vit.yield
// LN-NEXT: }
// LN-NEXT: vit.kernel "fc1" ins(%[[K1]], %[[W]] :
// LN: vit.kernel "add" ins
// LN: vit.kernel "norm3" ins
// LN: vit.kernel "fc2" ins
func.func @layer_norm_into_linear(%x: tensor<2x5x64xf32>, %g: tensor<64xf32>, %b: tensor<64xf32>, %w: tensor<64x64xf32>) -> (tensor<2x5x64xf32>, tensor<2x5x64xf32>) {
  %0 = vit.layer_norm %x, %g, %b epsilon = 1.0e-6 : tensor<2x5x64xf32>, tensor<64xf32>, tensor<64xf32> loc("norm1")
  %1 = vit.linear %0, %w : tensor<2x5x64xf32>, tensor<64x64xf32> -> tensor<2x5x64xf32> loc("qkv")
  %2 = vit.layer_norm %1, %g, %b epsilon = 1.0e-6 : tensor<2x5x64xf32>, tensor<64xf32>, tensor<64xf32> loc("norm2")
  %3 = vit.linear %2, %w : tensor<2x5x64xf32>, tensor<64x64xf32> -> tensor<2x5x64xf32> loc("fc1")
  %4 = vit.add %2, %3 : tensor<2x5x64xf32>, tensor<2x5x64xf32>
  // Read by a linear, but as its residual.
  %5 = vit.layer_norm %4, %g, %b epsilon = 1.0e-6 : tensor<2x5x64xf32>, tensor<64xf32>, tensor<64xf32> loc("norm3")
  %6 = vit.linear %4, %w residual(%5 : tensor<2x5x64xf32>) : tensor<2x5x64xf32>, tensor<64x64xf32> -> tensor<2x5x64xf32> loc("fc2")
  return %4, %6 : tensor<2x5x64xf32>, tensor<2x5x64xf32>
}
