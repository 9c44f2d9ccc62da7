// Runs kernels of ViT-like shapes through the CUDA schedule with the
// default tile heuristic, executed sequentially on the CPU, and compares
// them element by element with the same ops lowered without any schedule
// (one loop nest per op, as in test/Conversion/ViTToLinalg/exec.mlir, whose
// lowering is checked against Python references there). The shapes make
// every kernel span several blocks with partial tiles at the edges, several
// heads per attention, and thread loops with more work than threads. Each
// case prints "<case>, <elements off by more than 1e-5>, <elements>".
//
// The bound: inputs are multiples of 1/16 below 1/2 in magnitude, so every
// result is at most about 10 in magnitude. Both sides sum in the same
// order; they differ only in the schedule's polynomial exp/erf/tanh (a few
// ulp, below 1e-6 here) against libm's. Anything above 1e-5 is a schedule
// error.

// RUN: vitc-opt %s -convert-vit-to-linalg -vit-cuda-emulate-on-cpu \
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

/// A deterministic tensor of the shape of %like with elements
/// ((seed + linear index * 7) mod 15 - 7) / 16, exact in f32.
func.func @pattern(%like: tensor<?xf32>, %seed: index) -> tensor<?xf32> {
  %c0 = arith.constant 0 : index
  %size = tensor.dim %like, %c0 : tensor<?xf32>
  %empty = tensor.empty(%size) : tensor<?xf32>
  %values = linalg.generic {
      indexing_maps = [affine_map<(i) -> (i)>], iterator_types = ["parallel"]}
      outs(%empty : tensor<?xf32>) {
  ^bb0(%out: f32):
    %i = linalg.index 0 : index
    %c7 = arith.constant 7 : index
    %c15 = arith.constant 15 : index
    %scaled = arith.muli %i, %c7 : index
    %shifted = arith.addi %scaled, %seed : index
    %wrapped = arith.remui %shifted, %c15 : index
    %int = arith.index_cast %wrapped : index to i32
    %float = arith.sitofp %int : i32 to f32
    %seven = arith.constant 7.0 : f32
    %centered = arith.subf %float, %seven : f32
    %sixteenth = arith.constant 0.0625 : f32
    %value = arith.mulf %centered, %sixteenth : f32
    linalg.yield %value : f32
  } -> tensor<?xf32>
  return %values : tensor<?xf32>
}

// A linear over 2 x 37 tokens with every epilogue.
// CHECK: {{^}}1, 0, 5920{{$}}
func.func @linear_kernel(%x: tensor<2x37x48xf32>, %w: tensor<80x48xf32>, %b: tensor<80xf32>, %r: tensor<2x37x80xf32>) -> tensor<2x37x80xf32> attributes {vit.kernel_name = "linear"} {
  %y = vit.linear %x, %w bias(%b : tensor<80xf32>) gelu = exact residual(%r : tensor<2x37x80xf32>) : tensor<2x37x48xf32>, tensor<80x48xf32> -> tensor<2x37x80xf32>
  return %y : tensor<2x37x80xf32>
}
func.func @linear_reference(%x: tensor<2x37x48xf32>, %w: tensor<80x48xf32>, %b: tensor<80xf32>, %r: tensor<2x37x80xf32>) -> tensor<2x37x80xf32> {
  %y = vit.linear %x, %w bias(%b : tensor<80xf32>) gelu = exact residual(%r : tensor<2x37x80xf32>) : tensor<2x37x48xf32>, tensor<80x48xf32> -> tensor<2x37x80xf32>
  return %y : tensor<2x37x80xf32>
}

