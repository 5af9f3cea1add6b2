/* The counter-based RNG of common/rng.h on the GPU: the same arithmetic,
 * callable from host and device code, so that a kernel draws bit for bit the
 * value sbr_rng_hash(seed, index) gives on the CPU (tests/cuda checks both
 * the host and the device copy against common/rng.c). */
#ifndef SBR_RNG_CUDA_CUH
#define SBR_RNG_CUDA_CUH

#include <stdint.h>

__host__ __device__ __forceinline__ uint64_t sbr_rng_mix64_dev(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

__host__ __device__ __forceinline__ uint64_t sbr_rng_hash_dev(uint64_t seed, uint64_t index)
{
    uint64_t key = sbr_rng_mix64_dev(seed + 0x9e3779b97f4a7c15ULL);
    return sbr_rng_mix64_dev(key + (index + 1) * 0x9e3779b97f4a7c15ULL);
}

/* Uniform in [0, 1) from the top 53 bits: exact in double (2^-53 is a
 * power of two, so the product rounds nothing). */
__host__ __device__ __forceinline__ double sbr_rng_u01_dev(uint64_t bits)
{
    return (double)(bits >> 11) * 1.1102230246251565404236316680908203125e-16;
}

/* Uniform in [0, 1) from the top 24 bits, in float (exact). */
__host__ __device__ __forceinline__ float sbr_rng_u01f_dev(uint64_t bits)
{
    return (float)(bits >> 40) * 5.9604644775390625e-08f;
}

/* sbr_rng_normal_at: Box-Muller on draws (index, index + 1), in double. The
 * device log/cos are within 1 ulp of glibc's, so a float rounding of the
 * result matches the CPU's except in rare ties (tests measure it). */
__host__ __device__ __forceinline__ double sbr_rng_normal_at_dev(uint64_t seed, uint64_t index)
{
    double u1 = 1.0 - sbr_rng_u01_dev(sbr_rng_hash_dev(seed, index));
    double u2 = sbr_rng_u01_dev(sbr_rng_hash_dev(seed, index + 1));
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

#endif
