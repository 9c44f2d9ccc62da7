//===- ViTOps.cpp - vit dialect operations
//----------------------------------===//

#include "vitc/Dialect/ViT/IR/ViTOps.h"

#include "vitc/Support/Format.h"

#include "llvm/ADT/StringExtras.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

using namespace mlir;
using namespace vitc::vit;

#include "vitc/Dialect/ViT/IR/ViTInterfaces.cpp.inc"

/// `: T` when the keys have the queries' type, else `: Tq, Tk`.
static ParseResult parseAttentionTypes(OpAsmParser &parser, Type &query,
                                       Type &key) {
  if (parser.parseType(query))
    return failure();
  key = query;
  if (succeeded(parser.parseOptionalComma()))
    return parser.parseType(key);
  return success();
}

static void printAttentionTypes(OpAsmPrinter &printer, Operation *, Type query,
                                Type key) {
  printer << query;
  if (key != query)
    printer << ", " << key;
}

#define GET_OP_CLASSES
#include "vitc/Dialect/ViT/IR/ViTOps.cpp.inc"

bool vitc::vit::isWeightOnly(Value value) {
  if (auto argument = dyn_cast<BlockArgument>(value)) {
    Operation *owner = argument.getOwner()->getParentOp();
    if (auto kernel = dyn_cast<KernelOp>(owner))
      return isWeightOnly(kernel.getInputs()[argument.getArgNumber()]);
    // A weight moved out by vit-externalize-constants.
    auto function = dyn_cast<FunctionOpInterface>(owner);
    return function &&
           function.getArgAttr(argument.getArgNumber(), vitc::kConstantAttr);
  }
  Operation *producer = value.getDefiningOp();
  if (isa<WeightOp>(producer))
    return true;
  // Other vit ops compute on activations; reshapes, slices, arithmetic and
  // empty destinations of other dialects are weight work when all their
  // operands (if any) are weights.
  return !isa<ViTDialect>(producer->getDialect()) &&
         llvm::all_of(producer->getOperands(), isWeightOnly);
}

std::string vitc::vit::kernelSymbol(StringRef kernelName) {
  std::string symbol = kernelName.str();
  for (char &c : symbol)
    if (c == '*')
      c = 'N';
    else if (!llvm::isAlnum(c) && c != '_')
      c = '_';
  // A name ending in punctuation ("...[0:768]") ends without underscores.
  size_t end = symbol.find_last_not_of('_');
  if (end != std::string::npos)
    symbol.resize(end + 1);
  return symbol;
}

//===----------------------------------------------------------------------===//
// Verification helpers
//===----------------------------------------------------------------------===//

static ArrayRef<int64_t> shapeOf(Value value) {
  return cast<ShapedType>(value.getType()).getShape();
}

static LogicalResult verifyRank(Operation *op, StringRef what, Value value,
                                int64_t rank) {
  int64_t actual = shapeOf(value).size();
  if (actual == rank)
    return success();
  return op->emitOpError() << "expects " << what << " of rank " << rank
                           << ", got rank " << actual;
}

static LogicalResult verifyShape(Operation *op, StringRef what, Value value,
                                 ArrayRef<int64_t> expected) {
  if (shapeOf(value) == expected)
    return success();
  return op->emitOpError() << "expects " << what << " of shape "
                           << vitc::formatShape(expected) << ", got "
                           << vitc::formatShape(shapeOf(value));
}

namespace {
/// The dimensions of an image batch, whatever its layout.
struct ImageDims {
  int64_t batch, channels, height, width;
};
} // namespace

/// Reads the dimensions of a rank-4 `image` in `layout` and checks that
/// `patch` tiles it.
static FailureOr<ImageDims> verifyPatchedImage(Operation *op, Value image,
                                               InputLayout layout,
                                               int64_t patch) {
  if (failed(verifyRank(op, "image", image, 4)))
    return failure();
  ArrayRef<int64_t> shape = shapeOf(image);
  bool channelsLast = layout == InputLayout::NHWC;
  ImageDims dims{shape[0], channelsLast ? shape[3] : shape[1],
                 channelsLast ? shape[1] : shape[2],
                 channelsLast ? shape[2] : shape[3]};
  if (dims.height % patch != 0 || dims.width % patch != 0)
    return op->emitOpError()
           << "expects image height and width divisible by patch_size " << patch
           << ", got " << dims.height << "x" << dims.width;
  return dims;
}

//===----------------------------------------------------------------------===//
// WeightOp
//===----------------------------------------------------------------------===//

