//===- ViTDialect.td - vit dialect definition and attributes -*- tablegen -*-===//

#ifndef VITC_DIALECT_VIT_IR_VITDIALECT_TD
#define VITC_DIALECT_VIT_IR_VITDIALECT_TD

include "mlir/IR/EnumAttr.td"
include "mlir/IR/OpBase.td"

def ViT_Dialect : Dialect {
  let name = "vit";
  let summary = "Graph-level operations of Vision Transformers";
  let description = [{
    Operations named after the parts of a Vision Transformer: patch
    embedding, class token and position embedding, layer norm, multi-head
    self-attention, MLP, residual add and the classifier head. Parameters
    enter the graph through `vit.weight`, which names a checkpoint tensor;
    every weight keeps the shape it has in the checkpoint, and verifiers
    check all shapes against each other.
  }];
  let cppNamespace = "::vitc::vit";
}

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

// Printed as bare keywords (`nhwc`) inside op assembly.
def ViT_InputLayoutAttr : I32EnumAttr<"InputLayout", "image batch layout", [
  I32EnumAttrCase<"NCHW", 0, "nchw">,
  I32EnumAttrCase<"NHWC", 1, "nhwc">
]> {
  let cppNamespace = "::vitc::vit";
}

def ViT_KernelLayoutAttr : I32EnumAttr<"KernelLayout",
    "patch-embedding convolution kernel layout", [
  I32EnumAttrCase<"OIHW", 0, "oihw">,
  I32EnumAttrCase<"HWIO", 1, "hwio">
]> {
  let cppNamespace = "::vitc::vit";
}

def ViT_GeluApproximationAttr : I32EnumAttr<"GeluApproximation",
    "GELU formula", [
  I32EnumAttrCase<"Exact", 0, "exact">,
  I32EnumAttrCase<"Tanh", 1, "tanh">
]> {
  let cppNamespace = "::vitc::vit";
}

#endif // VITC_DIALECT_VIT_IR_VITDIALECT_TD
