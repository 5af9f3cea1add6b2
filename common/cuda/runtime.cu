// Context, memory and error reporting of the CUDA mirror (cuda/nn_cuda.h).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda/cublas_load.h"
#include "cuda/gemm.cuh"

extern "C" void sbr_cuda_fail(const char *file, int line, const char *what, const char *why)
{
    fprintf(stderr, "sbr cuda: %s:%d: %s: %s\n", file, line, what, why);
    abort();
}

// cuBLAS's math mode, from SBR_CUBLAS_MATH (docs/GPU.md): pedantic (the
// default: FP32 by the book), default (cuBLAS's own FP32 mode, PyTorch's
// with TF32 off: still FP32 products and sums, its fastest kernels), tf32
// (FP32 GEMMs on TF32 tensor cores: a 10-bit mantissa in the products).
static int cublas_math_from_env(cublasMath_t *math, sbr_err *e)
{
    const char *v = getenv("SBR_CUBLAS_MATH");
    if (!v || !*v || strcmp(v, "pedantic") == 0)
        *math = CUBLAS_PEDANTIC_MATH;
    else if (strcmp(v, "default") == 0)
        *math = CUBLAS_DEFAULT_MATH;
    else if (strcmp(v, "tf32") == 0)
        *math = CUBLAS_TF32_TENSOR_OP_MATH;
    else
        return sbr_errf(e, "SBR_CUBLAS_MATH=%s: not pedantic, default or tf32", v);
    return 0;
}

extern "C" int sbr_nn_cuda_ctx_init(sbr_nn_ctx *ctx, size_t scratch_bytes, sbr_err *e)
{
    memset(ctx, 0, sizeof *ctx);
    int n = 0;
    cudaError_t ce = cudaGetDeviceCount(&n);
    if (ce != cudaSuccess || n == 0) {
        cudaGetLastError();
        return sbr_errf(e, "no CUDA GPU is visible (%s)",
                        ce != cudaSuccess ? cudaGetErrorString(ce) : "0 devices");
    }
    if (sbr_cublas_load(e))
        return -1;
    cudaStream_t stream;
    if ((ce = cudaStreamCreate(&stream)) != cudaSuccess)
        return sbr_errf(e, "cudaStreamCreate: %s", cudaGetErrorString(ce));
    cublasHandle_t h;
    cublasStatus_t cs = cublasCreate(&h);
    if (cs != CUBLAS_STATUS_SUCCESS) {
        cudaStreamDestroy(stream);
        return sbr_errf(e, "cublasCreate: %s", cublasGetStatusString(cs));
    }
    cublasMath_t math = CUBLAS_PEDANTIC_MATH;
    if (cublas_math_from_env(&math, e)) {
        cublasDestroy(h);
        cudaStreamDestroy(stream);
        return -1;
    }
    // Bit-reproducible runs: the handle's stream, no atomics, the math mode.
    if ((cs = cublasSetStream(h, stream)) != CUBLAS_STATUS_SUCCESS ||
        (cs = cublasSetAtomicsMode(h, CUBLAS_ATOMICS_NOT_ALLOWED)) != CUBLAS_STATUS_SUCCESS ||
        (cs = cublasSetMathMode(h, math)) != CUBLAS_STATUS_SUCCESS) {
        cublasDestroy(h);
        cudaStreamDestroy(stream);
        return sbr_errf(e, "cuBLAS set-up: %s", cublasGetStatusString(cs));
    }
    void *scratch = NULL;
    if (scratch_bytes && (ce = cudaMalloc(&scratch, scratch_bytes)) != cudaSuccess) {
        cudaGetLastError();
        cublasDestroy(h);
        cudaStreamDestroy(stream);
        return sbr_errf(e, "out of GPU memory: %zu bytes of op scratch (%s)", scratch_bytes,
                        cudaGetErrorString(ce));
    }
    ctx->scratch = scratch;
    ctx->scratch_bytes = scratch_bytes;
    ctx->cublas = (void *)h;
    ctx->stream = (void *)stream;
    if (sbr_cuda_gemm_init(ctx, e)) {
        sbr_nn_cuda_ctx_free(ctx);
        return -1;
    }
    return 0;
}

