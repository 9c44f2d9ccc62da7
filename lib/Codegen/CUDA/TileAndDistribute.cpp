//===- TileAndDistribute.cpp - Kernels to block and thread loops ----------===//
//
// The GPU schedule of a kernel in target-neutral form:
//
//   scf.forall (block tile) {mapping = [#gpu.block<linear_dim_*>]} {
//     intermediates: bufferization.alloc_tensor in workgroup memory
//     scf.forall (op 1's thread tile) {mapping = [#gpu.thread<...>]}
//     scf.for (K step of a linear) {
//       scf.forall (copy of an operand tile) {mapping = [#gpu.thread<...>]}
//       scf.forall (matmul step) {mapping = [#gpu.thread<...>]}
//     }
//     scf.forall (op n's thread tile) {mapping = [#gpu.thread<...>]}
//   }
//
// Steps, on a copy of the kernel per candidate block tile: tile the op
// writing the result to blocks and fuse all producers, split row reductions
// over threads, stage matmul operands, move intermediates to workgroup
// memory (the candidate fails if they exceed the budget), give each op its
// own thread loop. Consecutive thread loops are separated by a barrier on
// the GPU and run one after the other in the CPU emulation.
//
//===----------------------------------------------------------------------===//

#include "vitc/Codegen/CUDA/Passes.h"
#include "vitc/Codegen/CUDA/TileHeuristics.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Dominance.h"
#include "mlir/Interfaces/ValueBoundsOpInterface.h"
#include "mlir/Transforms/CSE.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace vitc::cuda {
#define GEN_PASS_DEF_CUDATILEANDDISTRIBUTEPASS
#include "vitc/Codegen/CUDA/Passes.h.inc"
} // namespace vitc::cuda

using namespace mlir;
using namespace vitc;
using namespace vitc::cuda;

/// Mapping of `count` loops to linear ids, the innermost loop fastest, so
/// that neighbouring threads handle neighbouring elements.
template <typename MappingAttr>
static SmallVector<Attribute> linearMapping(MLIRContext *ctx, unsigned count) {
  SmallVector<Attribute> mapping;
  for (unsigned loop = 0; loop < count; ++loop)
    mapping.push_back(MappingAttr::get(
        ctx, static_cast<gpu::MappingId>(
                 static_cast<int64_t>(gpu::MappingId::LinearDim0) + count - 1 -
                 loop)));
  return mapping;
}

/// Static upper bounds of the loops of `op`: partial tiles have dynamic
/// sizes, bounded by the tile size.
static FailureOr<SmallVector<int64_t>> getLoopBounds(linalg::LinalgOp op) {
  SmallVector<int64_t> bounds = op.getStaticLoopRanges();
  for (auto [loop, bound] : llvm::enumerate(bounds)) {
    for (OpOperand &operand : op->getOpOperands()) {
      if (!ShapedType::isDynamic(bound) ||
          !isa<ShapedType>(operand.get().getType()))
        continue;
      for (auto [dim, expr] :
           llvm::enumerate(op.getMatchingIndexingMap(&operand).getResults())) {
        if (!expr.isFunctionOfDim(loop) || !isa<AffineDimExpr>(expr))
          continue;
        FailureOr<int64_t> upper =
            ValueBoundsConstraintSet::computeConstantBound(
                presburger::BoundType::UB,
                ValueBoundsConstraintSet::Variable(operand.get(), dim),
                /*stopCondition=*/nullptr, /*closedUB=*/true);
        if (succeeded(upper)) {
          bound = *upper;
          break;
        }
      }
    }
    if (ShapedType::isDynamic(bound))
      return op.emitError("no static bound for loop ") << loop;
  }
  return bounds;
}

/// Folds slices of tensor.empty and dead producers. Only before workgroup
/// buffers exist may CSE run as well: it merges fused copies of one producer
/// (a layer norm's mean, needed by the variance and by the output), but
/// would also merge equal buffer allocations.
static void cleanUp(RewriterBase &rewriter, func::FuncOp kernel, bool cse) {
  MLIRContext *ctx = kernel.getContext();
  RewritePatternSet patterns(ctx);
  tensor::populateFoldTensorEmptyPatterns(patterns);
  tensor::ExtractSliceOp::getCanonicalizationPatterns(patterns, ctx);
  tensor::EmptyOp::getCanonicalizationPatterns(patterns, ctx);
  affine::AffineMinOp::getCanonicalizationPatterns(patterns, ctx);
  // Sizes read from a producer's result come from its init instead, so
  // that producers fused elsewhere become dead.
  memref::populateResolveRankedShapedTypeResultDimsPatterns(patterns);
  (void)applyPatternsGreedily(kernel, std::move(patterns));
  if (!cse)
    return;
  DominanceInfo dominance;
  eliminateCommonSubExpressions(rewriter, dominance, kernel);
}

