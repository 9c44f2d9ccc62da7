//===- Passes.td - CPU code generation passes --------------*- tablegen -*-===//

#ifndef VITC_CODEGEN_CPU_PASSES_TD
#define VITC_CODEGEN_CPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def CpuTileKernelsPass : Pass<"vit-cpu-tile-kernels", "mlir::func::FuncOp"> {
  let summary = "Tile each kernel function into independent output tiles";
  let description = [{
    Runs on functions carrying `vit.kernel_name` (outlined kernels in linalg
    form on tensors) and leaves other functions alone. The root of a kernel
    is the linalg op computing its result (looking through reshapes). The
    root is tiled with an `scf.forall` over its row dimensions and, for
    kernels containing a `linalg.matmul`, its output-feature dimension; all
    producers in the kernel are fused into the tile, including through
    reshapes and slices of the kernel's inputs. Kernels without a linalg
    root (concatenations) stay untiled.

    Tile sizes: every row dimension but the innermost gets 1, the innermost
    `rows-per-tile` (`query-rows-per-tile` in attention kernels, which
    contract activations with activations and have no linear: their query
    rows are the vectors of the key-major scores, so a multiple of the
    vector width); the feature dimension of a linear gets the largest
    divisor of its extent that is a multiple of 8 and at most
    `columns-per-tile` (the whole extent if there is none), so that column
    tiles are full; with weights in panels [P, K, R] (the product computed
    as [M, P, R]) the panel dimension gets as many whole panels as fit
    `columns-per-tile`. Reduction dimensions are not tiled. Column tiles are
    the outer dimension of the tile numbering, so consecutive tiles share a
    block of the weight.

    A linear reading a copy of the image rearranged into patches (a
    `linalg.transpose` collapsed into [grid rows x grid columns] rows) takes
    whole rows of the patch grid per tile instead (as many as divide the
    grid and fit `rows-per-tile`, or a divisor of a longer grid row): a
    tile's patches are then a box of the grid, its slice of the copy moves
    above the collapse (offsets that are tile indices are proven aligned by
    the tile loop's steps), and the rearrangement fuses into the tile,
    copying only the tile's patches.
  }];
  let options = [
    Option<"rowsPerTile", "rows-per-tile", "int64_t", /*default=*/"24",
           "Rows (tokens, query rows) per tile">,
    Option<"columnsPerTile", "columns-per-tile", "int64_t", /*default=*/"128",
           "Upper bound on output features per tile of a linear">,
    Option<"queryRowsPerTile", "query-rows-per-tile", "int64_t",
           /*default=*/"32", "Query rows per tile of attention">,
  ];
  let dependentDialects = ["mlir::affine::AffineDialect",
                           "mlir::scf::SCFDialect",
                           "mlir::tensor::TensorDialect"];
}

def CpuPadRowsPass : Pass<"vit-cpu-pad-rows", "mlir::ModuleOp"> {
  let summary = "Store activations whose rows alias in the L1 cache with "
                "longer rows";
  let description = [{
    A linear's register block reads, at each step of its reduction, one
    element from each of its rows (6 with AVX2, 12 with AVX-512). Rows a
    multiple of `critical-stride` bytes long (fc2 of ViT-B/16 reads rows of
    3072 floats, 12 KiB) map all of those elements to one set of an L1
    cache whose ways are that size (4 KiB: 32 KiB 8-way on Zen 3 and 4, 48
    KiB 12-way on Zen 5 and recent Intel cores), so twelve rows in eight
    ways evict one another at every step.

    Runs on the module before the kernels are extracted (the graph
    function calling the outlined kernels, on tensors). The result of a
    kernel call whose rows are such a multiple (static shape, rank 2 or
    more, more than one row) gets `padding` more bytes per row: the kernel
    producing it returns `tensor.insert_slice` of its result into a padded
    `tensor.empty` (vit-cpu-output-arguments then computes the result in
    place in a slice of the padded output), and each kernel reading it
    takes the padded tensor and reads a `tensor.extract_slice` of it. The
    padding bytes are never written or read. A value is padded only where
    every kernel reading it reads it as a linalg input, through slices and
    reshapes that keep its rows' last dimension apart (a strided view would
    otherwise be copied), every call of those kernels passes a padded value
    there, and it is not the graph's result. `padding` 0 disables the pass.
  }];
  let options = [
    Option<"criticalStride", "critical-stride", "int64_t",
           /*default=*/"4096",
           "Row lengths in bytes that are a multiple of this are padded">,
    Option<"padding", "padding", "int64_t", /*default=*/"64",
           "Bytes added to each such row (a multiple of the element size)">,
  ];
  let dependentDialects = ["mlir::tensor::TensorDialect"];
}

def CpuOutputArgumentsPass
    : Pass<"vit-cpu-output-arguments", "mlir::func::FuncOp"> {
  let summary = "Compute the results of kernel functions into output arguments";
  let description = [{
    Rewrites each kernel function `(inputs) -> (results)` into
    `(inputs, outputs) -> (results)` in which every result is computed in
    place into its output argument (the `tensor.empty` at the start of its
    destination chain is replaced by the argument, reshaped as needed, and a
    result computed by no chain is copied with
    `bufferization.materialize_in_destination`) and is equivalent to it, so
    bufferization writes straight into the caller's buffer. Inputs are
    marked not writable. The function becomes private: it is called only
    through the entry point that vit-cpu-emit-entry-points adds, and
    bufferization may then drop its results, which are its output
    arguments.
  }];
  let dependentDialects = ["mlir::bufferization::BufferizationDialect",
                           "mlir::tensor::TensorDialect"];
}

