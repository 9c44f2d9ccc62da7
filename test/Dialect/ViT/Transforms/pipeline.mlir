// The three passes on a whole (tiny) model. The input is what
//   vitc --model vit-ti16 --depth 1 --image-size 32 --num-classes 10
//        --hidden-size 64 --num-heads 2 --mlp-dim 128 --emit=vit
// prints, with the layer NameLocs vitc gives its ops added back (--emit=vit
// prints no locations).
// RUN: vitc-opt %s -vit-decompose -vit-fuse-epilogues -vit-form-kernels | FileCheck %s
// RUN: vitc-opt %s -vit-decompose -vit-fuse-epilogues -vit-form-kernels | FileCheck %s --strict-whitespace --check-prefix=COUNT
// RUN: vitc-opt %s -vit-decompose -vit-fuse-epilogues -vit-form-kernels | FileCheck %s --strict-whitespace --check-prefix=NOCOMPUTE
//
// The same passes straight on vitc's output for a Keras-style model with
// Hugging Face names: NHWC image, HWIO patch kernel, separate q/k/v weights
// without bias, batch 2, and no NameLocs (kernels are named after their ops).
// RUN: vitc --model vit-b16-keras --weight-names=hf --depth 1 --image-size 32 --num-classes 10 --hidden-size 64 --num-heads 2 --mlp-dim 128 --batch 2 --emit=vit \
// RUN:   | vitc-opt -vit-decompose -vit-fuse-epilogues -vit-form-kernels | FileCheck %s --check-prefix=KERAS
// RUN: vitc --model vit-b16-keras --weight-names=hf --depth 1 --image-size 32 --num-classes 10 --hidden-size 64 --num-heads 2 --mlp-dim 128 --batch 2 --emit=vit \
// RUN:   | vitc-opt -vit-decompose -vit-fuse-epilogues -vit-form-kernels | FileCheck %s --strict-whitespace --check-prefixes=COUNT,NOCOMPUTE

// Eleven kernels: patch embedding, class token, and per block norm1, qkv,
// attention core, proj (+ residual), norm2, fc1 (+ GELU), fc2 (+ residual);
// then the final norm and the head. All bias, GELU and residual adds are
// folded into linears.
// COUNT-COUNT-11: {{^    %[0-9]+ = vit.kernel "}}
// COUNT-NOT: vit.kernel

// No compute op is left outside a kernel (kernel bodies are indented
// further: hence --strict-whitespace), and no separate add or GELU is left
// at all.
// NOCOMPUTE-NOT: {{^    (%[^ ]+ = )?vit\.(linear|attention_core|layer_norm|prepend_token|patchify|add|gelu) }}
// NOCOMPUTE-NOT: vit.add
// NOCOMPUTE-NOT: vit.gelu

