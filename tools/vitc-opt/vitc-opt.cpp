//===- vitc-opt.cpp - mlir-opt with the vit dialect and vitc passes -------===//

#include "vitc/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  vitc::registerAllPasses();
  mlir::DialectRegistry registry;
  vitc::registerAllDialects(registry);
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "vitc optimizer driver\n", registry));
}