extern "C" void sbr_nn_cuda_ctx_free(sbr_nn_ctx *ctx)
{
    if (!ctx)
        return;
    if (ctx->stream)
        cudaStreamSynchronize((cudaStream_t)ctx->stream);
    sbr_cuda_gemm_free(ctx);
    if (ctx->cublas)
        cublasDestroy((cublasHandle_t)ctx->cublas);
    if (ctx->stream)
        cudaStreamDestroy((cudaStream_t)ctx->stream);
    if (ctx->scratch)
        cudaFree(ctx->scratch);
    memset(ctx, 0, sizeof *ctx);
}

// The slot readers of the op files that check indices and lengths.
extern "C" {
void sbr_cuda_violation_embedding(int out[5]);
void sbr_cuda_violation_pooling(int out[5]);
void sbr_cuda_violation_attention(int out[5]);
void sbr_cuda_violation_score_ce(int out[5]);
void sbr_cuda_violation_gru(int out[5]);
void sbr_cuda_violation_ggnn(int out[5]);
void sbr_cuda_violation_edge_attention(int out[5]);
void sbr_cuda_violation_mhsa(int out[5]);
void sbr_cuda_violation_sgat(int out[5]);
void sbr_cuda_violation_target_score(int out[5]);
}

static const char *const cv_op_names[SBR_CVOP_COUNT] = {
    "?",
    "embedding_forward",
    "embedding_backward",
    "seq_mean_forward",
    "seq_mean_backward",
    "segment_pool_forward",
    "segment_pool_backward",
    "masked_softmax_forward",
    "masked_softmax_backward",
    "seq_weighted_sum_forward",
    "seq_weighted_sum_backward",
    "seq_dot_forward",
    "seq_dot_backward",
    "score_ce",
    "topk",
    "gru",
    "ggnn",
    "edge_attn",
    "mha",
    "session_nodes",
    "attn_pool_forward",
    "attn_pool_backward",
    "embedding_backward_grouped",
    "sgat",
    "target_score",
    "pack_rows",
};

static void report_violation(const int v[5])
{
    const char *op = v[1] > 0 && v[1] < SBR_CVOP_COUNT ? cv_op_names[v[1]] : "?";
    char name[64];
    snprintf(name, sizeof name, "%s (cuda)", op);
    switch (v[0]) {
    case SBR_CV_INDEX:
        if (v[1] == SBR_CVOP_SCORE_CE || v[1] == SBR_CVOP_TARGET_SCORE)
            sbr_nn_fail(name, "target[%d] = %d is outside 1..%d", v[2], v[3], v[4] - 1);
        sbr_nn_fail(name, "idx[%d] = %d is outside 0..%d", v[2], v[3], v[4] - 1);
    case SBR_CV_LEN:
        sbr_nn_fail(name, "len[%d] = %d is outside 0..%d", v[2], v[3], v[4]);
    case SBR_CV_OFF:
        sbr_nn_fail(name, "offsets decrease at segment %d (or off[0] != 0)", v[2]);
    case SBR_CV_SESSION:
        sbr_nn_fail(name, "row %d (clicks, then last clicks): node %d is of session %d", v[2],
                    v[3], v[4]);
    case SBR_CV_ORDER:
        sbr_nn_fail(name, "order[%d] = %d does not follow order[%d] = %d (or is a pad position)",
                    v[2], v[3], v[2] - 1, v[4]);
    default:
        sbr_nn_fail(name, "contract violation %d", v[0]);
    }
}

// Reads every file's violation slot (after the work that could set it has
// finished) and aborts on the first violation found.
static void check_violations(void)
{
    void (*readers[])(int *) = {
        sbr_cuda_violation_embedding,
        sbr_cuda_violation_pooling,
        sbr_cuda_violation_attention,
        sbr_cuda_violation_score_ce,
        sbr_cuda_violation_gru,
        sbr_cuda_violation_ggnn,
        sbr_cuda_violation_edge_attention,
        sbr_cuda_violation_mhsa,
        sbr_cuda_violation_sgat,
        sbr_cuda_violation_target_score,
    };
    for (size_t i = 0; i < sizeof readers / sizeof readers[0]; i++) {
        int v[5];
        readers[i](v);
        if (v[0] != SBR_CV_NONE)
            report_violation(v);
    }
}