// CHECK-LABEL: func.func @vit
// CHECK-SAME: (%[[IMAGE:[^:]+]]: tensor<1x3x32x32xf32>) -> tensor<1x10xf32>
// CHECK-DAG: %[[PKERNEL:.*]] = vit.weight "patch_embed.proj.weight" : tensor<64x3x16x16xf32>
// CHECK-DAG: %[[PBIAS:.*]] = vit.weight "patch_embed.proj.bias" : tensor<64xf32>
// CHECK-DAG: %[[CLS:.*]] = vit.weight "cls_token" : tensor<1x1x64xf32>
// CHECK-DAG: %[[POS:.*]] = vit.weight "pos_embed" : tensor<1x5x64xf32>
// CHECK-DAG: %[[PWEIGHT:.*]] = tensor.collapse_shape %[[PKERNEL]] {{\[\[}}0], [1, 2, 3]] : tensor<64x3x16x16xf32> into tensor<64x768xf32>
// CHECK-DAG: %[[POSROWS:.*]] = tensor.extract_slice %[[POS]][0, 1, 0] [1, 4, 64] [1, 1, 1] : tensor<1x5x64xf32> to tensor<4x64xf32>
// Patch embedding: patchify, linear, bias, and the position embedding of the
// patch tokens as a broadcast residual.
// CHECK: %[[EMBED:.*]] = vit.kernel "patch_embed" ins(%[[IMAGE]], %[[PWEIGHT]], %[[PBIAS]], %[[POSROWS]] : tensor<1x3x32x32xf32>, tensor<64x768xf32>, tensor<64xf32>, tensor<4x64xf32>) -> tensor<1x4x64xf32> {
// CHECK-NEXT: ^bb0(%[[A0:[^:]+]]: tensor<1x3x32x32xf32>, %[[A1:[^:]+]]: tensor<64x768xf32>, %[[A2:[^:]+]]: tensor<64xf32>, %[[A3:[^:]+]]: tensor<4x64xf32>):
// CHECK-NEXT: %[[P:.*]] = vit.patchify %[[A0]] patch_size = 16 input_layout = nchw kernel_layout = oihw : tensor<1x3x32x32xf32> -> tensor<1x4x768xf32>
// CHECK-NEXT: %[[Y:.*]] = vit.linear %[[P]], %[[A1]] bias(%[[A2]] : tensor<64xf32>) residual(%[[A3]] : tensor<4x64xf32>) : tensor<1x4x768xf32>, tensor<64x768xf32> -> tensor<1x4x64xf32>
// CHECK-NEXT: vit.yield %[[Y]]
// CHECK-NEXT: }
// CHECK-DAG: %[[CLSROW:.*]] = tensor.collapse_shape %[[CLS]] {{\[\[}}0, 1, 2]] : tensor<1x1x64xf32> into tensor<64xf32>
// CHECK-DAG: %[[POS0:.*]] = tensor.extract_slice %[[POS]][0, 0, 0] [1, 1, 64] [1, 1, 1] : tensor<1x5x64xf32> to tensor<64xf32>
// CHECK: %[[ROW:.*]] = arith.addf %[[CLSROW]], %[[POS0]] : tensor<64xf32>
// CHECK-NEXT: %[[TOKENS:.*]] = vit.kernel "class_pos_embed" ins(%[[EMBED]], %[[ROW]] : tensor<1x4x64xf32>, tensor<64xf32>) -> tensor<1x5x64xf32> {
// CHECK-NEXT: ^bb0(
// CHECK-NEXT: vit.prepend_token
// CHECK-NEXT: vit.yield
// CHECK-NEXT: }
// CHECK: %[[N1:.*]] = vit.kernel "blocks.0.norm1" ins(%[[TOKENS]], %{{[^,]+}}, %{{[^ ]+}} : tensor<1x5x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x5x64xf32> {
// CHECK-NEXT: ^bb0(
// CHECK-NEXT: vit.layer_norm
// CHECK-NEXT: vit.yield
// CHECK-NEXT: }
// CHECK-DAG: %[[QKVW:.*]] = vit.weight "blocks.0.attn.qkv.weight" : tensor<192x64xf32>
// CHECK-DAG: %[[QKVB:.*]] = vit.weight "blocks.0.attn.qkv.bias" : tensor<192xf32>
// CHECK-DAG: %[[PROJW:.*]] = vit.weight "blocks.0.attn.proj.weight" : tensor<64x64xf32>
// CHECK-DAG: %[[PROJB:.*]] = vit.weight "blocks.0.attn.proj.bias" : tensor<64xf32>
// CHECK: %[[QKV:.*]] = vit.kernel "blocks.0.attn.qkv" ins(%[[N1]], %[[QKVW]], %[[QKVB]] : tensor<1x5x64xf32>, tensor<192x64xf32>, tensor<192xf32>) -> tensor<1x5x192xf32> {
// CHECK-NEXT: ^bb0(%[[A0:[^:]+]]: tensor<1x5x64xf32>, %[[A1:[^:]+]]: tensor<192x64xf32>, %[[A2:[^:]+]]: tensor<192xf32>):
// CHECK-NEXT: vit.linear %[[A0]], %[[A1]] bias(%[[A2]] : tensor<192xf32>) : tensor<1x5x64xf32>, tensor<192x64xf32> -> tensor<1x5x192xf32>
// CHECK-NEXT: vit.yield
// CHECK-NEXT: }
// CHECK-NEXT: %[[CORE:.*]] = vit.kernel "blocks.0.attn.core" ins(%[[QKV]] : tensor<1x5x192xf32>) -> tensor<1x5x64xf32> {
// CHECK-NEXT: ^bb0(%[[A:[^:]+]]: tensor<1x5x192xf32>):
// CHECK-NEXT: %[[Q:.*]] = tensor.extract_slice %[[A]][0, 0, 0] [1, 5, 64] [1, 1, 1]
// CHECK-NEXT: %[[K:.*]] = tensor.extract_slice %[[A]][0, 0, 64] [1, 5, 64] [1, 1, 1]
// CHECK-NEXT: %[[V:.*]] = tensor.extract_slice %[[A]][0, 0, 128] [1, 5, 64] [1, 1, 1]
// CHECK-NEXT: vit.attention_core %[[Q]], %[[K]], %[[V]] num_heads = 2 : tensor<1x5x64xf32>
// CHECK-NEXT: vit.yield
// CHECK-NEXT: }
// The first residual add: the class_pos_embed result plus the projection.
// CHECK-NEXT: %[[R1:.*]] = vit.kernel "blocks.0.attn.proj" ins(%[[CORE]], %[[PROJW]], %[[PROJB]], %[[TOKENS]] : tensor<1x5x64xf32>, tensor<64x64xf32>, tensor<64xf32>, tensor<1x5x64xf32>) -> tensor<1x5x64xf32> {
// CHECK-NEXT: ^bb0(%[[A0:[^:]+]]: tensor<1x5x64xf32>, %[[A1:[^:]+]]: tensor<64x64xf32>, %[[A2:[^:]+]]: tensor<64xf32>, %[[A3:[^:]+]]: tensor<1x5x64xf32>):
// CHECK-NEXT: vit.linear %[[A0]], %[[A1]] bias(%[[A2]] : tensor<64xf32>) residual(%[[A3]] : tensor<1x5x64xf32>) : tensor<1x5x64xf32>, tensor<64x64xf32> -> tensor<1x5x64xf32>
// CHECK-NEXT: vit.yield
// CHECK-NEXT: }
// CHECK: %[[N2:.*]] = vit.kernel "blocks.0.norm2" ins(%[[R1]], %{{[^,]+}}, %{{[^ ]+}} : tensor<1x5x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x5x64xf32> {
// CHECK-NEXT: ^bb0(
// CHECK-NEXT: vit.layer_norm
// CHECK-NEXT: vit.yield
// CHECK-NEXT: }
// CHECK-DAG: %[[FC1W:.*]] = vit.weight "blocks.0.mlp.fc1.weight" : tensor<128x64xf32>
// CHECK-DAG: %[[FC1B:.*]] = vit.weight "blocks.0.mlp.fc1.bias" : tensor<128xf32>
// CHECK-DAG: %[[FC2W:.*]] = vit.weight "blocks.0.mlp.fc2.weight" : tensor<64x128xf32>
// CHECK-DAG: %[[FC2B:.*]] = vit.weight "blocks.0.mlp.fc2.bias" : tensor<64xf32>
// CHECK: %[[H:.*]] = vit.kernel "blocks.0.mlp.fc1" ins(%[[N2]], %[[FC1W]], %[[FC1B]] : tensor<1x5x64xf32>, tensor<128x64xf32>, tensor<128xf32>) -> tensor<1x5x128xf32> {
// CHECK-NEXT: ^bb0(%[[A0:[^:]+]]: tensor<1x5x64xf32>, %[[A1:[^:]+]]: tensor<128x64xf32>, %[[A2:[^:]+]]: tensor<128xf32>):
// CHECK-NEXT: vit.linear %[[A0]], %[[A1]] bias(%[[A2]] : tensor<128xf32>) gelu = exact : tensor<1x5x64xf32>, tensor<128x64xf32> -> tensor<1x5x128xf32>
// CHECK-NEXT: vit.yield
// CHECK-NEXT: }
// The second residual add: the first one's result plus the MLP.
// CHECK-NEXT: %[[R2:.*]] = vit.kernel "blocks.0.mlp.fc2" ins(%[[H]], %[[FC2W]], %[[FC2B]], %[[R1]] : tensor<1x5x128xf32>, tensor<64x128xf32>, tensor<64xf32>, tensor<1x5x64xf32>) -> tensor<1x5x64xf32> {
// CHECK-NEXT: ^bb0(%[[A0:[^:]+]]: tensor<1x5x128xf32>, %[[A1:[^:]+]]: tensor<64x128xf32>, %[[A2:[^:]+]]: tensor<64xf32>, %[[A3:[^:]+]]: tensor<1x5x64xf32>):
// CHECK-NEXT: vit.linear %[[A0]], %[[A1]] bias(%[[A2]] : tensor<64xf32>) residual(%[[A3]] : tensor<1x5x64xf32>) : tensor<1x5x128xf32>, tensor<64x128xf32> -> tensor<1x5x64xf32>
// CHECK-NEXT: vit.yield
// CHECK-NEXT: }
// CHECK: %[[N:.*]] = vit.kernel "norm" ins(%[[R2]], %{{[^,]+}}, %{{[^ ]+}} : tensor<1x5x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x5x64xf32> {
// CHECK-NEXT: ^bb0(
// CHECK-NEXT: vit.layer_norm
// CHECK-NEXT: vit.yield
// CHECK-NEXT: }
// CHECK-DAG: %[[HEADW:.*]] = vit.weight "head.weight" : tensor<10x64xf32>
// CHECK-DAG: %[[HEADB:.*]] = vit.weight "head.bias" : tensor<10xf32>
// CHECK: %[[LOGITS:.*]] = vit.kernel "head" ins(%[[N]], %[[HEADW]], %[[HEADB]] : tensor<1x5x64xf32>, tensor<10x64xf32>, tensor<10xf32>) -> tensor<1x10xf32> {
// CHECK-NEXT: ^bb0(%[[A0:[^:]+]]: tensor<1x5x64xf32>, %[[A1:[^:]+]]: tensor<10x64xf32>, %[[A2:[^:]+]]: tensor<10xf32>):
// CHECK-NEXT: %[[CLSTOK:.*]] = tensor.extract_slice %[[A0]][0, 0, 0] [1, 1, 64] [1, 1, 1] : tensor<1x5x64xf32> to tensor<1x64xf32>
// CHECK-NEXT: vit.linear %[[CLSTOK]], %[[A1]] bias(%[[A2]] : tensor<10xf32>) : tensor<1x64xf32>, tensor<10x64xf32> -> tensor<1x10xf32>
// CHECK-NEXT: vit.yield
// CHECK-NEXT: }
// CHECK-NEXT: return %[[LOGITS]] : tensor<1x10xf32>