// Patch embedding as vit-form-kernels groups it: patchify, linear, bias and
// position embedding in one kernel.
// CHECK: {{^}}2, 0, 576{{$}}
func.func @patch_embed_kernel(%image: tensor<2x3x12x12xf32>, %w: tensor<32x48xf32>, %b: tensor<32xf32>, %position: tensor<9x32xf32>) -> tensor<2x9x32xf32> attributes {vit.kernel_name = "patch_embed"} {
  %patches = vit.patchify %image patch_size = 4 input_layout = nchw kernel_layout = oihw : tensor<2x3x12x12xf32> -> tensor<2x9x48xf32>
  %y = vit.linear %patches, %w bias(%b : tensor<32xf32>) residual(%position : tensor<9x32xf32>) : tensor<2x9x48xf32>, tensor<32x48xf32> -> tensor<2x9x32xf32>
  return %y : tensor<2x9x32xf32>
}
func.func @patch_embed_reference(%image: tensor<2x3x12x12xf32>, %w: tensor<32x48xf32>, %b: tensor<32xf32>, %position: tensor<9x32xf32>) -> tensor<2x9x32xf32> {
  %patches = vit.patchify %image patch_size = 4 input_layout = nchw kernel_layout = oihw : tensor<2x3x12x12xf32> -> tensor<2x9x48xf32>
  %y = vit.linear %patches, %w bias(%b : tensor<32xf32>) residual(%position : tensor<9x32xf32>) : tensor<2x9x48xf32>, tensor<32x48xf32> -> tensor<2x9x32xf32>
  return %y : tensor<2x9x32xf32>
}

// CHECK: {{^}}3, 0, 3552{{$}}
func.func @layer_norm_kernel(%x: tensor<2x37x48xf32>, %s: tensor<48xf32>, %t: tensor<48xf32>) -> tensor<2x37x48xf32> attributes {vit.kernel_name = "layer_norm"} {
  %y = vit.layer_norm %x, %s, %t epsilon = 1.0e-6 : tensor<2x37x48xf32>, tensor<48xf32>, tensor<48xf32>
  return %y : tensor<2x37x48xf32>
}
func.func @layer_norm_reference(%x: tensor<2x37x48xf32>, %s: tensor<48xf32>, %t: tensor<48xf32>) -> tensor<2x37x48xf32> {
  %y = vit.layer_norm %x, %s, %t epsilon = 1.0e-6 : tensor<2x37x48xf32>, tensor<48xf32>, tensor<48xf32>
  return %y : tensor<2x37x48xf32>
}

// The attention core of a fused QKV projection: q, k and v are slices of
// one [2, 37, 3 * 64] tensor, 4 heads of 16 channels.
// CHECK: {{^}}4, 0, 4736{{$}}
func.func @attention_kernel(%qkv: tensor<2x37x192xf32>) -> tensor<2x37x64xf32> attributes {vit.kernel_name = "attention"} {
  %q = tensor.extract_slice %qkv[0, 0, 0] [2, 37, 64] [1, 1, 1] : tensor<2x37x192xf32> to tensor<2x37x64xf32>
  %k = tensor.extract_slice %qkv[0, 0, 64] [2, 37, 64] [1, 1, 1] : tensor<2x37x192xf32> to tensor<2x37x64xf32>
  %v = tensor.extract_slice %qkv[0, 0, 128] [2, 37, 64] [1, 1, 1] : tensor<2x37x192xf32> to tensor<2x37x64xf32>
  %y = vit.attention_core %q, %k, %v num_heads = 4 : tensor<2x37x64xf32>
  return %y : tensor<2x37x64xf32>
}
func.func @attention_reference(%qkv: tensor<2x37x192xf32>) -> tensor<2x37x64xf32> {
  %q = tensor.extract_slice %qkv[0, 0, 0] [2, 37, 64] [1, 1, 1] : tensor<2x37x192xf32> to tensor<2x37x64xf32>
  %k = tensor.extract_slice %qkv[0, 0, 64] [2, 37, 64] [1, 1, 1] : tensor<2x37x192xf32> to tensor<2x37x64xf32>
  %v = tensor.extract_slice %qkv[0, 0, 128] [2, 37, 64] [1, 1, 1] : tensor<2x37x192xf32> to tensor<2x37x64xf32>
  %y = vit.attention_core %q, %k, %v num_heads = 4 : tensor<2x37x64xf32>
  return %y : tensor<2x37x64xf32>
}