def CpuTileRangePass : Pass<"vit-cpu-tile-range", "mlir::func::FuncOp"> {
  let summary = "Make kernel functions compute a range of their tiles";
  let description = [{
    Appends `tile_begin: index, tile_end: index` to the arguments of each
    kernel function, whose last arguments must be the output arguments of
    vit-cpu-output-arguments.

    Each tile loop (`scf.forall` from vit-cpu-tile-kernels) becomes an
    `scf.for` over the linear indices of its tiles that fall in
    [tile_begin, tile_end), each index delinearized (row-major) into the
    forall's induction variables. Where the last tile along a dimension is
    partial, the full tiles and the partial ones get separate copies of the
    body, chosen by an `scf.if` on the tile's coordinates, and the tile
    sizes, equal across each copy, fold to constants: every tile then has a
    static shape, which vectorization needs, and tiles still run in the
    order of the grid (a partial tile next to the full ones it shares data
    with). The tiles of successive tile loops are numbered one after the
    other; the tile count is recorded as `vit.num_tiles`. An untiled kernel has one tile and runs only when
    tile_begin < tile_end (otherwise it returns its outputs unchanged).
  }];
  let dependentDialects = ["mlir::affine::AffineDialect",
                           "mlir::arith::ArithDialect",
                           "mlir::scf::SCFDialect",
                           "mlir::tensor::TensorDialect"];
}

def CpuVectorizePass : Pass<"vit-cpu-vectorize", "mlir::func::FuncOp"> {
  let summary = "Tile the linalg ops inside kernels to static tiles and "
                "vectorize them";
  let description = [{
    Every linalg op of a kernel function is tiled with `scf.for` to tiles of
    static shape and vectorized with linalg vectorization:
    - The vector dimension is one that is contiguous in every operand using
      it, parallel preferred. Its tile is up to 64 elements (the largest
      divisor of the extent that is at least 8, otherwise the whole extent
      up to 256).
    - In a contraction, the parallel dimensions that some input does not
      read get register blocks (up to 4 on outer ones, 8 on the innermost,
      within 16 accumulator vectors with AVX-512 and 8 otherwise), so each
      vector of such an input is loaded once per block; their loops are
      outermost, innermost reuse dimension first. Every other dimension
      gets 1.
    - A reduction along its vector dimension whose extent is a multiple of
      `vector-width` (the K of a transposed-B matmul, the head dimension of
      Q K^T, the sums of a layer norm) keeps the whole dimension in its tile,
      and the tile is split (`linalg::splitReduction`) into `vector-width`
      interleaved partial sums plus their final reduction: the hot loop
      accumulates whole vectors, and the horizontal reduction happens once
      per output element. The partial sums live in vector registers once
      the transfers through their small temporary fold away.
    - An element-wise epilogue reading, element for element, an outer
      product that starts from a zero fill (a linear's bias and residual;
      attention's division by the row sums, which writes its result
      transposed) is tiled by the outer product's register block, with the
      fill and the outer product fused into each block: the epilogue
      applies to the accumulators, which are stored once, to the output.
      Epilogues with a math function to expand (GELU's erf or tanh) keep
      their own pass over the tile: on a whole block at once they spill.
    Reduction loops are innermost, so after loop-invariant-subset-hoisting
    accumulators stay in registers. Ops without a static vector dimension
    (a dynamic shape, a statistic of a single row) stay scalar and become
    loops later.
  }];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"16",
           "f32 lanes of the target's vector registers (16 for AVX-512)">,
  ];
  let dependentDialects = ["mlir::scf::SCFDialect",
                           "mlir::tensor::TensorDialect",
                           "mlir::vector::VectorDialect"];
}

def CpuLowerCopiesPass : Pass<"vit-cpu-lower-copies", "mlir::func::FuncOp"> {
  let summary = "Turn memref.copy into linalg.copy";
  let description = [{
    The LLVM lowering of a `memref.copy` between non-contiguous views calls
    `memrefCopy` from MLIR's runtime library, which a kernel library must
    not depend on. As `linalg.copy` the copy becomes loops in the kernel.
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect"];
}

def CpuEmitEntryPointsPass
    : Pass<"vit-cpu-emit-entry-points", "mlir::ModuleOp"> {
  let summary = "Wrap lowered kernels in the bindings calling convention";
  let description = [{
    Runs on the LLVM dialect after func-to-llvm with bare pointers. For each
    `llvm.func` carrying `vit.kernel_name` (signature: one pointer per input
    and output, then tile_begin and tile_end) it renames the function to
    `<symbol>_impl` with internal linkage and emits an exported
    `void <symbol>(ptr bindings, i64 tile_begin, i64 tile_end)` that loads
    the data pointers from bindings[0..n) and calls it. Every other function
    becomes internal, so the shared object exports exactly the kernels.
  }];
  let dependentDialects = ["mlir::LLVM::LLVMDialect"];
}

#endif // VITC_CODEGEN_CPU_PASSES_TD
