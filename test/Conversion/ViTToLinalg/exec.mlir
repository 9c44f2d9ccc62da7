// Runs the lowered ops with MLIR's CPU runner and compares every result
// element with a float64 reference of the op's semantics (computed in
// Python; inputs are multiples of 1/16 and so exact in f32). Each case
// prints "<case>, <elements off by more than 1e-5>, <elements compared>".

// RUN: vitc-opt %s -convert-vit-to-linalg \
// RUN: | mlir-opt -one-shot-bufferize="bufferize-function-boundaries" \
// RUN:     -convert-linalg-to-loops -convert-scf-to-cf -expand-strided-metadata \
// RUN:     -lower-affine -convert-math-to-llvm -convert-math-to-libm \
// RUN:     -finalize-memref-to-llvm -convert-arith-to-llvm -convert-func-to-llvm \
// RUN:     -convert-cf-to-llvm -reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils.so \
// RUN: | FileCheck %s
// The CPU form of attention: scores laid out [keys, queries] from the
// scaled, transposed queries; the other ops do not change.
// RUN: vitc-opt %s -convert-vit-to-linalg="key-major-scores" \
// RUN: | mlir-opt -one-shot-bufferize="bufferize-function-boundaries" \
// RUN:     -convert-linalg-to-loops -convert-scf-to-cf -expand-strided-metadata \
// RUN:     -lower-affine -convert-math-to-llvm -convert-math-to-libm \
// RUN:     -finalize-memref-to-llvm -convert-arith-to-llvm -convert-func-to-llvm \
// RUN:     -convert-cf-to-llvm -reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils.so \
// RUN: | FileCheck %s

func.func private @printI64(i64)
func.func private @printComma()
func.func private @printNewline()

func.func @check(%case: i64, %actual: tensor<?xf32>, %expected: tensor<?xf32>) {
  %zero = arith.constant 0 : i64
  %empty = tensor.empty() : tensor<i64>
  %init = linalg.fill ins(%zero : i64) outs(%empty : tensor<i64>) -> tensor<i64>
  %count = linalg.generic {
      indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>,
                       affine_map<(i) -> ()>],
      iterator_types = ["reduction"]}
      ins(%actual, %expected : tensor<?xf32>, tensor<?xf32>)
      outs(%init : tensor<i64>) {
  ^bb0(%a: f32, %e: f32, %acc: i64):
    %diff = arith.subf %a, %e : f32
    %error = math.absf %diff : f32
    %tolerance = arith.constant 1.0e-5 : f32
    // Unordered-or-greater: a NaN counts as a mismatch.
    %off = arith.cmpf ugt, %error, %tolerance : f32
    %one = arith.extui %off : i1 to i64
    %sum = arith.addi %acc, %one : i64
    linalg.yield %sum : i64
  } -> tensor<i64>
  %mismatches = tensor.extract %count[] : tensor<i64>
  %c0 = arith.constant 0 : index
  %size = tensor.dim %actual, %c0 : tensor<?xf32>
  %compared = arith.index_cast %size : index to i64
  call @printI64(%case) : (i64) -> ()
  call @printComma() : () -> ()
  call @printI64(%mismatches) : (i64) -> ()
  call @printComma() : () -> ()
  call @printI64(%compared) : (i64) -> ()
  call @printNewline() : () -> ()
  return
}