// Keras/HF: the HWIO kernel's reshape and transpose and the q/k/v
// concatenation are weight work outside the kernels; kernels are named after
// their anchor ops.
// KERAS-LABEL: func.func @vit
// KERAS-SAME: (%[[IMAGE:[^:]+]]: tensor<2x32x32x3xf32>) -> tensor<2x10xf32>
// KERAS: %[[FLAT:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0, 1, 2], [3]] : tensor<16x16x3x64xf32> into tensor<768x64xf32>
// KERAS: %[[PWEIGHT:.*]] = linalg.transpose ins(%[[FLAT]] : tensor<768x64xf32>) outs(%{{.*}} : tensor<64x768xf32>) permutation = [1, 0]
// KERAS: %[[EMBED:.*]] = vit.kernel "linear" ins(%[[IMAGE]], %[[PWEIGHT]], %{{[^,]+}}, %{{[^ ]+}} : tensor<2x32x32x3xf32>, tensor<64x768xf32>, tensor<64xf32>, tensor<4x64xf32>) -> tensor<2x4x64xf32> {
// KERAS-NEXT: ^bb0(
// KERAS-NEXT: vit.patchify %{{.*}} patch_size = 16 input_layout = nhwc kernel_layout = hwio : tensor<2x32x32x3xf32> -> tensor<2x4x768xf32>
// KERAS-NEXT: vit.linear {{.*}} bias({{.*}}) residual({{.*}} : tensor<4x64xf32>)
// KERAS: %[[TOKENS:.*]] = vit.kernel "prepend_token" ins(%[[EMBED]], %{{.*}} : tensor<2x4x64xf32>, tensor<64xf32>)
// KERAS: %[[N1:.*]] = vit.kernel "layer_norm" ins(%[[TOKENS]],
// KERAS: %[[QKVW:.*]] = tensor.concat dim(0) %{{.*}} -> tensor<192x64xf32>
// KERAS-NOT: tensor.concat
// KERAS-NEXT: %[[QKV:.*]] = vit.kernel "linear_1" ins(%[[N1]], %[[QKVW]] : tensor<2x5x64xf32>, tensor<192x64xf32>) -> tensor<2x5x192xf32> {
// KERAS-NEXT: ^bb0(%[[A0:[^:]+]]: tensor<2x5x64xf32>, %[[A1:[^:]+]]: tensor<192x64xf32>):
// KERAS-NEXT: vit.linear %[[A0]], %[[A1]] : tensor<2x5x64xf32>, tensor<192x64xf32> -> tensor<2x5x192xf32>
// KERAS: %[[CORE:.*]] = vit.kernel "attention_core" ins(%[[QKV]] : tensor<2x5x192xf32>)
// KERAS: %[[R1:.*]] = vit.kernel "linear_2" ins(%[[CORE]], %{{[^,]+}}, %{{[^,]+}}, %[[TOKENS]] :
// KERAS: %[[N2:.*]] = vit.kernel "layer_norm_1" ins(%[[R1]],
// KERAS: %[[H:.*]] = vit.kernel "linear_3" ins(%[[N2]],
// KERAS-NEXT: ^bb0(
// KERAS-NEXT: vit.linear {{.*}} bias({{.*}}) gelu = exact :
// KERAS: %[[R2:.*]] = vit.kernel "linear_4" ins(%[[H]], %{{[^,]+}}, %{{[^,]+}}, %[[R1]] :
// KERAS: %[[N:.*]] = vit.kernel "layer_norm_2" ins(%[[R2]],
// KERAS: %[[LOGITS:.*]] = vit.kernel "linear_5" ins(%[[N]], {{.*}} -> tensor<2x10xf32>
// KERAS: return %[[LOGITS]] : tensor<2x10xf32>

