//===- Driver.h - The entry points libcuda-emulator.so exports ------------===//
//
// The CUDA driver API subset the emulator implements, under the symbol names
// libcuda.so.1 exports (the versioned names behind cuda.h's macros), plus
// one emulator extension. vitrt opens the library with dlopen; tests link it.
//
//===----------------------------------------------------------------------===//

#ifndef VITC_CUDAEMULATOR_DRIVER_H
#define VITC_CUDAEMULATOR_DRIVER_H

#include "vitc/Support/CudaDriverAbi.h"

namespace vitc::emulator {
struct KernelCounters;
} // namespace vitc::emulator

#if defined(VITC_CUDA_EMULATOR_BUILDING)
#define VITC_EMULATOR_API __attribute__((visibility("default")))
#else
#define VITC_EMULATOR_API
#endif

extern "C" {
VITC_EMULATOR_API CUresult cuInit(unsigned flags);
VITC_EMULATOR_API CUresult cuDriverGetVersion(int *version);
VITC_EMULATOR_API CUresult cuGetErrorString(CUresult error, const char **text);
VITC_EMULATOR_API CUresult cuGetErrorName(CUresult error, const char **text);
VITC_EMULATOR_API CUresult cuDeviceGetCount(int *count);
VITC_EMULATOR_API CUresult cuDeviceGet(CUdevice *device, int ordinal);
VITC_EMULATOR_API CUresult cuDeviceGetName(char *name, int length,
                                           CUdevice device);
VITC_EMULATOR_API CUresult cuDeviceGetAttribute(int *value, int attribute,
                                                CUdevice device);
VITC_EMULATOR_API CUresult cuDevicePrimaryCtxRetain(CUcontext *context,
                                                    CUdevice device);
VITC_EMULATOR_API CUresult cuDevicePrimaryCtxRelease_v2(CUdevice device);
VITC_EMULATOR_API CUresult cuCtxSetCurrent(CUcontext context);
VITC_EMULATOR_API CUresult cuCtxGetCurrent(CUcontext *context);
VITC_EMULATOR_API CUresult cuCtxSynchronize();
VITC_EMULATOR_API CUresult cuModuleLoadData(CUmodule *module,
                                            const void *image);
VITC_EMULATOR_API CUresult cuModuleLoadDataEx(CUmodule *module,
                                              const void *image,
                                              unsigned numOptions, int *options,
                                              void **values);
VITC_EMULATOR_API CUresult cuModuleUnload(CUmodule module);
VITC_EMULATOR_API CUresult cuModuleGetFunction(CUfunction *function,
                                               CUmodule module,
                                               const char *name);
VITC_EMULATOR_API CUresult cuFuncSetAttribute(CUfunction function,
                                              int attribute, int value);
VITC_EMULATOR_API CUresult cuFuncGetAttribute(int *value, int attribute,
                                              CUfunction function);
VITC_EMULATOR_API CUresult cuMemAlloc_v2(CUdeviceptr *pointer, size_t bytes);
VITC_EMULATOR_API CUresult cuMemFree_v2(CUdeviceptr pointer);
VITC_EMULATOR_API CUresult cuMemcpyHtoD_v2(CUdeviceptr destination,
                                           const void *source, size_t bytes);
VITC_EMULATOR_API CUresult cuMemcpyDtoH_v2(void *destination,
                                           CUdeviceptr source, size_t bytes);
VITC_EMULATOR_API CUresult cuMemcpyDtoD_v2(CUdeviceptr destination,
                                           CUdeviceptr source, size_t bytes);
VITC_EMULATOR_API CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr destination,
                                                const void *source,
                                                size_t bytes, CUstream stream);
VITC_EMULATOR_API CUresult cuMemcpyDtoHAsync_v2(void *destination,
                                                CUdeviceptr source,
                                                size_t bytes, CUstream stream);
VITC_EMULATOR_API CUresult cuMemsetD8_v2(CUdeviceptr destination,
                                         unsigned char value, size_t count);
VITC_EMULATOR_API CUresult cuStreamCreate(CUstream *stream, unsigned flags);
VITC_EMULATOR_API CUresult cuStreamDestroy_v2(CUstream stream);
VITC_EMULATOR_API CUresult cuStreamSynchronize(CUstream stream);
VITC_EMULATOR_API CUresult cuLaunchKernel(CUfunction function, unsigned gridX,
                                          unsigned gridY, unsigned gridZ,
                                          unsigned blockX, unsigned blockY,
                                          unsigned blockZ, unsigned sharedBytes,
                                          CUstream stream, void **parameters,
                                          void **extra);
VITC_EMULATOR_API CUresult cuStreamBeginCapture_v2(CUstream stream, int mode);
VITC_EMULATOR_API CUresult cuStreamEndCapture(CUstream stream, CUgraph *graph);
VITC_EMULATOR_API CUresult cuGraphInstantiateWithFlags(CUgraphExec *exec,
                                                       CUgraph graph,
                                                       unsigned long long);
VITC_EMULATOR_API CUresult cuGraphLaunch(CUgraphExec exec, CUstream stream);
VITC_EMULATOR_API CUresult cuGraphExecDestroy(CUgraphExec exec);
VITC_EMULATOR_API CUresult cuGraphDestroy(CUgraph graph);

/// Emulator extension: the report of the last failed launch or module load
/// ("" if none), the same line the emulator prints to stderr.
VITC_EMULATOR_API const char *vitcEmulatorLastReport();

/// Emulator extension: copies into `counters` the counters of kernel `name`
/// (vitc/CudaEmulator/Executor.h), summed over its launches since launches
/// were last printed; false if there are none. Launches are counted while
/// VITC_EMULATOR_COUNTERS is set, and printed and forgotten when the primary
/// context is released.
VITC_EMULATOR_API bool
vitcEmulatorKernelCounters(const char *name,
                           vitc::emulator::KernelCounters *counters);
}

#endif // VITC_CUDAEMULATOR_DRIVER_H
