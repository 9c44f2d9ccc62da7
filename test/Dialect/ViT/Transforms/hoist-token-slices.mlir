// Token slices move above token-wise ops whose every user keeps the same
// tokens, so those ops compute the kept tokens alone.
// RUN: vitc-opt %s -vit-hoist-token-slices -split-input-file | FileCheck %s
// RUN: vitc-opt %s -vit-hoist-token-slices -split-input-file --mlir-print-debuginfo --mlir-print-local-scope | FileCheck %s --check-prefix=NAMES

// The classifier's class token, through the last block's MLP half: the
// residual stream is read in full by nothing else, so every op from the
// attention's output on computes one token. The [D] parameters (norm scale
// and shift, biases) and the weights are not sliced; the rank-reducing
// slice the classifier takes stays, over the narrowed value's one token.
// CHECK-LABEL: func.func @class_token
// CHECK-SAME: (%[[ATTN:[^:]+]]: tensor<2x5x64xf32>, %[[RES:[^:]+]]: tensor<2x5x64xf32>, %[[G:[^:]+]]: tensor<64xf32>, %[[W1:[^:]+]]: tensor<128x64xf32>, %[[B1:[^:]+]]: tensor<128xf32>, %[[W2:[^:]+]]: tensor<64x128xf32>, %[[WH:[^:]+]]: tensor<10x64xf32>)
// CHECK-DAG: %[[ATTN1:.*]] = tensor.extract_slice %[[ATTN]][0, 0, 0] [2, 1, 64] [1, 1, 1] : tensor<2x5x64xf32> to tensor<2x1x64xf32>
// CHECK-DAG: %[[RES1:.*]] = tensor.extract_slice %[[RES]][0, 0, 0] [2, 1, 64] [1, 1, 1] : tensor<2x5x64xf32> to tensor<2x1x64xf32>
// CHECK: %[[STREAM:.*]] = vit.add %[[RES1]], %[[ATTN1]] : tensor<2x1x64xf32>, tensor<2x1x64xf32>
// CHECK: %[[N:.*]] = vit.layer_norm %[[STREAM]], %[[G]], %[[G]] {{.*}} : tensor<2x1x64xf32>, tensor<64xf32>, tensor<64xf32>
// CHECK: %[[H:.*]] = vit.linear %[[N]], %[[W1]] : tensor<2x1x64xf32>, tensor<128x64xf32> -> tensor<2x1x128xf32>
// CHECK: %[[HB:.*]] = vit.add %[[H]], %[[B1]] : tensor<2x1x128xf32>, tensor<128xf32>
// CHECK: %[[GELU:.*]] = vit.gelu %[[HB]] approximation = exact : tensor<2x1x128xf32>
// CHECK: %[[Y:.*]] = vit.linear %[[GELU]], %[[W2]] residual(%[[STREAM]] : tensor<2x1x64xf32>) : tensor<2x1x128xf32>, tensor<64x128xf32> -> tensor<2x1x64xf32>
// CHECK: %[[F:.*]] = vit.layer_norm %[[Y]], %[[G]], %[[G]] {{.*}} : tensor<2x1x64xf32>
// CHECK: %[[CLS:.*]] = tensor.extract_slice %[[F]][0, 0, 0] [2, 1, 64] [1, 1, 1] : tensor<2x1x64xf32> to tensor<2x64xf32>
// CHECK: %[[LOGITS:.*]] = vit.linear %[[CLS]], %[[WH]] : tensor<2x64xf32>, tensor<10x64xf32> -> tensor<2x10xf32>
// CHECK: return %[[LOGITS]]
func.func @class_token(%attn: tensor<2x5x64xf32>, %res: tensor<2x5x64xf32>, %g: tensor<64xf32>, %w1: tensor<128x64xf32>, %b1: tensor<128xf32>, %w2: tensor<64x128xf32>, %wh: tensor<10x64xf32>) -> tensor<2x10xf32> {
  %stream = vit.add %res, %attn : tensor<2x5x64xf32>, tensor<2x5x64xf32>
  %n = vit.layer_norm %stream, %g, %g epsilon = 1.0e-6 : tensor<2x5x64xf32>, tensor<64xf32>, tensor<64xf32>
  %h = vit.linear %n, %w1 : tensor<2x5x64xf32>, tensor<128x64xf32> -> tensor<2x5x128xf32>
  %hb = vit.add %h, %b1 : tensor<2x5x128xf32>, tensor<128xf32>
  %gelu = vit.gelu %hb approximation = exact : tensor<2x5x128xf32>
  %y = vit.linear %gelu, %w2 residual(%stream : tensor<2x5x64xf32>) : tensor<2x5x128xf32>, tensor<64x128xf32> -> tensor<2x5x64xf32>
  %f = vit.layer_norm %y, %g, %g epsilon = 1.0e-6 : tensor<2x5x64xf32>, tensor<64xf32>, tensor<64xf32>
  %cls = tensor.extract_slice %f[0, 0, 0] [2, 1, 64] [1, 1, 1] : tensor<2x5x64xf32> to tensor<2x64xf32>
  %logits = vit.linear %cls, %wh : tensor<2x64xf32>, tensor<10x64xf32> -> tensor<2x10xf32>
  return %logits : tensor<2x10xf32>
}