module attributes {vit.model = "vit-ti16"} {
  func.func @vit(%arg0: tensor<1x3x32x32xf32>) -> tensor<1x10xf32> {
    %0 = vit.weight "patch_embed.proj.weight" : tensor<64x3x16x16xf32>
    %1 = vit.weight "patch_embed.proj.bias" : tensor<64xf32>
    %2 = vit.patch_embed %arg0, %0, %1 patch_size = 16 input_layout = nchw kernel_layout = oihw : tensor<1x3x32x32xf32>, tensor<64x3x16x16xf32>, tensor<64xf32> -> tensor<1x4x64xf32> loc("patch_embed")
    %3 = vit.weight "cls_token" : tensor<1x1x64xf32>
    %4 = vit.weight "pos_embed" : tensor<1x5x64xf32>
    %5 = vit.class_pos_embed %2, %3, %4 : tensor<1x4x64xf32>, tensor<1x1x64xf32>, tensor<1x5x64xf32> -> tensor<1x5x64xf32> loc("class_pos_embed")
    %6 = vit.weight "blocks.0.norm1.weight" : tensor<64xf32>
    %7 = vit.weight "blocks.0.norm1.bias" : tensor<64xf32>
    %8 = vit.layer_norm %5, %6, %7 epsilon = 9.9999999999999995E-7 : tensor<1x5x64xf32>, tensor<64xf32>, tensor<64xf32> loc("blocks.0.norm1")
    %9 = vit.weight "blocks.0.attn.qkv.weight" : tensor<192x64xf32>
    %10 = vit.weight "blocks.0.attn.qkv.bias" : tensor<192xf32>
    %11 = vit.weight "blocks.0.attn.proj.weight" : tensor<64x64xf32>
    %12 = vit.weight "blocks.0.attn.proj.bias" : tensor<64xf32>
    %13 = vit.attention %8 qkv(%9 : tensor<192x64xf32>) bias(%10 : tensor<192xf32>) proj(%11, %12 : tensor<64x64xf32>, tensor<64xf32>) num_heads = 2 : tensor<1x5x64xf32> loc("blocks.0.attn")
    %14 = vit.residual_add %5, %13 : tensor<1x5x64xf32> loc("blocks.0.add1")
    %15 = vit.weight "blocks.0.norm2.weight" : tensor<64xf32>
    %16 = vit.weight "blocks.0.norm2.bias" : tensor<64xf32>
    %17 = vit.layer_norm %14, %15, %16 epsilon = 9.9999999999999995E-7 : tensor<1x5x64xf32>, tensor<64xf32>, tensor<64xf32> loc("blocks.0.norm2")
    %18 = vit.weight "blocks.0.mlp.fc1.weight" : tensor<128x64xf32>
    %19 = vit.weight "blocks.0.mlp.fc1.bias" : tensor<128xf32>
    %20 = vit.weight "blocks.0.mlp.fc2.weight" : tensor<64x128xf32>
    %21 = vit.weight "blocks.0.mlp.fc2.bias" : tensor<64xf32>
    %22 = vit.mlp %17 fc1(%18, %19) fc2(%20, %21) gelu = exact : tensor<1x5x64xf32>, tensor<128x64xf32>, tensor<128xf32>, tensor<64x128xf32>, tensor<64xf32> loc("blocks.0.mlp")
    %23 = vit.residual_add %14, %22 : tensor<1x5x64xf32> loc("blocks.0.add2")
    %24 = vit.weight "norm.weight" : tensor<64xf32>
    %25 = vit.weight "norm.bias" : tensor<64xf32>
    %26 = vit.layer_norm %23, %24, %25 epsilon = 9.9999999999999995E-7 : tensor<1x5x64xf32>, tensor<64xf32>, tensor<64xf32> loc("norm")
    %27 = vit.weight "head.weight" : tensor<10x64xf32>
    %28 = vit.weight "head.bias" : tensor<10xf32>
    %29 = vit.classifier_head %26, %27, %28 : tensor<1x5x64xf32>, tensor<10x64xf32>, tensor<10xf32> -> tensor<1x10xf32> loc("head")
    return %29 : tensor<1x10xf32>
  }
}