// Class token in front of 2 x 36 patch embeddings.
// CHECK: {{^}}5, 0, 2368{{$}}
func.func @prepend_token_kernel(%x: tensor<2x36x32xf32>, %t: tensor<32xf32>) -> tensor<2x37x32xf32> attributes {vit.kernel_name = "prepend_token"} {
  %y = vit.prepend_token %x, %t : tensor<2x36x32xf32>, tensor<32xf32> -> tensor<2x37x32xf32>
  return %y : tensor<2x37x32xf32>
}
func.func @prepend_token_reference(%x: tensor<2x36x32xf32>, %t: tensor<32xf32>) -> tensor<2x37x32xf32> {
  %y = vit.prepend_token %x, %t : tensor<2x36x32xf32>, tensor<32xf32> -> tensor<2x37x32xf32>
  return %y : tensor<2x37x32xf32>
}

func.func @main() {
  %linear_seed0 = arith.constant 1 : index
  %linear_empty0 = tensor.empty() : tensor<3552xf32>
  %linear_dyn0 = tensor.cast %linear_empty0 : tensor<3552xf32> to tensor<?xf32>
  %linear_pat0 = call @pattern(%linear_dyn0, %linear_seed0) : (tensor<?xf32>, index) -> tensor<?xf32>
  %linear_flat0 = tensor.cast %linear_pat0 : tensor<?xf32> to tensor<3552xf32>
  %linear_0 = tensor.expand_shape %linear_flat0 [[0, 1, 2]] output_shape [2, 37, 48] : tensor<3552xf32> into tensor<2x37x48xf32>
  %linear_seed1 = arith.constant 2 : index
  %linear_empty1 = tensor.empty() : tensor<3840xf32>
  %linear_dyn1 = tensor.cast %linear_empty1 : tensor<3840xf32> to tensor<?xf32>
  %linear_pat1 = call @pattern(%linear_dyn1, %linear_seed1) : (tensor<?xf32>, index) -> tensor<?xf32>
  %linear_flat1 = tensor.cast %linear_pat1 : tensor<?xf32> to tensor<3840xf32>
  %linear_1 = tensor.expand_shape %linear_flat1 [[0, 1]] output_shape [80, 48] : tensor<3840xf32> into tensor<80x48xf32>
  %linear_seed2 = arith.constant 3 : index
  %linear_empty2 = tensor.empty() : tensor<80xf32>
  %linear_dyn2 = tensor.cast %linear_empty2 : tensor<80xf32> to tensor<?xf32>
  %linear_pat2 = call @pattern(%linear_dyn2, %linear_seed2) : (tensor<?xf32>, index) -> tensor<?xf32>
  %linear_2 = tensor.cast %linear_pat2 : tensor<?xf32> to tensor<80xf32>
  %linear_seed3 = arith.constant 4 : index
  %linear_empty3 = tensor.empty() : tensor<5920xf32>
  %linear_dyn3 = tensor.cast %linear_empty3 : tensor<5920xf32> to tensor<?xf32>
  %linear_pat3 = call @pattern(%linear_dyn3, %linear_seed3) : (tensor<?xf32>, index) -> tensor<?xf32>
  %linear_flat3 = tensor.cast %linear_pat3 : tensor<?xf32> to tensor<5920xf32>
  %linear_3 = tensor.expand_shape %linear_flat3 [[0, 1, 2]] output_shape [2, 37, 80] : tensor<5920xf32> into tensor<2x37x80xf32>
  %linear_kernel = call @linear_kernel(%linear_0, %linear_1, %linear_2, %linear_3) : (tensor<2x37x48xf32>, tensor<80x48xf32>, tensor<80xf32>, tensor<2x37x80xf32>) -> tensor<2x37x80xf32>
  %linear_kernel_flat = tensor.collapse_shape %linear_kernel [[0, 1, 2]] : tensor<2x37x80xf32> into tensor<5920xf32>
  %linear_kernel_dyn = tensor.cast %linear_kernel_flat : tensor<5920xf32> to tensor<?xf32>
  %linear_reference = call @linear_reference(%linear_0, %linear_1, %linear_2, %linear_3) : (tensor<2x37x48xf32>, tensor<80x48xf32>, tensor<80xf32>, tensor<2x37x80xf32>) -> tensor<2x37x80xf32>
  %linear_reference_flat = tensor.collapse_shape %linear_reference [[0, 1, 2]] : tensor<2x37x80xf32> into tensor<5920xf32>
  %linear_reference_dyn = tensor.cast %linear_reference_flat : tensor<5920xf32> to tensor<?xf32>
  %linear_id = arith.constant 1 : i64
  call @check(%linear_id, %linear_kernel_dyn, %linear_reference_dyn) : (i64, tensor<?xf32>, tensor<?xf32>) -> ()
  %patch_embed_seed0 = arith.constant 5 : index
  %patch_embed_empty0 = tensor.empty() : tensor<864xf32>
  %patch_embed_dyn0 = tensor.cast %patch_embed_empty0 : tensor<864xf32> to tensor<?xf32>
  %patch_embed_pat0 = call @pattern(%patch_embed_dyn0, %patch_embed_seed0) : (tensor<?xf32>, index) -> tensor<?xf32>
  %patch_embed_flat0 = tensor.cast %patch_embed_pat0 : tensor<?xf32> to tensor<864xf32>
  %patch_embed_0 = tensor.expand_shape %patch_embed_flat0 [[0, 1, 2, 3]] output_shape [2, 3, 12, 12] : tensor<864xf32> into tensor<2x3x12x12xf32>
  %patch_embed_seed1 = arith.constant 6 : index
  %patch_embed_empty1 = tensor.empty() : tensor<1536xf32>
  %patch_embed_dyn1 = tensor.cast %patch_embed_empty1 : tensor<1536xf32> to tensor<?xf32>
  %patch_embed_pat1 = call @pattern(%patch_embed_dyn1, %patch_embed_seed1) : (tensor<?xf32>, index) -> tensor<?xf32>
  %patch_embed_flat1 = tensor.cast %patch_embed_pat1 : tensor<?xf32> to tensor<1536xf32>
  %patch_embed_1 = tensor.expand_shape %patch_embed_flat1 [[0, 1]] output_shape [32, 48] : tensor<1536xf32> into tensor<32x48xf32>
  %patch_embed_seed2 = arith.constant 7 : index
  %patch_embed_empty2 = tensor.empty() : tensor<32xf32>
  %patch_embed_dyn2 = tensor.cast %patch_embed_empty2 : tensor<32xf32> to tensor<?xf32>
  %patch_embed_pat2 = call @pattern(%patch_embed_dyn2, %patch_embed_seed2) : (tensor<?xf32>, index) -> tensor<?xf32>
  %patch_embed_2 = tensor.cast %patch_embed_pat2 : tensor<?xf32> to tensor<32xf32>
  %patch_embed_seed3 = arith.constant 8 : index
  %patch_embed_empty3 = tensor.empty() : tensor<288xf32>
  %patch_embed_dyn3 = tensor.cast %patch_embed_empty3 : tensor<288xf32> to tensor<?xf32>
  %patch_embed_pat3 = call @pattern(%patch_embed_dyn3, %patch_embed_seed3) : (tensor<?xf32>, index) -> tensor<?xf32>
  %patch_embed_flat3 = tensor.cast %patch_embed_pat3 : tensor<?xf32> to tensor<288xf32>
  %patch_embed_3 = tensor.expand_shape %patch_embed_flat3 [[0, 1]] output_shape [9, 32] : tensor<288xf32> into tensor<9x32xf32>
  %patch_embed_kernel = call @patch_embed_kernel(%patch_embed_0, %patch_embed_1, %patch_embed_2, %patch_embed_3) : (tensor<2x3x12x12xf32>, tensor<32x48xf32>, tensor<32xf32>, tensor<9x32xf32>) -> tensor<2x9x32xf32>
  %patch_embed_kernel_flat = tensor.collapse_shape %patch_embed_kernel [[0, 1, 2]] : tensor<2x9x32xf32> into tensor<576xf32>
  %patch_embed_kernel_dyn = tensor.cast %patch_embed_kernel_flat : tensor<576xf32> to tensor<?xf32>
  %patch_embed_reference = call @patch_embed_reference(%patch_embed_0, %patch_embed_1, %patch_embed_2, %patch_embed_3) : (tensor<2x3x12x12xf32>, tensor<32x48xf32>, tensor<32xf32>, tensor<9x32xf32>) -> tensor<2x9x32xf32>
  %patch_embed_reference_flat = tensor.collapse_shape %patch_embed_reference [[0, 1, 2]] : tensor<2x9x32xf32> into tensor<576xf32>
  %patch_embed_reference_dyn = tensor.cast %patch_embed_reference_flat : tensor<576xf32> to tensor<?xf32>
  %patch_embed_id = arith.constant 2 : i64
  call @check(%patch_embed_id, %patch_embed_kernel_dyn, %patch_embed_reference_dyn) : (i64, tensor<?xf32>, tensor<?xf32>) -> ()
  %layer_norm_seed0 = arith.constant 9 : index
  %layer_norm_empty0 = tensor.empty() : tensor<3552xf32>
  %layer_norm_dyn0 = tensor.cast %layer_norm_empty0 : tensor<3552xf32> to tensor<?xf32>
  %layer_norm_pat0 = call @pattern(%layer_norm_dyn0, %layer_norm_seed0) : (tensor<?xf32>, index) -> tensor<?xf32>
  %layer_norm_flat0 = tensor.cast %layer_norm_pat0 : tensor<?xf32> to tensor<3552xf32>
  %layer_norm_0 = tensor.expand_shape %layer_norm_flat0 [[0, 1, 2]] output_shape [2, 37, 48] : tensor<3552xf32> into tensor<2x37x48xf32>
  %layer_norm_seed1 = arith.constant 10 : index
  %layer_norm_empty1 = tensor.empty() : tensor<48xf32>
  %layer_norm_dyn1 = tensor.cast %layer_norm_empty1 : tensor<48xf32> to tensor<?xf32>
  %layer_norm_pat1 = call @pattern(%layer_norm_dyn1, %layer_norm_seed1) : (tensor<?xf32>, index) -> tensor<?xf32>
  %layer_norm_1 = tensor.cast %layer_norm_pat1 : tensor<?xf32> to tensor<48xf32>
  %layer_norm_seed2 = arith.constant 11 : index
  %layer_norm_empty2 = tensor.empty() : tensor<48xf32>
  %layer_norm_dyn2 = tensor.cast %layer_norm_empty2 : tensor<48xf32> to tensor<?xf32>
  %layer_norm_pat2 = call @pattern(%layer_norm_dyn2, %layer_norm_seed2) : (tensor<?xf32>, index) -> tensor<?xf32>
  %layer_norm_2 = tensor.cast %layer_norm_pat2 : tensor<?xf32> to tensor<48xf32>
  %layer_norm_kernel = call @layer_norm_kernel(%layer_norm_0, %layer_norm_1, %layer_norm_2) : (tensor<2x37x48xf32>, tensor<48xf32>, tensor<48xf32>) -> tensor<2x37x48xf32>
  %layer_norm_kernel_flat = tensor.collapse_shape %layer_norm_kernel [[0, 1, 2]] : tensor<2x37x48xf32> into tensor<3552xf32>
  %layer_norm_kernel_dyn = tensor.cast %layer_norm_kernel_flat : tensor<3552xf32> to tensor<?xf32>
  %layer_norm_reference = call @layer_norm_reference(%layer_norm_0, %layer_norm_1, %layer_norm_2) : (tensor<2x37x48xf32>, tensor<48xf32>, tensor<48xf32>) -> tensor<2x37x48xf32>
  %layer_norm_reference_flat = tensor.collapse_shape %layer_norm_reference [[0, 1, 2]] : tensor<2x37x48xf32> into tensor<3552xf32>
  %layer_norm_reference_dyn = tensor.cast %layer_norm_reference_flat : tensor<3552xf32> to tensor<?xf32>
  %layer_norm_id = arith.constant 3 : i64
  call @check(%layer_norm_id, %layer_norm_kernel_dyn, %layer_norm_reference_dyn) : (i64, tensor<?xf32>, tensor<?xf32>) -> ()
  %attention_seed0 = arith.constant 12 : index
  %attention_empty0 = tensor.empty() : tensor<14208xf32>
  %attention_dyn0 = tensor.cast %attention_empty0 : tensor<14208xf32> to tensor<?xf32>
  %attention_pat0 = call @pattern(%attention_dyn0, %attention_seed0) : (tensor<?xf32>, index) -> tensor<?xf32>
  %attention_flat0 = tensor.cast %attention_pat0 : tensor<?xf32> to tensor<14208xf32>
  %attention_0 = tensor.expand_shape %attention_flat0 [[0, 1, 2]] output_shape [2, 37, 192] : tensor<14208xf32> into tensor<2x37x192xf32>
  %attention_kernel = call @attention_kernel(%attention_0) : (tensor<2x37x192xf32>) -> tensor<2x37x64xf32>
  %attention_kernel_flat = tensor.collapse_shape %attention_kernel [[0, 1, 2]] : tensor<2x37x64xf32> into tensor<4736xf32>
  %attention_kernel_dyn = tensor.cast %attention_kernel_flat : tensor<4736xf32> to tensor<?xf32>
  %attention_reference = call @attention_reference(%attention_0) : (tensor<2x37x192xf32>) -> tensor<2x37x64xf32>
  %attention_reference_flat = tensor.collapse_shape %attention_reference [[0, 1, 2]] : tensor<2x37x64xf32> into tensor<4736xf32>
  %attention_reference_dyn = tensor.cast %attention_reference_flat : tensor<4736xf32> to tensor<?xf32>
  %attention_id = arith.constant 4 : i64
  call @check(%attention_id, %attention_kernel_dyn, %attention_reference_dyn) : (i64, tensor<?xf32>, tensor<?xf32>) -> ()
  %prepend_token_seed0 = arith.constant 13 : index
  %prepend_token_empty0 = tensor.empty() : tensor<2304xf32>
  %prepend_token_dyn0 = tensor.cast %prepend_token_empty0 : tensor<2304xf32> to tensor<?xf32>
  %prepend_token_pat0 = call @pattern(%prepend_token_dyn0, %prepend_token_seed0) : (tensor<?xf32>, index) -> tensor<?xf32>
  %prepend_token_flat0 = tensor.cast %prepend_token_pat0 : tensor<?xf32> to tensor<2304xf32>
  %prepend_token_0 = tensor.expand_shape %prepend_token_flat0 [[0, 1, 2]] output_shape [2, 36, 32] : tensor<2304xf32> into tensor<2x36x32xf32>
  %prepend_token_seed1 = arith.constant 14 : index
  %prepend_token_empty1 = tensor.empty() : tensor<32xf32>
  %prepend_token_dyn1 = tensor.cast %prepend_token_empty1 : tensor<32xf32> to tensor<?xf32>
  %prepend_token_pat1 = call @pattern(%prepend_token_dyn1, %prepend_token_seed1) : (tensor<?xf32>, index) -> tensor<?xf32>
  %prepend_token_1 = tensor.cast %prepend_token_pat1 : tensor<?xf32> to tensor<32xf32>
  %prepend_token_kernel = call @prepend_token_kernel(%prepend_token_0, %prepend_token_1) : (tensor<2x36x32xf32>, tensor<32xf32>) -> tensor<2x37x32xf32>
  %prepend_token_kernel_flat = tensor.collapse_shape %prepend_token_kernel [[0, 1, 2]] : tensor<2x37x32xf32> into tensor<2368xf32>
  %prepend_token_kernel_dyn = tensor.cast %prepend_token_kernel_flat : tensor<2368xf32> to tensor<?xf32>
  %prepend_token_reference = call @prepend_token_reference(%prepend_token_0, %prepend_token_1) : (tensor<2x36x32xf32>, tensor<32xf32>) -> tensor<2x37x32xf32>
  %prepend_token_reference_flat = tensor.collapse_shape %prepend_token_reference [[0, 1, 2]] : tensor<2x37x32xf32> into tensor<2368xf32>
  %prepend_token_reference_dyn = tensor.cast %prepend_token_reference_flat : tensor<2368xf32> to tensor<?xf32>
  %prepend_token_id = arith.constant 5 : i64
  call @check(%prepend_token_id, %prepend_token_kernel_dyn, %prepend_token_reference_dyn) : (i64, tensor<?xf32>, tensor<?xf32>) -> ()
  return
}