// vit.linear with bias and exact GELU on a rank-3 input.
// CHECK: {{^}}1, 0, 16{{$}}
func.func @linear_bias_gelu_exact() {
  %x = arith.constant dense<[[[0.75, -1.5, -1.25], [1.5, -1.75, 1.75]],
       [[-0.75, -0.75, 1.75], [-1.75, 1.5, -1.25]]]> : tensor<2x2x3xf32>
  %w = arith.constant dense<[[-0.1875, 0.3125, 0.375],
       [0.0, 0.25, 0.0625],
       [0.5, 0.5, 0.0625],
       [0.25, 0.0, 0.375]]> : tensor<4x3xf32>
  %b = arith.constant dense<[0.25, -0.5, 0.75, -1.0]> : tensor<4xf32>
  %result = vit.linear %x, %w bias(%b : tensor<4xf32>) gelu = exact : tensor<2x2x3xf32>, tensor<4x3xf32> -> tensor<2x2x4xf32>
  %expected = arith.constant dense<[-0.168771756, -0.162282275, 0.183088462, -0.128192822,
       0.0414949757, -0.168771756, 0.56446992, 0.0160145287, 0.64329493,
       -0.162794141, 0.0594505044, -0.158112099, 0.415330859,
       -0.085214729, 0.387060458, -0.0539638196]> : tensor<16xf32>
  %flat = tensor.collapse_shape %result [[0, 1, 2]] : tensor<2x2x4xf32> into tensor<16xf32>
  %id = arith.constant 1 : i64
  %actual = tensor.cast %flat : tensor<16xf32> to tensor<?xf32>
  %reference = tensor.cast %expected : tensor<16xf32> to tensor<?xf32>
  call @check(%id, %actual, %reference) : (i64, tensor<?xf32>, tensor<?xf32>) -> ()
  return
}

// The linear of case 1 with its weight packed into K-major panels
// (vit-pack-linear-weights): two panels of 2 features, and one panel of all
// 4 (the transposed weight). Same results.
// CHECK: {{^}}10, 0, 16{{$}}
// CHECK: {{^}}11, 0, 16{{$}}
func.func @linear_packed_weights() {
  %x = arith.constant dense<[[[0.75, -1.5, -1.25], [1.5, -1.75, 1.75]],
       [[-0.75, -0.75, 1.75], [-1.75, 1.5, -1.25]]]> : tensor<2x2x3xf32>
  %panels = arith.constant dense<[[[-0.1875, 0.0], [0.3125, 0.25], [0.375, 0.0625]],
       [[0.5, 0.25], [0.5, 0.0], [0.0625, 0.375]]]> : tensor<2x3x2xf32>
  %panel = arith.constant dense<[[[-0.1875, 0.0, 0.5, 0.25],
       [0.3125, 0.25, 0.5, 0.0], [0.375, 0.0625, 0.0625, 0.375]]]> : tensor<1x3x4xf32>
  %b = arith.constant dense<[0.25, -0.5, 0.75, -1.0]> : tensor<4xf32>
  %expected = arith.constant dense<[-0.168771756, -0.162282275, 0.183088462, -0.128192822,
       0.0414949757, -0.168771756, 0.56446992, 0.0160145287, 0.64329493,
       -0.162794141, 0.0594505044, -0.158112099, 0.415330859,
       -0.085214729, 0.387060458, -0.0539638196]> : tensor<16xf32>
  %reference = tensor.cast %expected : tensor<16xf32> to tensor<?xf32>
  %two = vit.linear %x, %panels bias(%b : tensor<4xf32>) gelu = exact : tensor<2x2x3xf32>, tensor<2x3x2xf32> -> tensor<2x2x4xf32>
  %two_flat = tensor.collapse_shape %two [[0, 1, 2]] : tensor<2x2x4xf32> into tensor<16xf32>
  %two_actual = tensor.cast %two_flat : tensor<16xf32> to tensor<?xf32>
  %id10 = arith.constant 10 : i64
  call @check(%id10, %two_actual, %reference) : (i64, tensor<?xf32>, tensor<?xf32>) -> ()
  %one = vit.linear %x, %panel bias(%b : tensor<4xf32>) gelu = exact : tensor<2x2x3xf32>, tensor<1x3x4xf32> -> tensor<2x2x4xf32>
  %one_flat = tensor.collapse_shape %one [[0, 1, 2]] : tensor<2x2x4xf32> into tensor<16xf32>
  %one_actual = tensor.cast %one_flat : tensor<16xf32> to tensor<?xf32>
  %id11 = arith.constant 11 : i64
  call @check(%id11, %one_actual, %reference) : (i64, tensor<?xf32>, tensor<?xf32>) -> ()
  return
}

