//===- CudaDriverAbi.h - The CUDA driver API types and codes vitc uses ----===//
//
// The few types, enumerators and error codes of the CUDA driver API that the
// runtime calls and the driver emulator implements. Their values come from
// NVIDIA's cuda.h, where they are part of the driver's stable ABI; keeping
// them here lets both sides build without the CUDA toolkit. Plain C++: the
// runtime includes it and links neither MLIR nor LLVM.
//
//===----------------------------------------------------------------------===//

#ifndef VITC_SUPPORT_CUDADRIVERABI_H
#define VITC_SUPPORT_CUDADRIVERABI_H

#include <cstddef>

extern "C" {
typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef struct CUctx_st *CUcontext;
typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction;
typedef struct CUstream_st *CUstream;
typedef struct CUgraph_st *CUgraph;
typedef struct CUgraphExec_st *CUgraphExec;
}

namespace vitc::cuda_abi {

// CUresult values.
constexpr CUresult kSuccess = 0;
constexpr CUresult kErrorInvalidValue = 1;
constexpr CUresult kErrorOutOfMemory = 2;
constexpr CUresult kErrorNotInitialized = 3;
constexpr CUresult kErrorNoDevice = 100;
constexpr CUresult kErrorInvalidDevice = 101;
constexpr CUresult kErrorInvalidImage = 200;
constexpr CUresult kErrorInvalidContext = 201;
constexpr CUresult kErrorNoBinaryForGpu = 209;
constexpr CUresult kErrorInvalidPtx = 218;
constexpr CUresult kErrorUnsupportedPtxVersion = 222;
constexpr CUresult kErrorInvalidHandle = 400;
constexpr CUresult kErrorIllegalState = 401;
constexpr CUresult kErrorNotFound = 500;
constexpr CUresult kErrorIllegalAddress = 700;
constexpr CUresult kErrorLaunchOutOfResources = 701;
constexpr CUresult kErrorLaunchFailed = 719;
constexpr CUresult kErrorStreamCaptureUnsupported = 900;
constexpr CUresult kErrorStreamCaptureInvalidated = 901;
constexpr CUresult kErrorUnknown = 999;

// CUdevice_attribute values.
constexpr int kAttributeMaxThreadsPerBlock = 1;
constexpr int kAttributeMaxSharedMemoryPerBlock = 8;
constexpr int kAttributeWarpSize = 10;
constexpr int kAttributeMultiprocessorCount = 16;
constexpr int kAttributeComputeCapabilityMajor = 75;
constexpr int kAttributeComputeCapabilityMinor = 76;
constexpr int kAttributeMaxSharedMemoryPerBlockOptin = 97;

// CUfunction_attribute values.
constexpr int kFunctionAttributeMaxThreadsPerBlock = 0;
constexpr int kFunctionAttributeSharedSizeBytes = 1;
constexpr int kFunctionAttributeMaxDynamicSharedBytes = 8;

// CUjit_option values.
constexpr int kJitInfoLogBuffer = 3;
constexpr int kJitInfoLogBufferSizeBytes = 4;
constexpr int kJitErrorLogBuffer = 5;
constexpr int kJitErrorLogBufferSizeBytes = 6;

// CUstream_flags and CUstreamCaptureMode values.
constexpr unsigned kStreamNonBlocking = 1;
constexpr int kCaptureModeGlobal = 0;
constexpr int kCaptureModeRelaxed = 2;

} // namespace vitc::cuda_abi

#endif // VITC_SUPPORT_CUDADRIVERABI_H