// -----

// Through the attention, onto its queries alone: every query reads the keys
// and values of all tokens. The queries' slice of the QKV projection keeps
// fewer tokens and channels no other slice reads, so it gets a projection
// of its own (the query rows of the weight, the kept tokens of the input);
// the rest of the projection narrows to the key and value channels, which
// every token needs. A packed [P, K, R] weight has no tokens and is not
// sliced; a [T, D] addend broadcast over the images is sliced along its
// first dimension.
// CHECK-LABEL: func.func @through_attention
// CHECK-SAME: (%[[X:[^:]+]]: tensor<1x5x64xf32>, %[[WQKV:[^:]+]]: tensor<192x64xf32>, %[[W:[^:]+]]: tensor<4x64x16xf32>, %[[POS:[^:]+]]: tensor<5x64xf32>)
// CHECK-DAG: %[[XQ:.*]] = tensor.extract_slice %[[X]][0, 2, 0] [1, 3, 64] [1, 1, 1] : tensor<1x5x64xf32> to tensor<1x3x64xf32>
// CHECK-DAG: %[[WQ:.*]] = tensor.extract_slice %[[WQKV]][0, 0] [64, 64] [1, 1] : tensor<192x64xf32> to tensor<64x64xf32>
// CHECK-DAG: %[[WKV:.*]] = tensor.extract_slice %[[WQKV]][64, 0] [128, 64] [1, 1] : tensor<192x64xf32> to tensor<128x64xf32>
// CHECK-DAG: %[[Q:.*]] = vit.linear %[[XQ]], %[[WQ]] : tensor<1x3x64xf32>, tensor<64x64xf32> -> tensor<1x3x64xf32>
// CHECK-DAG: %[[KV:.*]] = vit.linear %[[X]], %[[WKV]] : tensor<1x5x64xf32>, tensor<128x64xf32> -> tensor<1x5x128xf32>
// CHECK-DAG: %[[K:.*]] = tensor.extract_slice %[[KV]][0, 0, 0] [1, 5, 64] [1, 1, 1] : tensor<1x5x128xf32> to tensor<1x5x64xf32>
// CHECK-DAG: %[[V:.*]] = tensor.extract_slice %[[KV]][0, 0, 64] [1, 5, 64] [1, 1, 1] : tensor<1x5x128xf32> to tensor<1x5x64xf32>
// CHECK: %[[A:.*]] = vit.attention_core %[[Q]], %[[K]], %[[V]] num_heads = 2 : tensor<1x3x64xf32>, tensor<1x5x64xf32>
// CHECK: %[[POS2:.*]] = tensor.extract_slice %[[POS]][2, 0] [3, 64] [1, 1] : tensor<5x64xf32> to tensor<3x64xf32>
// CHECK: %[[Y:.*]] = vit.linear %[[A]], %[[W]] residual(%[[POS2]] : tensor<3x64xf32>) : tensor<1x3x64xf32>, tensor<4x64x16xf32> -> tensor<1x3x64xf32>
// CHECK: return %[[Y]]
func.func @through_attention(%x: tensor<1x5x64xf32>, %wqkv: tensor<192x64xf32>, %w: tensor<4x64x16xf32>, %pos: tensor<5x64xf32>) -> tensor<1x3x64xf32> {
  %qkv = vit.linear %x, %wqkv : tensor<1x5x64xf32>, tensor<192x64xf32> -> tensor<1x5x192xf32>
  %q = tensor.extract_slice %qkv[0, 0, 0] [1, 5, 64] [1, 1, 1] : tensor<1x5x192xf32> to tensor<1x5x64xf32>
  %k = tensor.extract_slice %qkv[0, 0, 64] [1, 5, 64] [1, 1, 1] : tensor<1x5x192xf32> to tensor<1x5x64xf32>
  %v = tensor.extract_slice %qkv[0, 0, 128] [1, 5, 64] [1, 1, 1] : tensor<1x5x192xf32> to tensor<1x5x64xf32>
  %a = vit.attention_core %q, %k, %v num_heads = 2 : tensor<1x5x64xf32>
  %y = vit.linear %a, %w residual(%pos : tensor<5x64xf32>) : tensor<1x5x64xf32>, tensor<4x64x16xf32> -> tensor<1x5x64xf32>
  %s = tensor.extract_slice %y[0, 2, 0] [1, 3, 64] [1, 1, 1] : tensor<1x5x64xf32> to tensor<1x3x64xf32>
  return %s : tensor<1x3x64xf32>
}