// vit.linear with bias, tanh GELU and a residual broadcast over the batch.
// CHECK: {{^}}2, 0, 16{{$}}
func.func @linear_bias_gelu_tanh_residual() {
  %x = arith.constant dense<[[[0.75, -1.5, -1.25], [1.5, -1.75, 1.75]],
       [[-0.75, -0.75, 1.75], [-1.75, 1.5, -1.25]]]> : tensor<2x2x3xf32>
  %w = arith.constant dense<[[-0.1875, 0.3125, 0.375],
       [0.0, 0.25, 0.0625],
       [0.5, 0.5, 0.0625],
       [0.25, 0.0, 0.375]]> : tensor<4x3xf32>
  %b = arith.constant dense<[0.25, -0.5, 0.75, -1.0]> : tensor<4xf32>
  %r = arith.constant dense<[[0.5, -0.0625, 0.0, -0.375],
       [-0.125, -0.3125, 0.125, 0.125]]> : tensor<2x4xf32>
  %result = vit.linear %x, %w bias(%b : tensor<4xf32>) gelu = tanh residual(%r : tensor<2x4xf32>) : tensor<2x2x3xf32>, tensor<4x3xf32> -> tensor<2x2x4xf32>
  %expected = arith.constant dense<[0.331135237, -0.224918435, 0.183086058, -0.503421041,
       -0.0835050365, -0.481364763, 0.689405409, 0.141014528,
       1.14320698, -0.225323073, 0.0594504577, -0.533133535,
       0.290301927, -0.397715273, 0.512036682, 0.0710540684]> : tensor<16xf32>
  %flat = tensor.collapse_shape %result [[0, 1, 2]] : tensor<2x2x4xf32> into tensor<16xf32>
  %id = arith.constant 2 : i64
  %actual = tensor.cast %flat : tensor<16xf32> to tensor<?xf32>
  %reference = tensor.cast %expected : tensor<16xf32> to tensor<?xf32>
  call @check(%id, %actual, %reference) : (i64, tensor<?xf32>, tensor<?xf32>) -> ()
  return
}

// vit.layer_norm over rows of 5.
// CHECK: {{^}}3, 0, 10{{$}}
func.func @layer_norm() {
  %x = arith.constant dense<[[0.375, -1.3125, -1.125, 0.9375, -1.5],
       [1.125, -0.75, -0.75, 1.125, -1.5]]> : tensor<2x5xf32>
  %s = arith.constant dense<[1.0, 0.5, -2.0, 1.5, 0.25]> : tensor<5xf32>
  %t = arith.constant dense<[0.0, 0.125, -0.5, 1.0, 2.0]> : tensor<5xf32>
  %result = vit.layer_norm %x, %s, %t epsilon = 1.0e-5 : tensor<2x5xf32>, tensor<5xf32>, tensor<5xf32>
  %expected = arith.constant dense<[0.911022874, -0.273572507, 0.714697166, 3.22061826, 1.75326464,
       1.18444101, -0.153692003, 0.614768013, 2.77666152, 1.6864715]> : tensor<10xf32>
  %flat = tensor.collapse_shape %result [[0, 1]] : tensor<2x5xf32> into tensor<10xf32>
  %id = arith.constant 3 : i64
  %actual = tensor.cast %flat : tensor<10xf32> to tensor<?xf32>
  %reference = tensor.cast %expected : tensor<10xf32> to tensor<?xf32>
  call @check(%id, %actual, %reference) : (i64, tensor<?xf32>, tensor<?xf32>) -> ()
  return
}

