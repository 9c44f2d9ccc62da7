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

    With `key-major-scores` (the CPU's), a head's scores are laid out
    [keys, queries] and computed from the queries transposed to
    [B, H, dh, T] and scaled once per element: both contractions are then
    outer products along a contiguous dimension (the queries for the
    scores, the head channels for the output), the softmax's reductions
    over the keys combine whole vectors of queries, and the division by the
    row sums is applied to the [T, dh] output. The values and results are
    the same; only the order of the scores' products and the point where
    the scale is applied change.
  }];
  let options = [
    Option<"keyMajorScores", "key-major-scores", "bool", /*default=*/"false",
           "Lay attention's scores out [keys, queries]">,
  ];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::linalg::LinalgDialect",
                           "mlir::math::MathDialect",
                           "mlir::tensor::TensorDialect"];
}

#endif // VITC_CONVERSION_PASSES_TD
