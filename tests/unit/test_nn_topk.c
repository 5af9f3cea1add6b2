/* top-K over the catalogue: against a full sort with the tie rule, exclusion
 * lists, K larger than what can be ranked, chunk independence. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "harness.h"
#include "nn/nn.h"

typedef struct {
    double s;
    int32_t id;
} cand;

static int cand_cmp(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    if (x->s != y->s)
        return x->s > y->s ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

TEST(nn_topk_matches_sort)
{
    int B = 7, N = 250, d = 6, K = 20;
    float *S = gc_zeros_f((size_t)B * d), *E = gc_zeros_f((size_t)(N + 1) * d);
    gc_fill_f(S, (size_t)B * d, -1, 1, 1);
    gc_fill_f(E, (size_t)(N + 1) * d, -1, 1, 2);
    /* Exact ties: items 10, 11, 200 share one vector, and 30 = 31. */
    for (int k = 0; k < d; k++) {
        E[10 * d + k] *= 3; /* longer than any other item: the best of row 3 */
        E[11 * d + k] = E[200 * d + k] = E[10 * d + k];
        E[31 * d + k] = E[30 * d + k];
    }
    /* Row 3 scores high on the tied vector so the tie falls in the top K. */
    for (int k = 0; k < d; k++)
        S[3 * d + k] = E[10 * d + k] * 5;
    /* Exclusions: row 0 excludes its true best items, row 2 an id out of range. */
    int32_t excl_off[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int32_t excl[4];
    int32_t idx[7 * 20];
    float sc[7 * 20];
    sbr_nn_scoring cat = {B, 1, N, d, 1, 0};
    size_t need = sbr_nn_topk_scratch_f32(cat, K);
    cat.chunk = N;
    need += sbr_nn_topk_scratch_f32(cat, K);
    void *scr = malloc(need);
    sbr_nn_ctx ctx = {.scratch = scr, .scratch_bytes = need};
    cat.chunk = 256;
    sbr_nn_topk_f32(&ctx, idx, sc, S, E, K, NULL, NULL, cat);
    excl[0] = idx[0], excl[1] = idx[2], excl[2] = 9999, excl[3] = 11;
    excl_off[1] = 2, excl_off[2] = 2, excl_off[3] = 3;
    for (int b = 4; b <= 7; b++)
        excl_off[b] = 4; /* row 3 excludes 9999 (ignored) and 11 */
    int chunks[] = {1, 13, 64, 250, 256};
    for (int ci = 0; ci < 5; ci++) {
        int32_t idx2[7 * 20];
        float sc2[7 * 20];
        cat.chunk = chunks[ci];
        sbr_nn_topk_f32(&ctx, idx2, sc2, S, E, K, excl_off, excl, cat);
        for (int b = 0; b < B; b++) {
            /* Reference: every non-excluded item scored the same way (sgemm's
             * rounding may differ from a dot product, so score with the op). */
            cand *all = malloc(N * sizeof(cand));
            int n = 0;
            for (int i = 1; i <= N; i++) {
                int ex = 0;
                for (int k = excl_off[b]; k < excl_off[b + 1]; k++)
                    ex |= excl[k] == i;
                if (ex)
                    continue;
                float s = 0;
                for (int k = 0; k < d; k++)
                    s += S[b * d + k] * E[i * d + k];
                all[n++] = (cand){s, i};
            }
            qsort(all, n, sizeof(cand), cand_cmp);
            for (int j = 0; j < K; j++) {
                CHECK_NEAR(sc2[b * K + j], all[j].s, 1e-5);
                if (j + 1 < K) /* best first, ties by smaller id */
                    CHECK(sc2[b * K + j] > sc2[b * K + j + 1] ||
                          (sc2[b * K + j] == sc2[b * K + j + 1] &&
                           idx2[b * K + j] < idx2[b * K + j + 1]));
                for (int k = excl_off[b]; k < excl_off[b + 1]; k++)
                    CHECK(idx2[b * K + j] != excl[k]);
            }
            free(all);
        }
        /* Same result for every chunk size: the sets and order agree exactly. */
        if (ci > 0) {
            int32_t idx0[7 * 20];
            float sc0[7 * 20];
            sbr_nn_topk_f32(&ctx, idx0, sc0, S, E, K, excl_off, excl,
                            (sbr_nn_scoring){B, 1, N, d, 256, 0}); /* the first chunk size */
            CHECK(memcmp(idx0, idx2, sizeof idx0) == 0);
        }
    }
    /* Row 3, no exclusions: the tied items 10, 11, 200 come first in id order. */
    CHECK(idx[3 * K] == 10 && idx[3 * K + 1] == 11 && idx[3 * K + 2] == 200);
    free(S), free(E), free(scr);
}