/// Fuses producers whose whole result a tile reads. Tile-and-fuse only
/// follows tensor.extract_slice, and a slice covering a whole tensor folds
/// away (a 4-token patch embedding reads all patches in every block).
static LogicalResult
fuseWholeProducers(RewriterBase &rewriter, scf::ForallOp forall,
                   MutableArrayRef<LoopLikeOpInterface> loops) {
  auto nextUse = [&]() -> OpOperand * {
    OpOperand *found = nullptr;
    forall.getBody()->walk([&](Operation *op) {
      for (OpOperand &operand : op->getOpOperands()) {
        Operation *producer = operand.get().getDefiningOp();
        if (isa_and_nonnull<TilingInterface>(producer) &&
            !forall->isAncestor(producer)) {
          found = &operand;
          return WalkResult::interrupt();
        }
      }
      return WalkResult::advance();
    });
    return found;
  };
  while (OpOperand *use = nextUse()) {
    Value whole = use->get();
    auto type = cast<RankedTensorType>(whole.getType());
    rewriter.setInsertionPoint(use->getOwner());
    SmallVector<OpFoldResult> zeros(type.getRank(), rewriter.getIndexAttr(0));
    SmallVector<OpFoldResult> ones(type.getRank(), rewriter.getIndexAttr(1));
    auto slice = tensor::ExtractSliceOp::create(
        rewriter, whole.getLoc(), type, whole, zeros,
        getAsIndexOpFoldResult(rewriter.getContext(), type.getShape()), ones);
    std::optional<scf::SCFFuseProducerOfSliceResult> fused =
        scf::tileAndFuseProducerOfSlice(rewriter, slice, loops);
    if (!fused)
      return whole.getDefiningOp()->emitError(
          "could not fuse into the kernel's block tile");
    rewriter.modifyOpInPlace(use->getOwner(),
                             [&] { use->set(fused->tiledAndFusedProducer); });
    rewriter.eraseOp(slice);
  }
  return success();
}

/// Tiles `root` into a block loop and fuses all its producers into it.
static FailureOr<scf::ForallOp> tileToBlocks(RewriterBase &rewriter,
                                             func::FuncOp kernel,
                                             linalg::LinalgOp root,
                                             ArrayRef<int64_t> tileSizes) {
  MLIRContext *ctx = kernel.getContext();
  SmallVector<int64_t> sizes(tileSizes);
  // A kernel that fits one block still needs a block loop to map.
  if (llvm::all_of(sizes, [](int64_t size) { return size == 0; }))
    sizes.front() = root.getStaticLoopRanges().front();
  unsigned tiled = llvm::count_if(sizes, [](int64_t size) { return size; });

  scf::SCFTilingOptions tiling;
  tiling.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp)
      .setTileSizes(getAsIndexOpFoldResult(ctx, sizes))
      .setMapping(linearMapping<gpu::GPUBlockMappingAttr>(ctx, tiled));
  scf::SCFTileAndFuseOptions options;
  options.setTilingOptions(tiling);
  // Bubbling slices up through reshapes lets producers fuse across the
  // reshapes between a matmul and its epilogue.
  RewritePatternSet cleanup(ctx);
  tensor::ExtractSliceOp::getCanonicalizationPatterns(cleanup, ctx);
  tensor::populateMergeConsecutiveInsertExtractSlicePatterns(cleanup);
  tensor::populateBubbleUpExtractSliceOpPatterns(cleanup);
  options.cleanupPatterns = FrozenRewritePatternSet(std::move(cleanup));

  rewriter.setInsertionPoint(root);
  FailureOr<scf::SCFTileAndFuseResult> result =
      scf::tileConsumerAndFuseProducersUsingSCF(
          rewriter, cast<TilingInterface>(root.getOperation()), options);
  if (failed(result))
    return root.emitError("could not tile the kernel's result to blocks");
  auto forall = cast<scf::ForallOp>(result->loops.front().getOperation());
  for (OpResult value : root->getResults())
    rewriter.replaceUsesWithIf(
        value, result->replacements.lookup(value),
        [&](OpOperand &use) { return !forall->isAncestor(use.getOwner()); });
  if (failed(fuseWholeProducers(rewriter, forall, result->loops)))
    return failure();
  cleanUp(rewriter, kernel, /*cse=*/true);

  // One launch means nothing may compute outside the block loop; what is
  // left there must be views of the arguments.
  for (Operation &op : kernel.front()) {
    if (&op == forall.getOperation() || op.hasTrait<OpTrait::IsTerminator>() ||
        (isPure(&op) && !isa<linalg::LinalgOp>(op) && op.getNumRegions() == 0))
      continue;
    if (isa<bufferization::ToTensorOp,
            bufferization::MaterializeInDestinationOp, memref::ExpandShapeOp,
            memref::CollapseShapeOp>(op))
      continue;
    return op.emitError("could not fuse into the kernel's block tile");
  }
  FailureOr<scf::ForallOp> normalized = normalizeForallOp(rewriter, forall);
  if (failed(normalized))
    return forall.emitError("could not normalize the block loop");
  return *normalized;
}

