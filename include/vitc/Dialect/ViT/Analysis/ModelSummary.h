//===- ModelSummary.h - Per-layer parameters and MACs of a model -*- C++
//-*-===//

#ifndef VITC_DIALECT_VIT_ANALYSIS_MODELSUMMARY_H
#define VITC_DIALECT_VIT_ANALYSIS_MODELSUMMARY_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/raw_ostream.h"

#include <string>
#include <vector>

namespace vitc::vit {

struct LayerSummary {
  std::string name;
  std::string type;
  std::vector<int64_t> outputShape;
  /// Elements of the weights this layer reads.
  int64_t params = 0;
  /// Multiply-accumulates for the whole batch.
  int64_t macs = 0;
};

struct ModelSummary {
  std::string modelName;
  int64_t batchSize = 0;
  std::vector<LayerSummary> layers;
  /// Elements of all distinct `vit.weight` tensors.
  int64_t totalParams = 0;
  int64_t totalMacs = 0;
};

/// Summarises a vit-dialect function: one row per layer op, named after the
/// op's NameLoc (or "<type>_<n>" when it has none). The batch size is the
/// leading dimension of the first argument.
ModelSummary summarizeModel(mlir::func::FuncOp function);

/// Prints a table in the spirit of Keras' model.summary(), then the totals.
void printModelSummary(const ModelSummary &summary, llvm::raw_ostream &os);

} // namespace vitc::vit

#endif // VITC_DIALECT_VIT_ANALYSIS_MODELSUMMARY_H
