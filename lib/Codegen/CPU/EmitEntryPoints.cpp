//===- EmitEntryPoints.cpp - The bindings calling convention --------------===//
//
// The runtime calls every kernel the same way, whatever its arity:
//   void <symbol>(void *const *bindings, int64_t tile_begin, int64_t tile_end)
// with bindings[i] the data of the i-th input, then of the outputs.
//
//===----------------------------------------------------------------------===//

#include "vitc/Codegen/CPU/Passes.h"

#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/SymbolTable.h"

namespace vitc::cpu {
#define GEN_PASS_DEF_CPUEMITENTRYPOINTSPASS
#include "vitc/Codegen/CPU/Passes.h.inc"
} // namespace vitc::cpu

using namespace mlir;
using namespace vitc;
using namespace vitc::cpu;

/// Emits `void <symbol>(ptr bindings, i64 begin, i64 end)` calling `impl`,
/// whose arguments are the bound pointers followed by begin and end.
static LogicalResult emitEntryPoint(ImplicitLocOpBuilder &b,
                                    LLVM::LLVMFuncOp impl, StringRef symbol) {
  MLIRContext *ctx = b.getContext();
  LLVM::LLVMFunctionType implType = impl.getFunctionType();
  auto ptrType = LLVM::LLVMPointerType::get(ctx);
  auto i64Type = IntegerType::get(ctx, 64);
  ArrayRef<Type> params = implType.getParams();
  if (params.size() < 2 ||
      params.take_back(2) != ArrayRef<Type>{i64Type, i64Type} ||
      llvm::any_of(params.drop_back(2),
                   [&](Type type) { return type != ptrType; }) ||
      !isa<LLVM::LLVMVoidType>(implType.getReturnType()))
    return impl.emitError("kernel is not (ptr..., i64, i64) -> void after "
                          "lowering; was it compiled with bare pointers?");

  auto entryType = LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx),
                                               {ptrType, i64Type, i64Type});
  auto entry = LLVM::LLVMFuncOp::create(b, symbol, entryType);
  // The attributes describe the entry point from now on.
  for (StringRef name : {kKernelNameAttr, kNumTilesAttr})
    if (Attribute attr = impl->removeAttr(name))
      entry->setAttr(name, attr);
  Block *body = entry.addEntryBlock(b);
  b.setInsertionPointToStart(body);
  Value bindings = body->getArgument(0);
  SmallVector<Value> args;
  for (int64_t i = 0, e = params.size() - 2; i < e; ++i) {
    Value slot = LLVM::GEPOp::create(b, ptrType, ptrType, bindings,
                                     ArrayRef<LLVM::GEPArg>{i});
    args.push_back(LLVM::LoadOp::create(b, ptrType, slot));
  }
  args.append({body->getArgument(1), body->getArgument(2)});
  LLVM::CallOp::create(b, impl, args);
  LLVM::ReturnOp::create(b, ValueRange{});
  return success();
}

namespace {

struct CpuEmitEntryPointsPass
    : public vitc::cpu::impl::CpuEmitEntryPointsPassBase<
          CpuEmitEntryPointsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    ImplicitLocOpBuilder b(module.getLoc(), &getContext());
    for (auto function :
         llvm::make_early_inc_range(module.getOps<LLVM::LLVMFuncOp>())) {
      if (function.isExternal())
        continue;
      // Only the entry points are visible outside the shared object.
      function.setLinkage(LLVM::Linkage::Internal);
      if (!isKernelFunction(function))
        continue;
      std::string symbol = function.getSymName().str();
      function.setSymName(symbol + "_impl");
      b.setLoc(function.getLoc());
      b.setInsertionPointAfter(function);
      if (failed(emitEntryPoint(b, function, symbol)))
        return signalPassFailure();
    }
  }
};

} // namespace