TEST(nn_topk_k_larger_than_catalogue)
{
    int B = 2, N = 5, d = 3, K = 8;
    double S[6], E[18];
    gc_fill(S, 6, -1, 1, 3);
    gc_fill(E, 18, -1, 1, 4);
    int32_t excl_off[3] = {0, 2, 2}, excl[2] = {1, 5};
    int32_t idx[16];
    double sc[16];
    sbr_nn_scoring cat = {B, 1, N, d, 2, 0};
    size_t need = sbr_nn_topk_scratch_f64(cat, K);
    void *scr = malloc(need);
    sbr_nn_ctx ctx = {.scratch = scr, .scratch_bytes = need};
    sbr_nn_topk_f64(&ctx, idx, sc, S, E, K, excl_off, excl, cat);
    /* Row 0: items 2, 3, 4 then empty slots; row 1: all five. */
    int seen[6] = {0};
    for (int j = 0; j < 3; j++)
        seen[idx[j]]++;
    CHECK(seen[2] == 1 && seen[3] == 1 && seen[4] == 1);
    for (int j = 3; j < K; j++)
        CHECK(idx[j] == 0 && isinf(sc[j]) && sc[j] < 0);
    for (int j = 0; j < 5; j++)
        CHECK(idx[K + j] >= 1 && idx[K + j] <= 5);
    CHECK(idx[K + 5] == 0);
    free(scr);
}

TEST(nn_topk_thread_independent)
{
    int B = 30, N = 20000, d = 16, K = 50, chunk = 512;
    float *S = gc_zeros_f((size_t)B * d), *E = gc_zeros_f((size_t)(N + 1) * d);
    gc_fill_f(S, (size_t)B * d, -1, 1, 5);
    gc_fill_f(E, (size_t)(N + 1) * d, -1, 1, 6);
    int32_t *i1 = malloc((size_t)B * K * sizeof(int32_t)), *i2 = malloc((size_t)B * K * 4);
    float *s1 = gc_zeros_f((size_t)B * K), *s2 = gc_zeros_f((size_t)B * K);
    int saved = omp_get_max_threads();
    omp_set_num_threads(2);
    sbr_nn_scoring cat = {B, 1, N, d, chunk, 0};
    size_t need = sbr_nn_topk_scratch_f32(cat, K);
    void *scr = malloc(need);
    sbr_nn_ctx ctx = {.scratch = scr, .scratch_bytes = need};
    sbr_nn_topk_f32(&ctx, i1, s1, S, E, K, NULL, NULL, cat);
    omp_set_num_threads(1);
    sbr_nn_topk_f32(&ctx, i2, s2, S, E, K, NULL, NULL, cat);
    omp_set_num_threads(saved);
    CHECK(memcmp(i1, i2, (size_t)B * K * sizeof(int32_t)) == 0);
    CHECK(memcmp(s1, s2, (size_t)B * K * sizeof(float)) == 0);
    free(S), free(E), free(i1), free(i2), free(s1), free(s2), free(scr);
}
