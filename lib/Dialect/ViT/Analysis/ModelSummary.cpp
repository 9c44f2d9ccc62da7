//===- ModelSummary.cpp - Per-layer parameters and MACs of a model --------===//

#include "vitc/Dialect/ViT/Analysis/ModelSummary.h"

#include "vitc/Dialect/ViT/IR/ViTOps.h"
#include "vitc/Support/EscapedText.h"
#include "vitc/Support/Format.h"

#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Format.h"

using namespace mlir;

namespace vitc::vit {

static int64_t numElements(Type type) {
  return cast<ShapedType>(type).getNumElements();
}

/// The layer's NameLoc, or "<type>_<n>" (as Keras names unnamed layers) for
/// IR read from a file, whose locations are file positions.
static std::string layerName(Operation *op, StringRef type,
                             llvm::StringMap<int> &unnamedCounts) {
  if (auto name = dyn_cast<NameLoc>(op->getLoc()))
    return name.getName().str();
  return (type + "_" + Twine(unnamedCounts[type]++)).str();
}

ModelSummary summarizeModel(func::FuncOp function) {
  ModelSummary summary;
  if (auto module = function->getParentOfType<ModuleOp>())
    if (auto model = module->getAttrOfType<StringAttr>(vitc::kModelNameAttr))
      summary.modelName = model.str();
  if (function.getNumArguments() > 0)
    if (auto type = dyn_cast<ShapedType>(function.getArgumentTypes()[0]))
      summary.batchSize = type.getRank() > 0 ? type.getDimSize(0) : 1;

  // Weights may have moved to a constants function: count them module-wide.
  llvm::StringSet<> countedWeights;
  Operation *scope = function->getParentOfType<ModuleOp>();
  (scope ? scope : function.getOperation())->walk([&](WeightOp weight) {
    if (countedWeights.insert(weight.getName()).second)
      summary.totalParams += numElements(weight.getType());
  });

  llvm::StringMap<int> unnamedCounts;
  function.walk([&](Operation *op) {
    // Kernels only group layers; the layers inside them are the rows.
    if (!isa<ViTDialect>(op->getDialect()) || isa<KernelOp, YieldOp>(op))
      return;
    LayerSummary layer;
    layer.type = op->getName().stripDialect().str();
    layer.name = layerName(op, layer.type, unnamedCounts);
    auto resultType = cast<ShapedType>(op->getResult(0).getType());
    layer.outputShape.assign(resultType.getShape().begin(),
                             resultType.getShape().end());
    // Parameters in the form the layer reads them (after any compile-time
    // reshaping, slicing or packing), each operand once.
    llvm::SmallPtrSet<Value, 8> weightsOfLayer;
    for (Value operand : op->getOperands())
      if (isWeightOnly(operand) && weightsOfLayer.insert(operand).second)
        layer.params += numElements(operand.getType());
    if (auto counted = dyn_cast<MacCountOpInterface>(op))
      layer.macs = counted.getMacCount();
    summary.totalMacs += layer.macs;
    summary.layers.push_back(std::move(layer));
  });
  return summary;
}

/// 86567656 -> "86,567,656".
static std::string withThousands(int64_t value) {
  std::string digits = std::to_string(value);
  std::string result;
  int64_t firstGroup = digits.size() % 3 == 0 ? 3 : digits.size() % 3;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (int64_t(i) - firstGroup) % 3 == 0)
      result += ',';
    result += digits[i];
  }
  return result;
}

void printModelSummary(const ModelSummary &summary, llvm::raw_ostream &os) {
  int64_t batch = std::max<int64_t>(summary.batchSize, 1);
  // Escaped: a line break in a name from a config would forge a line.
  os << "Model: \"" << escapedText(summary.modelName) << "\" (batch "
     << summary.batchSize << ")\n";
  std::string rule(96, '-');
  os << rule << "\n"
     << llvm::left_justify("Layer", 26) << llvm::left_justify("Type", 18)
     << llvm::left_justify("Output shape", 20)
     << llvm::right_justify("Params", 14)
     << llvm::right_justify("MACs/image", 18) << "\n"
     << std::string(96, '=') << "\n";
  for (const LayerSummary &layer : summary.layers)
    os << llvm::left_justify(layer.name, 26)
       << llvm::left_justify(layer.type, 18)
       << llvm::left_justify(formatShape(layer.outputShape), 20)
       << llvm::right_justify(withThousands(layer.params), 14)
       << llvm::right_justify(withThousands(layer.macs / batch), 18) << "\n";
  int64_t macsPerImage = summary.totalMacs / batch;
  os << std::string(96, '=') << "\n"
     << "Total params: " << withThousands(summary.totalParams) << " ("
     << llvm::format("%.2f", summary.totalParams * 4.0 / (1 << 20))
     << " MiB as fp32)\n"
     << "MACs per image: " << withThousands(macsPerImage) << " ("
     << llvm::format("%.2f", macsPerImage / 1e9) << " GMACs)\n";
}

} // namespace vitc::vit