// vit.attention_core, 2 heads of 2 channels.
// CHECK: {{^}}4, 0, 24{{$}}
func.func @attention_core() {
  %q = arith.constant dense<[[[-1.0, 1.0, 1.25, -0.25],
        [0.75, 0.0, 1.75, 1.75],
        [0.0, 0.75, -0.25, 1.25]],
       [[1.0, -1.0, -0.5, -1.75],
        [-0.5, -1.0, 1.0, 1.25],
        [-0.25, 0.75, 0.0, 1.75]]]> : tensor<2x3x4xf32>
  %k = arith.constant dense<[[[1.75, -0.5, -0.25, -1.75],
        [-0.75, -1.5, 0.25, 0.25],
        [-1.5, -0.75, -1.75, -0.25]],
       [[-0.5, 1.75, -2.0, 1.0],
        [-2.0, 1.75, -0.5, -0.25],
        [-1.75, -0.75, -1.5, 0.25]]]> : tensor<2x3x4xf32>
  %v = arith.constant dense<[[[0.0625, -0.5, -0.4375, 0.25],
        [0.5, 0.3125, -0.3125, -0.3125],
        [0.3125, 0.5, 0.25, -0.4375]],
       [[-0.5, 0.0625, 0.1875, -0.125],
        [0.1875, 0.0625, -0.5, -0.4375],
        [0.25, 0.5, 0.3125, -0.3125]]]> : tensor<2x3x4xf32>
  %result = vit.attention_core %q, %k, %v num_heads = 2 : tensor<2x3x4xf32>
  %expected = arith.constant dense<[0.336338259, 0.37395758, -0.31703169, -0.0786138029, 0.173856303,
       -0.22700054, -0.294313394, -0.294313394, 0.255820085,
       0.0494244099, -0.0786138029, -0.31703169, 0.0451313924,
       0.343628522, -0.0903904339, -0.339343779, 0.177516243,
       0.400019232, -0.0228696353, -0.287263314, -0.0655627263,
       0.117502308, 0.127201466, -0.212462901]> : tensor<24xf32>
  %flat = tensor.collapse_shape %result [[0, 1, 2]] : tensor<2x3x4xf32> into tensor<24xf32>
  %id = arith.constant 4 : i64
  %actual = tensor.cast %flat : tensor<24xf32> to tensor<?xf32>
  %reference = tensor.cast %expected : tensor<24xf32> to tensor<?xf32>
  call @check(%id, %actual, %reference) : (i64, tensor<?xf32>, tensor<?xf32>) -> ()
  return
}

// vit.attention_core with scores around 1000, which overflow exp() unless the row maximum is subtracted.
// CHECK: {{^}}5, 0, 24{{$}}
func.func @attention_core_large_scores() {
  %q = arith.constant dense<[[[-24.0, 8.0, 12.0, -12.0],
        [4.0, -8.0, 20.0, 20.0],
        [-8.0, 4.0, -12.0, 12.0]],
       [[8.0, -24.0, -16.0, 32.0],
        [-16.0, -24.0, 8.0, 12.0],
        [-12.0, 4.0, -8.0, 20.0]]]> : tensor<2x3x4xf32>
  %k = arith.constant dense<[[[20.0, -16.0, -12.0, 32.0],
        [-20.0, -32.0, -4.0, -4.0],
        [-32.0, -20.0, 32.0, -12.0]],
       [[-16.0, 20.0, 28.0, 8.0],
        [28.0, 20.0, -16.0, -12.0],
        [32.0, -20.0, -32.0, -4.0]]]> : tensor<2x3x4xf32>
  %v = arith.constant dense<[[[0.0625, -0.5, -0.4375, 0.25],
        [0.5, 0.3125, -0.3125, -0.3125],
        [0.3125, 0.5, 0.25, -0.4375]],
       [[-0.5, 0.0625, 0.1875, -0.125],
        [0.1875, 0.0625, -0.5, -0.4375],
        [0.25, 0.5, 0.3125, -0.3125]]]> : tensor<2x3x4xf32>
  %result = vit.attention_core %q, %k, %v num_heads = 2 : tensor<2x3x4xf32>
  %expected = arith.constant dense<[0.3125, 0.5, 0.25, -0.4375, 0.0625000001, -0.5, -0.09375,
       -0.09375, 0.3125, 0.5, -0.4375, 0.25, 0.25, 0.5, 0.3125, -0.3125,
       0.25, 0.5, 0.1875, -0.125, -0.5, 0.0625, 0.3125, -0.3125]> : tensor<24xf32>
  %flat = tensor.collapse_shape %result [[0, 1, 2]] : tensor<2x3x4xf32> into tensor<24xf32>
  %id = arith.constant 5 : i64
  %actual = tensor.cast %flat : tensor<24xf32> to tensor<?xf32>
  %reference = tensor.cast %expected : tensor<24xf32> to tensor<?xf32>
  call @check(%id, %actual, %reference) : (i64, tensor<?xf32>, tensor<?xf32>) -> ()
  return
}

