// The FP32 GEMM of the CUDA mirror: cuBLAS, or cublasLt with cached plans
// (gemm.cuh; SBR_GEMM picks, docs/GPU.md).
#include <stdlib.h>
#include <string.h>

#include <cublasLt.h>

#include "cuda/gemm.cuh"

// C [m, n] (column-major, ldc) = bias broadcast over its columns.
__global__ void k_gemm_bias_fill(float *C, const float *bias, int m, int n, int ldc)
{
    SBR_CUDA_FOR(i, (size_t)m * n)
        C[(i / m) * (size_t)ldc + i % m] = bias[i % m];
}

namespace {

// What decides a cublasLt algorithm: the problem and the pointers' alignment
// (an algorithm may need 16-byte aligned A, and ours are often views; the
// heuristic reads the bias pointer's too).
struct plan_key {
    int ta, tb, m, n, k, lda, ldb, ldc, beta0, bias, align;
};

enum { PLAN_EMPTY, PLAN_ALGO, PLAN_NONE }; // NONE: cublasLt has none; use cuBLAS

struct plan {
    plan_key key;
    int state;
    cublasLtMatmulAlgo_t algo;
};

#define LT_PLANS 16384 // SR-GNN's shapes over an epoch: ~15 per node count T
#define LT_PROBES 16
#define LT_WORKSPACE ((size_t)32 << 20)

struct lt_state {
    cublasLtHandle_t lt;
    cublasLtMatmulDesc_t desc;
    cublasLtMatrixLayout_t la, lb, lc;
    cublasLtMatmulPreference_t pref;
    void *ws;
    plan *plans; // [LT_PLANS], open addressing
};
// (The descriptors are rewritten by every call: one host thread per context,
// as for the rest of the context.)

// log2 of the largest power of two (at most 256) that divides the address.
int align_code(const void *p)
{
    uintptr_t a = (uintptr_t)p;
    int c = 0;
    while (c < 8 && !(a & ((uintptr_t)1 << c)))
        c++;
    return c;
}

size_t key_hash(const plan_key &k)
{
    const int *v = (const int *)&k;
    size_t h = 1469598103934665603ull;
    for (size_t i = 0; i < sizeof k / sizeof(int); i++)
        h = (h ^ (unsigned)v[i]) * 1099511628211ull;
    return h;
}

// The slot of key: its own, else an empty one, else the first probed (evicted).
plan *plan_slot(lt_state *st, const plan_key &k)
{
    size_t h = key_hash(k);
    for (int p = 0; p < LT_PROBES; p++) {
        plan *s = &st->plans[(h + p) % LT_PLANS];
        if (s->state == PLAN_EMPTY || memcmp(&s->key, &k, sizeof k) == 0)
            return s;
    }
    plan *s = &st->plans[h % LT_PLANS];
    s->state = PLAN_EMPTY;
    return s;
}

cublasStatus_t set_layout(cublasLtMatrixLayout_t l, int rows, int cols, int ld)
{
    uint64_t r = (uint64_t)rows, c = (uint64_t)cols;
    int64_t ld64 = ld;
    cublasStatus_t s;
    if ((s = cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_ROWS, &r, sizeof r)) ||
        (s = cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_COLS, &c, sizeof c)))
        return s;
    return cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_LD, &ld64, sizeof ld64);
}

// The heuristic's first algorithm for the problem the descriptors now hold
// (PLAN_NONE when it has none); another failure is returned.
cublasStatus_t plan_choose(lt_state *st, plan *p, const void *A, const void *B, const void *C)
{
    uint32_t al[3] = {1u << align_code(A), 1u << align_code(B), 1u << align_code(C)};
    cublasLtMatmulPreferenceAttributes_t which[4] = {
        CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
        CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES};
    cublasStatus_t s;
    for (int i = 0; i < 4; i++)
        if ((s = cublasLtMatmulPreferenceSetAttribute(st->pref, which[i], &al[i < 3 ? i : 2],
                                                      sizeof(uint32_t))))
            return s;
    cublasLtMatmulHeuristicResult_t r;
    int found = 0;
    memset(&r, 0, sizeof r);
    s = cublasLtMatmulAlgoGetHeuristic(st->lt, st->desc, st->la, st->lb, st->lc, st->lc,
                                       st->pref, 1, &r, &found);
    if (s != CUBLAS_STATUS_SUCCESS && s != CUBLAS_STATUS_NOT_SUPPORTED)
        return s;
    p->state = s == CUBLAS_STATUS_SUCCESS && found > 0 && r.state == CUBLAS_STATUS_SUCCESS
                   ? PLAN_ALGO
                   : PLAN_NONE;
    p->algo = r.algo;
    return CUBLAS_STATUS_SUCCESS;
}

