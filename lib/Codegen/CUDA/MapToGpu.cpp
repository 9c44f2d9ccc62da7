//===- MapToGpu.cpp - Scheduled kernels to gpu.func -----------------------===//
//
// The one step that is specific to the GPU: block loops become the grid,
// thread loops become thread ids with barriers between them, and workgroup
// buffers become shared memory. Everything before it also runs on the CPU.
//
//===----------------------------------------------------------------------===//

#include "vitc/Codegen/CUDA/Passes.h"

#include "mlir/Dialect/GPU/TransformOps/GPUTransformOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Transform/Transforms/TransformInterpreterUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Transforms/RegionUtils.h"

namespace vitc::cuda {
#define GEN_PASS_DEF_CUDAMAPTOGPUPASS
#include "vitc/Codegen/CUDA/Passes.h.inc"
} // namespace vitc::cuda

using namespace mlir;
using namespace vitc;
using namespace vitc::cuda;

/// Alignment of every shared-memory buffer: that of a 16-byte vector.
static constexpr int64_t kSharedMemoryAlignment = 16;

/// Maps the block loop of `kernel` to a gpu.launch of `threads` threads per
/// block, with upstream's transform ops.
static FailureOr<gpu::LaunchOp> mapToLaunch(func::FuncOp kernel,
                                            int64_t threads) {
  std::string script = R"mlir(
    module attributes {transform.with_named_sequence} {
      transform.named_sequence @__transform_main(
          %kernel: !transform.any_op {transform.consumed}) {
        %launch = transform.gpu.map_forall_to_blocks %kernel
            generate_gpu_launch : (!transform.any_op) -> !transform.any_op
        transform.gpu.map_nested_forall_to_threads %launch
            block_dims = [)mlir" +
                       std::to_string(threads) + R"mlir(, 1, 1]
            : (!transform.any_op) -> !transform.any_op
        transform.yield
      }
    })mlir";
  OwningOpRef<ModuleOp> transforms =
      parseSourceString<ModuleOp>(script, ParserConfig(kernel.getContext()));
  if (!transforms)
    return failure();
  Operation *entry =
      SymbolTable::lookupSymbolIn(*transforms, "__transform_main");
  if (failed(transform::applyTransformNamedSequence(
          kernel, entry, *transforms, transform::TransformOptions())))
    return failure();
  auto launches = kernel.getOps<gpu::LaunchOp>();
  if (!llvm::hasSingleElement(launches))
    return kernel.emitError("expected one gpu.launch after mapping");
  return *launches.begin();
}

static std::optional<int32_t> constantIndex(Value value) {
  std::optional<int64_t> constant = getConstantIntValue(value);
  if (!constant)
    return std::nullopt;
  return static_cast<int32_t>(*constant);
}

