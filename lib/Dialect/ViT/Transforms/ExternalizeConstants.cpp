//===- ExternalizeConstants.cpp - Weight work into a constants function ---===//

#include "vitc/Dialect/ViT/IR/ViTOps.h"
#include "vitc/Dialect/ViT/Transforms/Passes.h"

#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SetVector.h"

namespace vitc::vit {
#define GEN_PASS_DEF_VITEXTERNALIZECONSTANTSPASS
#include "vitc/Dialect/ViT/Transforms/Passes.h.inc"
} // namespace vitc::vit

using namespace mlir;
using namespace vitc::vit;

namespace {

/// Whether `op` only computes on weights, so it runs once at compile time.
bool isWeightWork(Operation *op) {
  return op->getNumResults() > 0 &&
         llvm::all_of(op->getResults(), isWeightOnly);
}

struct ViTExternalizeConstantsPass
    : public vitc::vit::impl::ViTExternalizeConstantsPassBase<
          ViTExternalizeConstantsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    func::FuncOp entry = lookupEntryFunction(module, entryPoint);
    if (!entry)
      return signalPassFailure();
    Block &body = entry.getBody().front();

    SmallVector<Operation *> weightWork;
    llvm::SetVector<Value> constants;
    for (Operation &op : body) {
      if (isWeightWork(&op)) {
        weightWork.push_back(&op);
        continue;
      }
      for (Value operand : op.getOperands())
        if (isWeightOnly(operand))
          constants.insert(operand);
    }

    buildConstantsFunction(entry, weightWork, constants.getArrayRef());

    Builder builder(&getContext());
    for (auto [index, constant] : llvm::enumerate(constants.takeVector())) {
      unsigned position = entry.getNumArguments();
      auto marker = builder.getNamedAttr(vitc::kConstantAttr,
                                         builder.getI64IntegerAttr(index));
      if (failed(entry.insertArgument(position, constant.getType(),
                                      builder.getDictionaryAttr(marker),
                                      constant.getLoc())))
        return signalPassFailure();
      constant.replaceUsesWithIf(
          entry.getArgument(position),
          [](OpOperand &use) { return !isWeightWork(use.getOwner()); });
    }
    for (Operation *op : llvm::reverse(weightWork))
      op->erase();
  }

  /// Creates @<entry>_constants returning `constants`, computed by clones of
  /// `weightWork`.
  void buildConstantsFunction(func::FuncOp entry,
                              ArrayRef<Operation *> weightWork,
                              ArrayRef<Value> constants) {
    OpBuilder builder(entry->getContext());
    builder.setInsertionPointAfter(entry);
    auto function = func::FuncOp::create(
        builder, entry.getLoc(), vitc::constantsFunctionName(entry.getName()),
        builder.getFunctionType({}, llvm::map_to_vector(constants, [](Value v) {
                                  return v.getType();
                                })));
    builder.setInsertionPointToEnd(function.addEntryBlock());
    IRMapping mapping;
    for (Operation *op : weightWork)
      builder.clone(*op, mapping);
    func::ReturnOp::create(builder, entry.getLoc(),
                           llvm::map_to_vector(constants, [&](Value v) {
                             return mapping.lookup(v);
                           }));
  }
};

} // namespace
