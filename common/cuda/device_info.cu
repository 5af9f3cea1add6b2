// Run-time CUDA discovery (common/device.c) and a fill kernel for the model
// code (common/model/devmem.c): kept in a .cu file so the C sources need no
// CUDA headers. Memory services are in runtime.cu (cuda/nn_cuda.h).
#include <cuda_runtime.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cuda/cuda_check.h"


extern "C" int sbr_cuda_device_count_impl(void)
{
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        cudaGetLastError(); // clear the sticky "no device" error
        return 0;
    }
    return n;
}

static void check(cudaError_t r, const char *what)
{
    if (r != cudaSuccess) {
        fprintf(stderr, "sbr: CUDA %s failed: %s\n", what, cudaGetErrorString(r));
        exit(1);
    }
}

__global__ static void fill_kernel(float *dst, float v, int64_t n)
{
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        dst[i] = v;
}

extern "C" void sbr_cuda_fill_f32(float *dst, float v, int64_t n)
{
    if (n <= 0)
        return;
    fill_kernel<<<(unsigned)((n + 255) / 256), 256>>>(dst, v, n);
    check(cudaGetLastError(), "fill");
    if (sbr_cuda_prof_on)
        sbr_cuda_prof_mark(__FILE__, __LINE__, "sbr_dev_fill");
}


// Device memory for arenas (nn/arena.h): cudaMalloc/cudaFree/cudaMemset.
#include "nn/arena.h"

static void *dev_alloc(size_t bytes, void *user)
{
    (void)user;
    void *p = NULL;
    return cudaMalloc(&p, bytes) == cudaSuccess ? p : NULL;
}

static void dev_free(void *p, void *user)
{
    (void)user;
    cudaFree(p);
}

static void dev_zero(void *p, size_t bytes, void *user)
{
    (void)user;
    check(cudaMemset(p, 0, bytes), "memset");
}

extern "C" const sbr_allocator sbr_cuda_allocator = {dev_alloc, dev_free, dev_zero, NULL, 1};
