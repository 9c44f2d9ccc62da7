// RUN: vitc-opt %s -split-input-file -verify-diagnostics \
// RUN:     -vit-cuda-assemble="ptxas=%ptxas"

// ptxas rejects the PTX: the pass fails with its report.
module attributes {gpu.container_module} {
  // expected-error @below {{failed}}
  gpu.binary @vit_kernels [#gpu.object<#nvvm.target<chip = "sm_80">, assembly = ".version 7.0\0A.target sm_80\0A.address_size 64\0A.visible .entry broken(\0A)\0A{\0A\09not.an.instruction;\0A}\0A">]
}

// -----

// Only PTX for NVVM targets can be assembled.
module attributes {gpu.container_module} {
  // expected-error @below {{expected PTX for an NVVM sm_XX target}}
  gpu.binary @vit_kernels [#gpu.object<#nvvm.target<chip = "sm_80">, bin = "not ptx">]
}
