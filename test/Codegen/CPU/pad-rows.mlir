// RUN: vitc-opt %s -split-input-file -vit-cpu-pad-rows | FileCheck %s
// RUN: vitc-opt %s -split-input-file -vit-cpu-pad-rows="padding=0" | FileCheck %s --check-prefix=OFF
// RUN: vitc-opt %s -split-input-file -vit-cpu-pad-rows="critical-stride=3072" | FileCheck %s --check-prefix=STRIDE3K

// Rows of 1024 floats (4 KiB): the producer returns its result in rows 16
// floats (64 bytes) longer, the reader slices the value back out of them,
// and the graph passes the padded type between the two.

#id = affine_map<(d0, d1) -> (d0, d1)>

// CHECK-LABEL: func.func @produce(
// CHECK-SAME:    -> tensor<4x1040xf32>
// CHECK:         %[[SQ:.*]] = linalg.generic
// CHECK:         %[[E:.*]] = tensor.empty() : tensor<4x1040xf32>
// CHECK:         %[[P:.*]] = tensor.insert_slice %[[SQ]] into %[[E]][0, 0] [4, 1024] [1, 1] : tensor<4x1024xf32> into tensor<4x1040xf32>
// CHECK:         return %[[P]] : tensor<4x1040xf32>
// OFF-NOT:       1040
// STRIDE3K-NOT:  tensor<4x1040xf32>
func.func @produce(%x: tensor<4x1024xf32>) -> tensor<4x1024xf32> attributes {vit.kernel_name = "produce"} {
  %e = tensor.empty() : tensor<4x1024xf32>
  %0 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<4x1024xf32>) outs(%e : tensor<4x1024xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.mulf %a, %a : f32
    linalg.yield %m : f32
  } -> tensor<4x1024xf32>
  return %0 : tensor<4x1024xf32>
}

// CHECK-LABEL: func.func @consume(
// CHECK-SAME:    %[[Y:[a-z0-9_]+]]: tensor<4x1040xf32>, %[[W:[a-z0-9_]+]]: tensor<1024x8xf32>) -> tensor<4x8xf32>
// CHECK:         %[[S:.*]] = tensor.extract_slice %[[Y]][0, 0] [4, 1024] [1, 1] : tensor<4x1040xf32> to tensor<4x1024xf32>
// CHECK:         linalg.matmul ins(%[[S]], %[[W]] :
func.func @consume(%y: tensor<4x1024xf32>, %w: tensor<1024x8xf32>) -> tensor<4x8xf32> attributes {vit.kernel_name = "consume"} {
  %e = tensor.empty() : tensor<4x8xf32>
  %zero = arith.constant 0.0 : f32
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4x8xf32>) -> tensor<4x8xf32>
  %0 = linalg.matmul ins(%y, %w : tensor<4x1024xf32>, tensor<1024x8xf32>) outs(%f : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// CHECK-LABEL: func.func @vit(
// CHECK:         %[[A:.*]] = call @produce(%{{.*}}) : (tensor<4x1024xf32>) -> tensor<4x1040xf32>
// CHECK:         call @consume(%[[A]], %{{.*}}) : (tensor<4x1040xf32>, tensor<1024x8xf32>) -> tensor<4x8xf32>
// OFF-LABEL:   func.func @vit(
// OFF:           call @produce(%{{.*}}) : (tensor<4x1024xf32>) -> tensor<4x1024xf32>
func.func @vit(%x: tensor<4x1024xf32>, %w: tensor<1024x8xf32>) -> tensor<4x8xf32> {
  %0 = call @produce(%x) : (tensor<4x1024xf32>) -> tensor<4x1024xf32>
  %1 = call @consume(%0, %w) : (tensor<4x1024xf32>, tensor<1024x8xf32>) -> tensor<4x8xf32>
  return %1 : tensor<4x8xf32>
}

// -----

// Rows of 768 floats (3 KiB) are no multiple of 4 KiB: nothing changes,
// unless the critical stride is 3 KiB. A single row, a value the graph
// returns and a value whose reader collapses its rows into one vector are
// never padded.

#id = affine_map<(d0, d1) -> (d0, d1)>

// CHECK-LABEL: func.func @produce_768(
// CHECK-SAME:    -> tensor<4x768xf32>
// CHECK-NOT:     tensor.insert_slice
// STRIDE3K-LABEL: func.func @produce_768(
// STRIDE3K-SAME:   -> tensor<4x784xf32>
func.func @produce_768(%x: tensor<4x768xf32>) -> tensor<4x768xf32> attributes {vit.kernel_name = "produce_768"} {
  %e = tensor.empty() : tensor<4x768xf32>
  %0 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<4x768xf32>) outs(%e : tensor<4x768xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.mulf %a, %a : f32
    linalg.yield %m : f32
  } -> tensor<4x768xf32>
  return %0 : tensor<4x768xf32>
}