/// The linalg ops of a block tile not yet distributed over threads, in
/// order: those directly in the block loop and those in its K loops.
static SmallVector<linalg::LinalgOp> getTileOps(scf::ForallOp block) {
  SmallVector<linalg::LinalgOp> ops;
  block.getBody()->walk<WalkOrder::PreOrder>([&](Operation *op) {
    if (isa<scf::ForallOp>(op))
      return WalkResult::skip();
    if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op))
      ops.push_back(linalgOp);
    return WalkResult::advance();
  });
  return ops;
}

/// K step of the staged matmuls. LLVM keeps a thread's operand row of a
/// step in registers; at 32 that takes a linear kernel past 128 registers
/// per thread, which leaves room for only one block per multiprocessor.
static constexpr int64_t kStageDepth = 16;

/// Splits the K loop of each matmul of a linear into steps of kStageDepth
/// and stages the operand tiles of a step in workgroup memory: the block's
/// threads copy them from global memory with coalesced loads (neighbouring
/// threads read neighbouring elements of a row), then the matmul's threads
/// read them from shared memory, where a row pitch of kStageDepth + 1 words
/// puts the rows a warp reads in different banks. An operand computed in
/// the block (the patch gather of a patch embedding) is fused into the K
/// loop instead, so that it too is computed one step at a time.
static LogicalResult stageMatmulOperands(RewriterBase &rewriter,
                                         scf::ForallOp block) {
  for (linalg::LinalgOp op : getTileOps(block)) {
    FailureOr<linalg::ContractionDimensions> dims =
        linalg::inferContractionDims(op);
    if (!isa<linalg::MatmulOp>(op) || failed(dims) || dims->k.size() != 1)
      continue;
    int64_t depth = op.getStaticLoopRanges()[dims->k.front()];
    if (ShapedType::isDynamic(depth) || depth <= kStageDepth)
      continue;
    SmallVector<int64_t> steps(op.getNumLoops(), 0);
    steps[dims->k.front()] = kStageDepth;
    scf::SCFTilingOptions tiling;
    tiling.setTileSizes(getAsIndexOpFoldResult(rewriter.getContext(), steps));
    rewriter.setInsertionPoint(op);
    FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
        rewriter, cast<TilingInterface>(op.getOperation()), tiling);
    if (failed(tiled))
      return op.emitError("could not split the K loop of a matmul");
    rewriter.replaceOp(op, tiled->replacements);

    auto step = cast<linalg::LinalgOp>(tiled->tiledOps.front());
    for (OpOperand *input : step.getDpsInputOperands()) {
      auto slice = input->get().getDefiningOp<tensor::ExtractSliceOp>();
      if (!slice)
        continue;
      Operation *producer = slice.getSource().getDefiningOp();
      if (isa_and_nonnull<linalg::LinalgOp>(producer) &&
          block->isAncestor(producer)) {
        std::optional<scf::SCFFuseProducerOfSliceResult> fused =
            scf::tileAndFuseProducerOfSlice(rewriter, slice, tiled->loops);
        if (!fused)
          return producer->emitError("could not fuse into the K loop");
        rewriter.replaceOp(slice, fused->tiledAndFusedProducer);
        continue;
      }
      // A padded workgroup buffer holding the step's tile.
      auto type = cast<RankedTensorType>(slice.getType());
      SmallVector<int64_t> padded;
      for (auto [dim, size] : llvm::enumerate(type.getShape())) {
        FailureOr<int64_t> upper =
            ValueBoundsConstraintSet::computeConstantBound(
                presburger::BoundType::UB,
                ValueBoundsConstraintSet::Variable(slice.getResult(), dim),
                /*stopCondition=*/nullptr, /*closedUB=*/true);
        if (failed(upper))
          return slice.emitError("no static bound for a staged tile");
        padded.push_back(*upper);
      }
      padded.back() += 1;
      Location loc = slice.getLoc();
      rewriter.setInsertionPoint(step);
      Value buffer = bufferization::AllocTensorOp::create(
          rewriter, loc, RankedTensorType::get(padded, type.getElementType()),
          /*dynamic_sizes=*/ValueRange{}, /*copy=*/Value(),
          /*size_hint=*/Value(),
          gpu::AddressSpaceAttr::get(rewriter.getContext(),
                                     gpu::AddressSpace::Workgroup));
      SmallVector<OpFoldResult> zeros(type.getRank(), rewriter.getIndexAttr(0));
      SmallVector<OpFoldResult> ones(type.getRank(), rewriter.getIndexAttr(1));
      Value view = tensor::ExtractSliceOp::create(
          rewriter, loc, type, buffer, zeros, slice.getMixedSizes(), ones);
      Value staged =
          linalg::CopyOp::create(rewriter, loc, slice.getResult(), view)
              .getResult(0);
      rewriter.modifyOpInPlace(step, [&] { input->set(staged); });
    }
  }
  return success();
}