// The GEMM through cublasLt; CUBLAS_STATUS_NOT_SUPPORTED when it has no
// algorithm for it (nothing was queued then).
cublasStatus_t lt_gemm(lt_state *st, cudaStream_t stream, cublasOperation_t ta,
                       cublasOperation_t tb, int m, int n, int k, const float *A, int lda,
                       const float *B, int ldb, float beta, float *C, int ldc, const float *bias)
{
    plan_key key = {(int)ta, (int)tb, m, n, k, lda, ldb, ldc, beta == 0, bias != NULL,
                    align_code(A) | align_code(B) << 4 | align_code(C) << 8 |
                        align_code(bias) << 12};
    cublasLtEpilogue_t epi = bias ? CUBLASLT_EPILOGUE_BIAS : CUBLASLT_EPILOGUE_DEFAULT;
    cublasStatus_t s;
    if ((s = cublasLtMatmulDescSetAttribute(st->desc, CUBLASLT_MATMUL_DESC_TRANSA, &ta,
                                            sizeof ta)) ||
        (s = cublasLtMatmulDescSetAttribute(st->desc, CUBLASLT_MATMUL_DESC_TRANSB, &tb,
                                            sizeof tb)) ||
        (s = cublasLtMatmulDescSetAttribute(st->desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi,
                                            sizeof epi)) ||
        (s = cublasLtMatmulDescSetAttribute(st->desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias,
                                            sizeof bias)))
        return s;
    // stored shapes: op(A) is [m, k], op(B) [k, n]
    if ((s = set_layout(st->la, ta == CUBLAS_OP_N ? m : k, ta == CUBLAS_OP_N ? k : m, lda)) ||
        (s = set_layout(st->lb, tb == CUBLAS_OP_N ? k : n, tb == CUBLAS_OP_N ? n : k, ldb)) ||
        (s = set_layout(st->lc, m, n, ldc)))
        return s;
    plan *p = plan_slot(st, key);
    if (p->state == PLAN_EMPTY) {
        p->key = key;
        if ((s = plan_choose(st, p, A, B, C)))
            return s;
    }
    if (p->state == PLAN_NONE)
        return CUBLAS_STATUS_NOT_SUPPORTED;
    const float one = 1;
    s = cublasLtMatmul(st->lt, st->desc, &one, A, st->la, B, st->lb, &beta, C, st->lc, C, st->lc,
                       &p->algo, st->ws, LT_WORKSPACE, stream);
    if (s == CUBLAS_STATUS_NOT_SUPPORTED)
        p->state = PLAN_NONE;
    return s;
}

void lt_free(lt_state *st)
{
    if (!st)
        return;
    if (st->pref)
        cublasLtMatmulPreferenceDestroy(st->pref);
    cublasLtMatrixLayout_t *ls[3] = {&st->la, &st->lb, &st->lc};
    for (int i = 0; i < 3; i++)
        if (*ls[i])
            cublasLtMatrixLayoutDestroy(*ls[i]);
    if (st->desc)
        cublasLtMatmulDescDestroy(st->desc);
    if (st->lt)
        cublasLtDestroy(st->lt);
    if (st->ws)
        cudaFree(st->ws);
    free(st->plans);
    free(st);
}

// FP32 products and sums (cublasLt's plain FP32, as PyTorch runs it with
// TF32 off), or TF32 tensor cores when the handle's math mode asks for them.
// Pedantic and default both map to plain FP32 here (docs/GPU.md).
cublasComputeType_t compute_for(cublasHandle_t h)
{
    cublasMath_t mode = CUBLAS_PEDANTIC_MATH;
    cublasGetMathMode(h, &mode);
    return ((int)mode & 0xf) == CUBLAS_TF32_TENSOR_OP_MATH ? CUBLAS_COMPUTE_32F_FAST_TF32
                                                           : CUBLAS_COMPUTE_32F;
}

} // namespace