extern "C" void sbr_nn_cuda_sync(sbr_nn_ctx *ctx)
{
    SBR_CUDA_CHECK(cudaStreamSynchronize(sbr_cuda_stream(ctx)));
    SBR_CUDA_CHECK(cudaGetLastError());
    check_violations();
}

extern "C" void *sbr_cuda_malloc(size_t bytes, sbr_err *e)
{
    void *p = NULL;
    cudaError_t ce = cudaMalloc(&p, bytes ? bytes : 1);
    if (ce != cudaSuccess) {
        cudaGetLastError();
        sbr_errf(e, "out of GPU memory: %zu bytes (%s)", bytes, cudaGetErrorString(ce));
        return NULL;
    }
    return p;
}

extern "C" void sbr_cuda_free(void *p)
{
    if (p)
        SBR_CUDA_CHECK(cudaFree(p));
}

extern "C" void sbr_cuda_h2d(void *dst, const void *src, size_t bytes)
{
    if (bytes)
        SBR_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
}

// A download waits for the GPU's work anyway: the moment to report what the
// kernels recorded (models read their losses and top-K this way).
extern "C" void sbr_cuda_d2h(void *dst, const void *src, size_t bytes)
{
    if (bytes)
        SBR_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost));
    check_violations();
}

extern "C" void sbr_cuda_d2d(void *dst, const void *src, size_t bytes)
{
    if (bytes)
        SBR_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToDevice));
}

extern "C" void sbr_cuda_memset(void *dst, int byte, size_t bytes)
{
    if (bytes) {
        SBR_CUDA_CHECK(cudaMemset(dst, byte, bytes));
        SBR_CUDA_CHECK(cudaDeviceSynchronize());
    }
}

extern "C" void sbr_cuda_memset_async(sbr_nn_ctx *ctx, void *dst, int byte, size_t bytes)
{
    if (bytes)
        SBR_CUDA_CHECK(cudaMemsetAsync(dst, byte, bytes, sbr_cuda_stream(ctx)));
}

extern "C" void *sbr_cuda_host_alloc(size_t bytes)
{
    void *p = NULL;
    SBR_CUDA_CHECK(cudaMallocHost(&p, bytes ? bytes : 1));
    return p;
}

extern "C" void sbr_cuda_host_free(void *p)
{
    if (p)
        SBR_CUDA_CHECK(cudaFreeHost(p));
}

extern "C" void sbr_cuda_h2d_async(sbr_nn_ctx *ctx, void *dst, const void *src, size_t bytes)
{
    if (bytes)
        SBR_CUDA_CHECK(
            cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, sbr_cuda_stream(ctx)));
}

extern "C" void *sbr_cuda_event_new(void)
{
    cudaEvent_t ev;
    SBR_CUDA_CHECK(cudaEventCreateWithFlags(&ev, cudaEventDisableTiming));
    return (void *)ev;
}

extern "C" void sbr_cuda_event_record(void *ev, sbr_nn_ctx *ctx)
{
    SBR_CUDA_CHECK(cudaEventRecord((cudaEvent_t)ev, sbr_cuda_stream(ctx)));
}

extern "C" void sbr_cuda_event_wait(void *ev)
{
    SBR_CUDA_CHECK(cudaEventSynchronize((cudaEvent_t)ev));
}

extern "C" void sbr_cuda_event_free(void *ev)
{
    if (ev)
        SBR_CUDA_CHECK(cudaEventDestroy((cudaEvent_t)ev));
}

// Device ints whose value the host knows (nn_cuda.h). A handful per batch.
#define KNOWN_MAX 8
static struct {
    const int32_t *addr;
    int32_t value;
} known[KNOWN_MAX];
static int n_known;