// CHECK-LABEL: func.func @read_768(
// CHECK-SAME:    tensor<4x768xf32>
// STRIDE3K-LABEL: func.func @read_768(
// STRIDE3K-SAME:   tensor<4x784xf32>
func.func @read_768(%y: tensor<4x768xf32>) -> tensor<4x768xf32> attributes {vit.kernel_name = "read_768"} {
  %e = tensor.empty() : tensor<4x768xf32>
  %0 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%y : tensor<4x768xf32>) outs(%e : tensor<4x768xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.addf %a, %a : f32
    linalg.yield %m : f32
  } -> tensor<4x768xf32>
  return %0 : tensor<4x768xf32>
}

// CHECK-LABEL: func.func @one_row(
// CHECK-SAME:    -> tensor<1x1024xf32>
func.func @one_row(%x: tensor<1x1024xf32>) -> tensor<1x1024xf32> attributes {vit.kernel_name = "one_row"} {
  %e = tensor.empty() : tensor<1x1024xf32>
  %0 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<1x1024xf32>) outs(%e : tensor<1x1024xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.mulf %a, %a : f32
    linalg.yield %m : f32
  } -> tensor<1x1024xf32>
  return %0 : tensor<1x1024xf32>
}

// CHECK-LABEL: func.func @read_one_row(
// CHECK-SAME:    tensor<1x1024xf32>
func.func @read_one_row(%y: tensor<1x1024xf32>) -> tensor<1x1024xf32> attributes {vit.kernel_name = "read_one_row"} {
  %e = tensor.empty() : tensor<1x1024xf32>
  %0 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%y : tensor<1x1024xf32>) outs(%e : tensor<1x1024xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.addf %a, %a : f32
    linalg.yield %m : f32
  } -> tensor<1x1024xf32>
  return %0 : tensor<1x1024xf32>
}

// CHECK-LABEL: func.func @flattened(
// CHECK-SAME:    -> tensor<4x1024xf32>
func.func @flattened(%x: tensor<4x1024xf32>) -> tensor<4x1024xf32> attributes {vit.kernel_name = "flattened"} {
  %e = tensor.empty() : tensor<4x1024xf32>
  %0 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<4x1024xf32>) outs(%e : tensor<4x1024xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.mulf %a, %a : f32
    linalg.yield %m : f32
  } -> tensor<4x1024xf32>
  return %0 : tensor<4x1024xf32>
}

// CHECK-LABEL: func.func @read_flattened(
// CHECK-SAME:    tensor<4x1024xf32>
// CHECK-NOT:     tensor.extract_slice
func.func @read_flattened(%y: tensor<4x1024xf32>) -> tensor<4096xf32> attributes {vit.kernel_name = "read_flattened"} {
  %c = tensor.collapse_shape %y [[0, 1]] : tensor<4x1024xf32> into tensor<4096xf32>
  %e = tensor.empty() : tensor<4096xf32>
  %0 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%c : tensor<4096xf32>) outs(%e : tensor<4096xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.addf %a, %a : f32
    linalg.yield %m : f32
  } -> tensor<4096xf32>
  return %0 : tensor<4096xf32>
}

// CHECK-LABEL: func.func @returned(
// CHECK-SAME:    -> tensor<4x1024xf32>
func.func @returned(%x: tensor<4x1024xf32>) -> tensor<4x1024xf32> attributes {vit.kernel_name = "returned"} {
  %e = tensor.empty() : tensor<4x1024xf32>
  %0 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<4x1024xf32>) outs(%e : tensor<4x1024xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.mulf %a, %a : f32
    linalg.yield %m : f32
  } -> tensor<4x1024xf32>
  return %0 : tensor<4x1024xf32>
}

// CHECK-LABEL: func.func @vit(
// CHECK-NOT:     1040
// CHECK:         return
func.func @vit(%x768: tensor<4x768xf32>, %x1: tensor<1x1024xf32>, %x: tensor<4x1024xf32>) -> (tensor<4x768xf32>, tensor<1x1024xf32>, tensor<4096xf32>, tensor<4x1024xf32>) {
  %0 = call @produce_768(%x768) : (tensor<4x768xf32>) -> tensor<4x768xf32>
  %1 = call @read_768(%0) : (tensor<4x768xf32>) -> tensor<4x768xf32>
  %2 = call @one_row(%x1) : (tensor<1x1024xf32>) -> tensor<1x1024xf32>
  %3 = call @read_one_row(%2) : (tensor<1x1024xf32>) -> tensor<1x1024xf32>
  %4 = call @flattened(%x) : (tensor<4x1024xf32>) -> tensor<4x1024xf32>
  %5 = call @read_flattened(%4) : (tensor<4x1024xf32>) -> tensor<4096xf32>
  %6 = call @returned(%x) : (tensor<4x1024xf32>) -> tensor<4x1024xf32>
  return %1, %3, %5, %6 : tensor<4x768xf32>, tensor<1x1024xf32>, tensor<4096xf32>, tensor<4x1024xf32>
}

