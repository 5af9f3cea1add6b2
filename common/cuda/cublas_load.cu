// cuBLAS and cuBLASLt loaded when a GPU context is made, not when a tool
// starts: linked directly, their 540 MB and static initialisers cost every
// sbr tool about 0.4 s of start-up and 200 MB, GPU or not, and a host
// without them could not start the tools at all. Each function the op
// library calls is defined here as a trampoline to the real one, resolved
// by sbr_cublas_load (sbr_nn_cuda_ctx_init calls it) with dlopen / dlsym.
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include <cublasLt.h>
#include <cublas_v2.h>

#include "cuda/cublas_load.h"

#ifndef SBR_CUBLAS_SONAME
#define SBR_CUBLAS_SONAME "libcublas.so"
#endif
#ifndef SBR_CUBLASLT_SONAME
#define SBR_CUBLASLT_SONAME "libcublasLt.so"
#endif
#ifndef SBR_CUDA_LIBDIR
#define SBR_CUDA_LIBDIR ""
#endif

// The functions, by the names the headers' macros give them (cublasCreate
// is cublasCreate_v2): X(library, return type, name, (parameters), (arguments)).
#define SBR_CUBLAS_FUNCS(X)                                                                   \
    X(0, cublasStatus_t, cublasCreate_v2, (cublasHandle_t * h), (h))                          \
    X(0, cublasStatus_t, cublasDestroy_v2, (cublasHandle_t h), (h))                           \
    X(0, cublasStatus_t, cublasSetStream_v2, (cublasHandle_t h, cudaStream_t s), (h, s))      \
    X(0, cublasStatus_t, cublasGetMathMode, (cublasHandle_t h, cublasMath_t * m), (h, m))     \
    X(0, cublasStatus_t, cublasSetMathMode, (cublasHandle_t h, cublasMath_t m), (h, m))       \
    X(0, cublasStatus_t, cublasSetAtomicsMode, (cublasHandle_t h, cublasAtomicsMode_t m),     \
      (h, m))                                                                                 \
    X(0, const char *, cublasGetStatusString, (cublasStatus_t s), (s))                        \
    X(0, cublasStatus_t, cublasSgemm_v2,                                                      \
      (cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,     \
       const float *alpha, const float *A, int lda, const float *B, int ldb,                  \
       const float *beta, float *C, int ldc),                                                 \
      (h, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc))                              \
    X(1, cublasStatus_t, cublasLtCreate, (cublasLtHandle_t * h), (h))                         \
    X(1, cublasStatus_t, cublasLtDestroy, (cublasLtHandle_t h), (h))                          \
    X(1, cublasStatus_t, cublasLtMatmulDescCreate,                                            \
      (cublasLtMatmulDesc_t * d, cublasComputeType_t c, cudaDataType_t t), (d, c, t))         \
    X(1, cublasStatus_t, cublasLtMatmulDescDestroy, (cublasLtMatmulDesc_t d), (d))            \
    X(1, cublasStatus_t, cublasLtMatmulDescSetAttribute,                                      \
      (cublasLtMatmulDesc_t d, cublasLtMatmulDescAttributes_t a, const void *b, size_t n),    \
      (d, a, b, n))                                                                           \
    X(1, cublasStatus_t, cublasLtMatrixLayoutCreate,                                          \
      (cublasLtMatrixLayout_t * l, cudaDataType t, uint64_t r, uint64_t c, int64_t ld),       \
      (l, t, r, c, ld))                                                                       \
    X(1, cublasStatus_t, cublasLtMatrixLayoutDestroy, (cublasLtMatrixLayout_t l), (l))        \
    X(1, cublasStatus_t, cublasLtMatrixLayoutSetAttribute,                                    \
      (cublasLtMatrixLayout_t l, cublasLtMatrixLayoutAttribute_t a, const void *b, size_t n), \
      (l, a, b, n))                                                                           \
    X(1, cublasStatus_t, cublasLtMatmulPreferenceCreate, (cublasLtMatmulPreference_t * p),    \
      (p))                                                                                    \
    X(1, cublasStatus_t, cublasLtMatmulPreferenceDestroy, (cublasLtMatmulPreference_t p),     \
      (p))                                                                                    \
    X(1, cublasStatus_t, cublasLtMatmulPreferenceSetAttribute,                                \
      (cublasLtMatmulPreference_t p, cublasLtMatmulPreferenceAttributes_t a, const void *b,   \
       size_t n),                                                                             \
      (p, a, b, n))                                                                           \
    X(1, cublasStatus_t, cublasLtMatmulAlgoGetHeuristic,                                      \
      (cublasLtHandle_t h, cublasLtMatmulDesc_t op, cublasLtMatrixLayout_t A,                 \
       cublasLtMatrixLayout_t B, cublasLtMatrixLayout_t C, cublasLtMatrixLayout_t D,          \
       cublasLtMatmulPreference_t p, int n, cublasLtMatmulHeuristicResult_t *r, int *got),    \
      (h, op, A, B, C, D, p, n, r, got))                                                      \
    X(1, cublasStatus_t, cublasLtMatmul,                                                      \
      (cublasLtHandle_t h, cublasLtMatmulDesc_t op, const void *alpha, const void *A,         \
       cublasLtMatrixLayout_t Ad, const void *B, cublasLtMatrixLayout_t Bd, const void *beta, \
       const void *C, cublasLtMatrixLayout_t Cd, void *D, cublasLtMatrixLayout_t Dd,          \
       const cublasLtMatmulAlgo_t *algo, void *ws, size_t wsn, cudaStream_t s),               \
      (h, op, alpha, A, Ad, B, Bd, beta, C, Cd, D, Dd, algo, ws, wsn, s))