/// Splits each row reduction of the block (layer norm statistics) into
/// partial reductions over interleaved chunks of a row and a reduction of
/// the partials, so that a warp, not one thread, reduces a row: each of 32
/// threads sums every 32nd element, neighbouring threads reading
/// neighbouring elements. Contractions keep their reductions per thread.
static LogicalResult splitRowReductions(RewriterBase &rewriter,
                                        scf::ForallOp block) {
  for (linalg::LinalgOp op : getTileOps(block)) {
    // splitReduction needs static shapes (no partial row tiles).
    if (linalg::isaContractionOpInterface(op) ||
        op.getNumReductionLoops() != 1 || op.getNumDpsInits() != 1 ||
        op.hasDynamicShape())
      continue;
    SmallVector<unsigned> reductions;
    op.getReductionDims(reductions);
    int64_t extent = op.getStaticLoopRanges()[reductions.front()];
    int64_t ratio = 32;
    while (ratio > 1 && (ShapedType::isDynamic(extent) || extent % ratio ||
                         extent / ratio < 2))
      ratio /= 2;
    if (ratio < 8)
      continue;
    unsigned rank = op.getRank(op.getDpsInitOperand(0));
    rewriter.setInsertionPoint(op);
    if (failed(linalg::splitReduction(rewriter, op, [&](linalg::LinalgOp) {
          return linalg::SplitReductionOptions{ratio, rank,
                                               /*innerParallel=*/true};
        })))
      return op.emitError("could not split the reduction over threads");
  }
  return success();
}

