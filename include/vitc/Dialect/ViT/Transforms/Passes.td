//===- Passes.td - vit dialect passes ----------------------*- tablegen -*-===//

#ifndef VITC_DIALECT_VIT_TRANSFORMS_PASSES_TD
#define VITC_DIALECT_VIT_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def ViTDecomposePass : Pass<"vit-decompose", "mlir::func::FuncOp"> {
  let summary = "Decompose graph ops into linears, attention cores and adds";
  let description = [{
    Rewrites the model-level ops into the decomposed vit ops:
    - `vit.patch_embed` becomes `vit.patchify` plus a `vit.linear` whose
      weight is the kernel collapsed (and, for HWIO, transposed) to [D, K];
    - `vit.attention` becomes one QKV `vit.linear` (separate q/k/v weights
      and biases are concatenated into one [3D, D] projection), slices for q,
      k and v, `vit.attention_core` and the output-projection `vit.linear`;
    - `vit.mlp` becomes two `vit.linear` ops with a `vit.gelu` between them;
    - `vit.class_pos_embed` becomes a `vit.add` of the patch part of the
      position embedding and a `vit.prepend_token` of class token plus the
      first position row;
    - `vit.classifier_head` becomes a slice of the class token and a
      `vit.linear`; `vit.residual_add` becomes `vit.add`.
    Biases are emitted as separate `vit.add` ops; folding them into linears
    is `vit-fuse-epilogues`' job. Work on weights alone (reshapes,
    transposes, concatenations, the class-token row) is emitted as tensor,
    linalg and arith ops on `vit.weight` values, to be evaluated once at
    compile time. New ops are named after the layer they come from
    (`blocks.0.attn` gives `blocks.0.attn.qkv`, `.core` and `.proj`).
  }];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::linalg::LinalgDialect",
                           "mlir::tensor::TensorDialect"];
}

def ViTHoistTokenSlicesPass
    : Pass<"vit-hoist-token-slices", "mlir::func::FuncOp"> {
  let summary = "Compute only the tokens that a slice keeps";
  let description = [{
    Moves a slice of tokens (a `tensor.extract_slice` that keeps some
    tokens, dimension 1 of a [B, T, D] value, and all of the other
    dimensions) above the op producing its source when that op treats
    tokens independently (`vit.layer_norm`, `vit.linear`, `vit.gelu`,
    `vit.add`), or whose result tokens are its queries (`vit.attention_core`),
    and every user of the op takes the same tokens: the op is rebuilt on
    sliced operands (the attention's queries alone: every query reads all
    keys and values) and the full-size op, left without users, disappears.
    Consecutive slices merge. Channel-wise ops (a linear with an [N, K]
    weight and no residual, an add of a [N] bias) also split by channels:
    a slice keeping fewer tokens, and channels that no other slice of the
    op reads, gets its own copy of the op computing that box, and an op
    whose slices read only some of its channels computes those alone; each
    part is named after the op and its channels ("blocks.11.attn.qkv[0:768]").
    A classifier on the class token thus makes the last block project one
    query, its attention core compute one query, and its output projection,
    MLP, residual adds and the final layer norm one token, instead of T; the
    keys and values are projected for every token, which every query needs,
    and values that other ops read in full stay whole.
    Each token's result is computed by the same ops as before, so the logits
    do not change.
  }];
  let dependentDialects = ["mlir::tensor::TensorDialect"];
}

def ViTFuseEpiloguesPass : Pass<"vit-fuse-epilogues", "mlir::func::FuncOp"> {
  let summary = "Fold bias, GELU and residual adds into linear epilogues";
  let description = [{
    Folds element-wise consumers of a `vit.linear` into the linear when the
    linear has no other user: a [N] `vit.add` becomes its bias (while no
    GELU or residual is applied yet), a `vit.gelu` its GELU, and any other
    `vit.add` (residual stream, position embedding) its residual. The result
    computes exactly what the unfused ops computed.
  }];
}

def ViTFormKernelsPass : Pass<"vit-form-kernels", "mlir::func::FuncOp"> {
  let summary = "Group compute ops into vit.kernel regions";
  let description = [{
    Decides kernel boundaries: every compute op (`vit.linear`,
    `vit.attention_core`, `vit.layer_norm`, `vit.add`, `vit.gelu`,
    `vit.prepend_token`) becomes the anchor of one `vit.kernel`, named after
    the anchor's location. Producers that are cheap to recompute inside the
    consumer and have no other user join the consumer's kernel: a
    `vit.patchify` feeding a linear, and the q/k/v slices feeding an
    attention core. Values computed only from weights stay outside kernels
    and are passed in.

    With `layer-norm-into-linear`, a `vit.layer_norm` whose only user is a
    `vit.linear`'s input joins that linear's kernel too: a schedule that
    computes the row statistics once per block and normalizes as it loads
    the operand (the CUDA tensor-core linears) then saves the layer norm's
    kernel and the round trip of its output through memory. Such a schedule
    may need the width to be a multiple of something (the tensor-core
    linears copy rows in 16-byte pieces), which
    `layer-norm-into-linear-multiple` gives: a layer norm of any other width
    keeps its kernel, and the linear reads its output as usual.
  }];
  let options = [
    Option<"layerNormIntoLinear", "layer-norm-into-linear", "bool",
           /*default=*/"false",
           "Fuse a layer norm into the linear that alone reads it">,
    Option<"layerNormIntoLinearMultiple", "layer-norm-into-linear-multiple",
           "int64_t", /*default=*/"1",
           "Only where the linear's reduction (the width) is a multiple of "
           "this: the schedule that normalizes as it loads may need it">
  ];
}

