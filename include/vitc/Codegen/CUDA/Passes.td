//===- Passes.td - CUDA code generation passes -------------*- tablegen -*-===//

#ifndef VITC_CODEGEN_CUDA_PASSES_TD
#define VITC_CODEGEN_CUDA_PASSES_TD

include "mlir/Pass/PassBase.td"

def CudaGatherDataMovementPass
    : Pass<"vit-cuda-gather-data-movement", "mlir::func::FuncOp"> {
  let summary = "Turn copying data movement on kernel inputs into gathers";
  let description = [{
    Runs on functions carrying `vit.kernel_name` (outlined kernels in linalg
    form on tensors) and leaves other functions alone. A chain of data
    movement on kernel inputs that copies data (a `linalg.transpose`,
    `linalg.broadcast` or `tensor.insert_slice` among reshapes and slices)
    becomes one `linalg.generic` that gathers every element straight from
    the inputs with `tensor.extract`. Patchify and prepend-token thereby
    become element-wise ops that fuse into tiles, so that the kernel tiles
    into one launch.
  }];
  let dependentDialects = ["mlir::affine::AffineDialect",
                           "mlir::arith::ArithDialect",
                           "mlir::linalg::LinalgDialect",
                           "mlir::tensor::TensorDialect"];
}

def CudaFoldReshapesPass
    : Pass<"vit-cuda-fold-reshapes", "mlir::func::FuncOp"> {
  let summary = "Fold reshapes between the linalg ops of kernel functions";
  let description = [{
    Runs on kernel functions and leaves other functions alone. An
    element-wise `linalg.generic` reading a `tensor.expand_shape` of another
    linalg op is collapsed so that it reads the op directly (a linear's
    epilogue then iterates over the same [M, N] as its matmul, and fuses
    into its tiles); consecutive reshapes fold into one.
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect",
                           "mlir::tensor::TensorDialect"];
}

def CudaDestinationAbiPass
    : Pass<"vit-cuda-destination-abi", "mlir::ModuleOp"> {
  let summary = "Give kernel functions the GPU kernel ABI on memrefs";
  let description = [{
    Rewrites each kernel function `(tensor inputs) -> (tensor results)` into
    `(memref inputs, memref outputs) -> ()`: inputs are read through
    `bufferization.to_tensor ... restrict` and every result is written into
    its output with `bufferization.materialize_in_destination`. Reshapes at
    the end of a kernel move to the output (as a reshaped view of it), so
    that the op computing the result can write straight into the caller's
    buffer. Calls to kernel functions elsewhere in the module are rewritten
    to allocate the outputs and pass buffers.
  }];
  let dependentDialects = ["mlir::bufferization::BufferizationDialect",
                           "mlir::memref::MemRefDialect"];
}

def CudaMmaLinearPass : Pass<"vit-cuda-mma-linear", "mlir::func::FuncOp"> {
  let summary = "Schedule linears with bf16/f16 weights on tensor cores";
  let description = [{
    For each kernel function in destination ABI form that computes one
    matmul `A[M, K] x W[N, K]^T` whose weight is a bf16 or f16 kernel input
    (and whose input is rounded to that type), optionally followed by an
    element-wise epilogue: builds the tensor-core schedule directly, in the
    target-neutral form `vit-cuda-tile-and-distribute` produces (a block
    loop holding workgroup buffers and one thread loop of 128 threads, four
    warps). Inside, a three-stage pipeline: weight tiles copied by
    `nvgpu.device_async_copy` (zero-filled past N), input elements computed
    by the kernel's own producers, rounded and stored by the threads; both
    read with `nvgpu.ldmatrix` from XOR-swizzled rows and multiplied by
    `nvvm.mma.sync` m16n8k16 with f32 accumulators; the epilogue recomputed
    per accumulator and stored where inside [M, N]. Block tile 64 x 64,
    halved (features, then rows) while the grid has fewer blocks than the
    target's multiprocessors. Sets `vit.cuda.block_size`,
    `vit.cuda.block_tile` and `vit.cuda.kernel_kind = "mma_linear"`, which
    makes `vit-cuda-tile-and-distribute` leave the kernel alone. Other
    kernels are not changed.
  }];
  let options = [
    Option<"sm", "sm", "int64_t", /*default=*/"80",
           "Compute capability times ten (80: A100, 90: H100)">,
    Option<"tf32", "tf32", "bool", /*default=*/"false",
           "Also linears with f32 weights, on tf32 tensor cores (m16n8k8, "
           "operands rounded to tf32 as they are loaded)">,
  ];
  let dependentDialects = ["mlir::affine::AffineDialect",
                           "mlir::gpu::GPUDialect",
                           "mlir::LLVM::LLVMDialect",
                           "mlir::NVVM::NVVMDialect",
                           "mlir::nvgpu::NVGPUDialect",
                           "mlir::scf::SCFDialect",
                           "mlir::vector::VectorDialect"];
}

def CudaFlashAttentionPass
    : Pass<"vit-cuda-flash-attention", "mlir::func::FuncOp"> {
  let summary = "Schedule attention kernels as flash attention on tensor cores";
  let description = [{
    For each attention kernel in destination ABI form (two contractions:
    scores of [B, T, H, D] queries and keys, and the softmax-weighted sum of
    values written to a [B, T, H, D] view of the output, as
    `vit.attention_core` lowers), builds a flash-attention schedule in the
    target-neutral form: one block of 128 threads per (image, head, 64
    queries), each warp 16 query rows; key and value blocks of 32 staged in
    swizzled workgroup tiles; QK^T and PV by `nvvm.mma.sync` m16n8k16 on
    `precision` operands with f32 accumulators; an online softmax in f32
    (running max and sum, `math.exp2` with log2(e) folded into the scale,
    keys past T masked); the probabilities reused from registers as the A
    operand of PV, values read with `ldmatrix.trans`. The score matrix is
    never stored. This computes attention in `precision` (Q, K, V and P
    rounded to it): the pass is for the tensor-core precisions only. Sets
    `vit.cuda.kernel_kind = "flash_attention"`, which makes
    `vit-cuda-tile-and-distribute` leave the kernel alone.
  }];
  let options = [
    Option<"precision", "precision", "std::string", /*default=*/"\"bf16\"",
           "Operand type of both products: bf16 or f16">,
  ];
  let dependentDialects = ["mlir::gpu::GPUDialect",
                           "mlir::LLVM::LLVMDialect",
                           "mlir::math::MathDialect",
                           "mlir::NVVM::NVVMDialect",
                           "mlir::nvgpu::NVGPUDialect",
                           "mlir::scf::SCFDialect",
                           "mlir::vector::VectorDialect"];
}

def CudaTileAndDistributePass
    : Pass<"vit-cuda-tile-and-distribute", "mlir::func::FuncOp"> {
  let summary = "Tile kernels to thread blocks and threads";
  let description = [{
    For each kernel function in destination ABI form, tiles the op computing
    the result into an `scf.forall` mapped to `#gpu.block<linear_dim_*>` and
    fuses every producer into the tile; a kernel is one launch, so anything
    left outside is an error. Within the block, row reductions are split
    over 32 threads, the matmul of a linear gets a K loop whose operand
    tiles are staged in padded workgroup buffers, every intermediate is
    placed in workgroup memory (`bufferization.alloc_tensor` in
    `#gpu.address_space<workgroup>`), and every op gets its own nested
    `scf.forall` mapped to `#gpu.thread<linear_dim_*>`; consecutive thread
    loops run one after the other with a barrier between them. Tile sizes
    come from a heuristic per kernel kind (linear, attention, row reduction,
    element-wise), shape and target; the first candidate whose workgroup
    buffers fit 48 KiB is taken (see docs/codegen-cuda.md). The function
    gets `vit.cuda.block_size` (threads per block), `vit.cuda.block_tile`
    and `vit.cuda.kernel_kind`.
  }];
  let options = [
    Option<"sm", "sm", "int64_t", /*default=*/"80",
           "Compute capability times ten (80: A100, 90: H100)">,
    Option<"maxTile", "max-tile", "int64_t", /*default=*/"0",
           "Testing: cap every block tile size at this value (0: no cap)">,
  ];
  let dependentDialects = ["mlir::affine::AffineDialect",
                           "mlir::bufferization::BufferizationDialect",
                           "mlir::gpu::GPUDialect",
                           "mlir::scf::SCFDialect",
                           "mlir::tensor::TensorDialect"];
}

def CudaBufferizePass : Pass<"vit-cuda-bufferize", "mlir::func::FuncOp"> {
  let summary = "Bufferize tiled kernels into the target-neutral GPU form";
  let description = [{
    Bufferizes each tiled kernel function in place: the result tile is
    computed in the output argument, intermediates in their workgroup
    buffers. Fails if anything would still allocate in global memory or
    run outside the block loop, since such code has no place in a single
    kernel launch. The result (memref `scf.forall` loops with block and
    thread mappings, workgroup-memory allocations) is what both the GPU
    mapping and the CPU emulation start from.
  }];
  let dependentDialects = ["mlir::bufferization::BufferizationDialect",
                           "mlir::memref::MemRefDialect"];
}

def CudaMapToGpuPass : Pass<"vit-cuda-map-to-gpu", "mlir::ModuleOp"> {
  let summary = "Turn scheduled kernels into GPU kernels";
  let description = [{
    Maps the block loop of each scheduled kernel function to a `gpu.launch`
    and its thread loops to thread ids, with a barrier after each
    (`transform.gpu.map_forall_to_blocks` and
    `transform.gpu.map_nested_forall_to_threads`), then moves the launch
    body into a `gpu.func` of the same name in `gpu.module @vit_kernels`
    whose parameters are the kernel function's (inputs, then outputs).
    Workgroup allocations become workgroup attributions of the `gpu.func`.
    The kernel function keeps a `gpu.launch_func` with the launch
    configuration.
  }];
  let dependentDialects = ["mlir::gpu::GPUDialect",
                           "mlir::transform::TransformDialect"];
}

def CudaDropWorkgroupMemoryPass
    : Pass<"vit-cuda-drop-workgroup-memory", "mlir::func::FuncOp"> {
  let summary = "Move workgroup buffers to host memory for CPU emulation";
  let description = [{
    Removes `#gpu.address_space<workgroup>` from every memref type in
    scheduled kernel functions and frees each former workgroup buffer at
    the end of the block that allocates it. After `scf-forall-to-for`, the
    kernel then runs on the CPU block by block and thread by thread, which
    is exactly the GPU schedule with a barrier between sibling thread loops.
  }];
  let dependentDialects = ["mlir::memref::MemRefDialect"];
}

def CudaMathToIntrinsicsPass : Pass<"vit-cuda-math-to-intrinsics"> {
  let summary = "Lower f32 sqrt, rsqrt, floor and ceil to LLVM intrinsics";
  let description = [{
    Rewrites `math.sqrt`, `math.floor` and `math.ceil` on f32 into calls of
    the `llvm.sqrt.f32`, `llvm.floor.f32` and `llvm.ceil.f32` intrinsics and
    `math.rsqrt` into one over the square root. `convert-gpu-to-nvvm` would
    otherwise call libdevice for them (and so need it at link time, and take
    its approximate square root), although NVPTX has instructions for all
    of them: `sqrt.rn.f32`, `cvt.rmi.f32.f32`, `cvt.rpi.f32.f32`, and
    `div.rn.f32` for the division. These are correctly rounded like the
    CPU's, so the CPU emulation computes exactly what the GPU does.
  }];
  let dependentDialects = ["mlir::LLVM::LLVMDialect"];
}

def CudaFuseMultiplyAddPass : Pass<"vit-cuda-fuse-multiply-add"> {
  let summary = "Fuse f32 multiplies feeding adds into math.fma";
  let description = [{
    Rewrites `arith.addf(arith.mulf(a, b), c)`, where the product has no
    other use, into `math.fma(a, b, c)`. Without fast-math flags NVPTX keeps
    the multiply and the add apart (`mul.rn` then `add.rn`), which halves the
    throughput of every dot product; a fused multiply-add also rounds once
    instead of twice. Only the GPU lowering runs it: the CPU emulation
    rounds the product, so the two differ by at most half an ulp of each
    product.
  }];
  let dependentDialects = ["mlir::math::MathDialect"];
}

def CudaAssemblePass : Pass<"vit-cuda-assemble", "mlir::ModuleOp"> {
  let summary = "Assemble PTX with ptxas and report resource usage";
  let description = [{
    Runs `ptxas -v` on the PTX of every `gpu.binary` for its target chip and
    emits one remark per kernel with its registers, spill stores and loads,
    stack frame and shared memory. Fails when ptxas fails or a kernel spills
    more than `max-spill-bytes`.
  }];
  let options = [
    Option<"ptxas", "ptxas", "std::string", /*default=*/"\"\"",
           "ptxas executable (default: search PATH and /usr/local/cuda/bin)">,
    Option<"maxSpillBytes", "max-spill-bytes", "int64_t", /*default=*/"0",
           "Largest spill store or load size accepted per kernel">,
  ];
}

#endif // VITC_CODEGEN_CUDA_PASSES_TD