/// Moves the block's intermediates (outputs of every op but the one writing
/// the result) into workgroup memory, at their static size bound.
static LogicalResult promoteIntermediates(RewriterBase &rewriter,
                                          scf::ForallOp block) {
  MLIRContext *ctx = block.getContext();
  Attribute workgroup =
      gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
  // CSE merges equal fills (the zero inits of two reductions); each user
  // needs its own buffer.
  for (linalg::LinalgOp op : getTileOps(block))
    for (OpOperand &init : op.getDpsInitsMutable())
      if (auto fill = init.get().getDefiningOp<linalg::FillOp>();
          fill && !fill->hasOneUse()) {
        rewriter.setInsertionPoint(op);
        Operation *copy = rewriter.clone(*fill);
        rewriter.modifyOpInPlace(op, [&] { init.set(copy->getResult(0)); });
      }

  for (linalg::LinalgOp op : getTileOps(block)) {
    for (OpOperand &init : op.getDpsInitsMutable()) {
      Value source = init.get();
      while (auto slice = source.getDefiningOp<tensor::ExtractSliceOp>())
        source = slice.getSource();
      if (!source.getDefiningOp<tensor::EmptyOp>())
        continue;
      auto type = cast<RankedTensorType>(init.get().getType());
      SmallVector<int64_t> shape(type.getShape());
      for (auto [dim, size] : llvm::enumerate(shape)) {
        if (!ShapedType::isDynamic(size))
          continue;
        FailureOr<int64_t> upper =
            ValueBoundsConstraintSet::computeConstantBound(
                presburger::BoundType::UB,
                ValueBoundsConstraintSet::Variable(init.get(), dim),
                /*stopCondition=*/nullptr, /*closedUB=*/true);
        if (failed(upper))
          return op.emitError("no static bound for an intermediate tile");
        size = *upper;
      }
      Location loc = op.getLoc();
      rewriter.setInsertionPoint(op);
      auto staticType = RankedTensorType::get(shape, type.getElementType());
      Value buffer = bufferization::AllocTensorOp::create(
          rewriter, loc, staticType, /*dynamic_sizes=*/ValueRange{},
          /*copy=*/Value(), /*size_hint=*/Value(), workgroup);
      if (!type.hasStaticShape()) {
        SmallVector<OpFoldResult> zeros(type.getRank(),
                                        rewriter.getIndexAttr(0));
        SmallVector<OpFoldResult> ones(type.getRank(),
                                       rewriter.getIndexAttr(1));
        buffer = tensor::ExtractSliceOp::create(
            rewriter, loc, type, buffer, zeros,
            tensor::getMixedSizes(rewriter, loc, init.get()), ones);
      }
      rewriter.modifyOpInPlace(op, [&] { init.set(buffer); });
    }
  }
  return success();
}

/// Workgroup memory a block tile allocates.
static int64_t getWorkgroupBytes(scf::ForallOp block) {
  int64_t bytes = 0;
  block.walk([&](bufferization::AllocTensorOp alloc) {
    RankedTensorType type = alloc.getType();
    bytes += type.getNumElements() *
             llvm::divideCeil(type.getElementTypeBitWidth(), 8);
  });
  return bytes;
}

/// Whether `op` is a fill whose only use initializes a contraction: it is
/// then fused into the contraction's thread loop, so that each thread starts
/// its own accumulators.
static bool isFillOfContraction(linalg::LinalgOp op) {
  if (!isa<linalg::FillOp>(op) || !op->hasOneUse())
    return false;
  OpOperand &use = *op->use_begin();
  auto user = dyn_cast<linalg::LinalgOp>(use.getOwner());
  return user && linalg::isaContractionOpInterface(user) &&
         user.isDpsInit(&use);
}

/// Spreads every op of the block over the block's threads, one thread loop
/// per op. Returns the threads per block.
static FailureOr<int64_t> distributeToThreads(RewriterBase &rewriter,
                                              scf::ForallOp block,
                                              const CudaTarget &target) {
  MLIRContext *ctx = block.getContext();
  SmallVector<std::pair<linalg::LinalgOp, SmallVector<int64_t>>> ops;
  for (linalg::LinalgOp op : getTileOps(block)) {
    FailureOr<SmallVector<int64_t>> bounds = getLoopBounds(op);
    if (failed(bounds))
      return failure();
    ops.emplace_back(op, *bounds);
  }
  int64_t threads = getThreadsPerBlock(ops, target);

  for (auto &[op, bounds] : ops) {
    if (isFillOfContraction(op))
      continue;
    SmallVector<int64_t> counts = getThreadCounts(op, bounds, threads);
    if (llvm::all_of(counts, [](int64_t count) { return count == 0; })) {
      // Work for one thread (a single row statistic): a loop of one.
      SmallVector<unsigned> parallel;
      op.getParallelDims(parallel);
      if (parallel.empty())
        return op.emitError("ops without parallel loops are not supported");
      counts[parallel.front()] = 1;
    }
    SmallVector<int64_t> sizes;
    for (auto [count, bound] : llvm::zip(counts, bounds))
      sizes.push_back(count ? llvm::divideCeil(bound, count) : 0);
    unsigned distributed =
        llvm::count_if(counts, [](int64_t count) { return count; });

    scf::SCFTilingOptions tiling;
    tiling.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp)
        .setNumThreads(getAsIndexOpFoldResult(ctx, counts))
        .setTileSizes(getAsIndexOpFoldResult(ctx, sizes))
        .setMapping(linearMapping<gpu::GPUThreadMappingAttr>(ctx, distributed));
    scf::SCFTileAndFuseOptions options;
    options.setTilingOptions(tiling);
    options.setFusionControlFn(
        [](tensor::ExtractSliceOp, OpResult producer, bool isDestination)
            -> std::optional<scf::SCFTileAndFuseOptions::ControlFnResult> {
          if (isDestination && isa<linalg::FillOp>(producer.getOwner()))
            return scf::SCFTileAndFuseOptions::ControlFnResult{};
          return std::nullopt;
        });
    rewriter.setInsertionPoint(op);
    FailureOr<scf::SCFTileAndFuseResult> result =
        scf::tileConsumerAndFuseProducersUsingSCF(
            rewriter, cast<TilingInterface>(op.getOperation()), options);
    if (failed(result))
      return op.emitError("could not distribute the op over threads");
    for (OpResult value : op->getResults())
      rewriter.replaceAllUsesWith(value, result->replacements.lookup(value));
  }
  return threads;
}