// -----

// The projection as vit-decompose emits it, its bias a separate add: both
// split by channels, each part named after the projection and the channels
// it computes. Channels that the slices read together narrow the add and
// the linear; the class token's channels get their own add and linear.
// CHECK-LABEL: func.func @split_projection
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x5x64xf32>, %[[W:[^:]+]]: tensor<192x64xf32>, %[[B:[^:]+]]: tensor<192xf32>)
// CHECK-DAG: %[[X0:.*]] = tensor.extract_slice %[[X]][0, 0, 0] [2, 1, 64] [1, 1, 1] : tensor<2x5x64xf32> to tensor<2x1x64xf32>
// CHECK-DAG: %[[WQ:.*]] = tensor.extract_slice %[[W]][0, 0] [64, 64] [1, 1] : tensor<192x64xf32> to tensor<64x64xf32>
// CHECK-DAG: %[[BQ:.*]] = tensor.extract_slice %[[B]][0] [64] [1] : tensor<192xf32> to tensor<64xf32>
// CHECK-DAG: %[[WKV:.*]] = tensor.extract_slice %[[W]][64, 0] [128, 64] [1, 1] : tensor<192x64xf32> to tensor<128x64xf32>
// CHECK-DAG: %[[BKV:.*]] = tensor.extract_slice %[[B]][64] [128] [1] : tensor<192xf32> to tensor<128xf32>
// CHECK-DAG: %[[YQ:.*]] = vit.linear %[[X0]], %[[WQ]] : tensor<2x1x64xf32>, tensor<64x64xf32> -> tensor<2x1x64xf32>
// CHECK-DAG: %[[Q:.*]] = vit.add %[[YQ]], %[[BQ]] : tensor<2x1x64xf32>, tensor<64xf32>
// CHECK-DAG: %[[YKV:.*]] = vit.linear %[[X]], %[[WKV]] : tensor<2x5x64xf32>, tensor<128x64xf32> -> tensor<2x5x128xf32>
// CHECK-DAG: %[[KV:.*]] = vit.add %[[YKV]], %[[BKV]] : tensor<2x5x128xf32>, tensor<128xf32>
// CHECK-DAG: %[[K:.*]] = tensor.extract_slice %[[KV]][0, 0, 0] [2, 5, 64] [1, 1, 1]
// CHECK-DAG: %[[V:.*]] = tensor.extract_slice %[[KV]][0, 0, 64] [2, 5, 64] [1, 1, 1]
// CHECK: return %[[Q]], %[[K]], %[[V]]
// NAMES-LABEL: func.func @split_projection
// NAMES-DAG: vit.linear {{.*}} -> tensor<2x1x64xf32> loc("blocks.1.attn.qkv[0:64]")
// NAMES-DAG: vit.add {{.*}} : tensor<2x1x64xf32>, tensor<64xf32> loc("blocks.1.attn.qkv.bias[0:64]")
// NAMES-DAG: vit.linear {{.*}} -> tensor<2x5x128xf32> loc("blocks.1.attn.qkv[64:192]")
// NAMES-DAG: vit.add {{.*}} : tensor<2x5x128xf32>, tensor<128xf32> loc("blocks.1.attn.qkv.bias[64:192]")
func.func @split_projection(%x: tensor<2x5x64xf32>, %w: tensor<192x64xf32>, %b: tensor<192xf32>) -> (tensor<2x1x64xf32>, tensor<2x5x64xf32>, tensor<2x5x64xf32>) {
  %y = vit.linear %x, %w : tensor<2x5x64xf32>, tensor<192x64xf32> -> tensor<2x5x192xf32> loc("blocks.1.attn.qkv")
  %yb = vit.add %y, %b : tensor<2x5x192xf32>, tensor<192xf32> loc("blocks.1.attn.qkv.bias")
  %q = tensor.extract_slice %yb[0, 0, 0] [2, 1, 64] [1, 1, 1] : tensor<2x5x192xf32> to tensor<2x1x64xf32>
  %k = tensor.extract_slice %yb[0, 0, 64] [2, 5, 64] [1, 1, 1] : tensor<2x5x192xf32> to tensor<2x5x64xf32>
  %v = tensor.extract_slice %yb[0, 0, 128] [2, 5, 64] [1, 1, 1] : tensor<2x5x192xf32> to tensor<2x5x64xf32>
  return %q, %k, %v : tensor<2x1x64xf32>, tensor<2x5x64xf32>, tensor<2x5x64xf32>
}

