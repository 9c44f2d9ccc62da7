//===- ViTDialect.cpp - vit dialect registration
//----------------------------===//

#include "vitc/Dialect/ViT/IR/ViTDialect.h"
#include "vitc/Dialect/ViT/IR/ViTOps.h"

using namespace mlir;
using namespace vitc::vit;

#include "vitc/Dialect/ViT/IR/ViTOpsDialect.cpp.inc"

#include "vitc/Dialect/ViT/IR/ViTEnums.cpp.inc"

void ViTDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "vitc/Dialect/ViT/IR/ViTOps.cpp.inc"
      >();
}