namespace {

struct CudaTileAndDistributePass
    : vitc::cuda::impl::CudaTileAndDistributePassBase<
          CudaTileAndDistributePass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp kernel = getOperation();
    // Kernels with a schedule already (vit-cuda-mma-linear) stay as they are.
    if (!isKernelFunction(kernel) || kernel->hasAttr(kCudaKernelKindAttr))
      return;
    if (failed(schedule(kernel)))
      signalPassFailure();
  }

  /// Tiles a copy of the kernel with each candidate block tile until one
  /// fits the workgroup memory budget, then takes that copy's body.
  LogicalResult schedule(func::FuncOp kernel) {
    CudaTarget target = getCudaTarget(sm);
    KernelKind kind = classifyKernel(kernel);
    linalg::LinalgOp root = findRoot(kernel);
    if (!root)
      return kernel.emitError(
          "expected one kernel result computed by a linalg op; run "
          "vit-cuda-gather-data-movement, vit-cuda-fold-reshapes and "
          "vit-cuda-destination-abi first");

    for (ArrayRef<int64_t> tiles :
         getBlockTileCandidates(kind, root, target, maxTile)) {
      OwningOpRef<func::FuncOp> trial = kernel.clone();
      IRRewriter rewriter(&getContext());
      FailureOr<scf::ForallOp> block =
          tileToBlocks(rewriter, *trial, findRoot(*trial), tiles);
      if (failed(block))
        return failure();
      if (failed(splitRowReductions(rewriter, *block)) ||
          (kind == KernelKind::Linear &&
           failed(stageMatmulOperands(rewriter, *block))))
        return failure();
      cleanUp(rewriter, *trial, /*cse=*/false);
      if (failed(promoteIntermediates(rewriter, *block)))
        return failure();
      if (getWorkgroupBytes(*block) > target.maxStaticSharedMemoryBytes)
        continue;
      FailureOr<int64_t> threads =
          distributeToThreads(rewriter, *block, target);
      if (failed(threads))
        return failure();
      cleanUp(rewriter, *trial, /*cse=*/false);

      kernel.getBody().takeBody(trial->getBody());
      Builder b(&getContext());
      kernel->setAttr(kCudaBlockSizeAttr, b.getI64IntegerAttr(*threads));
      kernel->setAttr(kCudaKernelKindAttr,
                      b.getStringAttr(stringifyKernelKind(kind)));
      kernel->setAttr(kCudaBlockTileAttr, b.getDenseI64ArrayAttr(tiles));
      return success();
    }
    return kernel.emitError("no block tile fits in ")
           << target.maxStaticSharedMemoryBytes << " bytes of workgroup memory";
  }

  /// The op whose result the kernel writes to its output (null unless
  /// there is exactly one output, written by a linalg op).
  static linalg::LinalgOp findRoot(func::FuncOp kernel) {
    auto outputs = kernel.getOps<bufferization::MaterializeInDestinationOp>();
    if (!llvm::hasSingleElement(outputs))
      return nullptr;
    return (*outputs.begin()).getSource().getDefiningOp<linalg::LinalgOp>();
  }
};

} // namespace