// vit.patchify of an NCHW image into [c, row, col] patches.
// CHECK: {{^}}6, 0, 144{{$}}
func.func @patchify_nchw_oihw() {
  %img = arith.constant dense<[[[[0.0, 1.0, 2.0, 3.0, 4.0, 5.0],
         [6.0, 7.0, 8.0, 9.0, 10.0, 11.0],
         [12.0, 13.0, 14.0, 15.0, 16.0, 17.0],
         [18.0, 19.0, 20.0, 21.0, 22.0, 23.0]],
        [[24.0, 25.0, 26.0, 27.0, 28.0, 29.0],
         [30.0, 31.0, 32.0, 33.0, 34.0, 35.0],
         [36.0, 37.0, 38.0, 39.0, 40.0, 41.0],
         [42.0, 43.0, 44.0, 45.0, 46.0, 47.0]],
        [[48.0, 49.0, 50.0, 51.0, 52.0, 53.0],
         [54.0, 55.0, 56.0, 57.0, 58.0, 59.0],
         [60.0, 61.0, 62.0, 63.0, 64.0, 65.0],
         [66.0, 67.0, 68.0, 69.0, 70.0, 71.0]]],
       [[[72.0, 73.0, 74.0, 75.0, 76.0, 77.0],
         [78.0, 79.0, 80.0, 81.0, 82.0, 83.0],
         [84.0, 85.0, 86.0, 87.0, 88.0, 89.0],
         [90.0, 91.0, 92.0, 93.0, 94.0, 95.0]],
        [[96.0, 97.0, 98.0, 99.0, 100.0, 101.0],
         [102.0, 103.0, 104.0, 105.0, 106.0, 107.0],
         [108.0, 109.0, 110.0, 111.0, 112.0, 113.0],
         [114.0, 115.0, 116.0, 117.0, 118.0, 119.0]],
        [[120.0, 121.0, 122.0, 123.0, 124.0, 125.0],
         [126.0, 127.0, 128.0, 129.0, 130.0, 131.0],
         [132.0, 133.0, 134.0, 135.0, 136.0, 137.0],
         [138.0, 139.0, 140.0, 141.0, 142.0, 143.0]]]]> : tensor<2x3x4x6xf32>
  %result = vit.patchify %img patch_size = 2 input_layout = nchw kernel_layout = oihw : tensor<2x3x4x6xf32> -> tensor<2x6x12xf32>
  %expected = arith.constant dense<[0.0, 1.0, 6.0, 7.0, 24.0, 25.0, 30.0, 31.0, 48.0, 49.0, 54.0,
       55.0, 2.0, 3.0, 8.0, 9.0, 26.0, 27.0, 32.0, 33.0, 50.0, 51.0,
       56.0, 57.0, 4.0, 5.0, 10.0, 11.0, 28.0, 29.0, 34.0, 35.0, 52.0,
       53.0, 58.0, 59.0, 12.0, 13.0, 18.0, 19.0, 36.0, 37.0, 42.0, 43.0,
       60.0, 61.0, 66.0, 67.0, 14.0, 15.0, 20.0, 21.0, 38.0, 39.0, 44.0,
       45.0, 62.0, 63.0, 68.0, 69.0, 16.0, 17.0, 22.0, 23.0, 40.0, 41.0,
       46.0, 47.0, 64.0, 65.0, 70.0, 71.0, 72.0, 73.0, 78.0, 79.0, 96.0,
       97.0, 102.0, 103.0, 120.0, 121.0, 126.0, 127.0, 74.0, 75.0, 80.0,
       81.0, 98.0, 99.0, 104.0, 105.0, 122.0, 123.0, 128.0, 129.0, 76.0,
       77.0, 82.0, 83.0, 100.0, 101.0, 106.0, 107.0, 124.0, 125.0,
       130.0, 131.0, 84.0, 85.0, 90.0, 91.0, 108.0, 109.0, 114.0, 115.0,
       132.0, 133.0, 138.0, 139.0, 86.0, 87.0, 92.0, 93.0, 110.0, 111.0,
       116.0, 117.0, 134.0, 135.0, 140.0, 141.0, 88.0, 89.0, 94.0, 95.0,
       112.0, 113.0, 118.0, 119.0, 136.0, 137.0, 142.0, 143.0]> : tensor<144xf32>
  %flat = tensor.collapse_shape %result [[0, 1, 2]] : tensor<2x6x12xf32> into tensor<144xf32>
  %id = arith.constant 6 : i64
  %actual = tensor.cast %flat : tensor<144xf32> to tensor<?xf32>
  %reference = tensor.cast %expected : tensor<144xf32> to tensor<?xf32>
  call @check(%id, %actual, %reference) : (i64, tensor<?xf32>, tensor<?xf32>) -> ()
  return
}

