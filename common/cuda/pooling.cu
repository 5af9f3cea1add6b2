// Mean pooling over padded sequences and sum/mean over CSR segments on the
// GPU (see api.inc). One thread per output column: rows are summed in
// increasing order, as on the CPU.
#include "cuda/kernels.cuh"

SBR_CUDA_VIOLATION_SLOT(pooling)

__global__ void k_seq_mean_f(float *y, const float *x, const int32_t *len, int B, int L, int d)
{
    SBR_CUDA_FOR(t, (size_t)B * d) {
        size_t b = t / d, k = t % d;
        int n = len ? sbr_cv_len(len, (int)b, L, SBR_CVOP_SEQ_MEAN_FORWARD) : L;
        float s = 0;
        for (int j = 0; j < n; j++)
            s += x[(b * L + j) * d + k];
        if (n > 0)
            s *= 1.0f / (float)n;
        y[t] = s;
    }
}

__global__ void k_seq_mean_b(float *dx, const float *dy, const int32_t *len, int B, int L, int d)
{
    SBR_CUDA_FOR(t, (size_t)B * L * d) {
        size_t k = t % d, j = (t / d) % L, b = t / ((size_t)L * d);
        int n = len ? sbr_cv_len(len, (int)b, L, SBR_CVOP_SEQ_MEAN_BACKWARD) : L;
        if ((int)j < n)
            dx[t] += dy[b * d + k] * (1.0f / (float)n);
    }
}

// The segment of s, or -1 (and a record) when the offsets are not valid.
__device__ __forceinline__ int seg_bounds(const int32_t *off, int s, int *lo, int *hi, int op)
{
    *lo = off[s];
    *hi = off[s + 1];
    if ((s == 0 && *lo != 0) || *hi < *lo) {
        sbr_cv_record(SBR_CV_OFF, op, s, *lo, *hi);
        return -1;
    }
    return 0;
}

__global__ void k_segment_f(float *y, const float *x, const int32_t *off, int S, int d, int mean)
{
    SBR_CUDA_FOR(t, (size_t)S * d) {
        int s = (int)(t / d);
        size_t k = t % d;
        int lo, hi;
        float acc = 0;
        if (seg_bounds(off, s, &lo, &hi, SBR_CVOP_SEGMENT_POOL_FORWARD) == 0) {
            for (int r = lo; r < hi; r++)
                acc += x[(size_t)r * d + k];
            if (mean && hi > lo)
                acc /= (float)(hi - lo);
        }
        y[t] = acc;
    }
}

// Segments are disjoint (valid offsets), so each dx element has one writer.
__global__ void k_segment_b(float *dx, const float *dy, const int32_t *off, int S, int d,
                            int mean)
{
    SBR_CUDA_FOR(t, (size_t)S * d) {
        int s = (int)(t / d);
        size_t k = t % d;
        int lo, hi;
        if (seg_bounds(off, s, &lo, &hi, SBR_CVOP_SEGMENT_POOL_BACKWARD) != 0 || hi == lo)
            continue;
        float f = mean ? 1.0f / (float)(hi - lo) : 1.0f;
        float g = dy[t] * f;
        for (int r = lo; r < hi; r++)
            dx[(size_t)r * d + k] += g;
    }
}

void sbr_nn_seq_mean_forward_cuda(sbr_nn_ctx *ctx, float *y, const float *x, const int32_t *len,
                                  int B, int L, int d)
{
    SBR_NN_REQUIRE(B >= 0 && L >= 0 && d >= 0, "seq_mean_forward", "negative size");
    if ((size_t)B * d == 0)
        return;
    k_seq_mean_f<<<sbr_cuda_grid((size_t)B * d), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(
        y, x, len, B, L, d);
    SBR_CUDA_LAUNCHED("seq_mean_forward");
}

void sbr_nn_seq_mean_backward_cuda(sbr_nn_ctx *ctx, float *dx, const float *dy,
                                   const int32_t *len, int B, int L, int d)
{
    SBR_NN_REQUIRE(B >= 0 && L >= 0 && d >= 0, "seq_mean_backward", "negative size");
    size_t n = (size_t)B * L * d;
    if (n == 0 || !dx)
        return;
    k_seq_mean_b<<<sbr_cuda_grid(n), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(dx, dy, len, B, L,
                                                                                d);
    SBR_CUDA_LAUNCHED("seq_mean_backward");
}

void sbr_nn_segment_pool_forward_cuda(sbr_nn_ctx *ctx, float *y, const float *x,
                                      const int32_t *off, int S, int d, int mean)
{
    SBR_NN_REQUIRE(S >= 0 && d >= 0, "segment_pool_forward", "negative size");
    if ((size_t)S * d == 0)
        return;
    k_segment_f<<<sbr_cuda_grid((size_t)S * d), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(
        y, x, off, S, d, mean);
    SBR_CUDA_LAUNCHED("segment_pool_forward");
}

void sbr_nn_segment_pool_backward_cuda(sbr_nn_ctx *ctx, float *dx, const float *dy,
                                       const int32_t *off, int S, int d, int mean)
{
    SBR_NN_REQUIRE(S >= 0 && d >= 0, "segment_pool_backward", "negative size");
    if ((size_t)S * d == 0 || !dx)
        return;
    k_segment_b<<<sbr_cuda_grid((size_t)S * d), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(
        dx, dy, off, S, d, mean);
    SBR_CUDA_LAUNCHED("segment_pool_backward");
}
