/* GPU vs CPU: retrieve (retrieve.inc, cuda/retrieve.cu), NP-MiSR's context:
 * one chunk and several (the last partial), exclusions, zero rows and a
 * zero query, NaN rows, more slots than eligible rows, a scratch that holds
 * less than the preferred chunk, and C past the GPU's limit refused. */
#include <math.h>
#include <stdlib.h>

#include "cuda_test.h"

/* Row r of P zeroed when zero_every divides r + 1 (0: none), row 0 of X too. */
static void rt_case_lim(sbr_nn_retrieve_shape sh, int zero_every, int with_excl, size_t limit)
{
    sbr_nn_ctx gpu = *ct_ctx();
    if (limit)
        gpu.scratch_bytes = limit;
    int B = sh.B, M = sh.M, d = sh.d, C = sh.C;
    ct_buf X = ct_in((size_t)B * d, -1, 1), P = ct_in((size_t)M * d, -1, 1);
    for (int r = 0; zero_every && r < M; r++)
        for (int k = 0; k < d; k++) {
            if ((r + 1) % zero_every == 0)
                P.h[(size_t)r * d + k] = 0;
            if (r == 0)
                X.h[k] = 0;
        }
    sbr_cuda_h2d(P.d, P.h, P.n * sizeof(float));
    sbr_cuda_h2d(X.d, X.h, X.n * sizeof(float));
    ct_ibuf ex = ct_ints((size_t)B, -1, M - 1);
    ct_ibuf idx = ct_ints((size_t)B * C, 0, 0);
    ct_buf sim = ct_out((size_t)B * C);
    sbr_nn_ctx *cpu = ct_cpu_ctx(sbr_nn_retrieve_scratch_f32(sh));
    ct_ibuf lm = ct_ints((size_t)B, -1, M + 1); /* with the exclusions, limits too */
    sbr_nn_retrieve_f32(cpu, idx.h, sim.h, X.h, P.h, with_excl ? ex.h : NULL,
                        with_excl ? lm.h : NULL, sh);
    sbr_nn_retrieve_cuda(&gpu, idx.d, sim.d, X.d, P.d, with_excl ? ex.d : NULL,
                         with_excl ? lm.d : NULL, sh);
    ct_topk_compare(&idx, &sim, B, C);
}

static void rt_case(sbr_nn_retrieve_shape sh, int zero_every, int with_excl)
{
    rt_case_lim(sh, zero_every, with_excl, 0);
}

TEST(cuda_retrieve)
{
    CT_BEGIN();
    rt_case((sbr_nn_retrieve_shape){9, 40, 8, 5, 1000}, 7, 1);         /* one chunk */
    rt_case((sbr_nn_retrieve_shape){7, 30, 4, 40, 1000}, 0, 1);        /* C > M: empty slots */
    rt_case((sbr_nn_retrieve_shape){100, 50000, 100, 10, 8192}, 0, 1); /* the bench's shape */
    rt_case((sbr_nn_retrieve_shape){60, 20000, 64, 300, 4096}, 5, 0);  /* 3 chunks, last partial */
    rt_case_lim((sbr_nn_retrieve_shape){30, 20000, 16, 20, 500}, 0, 1,
                1024 + (size_t)31 * 4 * 2500); /* about 2500 rows a chunk */
}

/* A NaN pool row is never retrieved and a NaN query retrieves nothing. */
TEST(cuda_retrieve_nan)
{
    CT_BEGIN();
    enum { B = 3, M = 50, d = 4, C = 60 };
    ct_buf X = ct_in((size_t)B * d, -1, 1), P = ct_in((size_t)M * d, -1, 1);
    X.h[d] = NAN, P.h[7 * d + 2] = NAN;
    sbr_cuda_h2d(X.d, X.h, X.n * sizeof(float));
    sbr_cuda_h2d(P.d, P.h, P.n * sizeof(float));
    ct_ibuf idx = ct_ints((size_t)B * C, 0, 0);
    ct_buf sim = ct_out((size_t)B * C);
    sbr_nn_retrieve_cuda(ct_ctx(), idx.d, sim.d, X.d, P.d, NULL, NULL,
                         (sbr_nn_retrieve_shape){B, M, d, C, 16});
    sbr_nn_cuda_sync(ct_ctx());
    int32_t got[B * C];
    sbr_cuda_d2h(got, idx.d, sizeof got);
    int seven = 0, empty0 = 0, empty1 = 0;
    for (int j = 0; j < C; j++)
        seven += got[j] == 7, empty0 += got[j] == -1, empty1 += got[C + j] == -1;
    CHECK(seven == 0 && empty0 == C - (M - 1) && empty1 == C);
}

typedef struct {
    ct_buf X, P, sim;
    ct_ibuf idx;
} rt_bufs;

/* The check comes before any GPU call, so the forked child touches no CUDA
 * state (the buffers are the parent's, never read). */
static void rt_big_c(void *arg)
{
    rt_bufs *t = arg;
    sbr_nn_retrieve_cuda(ct_ctx(), t->idx.d, t->sim.d, t->X.d, t->P.d, NULL, NULL,
                         (sbr_nn_retrieve_shape){1, 2, 4, 4097, 16});
}

TEST(cuda_retrieve_c_limit)
{
    CT_BEGIN();
    rt_bufs t = {ct_in(4, -1, 1), ct_in(8, -1, 1), ct_out(4097), ct_ints(4097, 0, 0)};
    CHECK(harness_aborts(rt_big_c, &t));
}