// vit.patchify of an NHWC image into [row, col, c] patches.
// CHECK: {{^}}7, 0, 144{{$}}
func.func @patchify_nhwc_hwio() {
  %img = arith.constant dense<[[[[0.0, 1.0, 2.0],
         [3.0, 4.0, 5.0],
         [6.0, 7.0, 8.0],
         [9.0, 10.0, 11.0],
         [12.0, 13.0, 14.0],
         [15.0, 16.0, 17.0]],
        [[18.0, 19.0, 20.0],
         [21.0, 22.0, 23.0],
         [24.0, 25.0, 26.0],
         [27.0, 28.0, 29.0],
         [30.0, 31.0, 32.0],
         [33.0, 34.0, 35.0]],
        [[36.0, 37.0, 38.0],
         [39.0, 40.0, 41.0],
         [42.0, 43.0, 44.0],
         [45.0, 46.0, 47.0],
         [48.0, 49.0, 50.0],
         [51.0, 52.0, 53.0]],
        [[54.0, 55.0, 56.0],
         [57.0, 58.0, 59.0],
         [60.0, 61.0, 62.0],
         [63.0, 64.0, 65.0],
         [66.0, 67.0, 68.0],
         [69.0, 70.0, 71.0]]],
       [[[72.0, 73.0, 74.0],
         [75.0, 76.0, 77.0],
         [78.0, 79.0, 80.0],
         [81.0, 82.0, 83.0],
         [84.0, 85.0, 86.0],
         [87.0, 88.0, 89.0]],
        [[90.0, 91.0, 92.0],
         [93.0, 94.0, 95.0],
         [96.0, 97.0, 98.0],
         [99.0, 100.0, 101.0],
         [102.0, 103.0, 104.0],
         [105.0, 106.0, 107.0]],
        [[108.0, 109.0, 110.0],
         [111.0, 112.0, 113.0],
         [114.0, 115.0, 116.0],
         [117.0, 118.0, 119.0],
         [120.0, 121.0, 122.0],
         [123.0, 124.0, 125.0]],
        [[126.0, 127.0, 128.0],
         [129.0, 130.0, 131.0],
         [132.0, 133.0, 134.0],
         [135.0, 136.0, 137.0],
         [138.0, 139.0, 140.0],
         [141.0, 142.0, 143.0]]]]> : tensor<2x4x6x3xf32>
  %result = vit.patchify %img patch_size = 2 input_layout = nhwc kernel_layout = hwio : tensor<2x4x6x3xf32> -> tensor<2x6x12xf32>
  %expected = arith.constant dense<[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0,
       6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 24.0, 25.0, 26.0, 27.0, 28.0,
       29.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 30.0, 31.0, 32.0, 33.0,
       34.0, 35.0, 36.0, 37.0, 38.0, 39.0, 40.0, 41.0, 54.0, 55.0, 56.0,
       57.0, 58.0, 59.0, 42.0, 43.0, 44.0, 45.0, 46.0, 47.0, 60.0, 61.0,
       62.0, 63.0, 64.0, 65.0, 48.0, 49.0, 50.0, 51.0, 52.0, 53.0, 66.0,
       67.0, 68.0, 69.0, 70.0, 71.0, 72.0, 73.0, 74.0, 75.0, 76.0, 77.0,
       90.0, 91.0, 92.0, 93.0, 94.0, 95.0, 78.0, 79.0, 80.0, 81.0, 82.0,
       83.0, 96.0, 97.0, 98.0, 99.0, 100.0, 101.0, 84.0, 85.0, 86.0,
       87.0, 88.0, 89.0, 102.0, 103.0, 104.0, 105.0, 106.0, 107.0,
       108.0, 109.0, 110.0, 111.0, 112.0, 113.0, 126.0, 127.0, 128.0,
       129.0, 130.0, 131.0, 114.0, 115.0, 116.0, 117.0, 118.0, 119.0,
       132.0, 133.0, 134.0, 135.0, 136.0, 137.0, 120.0, 121.0, 122.0,
       123.0, 124.0, 125.0, 138.0, 139.0, 140.0, 141.0, 142.0, 143.0]> : tensor<144xf32>
  %flat = tensor.collapse_shape %result [[0, 1, 2]] : tensor<2x6x12xf32> into tensor<144xf32>
  %id = arith.constant 7 : i64
  %actual = tensor.cast %flat : tensor<144xf32> to tensor<?xf32>
  %reference = tensor.cast %expected : tensor<144xf32> to tensor<?xf32>
  call @check(%id, %actual, %reference) : (i64, tensor<?xf32>, tensor<?xf32>) -> ()
  return
}