LogicalResult WeightOp::verify() {
  if (getName().empty())
    return emitOpError("expects a non-empty weight name");
  return success();
}

//===----------------------------------------------------------------------===//
// PatchEmbedOp
//===----------------------------------------------------------------------===//

LogicalResult PatchEmbedOp::verify() {
  int64_t patch = getPatchSize();
  FailureOr<ImageDims> image =
      verifyPatchedImage(*this, getImage(), getInputLayout(), patch);
  if (failed(image) || failed(verifyRank(*this, "kernel", getKernel(), 4)))
    return failure();
  int64_t channels = image->channels;

  ArrayRef<int64_t> kernel = shapeOf(getKernel());
  bool kernelHwio = getKernelLayout() == KernelLayout::HWIO;
  int64_t embedWidth = kernelHwio ? kernel[3] : kernel[0];
  SmallVector<int64_t> expectedKernel =
      kernelHwio ? SmallVector<int64_t>{patch, patch, channels, embedWidth}
                 : SmallVector<int64_t>{embedWidth, channels, patch, patch};
  if (failed(verifyShape(*this, "kernel", getKernel(), expectedKernel)) ||
      failed(verifyShape(*this, "bias", getBias(), {embedWidth})))
    return failure();
  int64_t numPatches = (image->height / patch) * (image->width / patch);
  return verifyShape(*this, "result", getResult(),
                     {image->batch, numPatches, embedWidth});
}

int64_t PatchEmbedOp::getMacCount() {
  ArrayRef<int64_t> result = shapeOf(getResult());
  int64_t patchElements = 1;
  for (int64_t dim : shapeOf(getKernel()))
    patchElements *= dim;
  // Each output element is a dot product over one patch: C * P * P inputs.
  return result[0] * result[1] * patchElements;
}

//===----------------------------------------------------------------------===//
// ClassPosEmbedOp
//===----------------------------------------------------------------------===//

LogicalResult ClassPosEmbedOp::verify() {
  if (failed(verifyRank(*this, "patches", getPatches(), 3)))
    return failure();
  ArrayRef<int64_t> patches = shapeOf(getPatches());
  int64_t width = patches[2];
  int64_t tokens = patches[1] + 1;
  if (failed(
          verifyShape(*this, "class_token", getClassToken(), {1, 1, width})) ||
      failed(verifyShape(*this, "position", getPosition(), {1, tokens, width})))
    return failure();
  return verifyShape(*this, "result", getResult(), {patches[0], tokens, width});
}

//===----------------------------------------------------------------------===//
// LayerNormOp
//===----------------------------------------------------------------------===//

LogicalResult LayerNormOp::verify() {
  ArrayRef<int64_t> input = shapeOf(getInput());
  if (input.empty())
    return emitOpError("expects input of rank at least 1, got rank 0");
  if (failed(verifyShape(*this, "scale", getScale(), {input.back()})) ||
      failed(verifyShape(*this, "shift", getShift(), {input.back()})))
    return failure();
  double epsilon = getEpsilon().convertToDouble();
  if (!(epsilon > 0.0) || !std::isfinite(epsilon))
    return emitOpError() << "expects a positive finite epsilon, got "
                         << epsilon;
  return success();
}

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

LogicalResult AttentionOp::verify() {
  if (failed(verifyRank(*this, "input", getInput(), 3)))
    return failure();
  int64_t width = shapeOf(getInput())[2];
  int64_t heads = getNumHeads();
  if (width % heads != 0)
    return emitOpError() << "expects num_heads (" << heads
                         << ") to divide the width (" << width << ")";

  size_t numProjections = getQkvWeights().size();
  if (numProjections != 1 && numProjections != 3)
    return emitOpError() << "expects 1 fused or 3 separate qkv weights, got "
                         << numProjections;
  if (!getQkvBiases().empty() && getQkvBiases().size() != numProjections)
    return emitOpError() << "expects as many qkv biases as qkv weights ("
                         << numProjections << "), got "
                         << getQkvBiases().size();
  // A fused projection computes q, k and v at once: 3 * width outputs.
  int64_t projectionWidth = numProjections == 1 ? 3 * width : width;
  for (Value weight : getQkvWeights())
    if (failed(
            verifyShape(*this, "qkv weight", weight, {projectionWidth, width})))
      return failure();
  for (Value bias : getQkvBiases())
    if (failed(verifyShape(*this, "qkv bias", bias, {projectionWidth})))
      return failure();
  if (failed(
          verifyShape(*this, "proj weight", getProjWeight(), {width, width})))
    return failure();
  return verifyShape(*this, "proj bias", getProjBias(), {width});
}

