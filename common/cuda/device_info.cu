// Run-time CUDA discovery for common/device.c (kept in a .cu file so the C
// sources need no CUDA headers).
#include <cuda_runtime.h>

extern "C" int sbr_cuda_device_count_impl(void)
{
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        cudaGetLastError(); // clear the sticky "no device" error
        return 0;
    }
    return n;
}
