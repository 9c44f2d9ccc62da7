//===- DeduplicateKernels.cpp - One function per distinct kernel ----------===//

#include "vitc/Dialect/ViT/IR/ViTOps.h"
#include "vitc/Dialect/ViT/Transforms/Passes.h"
#include "vitc/Support/KernelContract.h"

#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringExtras.h"

#include <map>

namespace vitc::vit {
#define GEN_PASS_DEF_VITDEDUPLICATEKERNELSPASS
#include "vitc/Dialect/ViT/Transforms/Passes.h.inc"
} // namespace vitc::vit

using namespace mlir;

namespace {

constexpr OperationEquivalence::Flags kEquivalence =
    OperationEquivalence::IgnoreLocations;

/// A hash equal for kernels that may be equivalent: their type and the
/// ops of their bodies, ignoring locations and how values connect (which
/// isRegionEquivalentTo then checks).
llvm::hash_code hashKernel(func::FuncOp kernel) {
  llvm::hash_code hash = hash_value(kernel.getFunctionType());
  kernel.getBody().walk([&](Operation *op) {
    hash = llvm::hash_combine(
        hash, OperationEquivalence::computeHash(
                  op, OperationEquivalence::ignoreHashValue,
                  OperationEquivalence::ignoreHashValue, kEquivalence));
  });
  return hash;
}

bool areEquivalent(func::FuncOp lhs, func::FuncOp rhs) {
  return lhs.getFunctionType() == rhs.getFunctionType() &&
         OperationEquivalence::isRegionEquivalentTo(
             &lhs.getBody(), &rhs.getBody(), kEquivalence);
}

/// What the strings `parts` have in common: the string itself if they are
/// equal, else their common prefix and suffix around a `*` ("norm1",
/// "norm2" -> "norm*"; "0", "11" -> "*").
std::string sharedPart(ArrayRef<StringRef> parts) {
  StringRef first = parts.front();
  if (llvm::all_equal(parts))
    return first.str();
  size_t prefix = first.size(), suffix = first.size();
  for (StringRef part : parts.drop_front()) {
    size_t common = 0;
    while (common < std::min(prefix, part.size()) &&
           part[common] == first[common])
      ++common;
    prefix = common;
    common = 0;
    while (common < std::min(suffix, part.size()) &&
           part.end()[-1 - common] == first.end()[-1 - common])
      ++common;
    suffix = common;
  }
  // The shortest part bounds both, so that they do not overlap in it.
  size_t shortest = first.size();
  for (StringRef part : parts)
    shortest = std::min(shortest, part.size());
  suffix = std::min(suffix, shortest - std::min(prefix, shortest));
  return (first.take_front(prefix) + "*" + first.take_back(suffix)).str();
}

/// The name shared by the kernels named `names`: dot-separated parts they
/// agree on, and what differing parts have in common ("blocks.*.mlp.fc1",
/// "blocks.*.norm*"). Names with different numbers of parts are grouped by
/// that number and the groups' names joined with ",": the final norm shares
/// a kernel with the blocks' norms as "blocks.*.norm*,norm".
std::string sharedName(ArrayRef<StringRef> names) {
  std::map<size_t, SmallVector<SmallVector<StringRef>>> byLength;
  for (StringRef name : names) {
    SmallVector<StringRef> parts;
    name.split(parts, '.');
    byLength[parts.size()].push_back(parts);
  }
  SmallVector<std::string> groups;
  // Longest names first: the blocks' kernels before the model's own.
  for (auto &[length, members] : llvm::reverse(byLength)) {
    SmallVector<std::string> shared;
    for (size_t i = 0; i < length; ++i) {
      SmallVector<StringRef> column;
      for (const SmallVector<StringRef> &parts : members)
        column.push_back(parts[i]);
      shared.push_back(sharedPart(column));
    }
    groups.push_back(llvm::join(shared, "."));
  }
  return llvm::join(groups, ",");
}

struct ViTDeduplicateKernelsPass
    : public vitc::vit::impl::ViTDeduplicateKernelsPassBase<
          ViTDeduplicateKernelsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Classes of equivalent kernels, in module order, by hash.
    llvm::MapVector<llvm::hash_code, SmallVector<SmallVector<func::FuncOp>>>
        buckets;
    for (auto kernel : module.getOps<func::FuncOp>()) {
      if (!vitc::isKernelFunction(kernel))
        continue;
      auto &classes = buckets[hashKernel(kernel)];
      auto match = llvm::find_if(classes, [&](const auto &members) {
        return areEquivalent(members.front(), kernel);
      });
      if (match == classes.end())
        classes.push_back({kernel});
      else
        match->push_back(kernel);
    }

    SymbolTable symbols(module);
    for (auto &[hash, classes] : buckets) {
      for (SmallVector<func::FuncOp> &members : classes) {
        if (members.size() == 1)
          continue;
        func::FuncOp kept = members.front();
        SmallVector<StringRef> names;
        for (func::FuncOp member : members)
          names.push_back(
              member->getAttrOfType<StringAttr>(vitc::kKernelNameAttr)
                  .getValue());
        std::string name = sharedName(names);
        for (func::FuncOp member : ArrayRef(members).drop_front()) {
          if (failed(symbols.replaceAllSymbolUses(member, kept.getSymNameAttr(),
                                                  module))) {
            member.emitError("cannot redirect the calls of this kernel");
            return signalPassFailure();
          }
          symbols.erase(member);
        }
        kept->setAttr(vitc::kKernelNameAttr,
                      StringAttr::get(&getContext(), name));
        if (failed(symbols.rename(kept, vitc::vit::kernelSymbol(name)))) {
          kept.emitError("cannot rename the shared kernel");
          return signalPassFailure();
        }
      }
    }
  }
};

} // namespace
