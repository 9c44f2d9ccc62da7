//===- ViTInterfaces.td - vit op interfaces ----------------*- tablegen -*-===//

#ifndef VITC_DIALECT_VIT_IR_VITINTERFACES_TD
#define VITC_DIALECT_VIT_IR_VITINTERFACES_TD

include "mlir/IR/OpBase.td"

def ViT_MacCountOpInterface : OpInterface<"MacCountOpInterface"> {
  let description = [{
    An operation whose cost is dominated by matrix products reports how many
    multiply-accumulates it performs for its whole batch. Element-wise work
    (normalisation, softmax, activations, adds) is not counted, which is the
    convention behind published transformer MAC figures.
  }];
  let cppNamespace = "::vitc::vit";
  let methods = [
    InterfaceMethod<"Multiply-accumulates of one execution of this op.",
                    "int64_t", "getMacCount">,
  ];
}

#endif // VITC_DIALECT_VIT_IR_VITINTERFACES_TD
