//===- Passes.td - vitc conversion passes ------------------*- tablegen -*-===//

#ifndef VITC_CONVERSION_PASSES_TD
#define VITC_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertViTToLinalgPass : Pass<"convert-vit-to-linalg"> {
  let summary = "Lower the decomposed vit ops to linalg on tensors";
  let description = [{
    Rewrites `vit.linear`, `vit.add`, `vit.gelu`, `vit.layer_norm`,
    `vit.attention_core`, `vit.patchify` and `vit.prepend_token` into
    linalg, tensor, arith and math ops on tensors with exactly the ops'
    semantics, wherever they are, including inside `vit.kernel` bodies.
    `vit.kernel`, `vit.yield` and `vit.weight` stay, as do the graph-level
    ops, which `vit-decompose` removes first.

    Linears become a transposed-B `linalg.matmul` on the input collapsed to
    [M, K] followed by one element-wise `linalg.generic` for the bias, GELU
    and residual epilogue. Attention materialises the [B, H, T, T] scores
    and a max-subtracted softmax; a later tiling pass makes it flash-style.

    With `key-block` N > 0 (meant for the CPU, with N two vectors of its
    ISA; vitc does not enable it yet: docs/codegen-cpu.md), attention
    transposes the keys to [B, H, dh, T] and zero-pads them and the values
    to a multiple of N keys: the scores are then an outer product of
    contiguous rows, with register blocks that divide the padded keys. The
    padded keys' scores start at -inf (so their exponentials are 0), and
    the softmax's division is applied to the [T, dh] output.
  }];
  let options = [
    Option<"keyBlock", "key-block", "int64_t", /*default=*/"0",
           "Transpose the keys and pad them to a multiple of this (0: no)">,
  ];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::linalg::LinalgDialect",
                           "mlir::math::MathDialect",
                           "mlir::tensor::TensorDialect"];
}

#endif // VITC_CONVERSION_PASSES_TD