// -----

// A kernel called twice pads at both calls. A reader that is also called
// with a value nobody padded (the graph's input) keeps its type, and so do
// the kernels feeding it.

#id = affine_map<(d0, d1) -> (d0, d1)>

// CHECK-LABEL: func.func @twice(
// CHECK-SAME:    -> tensor<4x1040xf32>
func.func @twice(%x: tensor<4x1024xf32>) -> tensor<4x1024xf32> attributes {vit.kernel_name = "twice"} {
  %e = tensor.empty() : tensor<4x1024xf32>
  %0 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<4x1024xf32>) outs(%e : tensor<4x1024xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.mulf %a, %a : f32
    linalg.yield %m : f32
  } -> tensor<4x1024xf32>
  return %0 : tensor<4x1024xf32>
}

// CHECK-LABEL: func.func @read_twice(
// CHECK-SAME:    tensor<4x1040xf32>
func.func @read_twice(%y: tensor<4x1024xf32>) -> tensor<4x2xf32> attributes {vit.kernel_name = "read_twice"} {
  %e = tensor.empty() : tensor<4x2xf32>
  %0 = linalg.generic {indexing_maps = [#id, affine_map<(d0, d1) -> (d0, 0)>], iterator_types = ["parallel", "reduction"]} ins(%y : tensor<4x1024xf32>) outs(%e : tensor<4x2xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.addf %a, %o : f32
    linalg.yield %m : f32
  } -> tensor<4x2xf32>
  return %0 : tensor<4x2xf32>
}

// CHECK-LABEL: func.func @mixed(
// CHECK-SAME:    -> tensor<4x1024xf32>
func.func @mixed(%x: tensor<4x1024xf32>) -> tensor<4x1024xf32> attributes {vit.kernel_name = "mixed"} {
  %e = tensor.empty() : tensor<4x1024xf32>
  %0 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<4x1024xf32>) outs(%e : tensor<4x1024xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.mulf %a, %a : f32
    linalg.yield %m : f32
  } -> tensor<4x1024xf32>
  return %0 : tensor<4x1024xf32>
}

// CHECK-LABEL: func.func @read_mixed(
// CHECK-SAME:    tensor<4x1024xf32>
// CHECK-NOT:     tensor.extract_slice
func.func @read_mixed(%y: tensor<4x1024xf32>) -> tensor<4x1024xf32> attributes {vit.kernel_name = "read_mixed"} {
  %e = tensor.empty() : tensor<4x1024xf32>
  %0 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%y : tensor<4x1024xf32>) outs(%e : tensor<4x1024xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.addf %a, %a : f32
    linalg.yield %m : f32
  } -> tensor<4x1024xf32>
  return %0 : tensor<4x1024xf32>
}

// CHECK-LABEL: func.func @vit(
// CHECK:         %[[A:.*]] = call @twice(%{{.*}}) : (tensor<4x1024xf32>) -> tensor<4x1040xf32>
// CHECK:         %[[B:.*]] = call @twice(%{{.*}}) : (tensor<4x1024xf32>) -> tensor<4x1040xf32>
// CHECK:         call @read_twice(%[[A]]) : (tensor<4x1040xf32>) -> tensor<4x2xf32>
// CHECK:         call @read_twice(%[[B]]) : (tensor<4x1040xf32>) -> tensor<4x2xf32>
// CHECK:         %[[M:.*]] = call @mixed(%{{.*}}) : (tensor<4x1024xf32>) -> tensor<4x1024xf32>
// CHECK:         call @read_mixed(%[[M]]) : (tensor<4x1024xf32>) -> tensor<4x1024xf32>
func.func @vit(%x: tensor<4x1024xf32>, %z: tensor<4x1024xf32>) -> (tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x1024xf32>, tensor<4x1024xf32>) {
  %0 = call @twice(%x) : (tensor<4x1024xf32>) -> tensor<4x1024xf32>
  %1 = call @twice(%z) : (tensor<4x1024xf32>) -> tensor<4x1024xf32>
  %2 = call @read_twice(%0) : (tensor<4x1024xf32>) -> tensor<4x2xf32>
  %3 = call @read_twice(%1) : (tensor<4x1024xf32>) -> tensor<4x2xf32>
  %4 = call @mixed(%x) : (tensor<4x1024xf32>) -> tensor<4x1024xf32>
  %5 = call @read_mixed(%4) : (tensor<4x1024xf32>) -> tensor<4x1024xf32>
  %6 = call @read_mixed(%z) : (tensor<4x1024xf32>) -> tensor<4x1024xf32>
  return %2, %3, %5, %6 : tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x1024xf32>, tensor<4x1024xf32>
}
