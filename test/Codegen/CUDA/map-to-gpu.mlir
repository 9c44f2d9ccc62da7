// RUN: vitc-opt %s -convert-vit-to-linalg -vit-cuda-schedule \
// RUN:     -vit-cuda-map-to-gpu | FileCheck %s

// The kernel function launches a gpu.func of its name whose parameters are
// its own (inputs, then output), with the grid of its block loop and the
// threads of its schedule. The workgroup buffers (accumulator and the two
// staged operand tiles) become workgroup attributions, 16-byte aligned for
// the vector accesses to them (ld.shared.v4); a barrier follows
// every thread loop but the last, including those in the K loop. Thread
// loops with fewer threads than the block are guarded by a thread-id test.
// CHECK:       module attributes {gpu.container_module}
// CHECK-LABEL: func.func @linear(
// CHECK-SAME:      %[[A0:[^:]*]]: memref<2x100x64xf32>, %[[A1:[^:]*]]: memref<96x64xf32>, %[[A2:[^:]*]]: memref<96xf32>, %[[A3:[^:]*]]: memref<2x100x96xf32>)
// CHECK-SAME:      vit.cuda.shared_memory_bytes = 3744 : i64
// CHECK-DAG:     %[[C256:.*]] = arith.constant 256 : index
// CHECK-DAG:     %[[C3:.*]] = arith.constant 3 : index
// CHECK-DAG:     %[[C25:.*]] = arith.constant 25 : index
// CHECK:         gpu.launch_func @vit_kernels::@linear blocks in (%[[C3]], %[[C25]], %{{.*}}) threads in (%[[C256]], %{{.*}}, %{{.*}}) args(%[[A0]] : memref<2x100x64xf32>, %[[A1]] : memref<96x64xf32>, %[[A2]] : memref<96xf32>, %[[A3]] : memref<2x100x96xf32>)
// CHECK-NEXT:    return
// CHECK:       gpu.module @vit_kernels {
// CHECK:         gpu.func @linear(%{{.*}}: memref<2x100x64xf32>, %{{.*}}: memref<96x64xf32>, %{{.*}}: memref<96xf32>, %{{.*}}: memref<2x100x96xf32>)
// CHECK-SAME:        workgroup(%[[ACC:[^ ]*]] : memref<8x32xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %[[A:[^ ]*]] : memref<8x17xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}, %[[B:[^ ]*]] : memref<32x17xf32, #gpu.address_space<workgroup>> {llvm.align = 16 : i64})
// CHECK-SAME:        kernel attributes {known_block_size = array<i32: 256, 1, 1>, known_grid_size = array<i32: 3, 25, 1>}
// CHECK-NOT:       scf.forall
// CHECK:           gpu.block_id x
// CHECK:           gpu.thread_id x
// CHECK:           linalg.fill
// CHECK-NEXT:      gpu.barrier
// CHECK:           scf.for
// CHECK:             linalg.copy {{.*}} outs(%{{.*}} : memref<1x1xf32, strided<[17, 1], offset: ?>, #gpu.address_space<workgroup>>)
// CHECK:             gpu.barrier
// CHECK:             linalg.copy {{.*}} outs(%{{.*}} : memref<2x1xf32, strided<[17, 1], offset: ?>, #gpu.address_space<workgroup>>)
// CHECK:             gpu.barrier
// CHECK:             linalg.matmul {{.*}} outs(%{{.*}} : memref<1x1xf32, strided<[32, 1], offset: ?>, #gpu.address_space<workgroup>>)
// CHECK-NEXT:        gpu.barrier
// CHECK-NEXT:      }
// CHECK:           linalg.generic
// CHECK-NOT:       gpu.barrier
// CHECK:           gpu.return
func.func @linear(%x: tensor<2x100x64xf32>, %w: tensor<96x64xf32>, %b: tensor<96xf32>) -> tensor<2x100x96xf32> attributes {vit.kernel_name = "linear"} {
  %y = vit.linear %x, %w bias(%b : tensor<96xf32>) : tensor<2x100x64xf32>, tensor<96x64xf32> -> tensor<2x100x96xf32>
  return %y : tensor<2x100x96xf32>
}