// -----

// A slice of fewer tokens whose channels another slice also reads stays:
// a projection of its own would compute those channels twice.
// CHECK-LABEL: func.func @overlapping_channels
// CHECK: %[[Y:.*]] = vit.linear %{{.*}} : tensor<1x5x64xf32>, tensor<128x64xf32> -> tensor<1x5x128xf32>
// CHECK-DAG: tensor.extract_slice %[[Y]][0, 0, 0] [1, 1, 96]
// CHECK-DAG: tensor.extract_slice %[[Y]][0, 0, 32] [1, 5, 96]
func.func @overlapping_channels(%x: tensor<1x5x64xf32>, %w: tensor<128x64xf32>) -> (tensor<1x1x96xf32>, tensor<1x5x96xf32>) {
  %y = vit.linear %x, %w : tensor<1x5x64xf32>, tensor<128x64xf32> -> tensor<1x5x128xf32>
  %a = tensor.extract_slice %y[0, 0, 0] [1, 1, 96] [1, 1, 1] : tensor<1x5x128xf32> to tensor<1x1x96xf32>
  %b = tensor.extract_slice %y[0, 0, 32] [1, 5, 96] [1, 1, 1] : tensor<1x5x128xf32> to tensor<1x5x96xf32>
  return %a, %b : tensor<1x1x96xf32>, tensor<1x5x96xf32>
}

// -----