/// Moves the body of `launch` into a kernel gpu.func named and typed like
/// `kernel`, so that its parameters are exactly the kernel ABI (inputs, then
/// outputs), and launches it from `kernel`.
static LogicalResult outline(func::FuncOp kernel, gpu::LaunchOp launch,
                             gpu::GPUModuleOp gpuModule) {
  Location loc = launch.getLoc();
  OpBuilder b = OpBuilder::atBlockEnd(gpuModule.getBody());
  auto function = gpu::GPUFuncOp::create(b, loc, kernel.getSymName(),
                                         kernel.getFunctionType());
  function->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), b.getUnitAttr());
  gpu::KernelDim3 grid = launch.getGridSizeOperandValues();
  gpu::KernelDim3 block = launch.getBlockSizeOperandValues();
  auto known =
      [](gpu::KernelDim3 sizes) -> std::optional<SmallVector<int32_t>> {
    std::optional<int32_t> x = constantIndex(sizes.x),
                           y = constantIndex(sizes.y),
                           z = constantIndex(sizes.z);
    if (!x || !y || !z)
      return std::nullopt;
    return SmallVector<int32_t>{*x, *y, *z};
  };
  if (auto sizes = known(grid))
    function.setKnownGridSize(ArrayRef<int32_t>(*sizes));
  if (auto sizes = known(block))
    function.setKnownBlockSize(ArrayRef<int32_t>(*sizes));
  if (auto blocks = kernel->getAttrOfType<IntegerAttr>(
          kCudaMinBlocksPerMultiprocessorAttr))
    function->setAttr(NVVM::NVVMDialect::getMinctasmAttrName(),
                      b.getI32IntegerAttr(blocks.getInt()));

  IRMapping mapping;
  mapping.map(kernel.getArguments(), function.getArguments());
  b.setInsertionPointToStart(&function.front());
  // The launch's block arguments are ids and sizes, which a gpu.func reads
  // with ops.
  gpu::KernelDim3 blockIds = launch.getBlockIds(),
                  threadIds = launch.getThreadIds(),
                  gridSizes = launch.getGridSize(),
                  blockSizes = launch.getBlockSize();
  gpu::Dimension dimensions[] = {gpu::Dimension::x, gpu::Dimension::y,
                                 gpu::Dimension::z};
  for (gpu::Dimension dimension : dimensions) {
    auto pick = [&](gpu::KernelDim3 values) {
      return dimension == gpu::Dimension::x   ? values.x
             : dimension == gpu::Dimension::y ? values.y
                                              : values.z;
    };
    auto read = [&](Value argument, auto op) {
      if (!argument.use_empty())
        mapping.map(argument, decltype(op)::create(b, loc, dimension));
    };
    read(pick(blockIds), gpu::BlockIdOp());
    read(pick(threadIds), gpu::ThreadIdOp());
    read(pick(gridSizes), gpu::GridDimOp());
    read(pick(blockSizes), gpu::BlockDimOp());
  }
  // Views of the arguments and constants computed before the launch are
  // recomputed in the kernel.
  SetVector<Value> captured;
  getUsedValuesDefinedAbove(launch.getBody(), captured);
  std::function<LogicalResult(Value)> recompute =
      [&](Value value) -> LogicalResult {
    if (mapping.contains(value))
      return success();
    Operation *op = value.getDefiningOp();
    if (!op || !isPure(op) || op->getNumRegions() != 0)
      return launch.emitError("kernel body uses a value computed on the host");
    for (Value operand : op->getOperands())
      if (failed(recompute(operand)))
        return failure();
    b.clone(*op, mapping);
    return success();
  };
  for (Value value : captured)
    if (failed(recompute(value)))
      return failure();
  if (!launch.getBody().hasOneBlock())
    return launch.emitError("expected a single-block launch body");
  for (Operation &op : launch.getBody().front().without_terminator())
    b.clone(op, mapping);
  // The barrier after the last thread loop orders nothing.
  if (!function.front().empty())
    if (auto barrier = dyn_cast<gpu::BarrierOp>(function.front().back()))
      barrier.erase();
  gpu::ReturnOp::create(b, loc);

  // Workgroup buffers become shared-memory attributions of the kernel.
  int64_t sharedBytes = 0;
  function.walk([&](memref::AllocOp alloc) {
    MemRefType type = alloc.getType();
    auto space = dyn_cast_or_null<gpu::AddressSpaceAttr>(type.getMemorySpace());
    if (!space || space.getValue() != gpu::AddressSpace::Workgroup)
      return;
    alloc.replaceAllUsesWith(
        function.addWorkgroupAttribution(type, alloc.getLoc()));
    alloc.erase();
    // Threads read and write these buffers with 16-byte vector accesses
    // (ld.shared.v4), which need 16-byte-aligned variables; without the
    // attribute the variable is only element-aligned.
    function.setWorkgroupAttributionAttr(
        function.getNumWorkgroupAttributions() - 1,
        LLVM::LLVMDialect::getAlignAttrName(),
        b.getI64IntegerAttr(kSharedMemoryAlignment));
    sharedBytes += type.getNumElements() *
                   llvm::divideCeil(type.getElementTypeBitWidth(), 8);
  });
  kernel->setAttr(kCudaSharedMemoryAttr, b.getI64IntegerAttr(sharedBytes));

  b.setInsertionPoint(launch);
  gpu::LaunchFuncOp::create(b, loc, function, grid, block,
                            /*dynamicSharedMemorySize=*/Value(),
                            kernel.getArguments());
  launch.erase();
  // The views the kernel recomputes are dead on the host.
  for (Operation &op : llvm::make_early_inc_range(
           llvm::reverse(kernel.front().getOperations())))
    if (isOpTriviallyDead(&op))
      op.erase();
  return success();
}

namespace {

struct CudaMapToGpuPass
    : vitc::cuda::impl::CudaMapToGpuPassBase<CudaMapToGpuPass> {
  void getDependentDialects(DialectRegistry &registry) const override {
    Base::getDependentDialects(registry);
    gpu::registerTransformDialectExtension(registry);
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    gpu::GPUModuleOp gpuModule;
    for (auto kernel : module.getOps<func::FuncOp>()) {
      auto threads = kernel->getAttrOfType<IntegerAttr>(kCudaBlockSizeAttr);
      if (!isKernelFunction(kernel) || !threads)
        continue;
      if (!gpuModule)
        gpuModule =
            gpu::GPUModuleOp::create(b, module.getLoc(), kCudaKernelModuleName);
      FailureOr<gpu::LaunchOp> launch = mapToLaunch(kernel, threads.getInt());
      if (failed(launch) || failed(outline(kernel, *launch, gpuModule)))
        return signalPassFailure();
    }
    if (gpuModule)
      module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                      b.getUnitAttr());
  }
};

} // namespace
