/* GPU vs CPU: the uncertainty op (uncertainty.inc, cuda/uncertainty.cu):
 * entropy, top-1 probability and lse of the catalogue softmax, with and
 * without exclusions, one chunk and several (the last partial), one vector
 * per row and several (max and sum pool), a scratch that holds less than
 * the preferred chunk, and a row with every item excluded. */
#include <math.h>
#include <stdlib.h>

#include "cuda_test.h"

static void unc_case_lim(int B, int U, int N, int d, int chunk, int pool, int with_excl,
                         size_t limit)
{
    sbr_nn_ctx gpu = *ct_ctx();
    if (limit)
        gpu.scratch_bytes = limit;
    /* rows from flat to peaked: the scale of S grows with the row */
    ct_buf S = ct_in((size_t)B * U * d, -1, 1), E = ct_in((size_t)(N + 1) * d, -1, 1);
    for (size_t i = 0; i < S.n; i++)
        S.h[i] *= 0.2f + 6.0f * (float)(i / ((size_t)U * d)) / (float)B;
    sbr_cuda_h2d(S.d, S.h, S.n * sizeof(float));
    ct_ibuf off = {0}, ex = {0};
    if (with_excl) {
        int32_t *o = malloc(sizeof(int32_t) * (size_t)(B + 1));
        o[0] = 0;
        for (int b = 0; b < B; b++)
            o[b + 1] = o[b] + (b % 3 == 0 ? 0 : 1 + b % 5);
        off = ct_ints_from(o, (size_t)B + 1);
        ex = ct_ints(o[B] ? (size_t)o[B] : 1, -2, N + 3); /* out-of-range ids are ignored */
        free(o);
    }
    ct_buf ent = ct_out(B), p1 = ct_out(B), lse = ct_out(B);
    sbr_nn_scoring sc = {B, U, N, d, chunk, pool};
    sbr_nn_ctx *cpu = ct_cpu_ctx(sbr_nn_uncertainty_scratch_f32(sc));
    sbr_nn_uncertainty_f32(cpu, ent.h, p1.h, lse.h, S.h, E.h, with_excl ? off.h : NULL,
                           with_excl ? ex.h : NULL, sc);
    sbr_nn_uncertainty_cuda(&gpu, ent.d, p1.d, lse.d, S.d, E.d, with_excl ? off.d : NULL,
                            with_excl ? ex.d : NULL, sc);
    ct_check("uncertainty entropy", ent, 1e-4, 1e-5);
    ct_check("uncertainty top-1 probability", p1, 1e-4, 1e-7);
    ct_check("uncertainty lse", lse, 1e-5, 1e-5);
}

static void unc_case(int B, int U, int N, int d, int chunk, int pool, int with_excl)
{
    unc_case_lim(B, U, N, d, chunk, pool, with_excl, 0);
}

TEST(cuda_uncertainty)
{
    CT_BEGIN();
    unc_case(9, 1, 30, 8, 1000, 0, 1);        /* one chunk */
    unc_case(50, 1, 20000, 64, 4096, 0, 1);   /* three chunks, the last partial */
    unc_case(200, 1, 43097, 100, 8192, 0, 0); /* diginetica's catalogue */
    unc_case(64, 4, 20000, 32, 8192, 0, 1);   /* DMI-GNN's max pool */
    unc_case(64, 4, 20000, 32, 8192, 1, 0);   /* the sum pool */
    unc_case_lim(30, 1, 20000, 16, 500, 0, 1, 1024 + (size_t)30 * 4 * 2500); /* ~2500 items */
}

/* Every item excluded from row 1: no distribution (0, 0, -inf) on both. */
TEST(cuda_uncertainty_all_excluded)
{
    CT_BEGIN();
    int B = 3, N = 50, d = 4;
    ct_buf S = ct_in((size_t)B * d, -1, 1), E = ct_in((size_t)(N + 1) * d, -1, 1);
    int32_t o[4] = {0, 0, N, N}, ids[50];
    for (int i = 0; i < N; i++)
        ids[i] = i + 1;
    ct_ibuf off = ct_ints_from(o, 4), ex = ct_ints_from(ids, (size_t)N);
    ct_buf ent = ct_out(B), p1 = ct_out(B), lse = ct_out(B);
    sbr_nn_scoring sc = {B, 1, N, d, 16, 0};
    sbr_nn_uncertainty_cuda(ct_ctx(), ent.d, p1.d, lse.d, S.d, E.d, off.d, ex.d, sc);
    float *h = ct_download(ent.d, B), *p = ct_download(p1.d, B), *l = ct_download(lse.d, B);
    CHECK(h[1] == 0 && p[1] == 0 && isinf(l[1]) && l[1] < 0);
    CHECK(h[0] > 0 && p[0] > 0 && isfinite(l[0]));
}