int64_t AttentionOp::getMacCount() {
  ArrayRef<int64_t> input = shapeOf(getInput());
  int64_t rows = input[0] * input[1];
  int64_t width = input[2];
  int64_t projections = rows * width * 3 * width + rows * width * width;
  // Per image: QK^T and PV each take tokens * tokens * width MACs summed
  // over heads.
  int64_t core = 2 * input[0] * input[1] * input[1] * width;
  return projections + core;
}

//===----------------------------------------------------------------------===//
// MlpOp
//===----------------------------------------------------------------------===//

LogicalResult MlpOp::verify() {
  if (failed(verifyRank(*this, "input", getInput(), 3)) ||
      failed(verifyRank(*this, "fc1 weight", getFc1Weight(), 2)))
    return failure();
  int64_t width = shapeOf(getInput())[2];
  int64_t hidden = shapeOf(getFc1Weight())[0];
  if (failed(
          verifyShape(*this, "fc1 weight", getFc1Weight(), {hidden, width})) ||
      failed(verifyShape(*this, "fc1 bias", getFc1Bias(), {hidden})) ||
      failed(verifyShape(*this, "fc2 weight", getFc2Weight(), {width, hidden})))
    return failure();
  return verifyShape(*this, "fc2 bias", getFc2Bias(), {width});
}

int64_t MlpOp::getMacCount() {
  ArrayRef<int64_t> input = shapeOf(getInput());
  int64_t hidden = shapeOf(getFc1Weight())[0];
  return 2 * input[0] * input[1] * input[2] * hidden;
}

//===----------------------------------------------------------------------===//
// ClassifierHeadOp
//===----------------------------------------------------------------------===//

LogicalResult ClassifierHeadOp::verify() {
  if (failed(verifyRank(*this, "input", getInput(), 3)) ||
      failed(verifyRank(*this, "weight", getWeight(), 2)))
    return failure();
  ArrayRef<int64_t> input = shapeOf(getInput());
  int64_t classes = shapeOf(getWeight())[0];
  if (failed(verifyShape(*this, "weight", getWeight(), {classes, input[2]})) ||
      failed(verifyShape(*this, "bias", getBias(), {classes})))
    return failure();
  return verifyShape(*this, "result", getResult(), {input[0], classes});
}

int64_t ClassifierHeadOp::getMacCount() {
  ArrayRef<int64_t> weight = shapeOf(getWeight());
  return shapeOf(getInput())[0] * weight[0] * weight[1];
}

//===----------------------------------------------------------------------===//
// PatchifyOp
//===----------------------------------------------------------------------===//

LogicalResult PatchifyOp::verify() {
  int64_t patch = getPatchSize();
  FailureOr<ImageDims> image =
      verifyPatchedImage(*this, getImage(), getInputLayout(), patch);
  if (failed(image))
    return failure();
  return verifyShape(*this, "result", getResult(),
                     {image->batch,
                      (image->height / patch) * (image->width / patch),
                      image->channels * patch * patch});
}

//===----------------------------------------------------------------------===//
// LinearOp
//===----------------------------------------------------------------------===//

/// Whether `part` equals the last dimensions of `whole`.
static bool isTrailingPart(ArrayRef<int64_t> part, ArrayRef<int64_t> whole) {
  return !part.empty() && part.size() <= whole.size() &&
         whole.take_back(part.size()) == part;
}