// SBR_GEMM=cublas (or unset): nothing to set up; lt: the cublasLt state, its
// compute type following the handle's math mode (SBR_CUBLAS_MATH).
extern "C" int sbr_cuda_gemm_init(sbr_nn_ctx *ctx, sbr_err *e)
{
    const char *v = getenv("SBR_GEMM");
    ctx->gemm = NULL;
    if (!v || !*v || strcmp(v, "cublas") == 0)
        return 0;
    if (strcmp(v, "lt") != 0)
        return sbr_errf(e, "SBR_GEMM=%s: not cublas or lt", v);
    lt_state *st = (lt_state *)calloc(1, sizeof *st);
    plan *plans = (plan *)calloc(LT_PLANS, sizeof(plan));
    if (!st || !plans) {
        free(st);
        free(plans);
        return sbr_errf(e, "out of memory for the cublasLt plans");
    }
    st->plans = plans;
    uint64_t ws = LT_WORKSPACE;
    cudaError_t ce = cudaMalloc(&st->ws, LT_WORKSPACE);
    if (ce != cudaSuccess) {
        cudaGetLastError();
        st->ws = NULL;
        lt_free(st);
        return sbr_errf(e, "out of GPU memory: %zu bytes of cublasLt workspace (%s)",
                        (size_t)LT_WORKSPACE, cudaGetErrorString(ce));
    }
    cublasStatus_t s;
    if ((s = cublasLtCreate(&st->lt)) ||
        (s = cublasLtMatmulDescCreate(&st->desc, compute_for((cublasHandle_t)ctx->cublas),
                                      CUDA_R_32F)) ||
        (s = cublasLtMatrixLayoutCreate(&st->la, CUDA_R_32F, 1, 1, 1)) ||
        (s = cublasLtMatrixLayoutCreate(&st->lb, CUDA_R_32F, 1, 1, 1)) ||
        (s = cublasLtMatrixLayoutCreate(&st->lc, CUDA_R_32F, 1, 1, 1)) ||
        (s = cublasLtMatmulPreferenceCreate(&st->pref)) ||
        (s = cublasLtMatmulPreferenceSetAttribute(
             st->pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws))) {
        lt_free(st);
        return sbr_errf(e, "cublasLt set-up: %s", cublasGetStatusString(s));
    }
    ctx->gemm = st;
    return 0;
}

extern "C" int sbr_cuda_gemm_lt_plans(const sbr_nn_ctx *ctx, int *none)
{
    const lt_state *st = (const lt_state *)ctx->gemm;
    int algo = 0;
    *none = 0;
    for (int i = 0; st && i < LT_PLANS; i++) {
        algo += st->plans[i].state == PLAN_ALGO;
        *none += st->plans[i].state == PLAN_NONE;
    }
    return algo;
}

extern "C" void sbr_cuda_gemm_free(sbr_nn_ctx *ctx)
{
    lt_free((lt_state *)ctx->gemm);
    ctx->gemm = NULL;
}

static void bias_fill(sbr_nn_ctx *ctx, const char *op, float *C, const float *bias, int m, int n,
                      int ldc)
{
    k_gemm_bias_fill<<<sbr_cuda_grid((size_t)m * n), SBR_CUDA_BLOCK, 0, sbr_cuda_stream(ctx)>>>(
        C, bias, m, n, ldc);
    SBR_CUDA_LAUNCHED(op);
}

cublasStatus_t sbr_cuda_sgemm(sbr_nn_ctx *ctx, const char *op, cublasOperation_t ta,
                              cublasOperation_t tb, int m, int n, int k, const float *A, int lda,
                              const float *B, int ldb, float beta, float *C, int ldc,
                              const float *bias)
{
    SBR_NN_REQUIRE(ctx && ctx->cublas, op, "the context has no cuBLAS handle");
    SBR_NN_REQUIRE(beta == 0 || beta == 1, op, "beta is 0 or 1, not %g", (double)beta);
    SBR_NN_REQUIRE(!bias || beta == 0, op, "a GEMM with a bias takes beta = 0");
    if (m == 0 || n == 0)
        return CUBLAS_STATUS_SUCCESS;
    if (k == 0) { // no product: C = bias, 0, or as it is (beta 1)
        if (bias)
            bias_fill(ctx, op, C, bias, m, n, ldc);
        else if (beta == 0)
            SBR_CUDA_CHECK(cudaMemset2DAsync(C, sizeof(float) * (size_t)ldc, 0,
                                             sizeof(float) * (size_t)m, (size_t)n,
                                             sbr_cuda_stream(ctx)));
        return CUBLAS_STATUS_SUCCESS;
    }
    lt_state *st = (lt_state *)ctx->gemm;
    // the epilogue reads the bias in vectors: only aligned ones go to it
    int epilogue = bias && st && ((uintptr_t)bias & 15) == 0;
    if (bias && !epilogue) {
        bias_fill(ctx, op, C, bias, m, n, ldc);
        beta = 1;
    }
    if (st) {
        cublasStatus_t s = lt_gemm(st, sbr_cuda_stream(ctx), ta, tb, m, n, k, A, lda, B, ldb, beta,
                                   C, ldc, epilogue ? bias : NULL);
        if (s != CUBLAS_STATUS_NOT_SUPPORTED)
            return s;
        if (epilogue) {
            bias_fill(ctx, op, C, bias, m, n, ldc);
            beta = 1;
        }
    }
    const float one = 1;
    return cublasSgemm((cublasHandle_t)ctx->cublas, ta, tb, m, n, k, &one, A, lda, B, ldb, &beta,
                       C, ldc);
}
