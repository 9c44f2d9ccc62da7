//===- Passes.td - Passes where the compiler driver takes over -*- tablegen -*-//

#ifndef VITC_COMPILER_PASSES_TD
#define VITC_COMPILER_PASSES_TD

include "mlir/Pass/PassBase.td"

def EvaluateConstantsPass
    : Pass<"vit-evaluate-constants", "mlir::ModuleOp"> {
  let summary = "Hand the constants function to the compiler and remove it";
  let description = [{
    The constants function (`@<entry>_constants`, see
    `vit-externalize-constants`) computes, from the weights, the constants
    the kernels read. The compiler evaluates it on the host through the
    pipeline's constants hook, which this pass calls; the function then
    leaves the module, since no kernel is compiled from it. Without a hook
    (e.g. in vitc-opt or for `vitc --emit`) the function is only removed.
    A module without a constants function is an error.
  }];
  let options = [
    Option<"entryPoint", "entry-point", "std::string", /*default=*/"\"vit\"",
           "Name of the entry function the constants belong to">,
  ];
}

def ExtractKernelsPass : Pass<"vit-extract-kernels", "mlir::ModuleOp"> {
  let summary = "Hand the dispatch list to the compiler; keep only kernels";
  let description = [{
    After outlining, the entry function is the ordered list of kernel calls.
    The compiler turns it into the execution plan through the pipeline's
    dispatches hook, which this pass calls; then every function that is not
    a kernel function leaves the module, so that code generation sees the
    kernels alone. Without a hook the functions are only removed.
  }];
  let options = [
    Option<"entryPoint", "entry-point", "std::string", /*default=*/"\"vit\"",
           "Name of the entry function holding the dispatch list">,
  ];
}

#endif // VITC_COMPILER_PASSES_TD
