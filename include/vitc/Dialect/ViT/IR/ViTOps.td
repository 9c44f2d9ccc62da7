//===- ViTOps.td - vit dialect operations ------------------*- tablegen -*-===//

#ifndef VITC_DIALECT_VIT_IR_VITOPS_TD
#define VITC_DIALECT_VIT_IR_VITOPS_TD

include "vitc/Dialect/ViT/IR/ViTDialect.td"
include "vitc/Dialect/ViT/IR/ViTInterfaces.td"
include "mlir/IR/OpBase.td"
include "mlir/IR/RegionKindInterface.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

class ViT_Op<string mnemonic, list<Trait> traits = []>
    : Op<ViT_Dialect, mnemonic, traits>;

// Activations and parameters: statically shaped floating-point tensors.
def ViT_Tensor : StaticShapeTensorOf<[F32, F16, BF16]>;

// Ops whose result has the type of their `input` operand.
class ViT_InputShapedOp<string mnemonic, list<Trait> traits = []>
    : ViT_Op<mnemonic, !listconcat(traits, [
        Pure, SameOperandsAndResultElementType,
        AllTypesMatch<["input", "result"]>])>;

def ViT_WeightOp : ViT_Op<"weight", [Pure]> {
  let summary = "A named model parameter";
  let description = [{
    Refers to the checkpoint tensor called `name`. The tensor's data lives
    outside the IR (in the weights file or the seeded random init); the
    result type is the shape the checkpoint stores.

    ```mlir
    %w = vit.weight "blocks.0.attn.qkv.weight" : tensor<2304x768xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name);
  let results = (outs ViT_Tensor:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def ViT_PatchEmbedOp : ViT_Op<"patch_embed", [
    Pure, SameOperandsAndResultElementType,
    DeclareOpInterfaceMethods<ViT_MacCountOpInterface>]> {
  let summary = "Patch embedding: a patch-sized, patch-strided convolution";
  let description = [{
    Cuts each image into non-overlapping `patch_size` squares, projects
    each to the embedding width with `kernel` and adds `bias`. Patches are
    numbered in raster order. The image is [B, C, H, W] (`nchw`) or
    [B, H, W, C] (`nhwc`); the kernel is [D, C, P, P] (`oihw`) or
    [P, P, C, D] (`hwio`). The result is [B, (H/P)*(W/P), D].

    ```mlir
    %p = vit.patch_embed %image, %kernel, %bias patch_size = 16
           input_layout = nhwc kernel_layout = hwio
         : tensor<8x224x224x3xf32>, tensor<16x16x3x768xf32>, tensor<768xf32>
           -> tensor<8x196x768xf32>
    ```
  }];
  let arguments = (ins ViT_Tensor:$image, ViT_Tensor:$kernel,
                       ViT_Tensor:$bias,
                       ConfinedAttr<I64Attr, [IntPositive]>:$patch_size,
                       ViT_InputLayoutAttr:$input_layout,
                       ViT_KernelLayoutAttr:$kernel_layout);
  let results = (outs ViT_Tensor:$result);
  let assemblyFormat = [{
    $image `,` $kernel `,` $bias `patch_size` `=` $patch_size
    `input_layout` `=` $input_layout `kernel_layout` `=` $kernel_layout
    attr-dict `:` type(operands) `->` type($result)
  }];
  let hasVerifier = 1;
}

def ViT_ClassPosEmbedOp : ViT_Op<"class_pos_embed", [
    Pure, SameOperandsAndResultElementType]> {
  let summary = "Prepend the class token and add the position embedding";
  let description = [{
    `patches` is [B, N, D], `class_token` [1, 1, D] and `position` [1, N+1, D];
    the result [B, N+1, D] is the class token followed by the patches, plus
    the position embedding.
  }];
  let arguments = (ins ViT_Tensor:$patches, ViT_Tensor:$class_token,
                       ViT_Tensor:$position);
  let results = (outs ViT_Tensor:$result);
  let assemblyFormat = [{
    $patches `,` $class_token `,` $position attr-dict `:` type(operands)
    `->` type($result)
  }];
  let hasVerifier = 1;
}

def ViT_LayerNormOp : ViT_InputShapedOp<"layer_norm"> {
  let summary = "Layer normalisation over the last dimension";
  let description = [{
    (x - mean) / sqrt(variance + epsilon) * scale + shift, with the biased
    variance of the last dimension; `scale` and `shift` have its size.
  }];
  let arguments = (ins ViT_Tensor:$input, ViT_Tensor:$scale,
                       ViT_Tensor:$shift, F64Attr:$epsilon);
  let results = (outs ViT_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $scale `,` $shift `epsilon` `=` $epsilon attr-dict `:`
    type($input) `,` type($scale) `,` type($shift)
  }];
  let hasVerifier = 1;
}

def ViT_AttentionOp : ViT_InputShapedOp<"attention", [
    AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<ViT_MacCountOpInterface>]> {
  let summary = "Multi-head self-attention with its projections";
  let description = [{
    Projects `input` [B, T, D] to queries, keys and values, runs scaled
    dot-product attention in `num_heads` heads of D / num_heads channels and
    applies the output projection. The projections are given either as one
    fused [3D, D] weight (rows: q, then k, then v) or as three [D, D]
    weights; `qkv_biases` is empty or parallels `qkv_weights`. All linear
    weights are [out, in].

    ```mlir
    %a = vit.attention %x qkv(%w : tensor<2304x768xf32>)
           bias(%b : tensor<2304xf32>)
           proj(%pw, %pb : tensor<768x768xf32>, tensor<768xf32>)
           num_heads = 12 : tensor<8x197x768xf32>
    ```
  }];
  let arguments = (ins ViT_Tensor:$input,
                       Variadic<ViT_Tensor>:$qkv_weights,
                       Variadic<ViT_Tensor>:$qkv_biases,
                       ViT_Tensor:$proj_weight, ViT_Tensor:$proj_bias,
                       ConfinedAttr<I64Attr, [IntPositive]>:$num_heads);
  let results = (outs ViT_Tensor:$result);
  let assemblyFormat = [{
    $input `qkv` `(` $qkv_weights `:` type($qkv_weights) `)`
    (`bias` `(` $qkv_biases^ `:` type($qkv_biases) `)`)?
    `proj` `(` $proj_weight `,` $proj_bias `:` type($proj_weight) `,`
    type($proj_bias) `)` `num_heads` `=` $num_heads attr-dict `:` type($input)
  }];
  let hasVerifier = 1;
}

def ViT_MlpOp : ViT_InputShapedOp<"mlp", [
    DeclareOpInterfaceMethods<ViT_MacCountOpInterface>]> {
  let summary = "Two linears with a GELU between them";
  let description = [{
    gelu(input * fc1_weight^T + fc1_bias) * fc2_weight^T + fc2_bias with
    `fc1_weight` [H, D] and `fc2_weight` [D, H].
  }];
  let arguments = (ins ViT_Tensor:$input,
                       ViT_Tensor:$fc1_weight, ViT_Tensor:$fc1_bias,
                       ViT_Tensor:$fc2_weight, ViT_Tensor:$fc2_bias,
                       ViT_GeluApproximationAttr:$gelu);
  let results = (outs ViT_Tensor:$result);
  let assemblyFormat = [{
    $input `fc1` `(` $fc1_weight `,` $fc1_bias `)`
    `fc2` `(` $fc2_weight `,` $fc2_bias `)` `gelu` `=` $gelu
    attr-dict `:` type($input) `,` type($fc1_weight) `,` type($fc1_bias) `,`
    type($fc2_weight) `,` type($fc2_bias)
  }];
  let hasVerifier = 1;
}

def ViT_ResidualAddOp : ViT_Op<"residual_add", [
    Pure, SameOperandsAndResultType]> {
  let summary = "Adds a block's output to its residual stream";
  let arguments = (ins ViT_Tensor:$residual, ViT_Tensor:$update);
  let results = (outs ViT_Tensor:$result);
  let assemblyFormat = "$residual `,` $update attr-dict `:` type($result)";
}

def ViT_ClassifierHeadOp : ViT_Op<"classifier_head", [
    Pure, SameOperandsAndResultElementType,
    DeclareOpInterfaceMethods<ViT_MacCountOpInterface>]> {
  let summary = "Linear classifier applied to the class token";
  let description = [{
    Takes token 0 of `input` [B, T, D] and returns
    token * weight^T + bias, [B, K], with `weight` [K, D].
  }];
  let arguments = (ins ViT_Tensor:$input, ViT_Tensor:$weight,
                       ViT_Tensor:$bias);
  let results = (outs ViT_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight `,` $bias attr-dict `:` type(operands) `->`
    type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Decomposed operations: what the graph ops become before lowering. Linear
// weights keep the checkpoint's [out, in] layout, which is also the K-major
// layout GEMM kernels want for both operands.
//===----------------------------------------------------------------------===//

def ViT_PatchifyOp : ViT_Op<"patchify", [
    Pure, SameOperandsAndResultElementType]> {
  let summary = "Cut images into flattened non-overlapping patches";
  let description = [{
    Rearranges an image batch into [B, (H/P)*(W/P), C*P*P]: patches in
    raster order, each flattened in the order of the inner dimensions of a
    `kernel_layout` kernel ([c, row, col] for `oihw`, [row, col, c] for
    `hwio`), so that a patch-embedding kernel of that layout, collapsed to
    [D, C*P*P] (transposed for `hwio`), turns the patches into embeddings
    with one `vit.linear`.
  }];
  let arguments = (ins ViT_Tensor:$image,
                       ConfinedAttr<I64Attr, [IntPositive]>:$patch_size,
                       ViT_InputLayoutAttr:$input_layout,
                       ViT_KernelLayoutAttr:$kernel_layout);
  let results = (outs ViT_Tensor:$result);
  let assemblyFormat = [{
    $image `patch_size` `=` $patch_size `input_layout` `=` $input_layout
    `kernel_layout` `=` $kernel_layout attr-dict `:` type($image) `->`
    type($result)
  }];
  let hasVerifier = 1;
}

def ViT_LinearOp : ViT_Op<"linear", [
    Pure, AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<ViT_MacCountOpInterface>]> {
  let summary = "Linear layer with an optional fused epilogue";
  let description = [{
    result = gelu(input * weight^T + bias) + residual, where `input` is
    [..., K], `weight` [N, K] and the result [..., N]. The bias, the GELU
    and the residual are optional; they are applied in that order.
    `residual` has the result's shape, or a trailing part of it, in which
    case it is broadcast over the leading dimensions (a position embedding
    added to every image of a batch).

    The weight has the result's element type, or is stored in bf16 or f16
    for an f32 result (`vit-narrow-linear-weights`): the product is then
    computed in that precision, the input rounded to it and the products
    accumulated in f32, as tensor cores do.

    The weight may also be packed into K-major panels
    (`vit-pack-linear-weights`): [P, K, R] with P * R = N, where
    weight[p, k, r] is row p * R + r of the [N, K] weight, so that a
    micro-kernel computing R output features reads its weights as one
    contiguous stream.

    ```mlir
    %y = vit.linear %x, %w bias(%b : tensor<3072xf32>) gelu = exact
         : tensor<8x197x768xf32>, tensor<3072x768xf32> -> tensor<8x197x3072xf32>
    ```
  }];
  let arguments = (ins ViT_Tensor:$input, ViT_Tensor:$weight,
                       Optional<ViT_Tensor>:$bias,
                       Optional<ViT_Tensor>:$residual,
                       OptionalAttr<ViT_GeluApproximationAttr>:$gelu);
  let results = (outs ViT_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`bias` `(` $bias^ `:` type($bias) `)`)?
    (`gelu` `=` $gelu^)? (`residual` `(` $residual^ `:` type($residual) `)`)?
    attr-dict `:` type($input) `,` type($weight) `->` type($result)
  }];
  let hasVerifier = 1;
}

def ViT_GeluOp : ViT_Op<"gelu", [Pure, SameOperandsAndResultType]> {
  let summary = "Element-wise GELU";
  let arguments = (ins ViT_Tensor:$input,
                       ViT_GeluApproximationAttr:$approximation);
  let results = (outs ViT_Tensor:$result);
  let assemblyFormat = [{
    $input `approximation` `=` $approximation attr-dict `:` type($result)
  }];
}

def ViT_AddOp : ViT_Op<"add", [Pure, SameOperandsAndResultElementType,
                                AllTypesMatch<["lhs", "result"]>]> {
  let summary = "Element-wise add with trailing broadcast of the addend";
  let description = [{
    lhs + rhs, where the shape of `rhs` is a trailing part of the shape of
    `lhs` (for example a [N] bias added to [B, T, N] activations).
  }];
  let arguments = (ins ViT_Tensor:$lhs, ViT_Tensor:$rhs);
  let results = (outs ViT_Tensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs)
  }];
  let hasVerifier = 1;
}

def ViT_AttentionCoreOp : ViT_Op<"attention_core", [
    Pure, AllTypesMatch<["query", "result"]>, AllTypesMatch<["key", "value"]>,
    DeclareOpInterfaceMethods<ViT_MacCountOpInterface>]> {
  let summary = "Multi-head scaled dot-product attention";
  let description = [{
    softmax(q k^T / sqrt(D / num_heads)) v for each of `num_heads` heads,
    where q and the result are [B, Tq, D], k and v are [B, Tk, D], and head
    h owns channels [h * D / num_heads, (h + 1) * D / num_heads). The
    queries are usually all Tk tokens; fewer when only some tokens' outputs
    are needed (`vit-hoist-token-slices` keeps the class token's alone in
    the last block). The type is printed once when all four match, else
    the query's and the key's. Meant to run as one kernel that never writes
    the [Tq, Tk] score matrix to memory.
  }];
  let arguments = (ins ViT_Tensor:$query, ViT_Tensor:$key, ViT_Tensor:$value,
                       ConfinedAttr<I64Attr, [IntPositive]>:$num_heads);
  let results = (outs ViT_Tensor:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value `num_heads` `=` $num_heads attr-dict `:`
    custom<AttentionTypes>(type($query), type($key))
  }];
  let hasVerifier = 1;
}

def ViT_PrependTokenOp : ViT_Op<"prepend_token", [
    Pure, SameOperandsAndResultElementType]> {
  let summary = "Put the same token in front of every sequence of a batch";
  let description = [{
    Returns [B, N+1, D]: `token` ([D]) followed by the N tokens of each
    sequence of `tokens` ([B, N, D]).
  }];
  let arguments = (ins ViT_Tensor:$tokens, ViT_Tensor:$token);
  let results = (outs ViT_Tensor:$result);
  let assemblyFormat = [{
    $tokens `,` $token attr-dict `:` type($tokens) `,` type($token) `->`
    type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Kernel boundaries
//===----------------------------------------------------------------------===//

def ViT_KernelOp : ViT_Op<"kernel", [
    IsolatedFromAbove, SingleBlockImplicitTerminator<"YieldOp">,
    RecursiveMemoryEffects]> {
  let summary = "A group of ops that runs as one GPU/CPU kernel";
  let description = [{
    The fusion pass decides which ops run together; each group becomes one
    `vit.kernel`. The body sees only its block arguments, which are bound to
    `inputs` in order, so a kernel can be lowered and scheduled on its own.

    ```mlir
    %y = vit.kernel "blocks.0.fc1" ins(%x, %w, %b : tensor<8x197x768xf32>,
                                       tensor<3072x768xf32>, tensor<3072xf32>)
                                   -> tensor<8x197x3072xf32> {
    ^bb0(%a: tensor<8x197x768xf32>, %bw: tensor<3072x768xf32>, %bb: tensor<3072xf32>):
      %0 = vit.linear %a, %bw bias(%bb : tensor<3072xf32>) gelu = exact : ...
      vit.yield %0 : tensor<8x197x3072xf32>
    }
    ```
  }];
  let arguments = (ins StrAttr:$name, Variadic<AnyType>:$inputs);
  let results = (outs Variadic<AnyType>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $name `ins` `(` ($inputs^ `:` type($inputs))? `)` `->` type($results)
    attr-dict-with-keyword $body
  }];
  let hasVerifier = 1;
}

def ViT_YieldOp : ViT_Op<"yield", [
    Pure, ReturnLike, Terminator, HasParent<"KernelOp">]> {
  let summary = "Returns the results of a vit.kernel";
  let arguments = (ins Variadic<AnyType>:$values);
  let builders = [OpBuilder<(ins), [{
    build($_builder, $_state, ::mlir::ValueRange());
  }]>];
  let assemblyFormat = "attr-dict ($values^ `:` type($values))?";
}

#endif // VITC_DIALECT_VIT_IR_VITOPS_TD