// An op another user reads in full, or whose users keep different tokens,
// stays whole: slicing it would compute some tokens twice.
// CHECK-LABEL: func.func @stays_whole
// CHECK: %[[N:.*]] = vit.layer_norm %{{.*}} : tensor<1x5x64xf32>
// CHECK: %[[S:.*]] = tensor.extract_slice %[[N]][0, 0, 0] [1, 1, 64]
// CHECK: %[[G:.*]] = vit.gelu %{{.*}} : tensor<1x5x64xf32>
// CHECK: tensor.extract_slice %[[G]][0, 0, 0] [1, 1, 64]
// CHECK: tensor.extract_slice %[[G]][0, 1, 0] [1, 1, 64]
// CHECK: return %[[N]], %[[S]]
func.func @stays_whole(%x: tensor<1x5x64xf32>, %g: tensor<64xf32>) -> (tensor<1x5x64xf32>, tensor<1x1x64xf32>, tensor<1x1x64xf32>, tensor<1x1x64xf32>) {
  %n = vit.layer_norm %x, %g, %g epsilon = 1.0e-6 : tensor<1x5x64xf32>, tensor<64xf32>, tensor<64xf32>
  %s = tensor.extract_slice %n[0, 0, 0] [1, 1, 64] [1, 1, 1] : tensor<1x5x64xf32> to tensor<1x1x64xf32>
  %gelu = vit.gelu %x approximation = tanh : tensor<1x5x64xf32>
  %t0 = tensor.extract_slice %gelu[0, 0, 0] [1, 1, 64] [1, 1, 1] : tensor<1x5x64xf32> to tensor<1x1x64xf32>
  %t1 = tensor.extract_slice %gelu[0, 1, 0] [1, 1, 64] [1, 1, 1] : tensor<1x5x64xf32> to tensor<1x1x64xf32>
  return %n, %s, %t0, %t1 : tensor<1x5x64xf32>, tensor<1x1x64xf32>, tensor<1x1x64xf32>, tensor<1x1x64xf32>
}

// -----

// Slices that keep every token are not token slices: the q/k/v channels of
// a QKV projection, a slice of some images, and a strided slice stay where
// they are.
// CHECK-LABEL: func.func @not_token_slices
// CHECK: %[[Y:.*]] = vit.linear %{{.*}} : tensor<2x5x64xf32>, tensor<192x64xf32> -> tensor<2x5x192xf32>
// CHECK: tensor.extract_slice %[[Y]][0, 0, 0] [2, 5, 64]
// CHECK: tensor.extract_slice %[[Y]][0, 0, 64] [2, 5, 64]
// CHECK: tensor.extract_slice %[[Y]][0, 0, 128] [2, 5, 64]
// CHECK: %[[N:.*]] = vit.layer_norm %{{.*}} : tensor<2x5x64xf32>
// CHECK: tensor.extract_slice %[[N]][1, 0, 0] [1, 5, 64]
// CHECK: %[[G:.*]] = vit.gelu %{{.*}} : tensor<2x5x64xf32>
// CHECK: tensor.extract_slice %[[G]][0, 0, 0] [2, 2, 64] [1, 2, 1]
func.func @not_token_slices(%x: tensor<2x5x64xf32>, %w: tensor<192x64xf32>, %g: tensor<64xf32>) -> (tensor<2x5x64xf32>, tensor<2x5x64xf32>, tensor<2x5x64xf32>, tensor<1x5x64xf32>, tensor<2x2x64xf32>) {
  %y = vit.linear %x, %w : tensor<2x5x64xf32>, tensor<192x64xf32> -> tensor<2x5x192xf32>
  %q = tensor.extract_slice %y[0, 0, 0] [2, 5, 64] [1, 1, 1] : tensor<2x5x192xf32> to tensor<2x5x64xf32>
  %k = tensor.extract_slice %y[0, 0, 64] [2, 5, 64] [1, 1, 1] : tensor<2x5x192xf32> to tensor<2x5x64xf32>
  %v = tensor.extract_slice %y[0, 0, 128] [2, 5, 64] [1, 1, 1] : tensor<2x5x192xf32> to tensor<2x5x64xf32>
  %n = vit.layer_norm %x, %g, %g epsilon = 1.0e-6 : tensor<2x5x64xf32>, tensor<64xf32>, tensor<64xf32>
  %image = tensor.extract_slice %n[1, 0, 0] [1, 5, 64] [1, 1, 1] : tensor<2x5x64xf32> to tensor<1x5x64xf32>
  %gelu = vit.gelu %x approximation = tanh : tensor<2x5x64xf32>
  %strided = tensor.extract_slice %gelu[0, 0, 0] [2, 2, 64] [1, 2, 1] : tensor<2x5x64xf32> to tensor<2x2x64xf32>
  return %q, %k, %v, %image, %strided : tensor<2x5x64xf32>, tensor<2x5x64xf32>, tensor<2x5x64xf32>, tensor<1x5x64xf32>, tensor<2x2x64xf32>
}