#define SBR_PTR(lib, ret, name, params, args) static ret(*p_##name) params;
SBR_CUBLAS_FUNCS(SBR_PTR)

static int loaded; // 1 once every pointer is set

// dlopen of soname, first from the toolkit's directory the build found.
static void *open_lib(const char *soname, char *why, size_t cap)
{
    char path[4096];
    void *h = NULL;
    if (SBR_CUDA_LIBDIR[0]) {
        snprintf(path, sizeof path, "%s/%s", SBR_CUDA_LIBDIR, soname);
        h = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
    }
    if (!h)
        h = dlopen(soname, RTLD_NOW | RTLD_GLOBAL);
    if (!h)
        snprintf(why, cap, "%s", dlerror());
    return h;
}

extern "C" int sbr_cublas_load(sbr_err *e)
{
    if (loaded)
        return 0;
    char why[512];
    void *lib[2];
    const char *names[2] = {SBR_CUBLAS_SONAME, SBR_CUBLASLT_SONAME};
    for (int i = 0; i < 2; i++)
        if (!(lib[i] = open_lib(names[i], why, sizeof why)))
            return sbr_errf(e, "cannot load cuBLAS (%s): %s", names[i], why);
#define SBR_SYM(l, ret, name, params, args)                                                    \
    if (!(p_##name = (ret(*) params)dlsym(lib[l], #name)))                                     \
        return sbr_errf(e, "cuBLAS (%s) has no %s", names[l], #name);
    SBR_CUBLAS_FUNCS(SBR_SYM)
    loaded = 1;
    return 0;
}

// A trampoline called before sbr_cublas_load succeeded is a bug of the
// caller (every GPU path makes its context first): say so and stop.
static void not_loaded(const char *name)
{
    fprintf(stderr, "sbr: %s called before cuBLAS was loaded (sbr_cublas_load)\n", name);
    abort();
}

#define SBR_TRAMPOLINE(l, ret, name, params, args)                                            \
    extern "C" ret name params                                                                \
    {                                                                                         \
        if (!p_##name)                                                                        \
            not_loaded(#name);                                                                \
        return p_##name args;                                                                 \
    }
SBR_CUBLAS_FUNCS(SBR_TRAMPOLINE)
