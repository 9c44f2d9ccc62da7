//===- ViTDialect.h - vit dialect -------------------------------*- C++ -*-===//

#ifndef VITC_DIALECT_VIT_IR_VITDIALECT_H
#define VITC_DIALECT_VIT_IR_VITDIALECT_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Dialect.h"

#include "vitc/Dialect/ViT/IR/ViTOpsDialect.h.inc"

#include "vitc/Dialect/ViT/IR/ViTEnums.h.inc"

#endif // VITC_DIALECT_VIT_IR_VITDIALECT_H