def ViTExternalizeConstantsPass
    : Pass<"vit-externalize-constants", "mlir::ModuleOp"> {
  let summary = "Move compile-time weight work into a constants function";
  let description = [{
    Every weight-only value a kernel reads (a `vit.weight`, or reshapes,
    slices, transposes, concatenations and sums of weights) becomes an
    argument of the entry function, after the image. The ops computing
    those values move to a new function `@<entry>_constants` that returns
    them in argument order; the compiler evaluates it once, on the host,
    to produce the constants in the layout the kernels read. Each new
    argument carries `vit.constant = <index>`.
  }];
  let options = [
    Option<"entryPoint", "entry-point", "std::string", /*default=*/"\"vit\"",
           "Name of the function whose weights are externalized">,
  ];
}

def ViTNarrowLinearWeightsPass
    : Pass<"vit-narrow-linear-weights", "mlir::ModuleOp"> {
  let summary = "Store linear weights in bf16 or f16 for tensor cores";
  let description = [{
    Runs after `vit-externalize-constants`. Every constant that only
    `vit.linear` ops read as their weight is narrowed to `type`: the
    constants function rounds it (`arith.truncf`, evaluated at compile
    time, ties to even) and the entry function and kernels receive it in
    that type, so the artifact stores it in half the bytes. A linear with a
    narrow weight computes its product in that precision (see
    `vit.linear`). Weights whose reduction length is not a multiple of 8
    stay f32: tensor-core kernels copy weight rows in 16-byte pieces.
  }];
  let options = [
    Option<"entryPoint", "entry-point", "std::string", /*default=*/"\"vit\"",
           "Name of the function whose linear weights are narrowed">,
    Option<"type", "type", "std::string", /*default=*/"\"bf16\"",
           "Storage type of the weights: bf16 or f16">,
  ];
  let dependentDialects = ["mlir::arith::ArithDialect"];
}

def ViTPackLinearWeightsPass
    : Pass<"vit-pack-linear-weights", "mlir::ModuleOp"> {
  let summary = "Store linear weights in K-major panels for CPU micro-kernels";
  let description = [{
    Runs after `vit-externalize-constants`. Every f32 constant that only
    `vit.linear` ops read as their weight [N, K] is packed into K-major
    panels [N / panel, K, panel] (`panel` = 0: one panel of all N, i.e. the
    transposed weight [1, K, N]): the constants function does it
    (`tensor.expand_shape` and `linalg.transpose`, evaluated at compile
    time), and the entry function and kernels receive the packed weight, so
    the artifact stores it in that layout. A CPU micro-kernel computing a
    block of output features then reads, for each k, their weights as one
    contiguous vector. Weights whose N is not a multiple of `panel` are left
    alone.
  }];
  let options = [
    Option<"entryPoint", "entry-point", "std::string", /*default=*/"\"vit\"",
           "Name of the function whose linear weights are packed">,
    Option<"panel", "panel", "int64_t", /*default=*/"0",
           "Output features per panel; 0 for one panel of all of them">,
  ];
  let dependentDialects = ["mlir::linalg::LinalgDialect",
                           "mlir::tensor::TensorDialect"];
}

def ViTOutlineKernelsPass : Pass<"vit-outline-kernels", "mlir::ModuleOp"> {
  let summary = "Turn each vit.kernel into a function and a call to it";
  let description = [{
    Moves the body of every `vit.kernel` in the entry function into its own
    `func.func` (tensor arguments in, tensor results out) and replaces the
    kernel with a `func.call`. The entry function is then the ordered
    dispatch list of the model, and each kernel function can be lowered and
    compiled on its own for any target. Symbols are the kernel names with
    characters other than letters, digits and `_` replaced by `_`; each
    function carries `vit.kernel_name` with the original name and
    `vit.multiply_accumulates` with the multiply-accumulates of one call
    (counted on its vit ops, which know them).
  }];
  let options = [
    Option<"entryPoint", "entry-point", "std::string", /*default=*/"\"vit\"",
           "Name of the function whose kernels are outlined">,
  ];
}

def ViTDeduplicateKernelsPass
    : Pass<"vit-deduplicate-kernels", "mlir::ModuleOp"> {
  let summary = "Keep one function per distinct kernel";
  let description = [{
    Kernel functions (with `vit.kernel_name`) that are identical up to
    locations, i.e. differ only in which constants and intermediate values
    their callers pass (every block's `norm1`, `attn.qkv`, `mlp.fc1`, ...),
    become one function: the calls of the others call the first, and the
    others are erased. The shared function is named after what its members'
    names have in common, with `*` for the dot-separated parts that differ
    (`blocks.*.mlp.fc1`, symbol `@blocks_N_mlp_fc1`). Each distinct kernel
    is then lowered and compiled once, however many times it is dispatched.
  }];
}

#endif // VITC_DIALECT_VIT_TRANSFORMS_PASSES_TD
