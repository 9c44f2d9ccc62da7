//===- Passes.td - Code generation passes of all targets ---*- tablegen -*-===//

#ifndef VITC_CODEGEN_COMMON_PASSES_TD
#define VITC_CODEGEN_COMMON_PASSES_TD

include "mlir/Pass/PassBase.td"

def ApproximateMathPass : Pass<"vit-approximate-math"> {
  let summary = "Expand math functions into arithmetic";
  let description = [{
    Replaces math functions with MLIR's f32 polynomial approximations, on
    scalars and vectors alike, so that the compiled kernels need no libm or
    libdevice and both targets evaluate the same formulas. f32 erf (exact
    GELU) is vitc's own instead: x P(x^2) / Q(x^2) on x clamped to
    [-3.92, 3.92], 10 FMAs and a division, a fifth of MLIR's instructions
    at a max error of 3.2e-7 (MLIR's: 2.6e-7). `functions`
    selects them by name without the `math.` prefix; by default it is
    MLIR's standard set (exp, erf, tanh and the other functions, with f16
    and bf16 evaluated in f32). `expand` names functions rewritten in terms
    of other math ops first (`rsqrt` becomes a division by `math.sqrt`).
    The CPU expands rsqrt and approximates the standard set; CUDA
    approximates exp, erf and tanh only, in kernel functions only, and
    lowers sqrt and rsqrt to instructions (vit-cuda-math-to-intrinsics).
  }];
  let options = [
    ListOption<"functions", "functions", "std::string",
               "Math functions to approximate (default: MLIR's standard set)">,
    ListOption<"expand", "expand", "std::string",
               "Math functions to rewrite in terms of other math ops">,
    Option<"kernelsOnly", "kernels-only", "bool", /*default=*/"false",
           "Rewrite only inside functions carrying vit.kernel_name">,
  ];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::math::MathDialect",
                           "mlir::vector::VectorDialect"];
}

#endif // VITC_CODEGEN_COMMON_PASSES_TD