LogicalResult LinearOp::verify() {
  ArrayRef<int64_t> input = shapeOf(getInput());
  if (input.size() < 2)
    return emitOpError() << "expects input of rank at least 2, got rank "
                         << input.size();
  ArrayRef<int64_t> weight = shapeOf(getWeight());
  int64_t outFeatures = shapeOf(getResult()).back();
  if (weight.size() == 3) {
    // K-major panels [P, K, R] of P * R output features.
    if (weight[1] != input.back() || weight[0] * weight[2] != outFeatures)
      return emitOpError() << "expects a packed weight [P, " << input.back()
                           << ", R] with P * R = " << outFeatures << ", got "
                           << vitc::formatShape(weight);
  } else {
    if (failed(verifyRank(*this, "weight", getWeight(), 2)))
      return failure();
    outFeatures = weight[0];
    if (failed(verifyShape(*this, "weight", getWeight(),
                           {outFeatures, input.back()})))
      return failure();
  }
  if (getBias() && failed(verifyShape(*this, "bias", getBias(), {outFeatures})))
    return failure();
  SmallVector<int64_t> resultShape(input);
  resultShape.back() = outFeatures;
  if (failed(verifyShape(*this, "result", getResult(), resultShape)))
    return failure();
  if (getResidual() && !isTrailingPart(shapeOf(getResidual()), resultShape))
    return emitOpError() << "expects residual of the result's shape "
                         << vitc::formatShape(resultShape)
                         << " or a trailing part of it, got "
                         << vitc::formatShape(shapeOf(getResidual()));
  // The weight may be stored narrower than the activations: it then gives
  // the precision of the product (the input is rounded to it, products
  // accumulate in the result's type).
  Type element = getElementTypeOrSelf(getResult().getType());
  Type weightElement = getElementTypeOrSelf(getWeight().getType());
  if (weightElement != element &&
      !(element.isF32() && (weightElement.isBF16() || weightElement.isF16())))
    return emitOpError() << "expects a weight of the result's element type, "
                            "or bf16/f16 with f32 results; got "
                         << weightElement << " with " << element;
  for (Value operand : {getInput(), getBias(), getResidual()})
    if (operand && getElementTypeOrSelf(operand.getType()) != element)
      return emitOpError()
             << "expects input, bias and residual of the result's element "
                "type "
             << element;
  return success();
}

int64_t LinearOp::getMacCount() {
  return cast<ShapedType>(getResult().getType()).getNumElements() *
         shapeOf(getInput()).back();
}

//===----------------------------------------------------------------------===//
// AddOp
//===----------------------------------------------------------------------===//

LogicalResult AddOp::verify() {
  if (isTrailingPart(shapeOf(getRhs()), shapeOf(getLhs())))
    return success();
  return emitOpError() << "expects rhs of lhs's shape "
                       << vitc::formatShape(shapeOf(getLhs()))
                       << " or a trailing part of it, got "
                       << vitc::formatShape(shapeOf(getRhs()));
}

//===----------------------------------------------------------------------===//
// AttentionCoreOp
//===----------------------------------------------------------------------===//

LogicalResult AttentionCoreOp::verify() {
  if (failed(verifyRank(*this, "query", getQuery(), 3)))
    return failure();
  ArrayRef<int64_t> query = shapeOf(getQuery());
  int64_t width = query[2];
  if (width % getNumHeads() != 0)
    return emitOpError() << "expects num_heads (" << getNumHeads()
                         << ") to divide the width (" << width << ")";
  if (failed(verifyRank(*this, "key", getKey(), 3)))
    return failure();
  ArrayRef<int64_t> key = shapeOf(getKey());
  if (key[0] != query[0] || key[2] != width)
    return emitOpError() << "expects keys of the queries' batch and width, "
                         << vitc::formatShape(key) << " against "
                         << vitc::formatShape(query);
  return success();
}

int64_t AttentionCoreOp::getMacCount() {
  ArrayRef<int64_t> query = shapeOf(getQuery());
  ArrayRef<int64_t> key = shapeOf(getKey());
  // QK^T and PV: queries * keys * width each, summed over heads.
  return 2 * query[0] * query[1] * key[1] * query[2];
}

//===----------------------------------------------------------------------===//
// PrependTokenOp
//===----------------------------------------------------------------------===//

LogicalResult PrependTokenOp::verify() {
  if (failed(verifyRank(*this, "tokens", getTokens(), 3)))
    return failure();
  ArrayRef<int64_t> tokens = shapeOf(getTokens());
  if (failed(verifyShape(*this, "token", getToken(), {tokens[2]})))
    return failure();
  return verifyShape(*this, "result", getResult(),
                     {tokens[0], tokens[1] + 1, tokens[2]});
}

//===----------------------------------------------------------------------===//
// KernelOp
//===----------------------------------------------------------------------===//

LogicalResult KernelOp::verify() {
  if (getName().empty())
    return emitOpError("expects a non-empty kernel name");
  if (getNumResults() == 0)
    return emitOpError("expects at least one result");
  Block &body = getBody().front();
  if (body.getArgumentTypes() != getInputs().getTypes())
    return emitOpError("expects the body's arguments to have the types of "
                       "the inputs");
  // Runs before the terminator trait's own check, so do not assume it.
  auto yield = body.empty() ? YieldOp() : dyn_cast<YieldOp>(body.back());
  if (!yield)
    return emitOpError("expects the body to end with a 'vit.yield' "
                       "terminator");
  if (yield.getValues().getTypes() != getResultTypes())
    return emitOpError("expects the yielded values to have the types of the "
                       "results");
  return success();
}