extern "C" void sbr_cuda_known_clear(void)
{
    n_known = 0;
}

extern "C" void sbr_cuda_known_int(const int32_t *dev_addr, int32_t value)
{
    if (n_known < KNOWN_MAX)
        known[n_known++] = {dev_addr, value};
}

extern "C" int32_t sbr_cuda_read_int(sbr_nn_ctx *ctx, const int32_t *dev_addr)
{
    for (int i = 0; i < n_known; i++)
        if (known[i].addr == dev_addr)
            return known[i].value;
    cudaStream_t st = sbr_cuda_stream(ctx);
    int32_t v = 0;
    SBR_CUDA_CHECK(cudaMemcpyAsync(&v, dev_addr, sizeof v, cudaMemcpyDeviceToHost, st));
    SBR_CUDA_CHECK(cudaStreamSynchronize(st));
    return v;
}

// One thread: the host's order of additions, so the sums are the bits the
// host would get from the downloaded losses. The _rn intrinsics keep nvcc
// from fusing a multiply and an add, which the host rounds apart.
__global__ void k_loss_accumulate(double *acc, const float *loss, int B, const float *xloss,
                                  double xw)
{
    if (blockIdx.x != 0 || threadIdx.x != 0)
        return;
    double ce = 0, xl = 0;
    for (int j = 0; j < B; j++)
        ce = __dadd_rn(ce, (double)loss[j]);
    ce = __ddiv_rn(ce, (double)B);
    if (xloss) {
        for (int j = 0; j < B; j++)
            xl = __dadd_rn(xl, (double)xloss[j]);
        xl = __dmul_rn(xw, xl);
    }
    acc[0] = __dadd_rn(acc[0], __dadd_rn(ce, xl));
    acc[1] = __dadd_rn(acc[1], xl);
}

extern "C" void sbr_cuda_loss_accumulate(sbr_nn_ctx *ctx, double *acc, const float *loss, int B,
                                         const float *xloss, double xw)
{
    k_loss_accumulate<<<1, 1, 0, sbr_cuda_stream(ctx)>>>(acc, loss, B, xloss, xw);
    SBR_CUDA_LAUNCHED("loss_accumulate");
}

extern "C" int sbr_cuda_describe(char *buf, size_t n)
{
    int dev = 0, count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0 ||
        cudaGetDevice(&dev) != cudaSuccess) {
        cudaGetLastError();
        snprintf(buf, n, "no CUDA GPU");
        return -1;
    }
    cudaDeviceProp p;
    SBR_CUDA_CHECK(cudaGetDeviceProperties(&p, dev));
    snprintf(buf, n, "%s, sm_%d%d, %d SMs, %.1f GiB", p.name, p.major, p.minor,
             p.multiProcessorCount, (double)p.totalGlobalMem / (1 << 30));
    return 0;
}

extern "C" void sbr_cuda_timer_start(sbr_cuda_timer *t, sbr_nn_ctx *ctx)
{
    cudaEvent_t a, b;
    SBR_CUDA_CHECK(cudaEventCreate(&a));
    SBR_CUDA_CHECK(cudaEventCreate(&b));
    SBR_CUDA_CHECK(cudaEventRecord(a, sbr_cuda_stream(ctx)));
    t->start = (void *)a;
    t->stop = (void *)b;
}

extern "C" double sbr_cuda_timer_stop_ms(sbr_cuda_timer *t, sbr_nn_ctx *ctx)
{
    cudaEvent_t a = (cudaEvent_t)t->start, b = (cudaEvent_t)t->stop;
    SBR_CUDA_CHECK(cudaEventRecord(b, sbr_cuda_stream(ctx)));
    SBR_CUDA_CHECK(cudaEventSynchronize(b));
    float ms = 0;
    SBR_CUDA_CHECK(cudaEventElapsedTime(&ms, a, b));
    SBR_CUDA_CHECK(cudaEventDestroy(a));
    SBR_CUDA_CHECK(cudaEventDestroy(b));
    t->start = t->stop = NULL;
    return ms;
}
