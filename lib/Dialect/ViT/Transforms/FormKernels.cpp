//===- FormKernels.cpp - Group compute ops into vit.kernel regions --------===//

#include "vitc/Dialect/ViT/IR/ViTOps.h"
#include "vitc/Dialect/ViT/Transforms/Passes.h"

#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringSet.h"

namespace vitc::vit {
#define GEN_PASS_DEF_VITFORMKERNELSPASS
#include "vitc/Dialect/ViT/Transforms/Passes.h.inc"
} // namespace vitc::vit

using namespace mlir;
using namespace vitc::vit;

namespace {

bool isKernelAnchor(Operation *op) {
  return isa<LinearOp, AttentionCoreOp, LayerNormOp, AddOp, GeluOp,
             PrependTokenOp>(op);
}

/// Whether `op` is a layer norm whose only user reads it as a linear's
/// input, so that the linear's kernel can normalize as it loads, and whose
/// width is a multiple of `multiple`.
bool feedsOnlyALinear(Operation *op, int64_t multiple) {
  if (!isa<LayerNormOp>(op) || !op->hasOneUse())
    return false;
  int64_t width =
      cast<ShapedType>(op->getResult(0).getType()).getShape().back();
  if (ShapedType::isDynamic(width) || multiple < 1 || width % multiple != 0)
    return false;
  OpOperand &use = *op->getUses().begin();
  auto linear = dyn_cast<LinearOp>(use.getOwner());
  return linear && &use == &linear.getInputMutable();
}

class KernelFormer {
public:
  KernelFormer(func::FuncOp function, bool layerNormIntoLinear,
               int64_t layerNormIntoLinearMultiple)
      : function(function), layerNormIntoLinear(layerNormIntoLinear),
        layerNormIntoLinearMultiple(layerNormIntoLinearMultiple) {}

  void run() {
    for (Operation &op : llvm::make_early_inc_range(function.getBody().front()))
      if (isKernelAnchor(&op) && !isFusibleProducer(&op))
        outline(&op);
  }

private:
  /// Producers worth recomputing inside their only consumer's kernel: data
  /// movement that costs nothing once fused into the consumer's loads, and
  /// (when asked) a layer norm that the consumer linear normalizes as it
  /// loads. Weight work is done at compile time, so kernels take its
  /// results as inputs.
  bool isFusibleProducer(Operation *producer) const {
    if (!producer || !producer->hasOneUse() ||
        isWeightOnly(producer->getResult(0)))
      return false;
    return isa<PatchifyOp, tensor::ExtractSliceOp>(producer) ||
           (layerNormIntoLinear &&
            feedsOnlyALinear(producer, layerNormIntoLinearMultiple));
  }

  void outline(Operation *anchor) {
    // The anchor and its fusible producers, in block order.
    SmallVector<Operation *> group;
    for (Value operand : anchor->getOperands())
      if (isFusibleProducer(operand.getDefiningOp()))
        group.push_back(operand.getDefiningOp());
    llvm::sort(group, [](Operation *a, Operation *b) {
      return a->isBeforeInBlock(b);
    });
    group.push_back(anchor);

    llvm::SetVector<Value> inputs;
    for (Operation *op : group)
      for (Value operand : op->getOperands())
        if (!llvm::is_contained(group, operand.getDefiningOp()))
          inputs.insert(operand);

    OpBuilder builder(anchor);
    auto kernel =
        KernelOp::create(builder, anchor->getLoc(), anchor->getResultTypes(),
                         uniqueName(anchor), inputs.getArrayRef());
    Block *body = builder.createBlock(&kernel.getBody());
    IRMapping mapping;
    for (Value input : inputs)
      mapping.map(input, body->addArgument(input.getType(), input.getLoc()));
    for (Operation *op : group)
      builder.clone(*op, mapping);
    YieldOp::create(builder, anchor->getLoc(),
                    llvm::map_to_vector(anchor->getResults(), [&](Value v) {
                      return mapping.lookup(v);
                    }));

    anchor->replaceAllUsesWith(kernel.getResults());
    for (Operation *op : llvm::reverse(group))
      op->erase();
  }

  /// The anchor's layer name, made unique within the function.
  std::string uniqueName(Operation *anchor) {
    std::string base = anchor->getName().stripDialect().str();
    if (auto name = dyn_cast<NameLoc>(anchor->getLoc()))
      base = name.getName().str();
    std::string name = base;
    for (int suffix = 1; !usedNames.insert(name).second; ++suffix)
      name = base + "_" + std::to_string(suffix);
    return name;
  }

  func::FuncOp function;
  bool layerNormIntoLinear;
  int64_t layerNormIntoLinearMultiple;
  llvm::StringSet<> usedNames;
};

struct ViTFormKernelsPass
    : public vitc::vit::impl::ViTFormKernelsPassBase<ViTFormKernelsPass> {
  using Base::Base;

  void runOnOperation() override {
    KernelFormer(getOperation(), layerNormIntoLinear,
                 layerNormIntoLinearMultiple)
        .run();
  }
};

} // namespace
