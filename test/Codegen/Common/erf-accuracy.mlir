// The f32 erf of vit-approximate-math (one rational function of x^2 on a
// clamped x, the same on both targets) against libm's f64 erf, on 120001
// points x = -6 + i / 10^4: prints the largest |difference|. It must lie
// between 1e-7 and 4e-7: 2.6e-7 is what MLIR's own approximation reaches
// and f32 rounding of a result near 1 alone makes 3e-8, so a value outside
// that range means a wrong coefficient or clamp (or a comparison that can
// no longer fail). GELU adds erf to 1, so the absolute error is the one
// that matters.

// RUN: vitc-opt %s -vit-approximate-math="functions=erf" \
// RUN: | mlir-opt -convert-scf-to-cf -convert-math-to-llvm \
// RUN:     -convert-math-to-libm -convert-arith-to-llvm -convert-func-to-llvm \
// RUN:     -convert-cf-to-llvm -reconcile-unrealized-casts \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils.so \
// RUN: | FileCheck %s

// CHECK: max error {{[1-3]\.[0-9]+e-07$}}

func.func private @printString(!llvm.ptr)
func.func private @printF64(f64)
func.func private @printNewline()
llvm.mlir.global internal constant @label("max error \00")

// max |erf_f32(x) - erf_f64(x)| over x = first + i * step, i < count; the
// f64 erf is not approximated and becomes a libm call.
func.func @maxError(%first: f32, %step: f32, %count: index) -> f64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f64
  %max = scf.for %i = %c0 to %count step %c1 iter_args(%m = %zero) -> f64 {
    %n = arith.index_cast %i : index to i64
    %nf = arith.sitofp %n : i64 to f32
    %x = math.fma %nf, %step, %first : f32
    %y = math.erf %x : f32
    %wide = arith.extf %x : f32 to f64
    %exact = math.erf %wide : f64
    %approx = arith.extf %y : f32 to f64
    %diff = arith.subf %approx, %exact : f64
    %error = math.absf %diff : f64
    %larger = arith.maximumf %m, %error : f64
    scf.yield %larger : f64
  }
  return %max : f64
}

func.func @main() {
  %first = arith.constant -6.0 : f32
  %step = arith.constant 1.0e-04 : f32
  %count = arith.constant 120001 : index
  %error = call @maxError(%first, %step, %count) : (f32, f32, index) -> f64
  %label = llvm.mlir.addressof @label : !llvm.ptr
  call @printString(%label) : (!llvm.ptr) -> ()
  call @printF64(%error) : (f64) -> ()
  call @printNewline() : () -> ()
  return
}