// vit.add with the addend broadcast over the batch.
// CHECK: {{^}}8, 0, 12{{$}}
func.func @add_broadcast() {
  %x = arith.constant dense<[[[-0.3125, 0.1875, 0.25], [-0.125, 0.125, -0.0625]],
       [[0.375, 0.375, -0.0625], [0.125, -0.125, 0.25]]]> : tensor<2x2x3xf32>
  %r = arith.constant dense<[[0.375, -0.1875, -0.125], [-0.5, -0.25, -0.4375]]> : tensor<2x3xf32>
  %result = vit.add %x, %r : tensor<2x2x3xf32>, tensor<2x3xf32>
  %expected = arith.constant dense<[0.0625, 0.0, 0.125, -0.625, -0.125, -0.5, 0.75, 0.1875, -0.1875,
       -0.375, -0.375, -0.1875]> : tensor<12xf32>
  %flat = tensor.collapse_shape %result [[0, 1, 2]] : tensor<2x2x3xf32> into tensor<12xf32>
  %id = arith.constant 8 : i64
  %actual = tensor.cast %flat : tensor<12xf32> to tensor<?xf32>
  %reference = tensor.cast %expected : tensor<12xf32> to tensor<?xf32>
  call @check(%id, %actual, %reference) : (i64, tensor<?xf32>, tensor<?xf32>) -> ()
  return
}

// vit.prepend_token.
// CHECK: {{^}}9, 0, 18{{$}}
func.func @prepend_token() {
  %x = arith.constant dense<[[[0.0, 0.5, -0.5], [0.1875, 0.4375, 0.25]],
       [[-0.375, -0.375, 0.25], [0.4375, 0.1875, -0.5]]]> : tensor<2x2x3xf32>
  %t = arith.constant dense<[9.0, 8.0, 7.0]> : tensor<3xf32>
  %result = vit.prepend_token %x, %t : tensor<2x2x3xf32>, tensor<3xf32> -> tensor<2x3x3xf32>
  %expected = arith.constant dense<[9.0, 8.0, 7.0, 0.0, 0.5, -0.5, 0.1875, 0.4375, 0.25, 9.0, 8.0,
       7.0, -0.375, -0.375, 0.25, 0.4375, 0.1875, -0.5]> : tensor<18xf32>
  %flat = tensor.collapse_shape %result [[0, 1, 2]] : tensor<2x3x3xf32> into tensor<18xf32>
  %id = arith.constant 9 : i64
  %actual = tensor.cast %flat : tensor<18xf32> to tensor<?xf32>
  %reference = tensor.cast %expected : tensor<18xf32> to tensor<?xf32>
  call @check(%id, %actual, %reference) : (i64, tensor<?xf32>, tensor<?xf32>) -> ()
  return
}

func.func @main() {
  call @linear_bias_gelu_exact() : () -> ()
  call @linear_packed_weights() : () -> ()
  call @linear_bias_gelu_tanh_residual() : () -> ()
  call @layer_norm() : () -> ()
  call @attention_core() : () -> ()
  call @attention_core_large_scores() : () -> ()
  call @patchify_nchw_oihw() : () -> ()
  call @patchify_nhwc_hwio() : () -> ()
  call @add_broadcast() : () -> ()
  call @prepend_token() : () -> ()
  return
}
