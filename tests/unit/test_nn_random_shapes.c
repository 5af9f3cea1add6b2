/* The chunked ops on many random small shapes (B, N, d, chunk, K), against
 * plain reference computations: catches lane/chunk bookkeeping errors at the
 * edges (one chunk, fewer chunks than lanes, a short last chunk, K > N). */
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "harness.h"
#include "nn/nn.h"
#include "rng.h"

TEST(nn_score_ce_random_shapes)
{
    sbr_rng r;
    sbr_rng_init(&r, 2024);
    for (int it = 0; it < 200; it++) {
        int B = 1 + (int)sbr_rng_below(&r, 6), N = 1 + (int)sbr_rng_below(&r, 60);
        int d = 1 + (int)sbr_rng_below(&r, 9), chunk = 1 + (int)sbr_rng_below(&r, 70);
        double *S = gc_zeros((size_t)B * d), *E = gc_zeros((size_t)(N + 1) * d);
        double *dS = gc_zeros((size_t)B * d), *dE = gc_zeros((size_t)(N + 1) * d);
        double *rS = gc_zeros((size_t)B * d), *rE = gc_zeros((size_t)(N + 1) * d);
        double loss[6], lse[6], w[6];
        int32_t t[6];
        gc_fill(S, (size_t)B * d, -2, 2, 10 + it);
        gc_fill(E, (size_t)(N + 1) * d, -2, 2, 20 + it);
        gc_fill(w, B, 0, 1, 30 + it);
        for (int b = 0; b < B; b++)
            t[b] = 1 + (int32_t)sbr_rng_below(&r, N);
        sbr_nn_scoring sc = {B, 1, N, d, chunk, 0};
        size_t need = sbr_nn_score_ce_scratch_f64(sc);
        void *scr = malloc(need);
        sbr_nn_ctx c = {.scratch = scr, .scratch_bytes = need};
        sbr_nn_score_ce_forward_f64(&c, loss, lse, S, E, t, sc);
        sbr_nn_score_ce_backward_f64(&c, dS, dE, w, S, E, t, lse, sc);
        /* reference: full logits, softmax, gradients */
        double err = 0;
        for (int b = 0; b < B; b++) {
            double *l = gc_zeros(N + 1), mx = -INFINITY, z = 0;
            for (int i = 1; i <= N; i++) {
                for (int k = 0; k < d; k++)
                    l[i] += S[b * d + k] * E[i * d + k];
                mx = fmax(mx, l[i]);
            }
            for (int i = 1; i <= N; i++)
                z += exp(l[i] - mx);
            err = fmax(err, fabs(loss[b] - (mx + log(z) - l[t[b]])));
            for (int i = 1; i <= N; i++) {
                double g = (exp(l[i] - mx) / z - (i == t[b])) * w[b];
                for (int k = 0; k < d; k++) {
                    rS[b * d + k] += g * E[i * d + k];
                    rE[i * d + k] += g * S[b * d + k];
                }
            }
            free(l);
        }
        for (int i = 0; i < B * d; i++)
            err = fmax(err, fabs(dS[i] - rS[i]));
        for (int i = 0; i < (N + 1) * d; i++)
            err = fmax(err, fabs(dE[i] - rE[i]));
        if (!(err < 1e-10)) {
            printf("    B=%d N=%d d=%d chunk=%d: max error %g\n", B, N, d, chunk, err);
            CHECK(0);
        }
        free(S), free(E), free(dS), free(dE), free(rS), free(rE), free(scr);
    }
}

TEST(nn_topk_random_shapes)
{
    sbr_rng r;
    sbr_rng_init(&r, 77);
    for (int it = 0; it < 200; it++) {
        int B = 1 + (int)sbr_rng_below(&r, 5), N = 1 + (int)sbr_rng_below(&r, 80);
        int d = 1 + (int)sbr_rng_below(&r, 5), chunk = 1 + (int)sbr_rng_below(&r, 90);
        int K = 1 + (int)sbr_rng_below(&r, 12);
        double *S = gc_zeros((size_t)B * d), *E = gc_zeros((size_t)(N + 1) * d);
        /* Multiples of 1/8 times {-1, 0, 1}: every dot product is exact in any
         * summation order, and there are many exact ties. */
        for (int i = 0; i < B * d; i++)
            S[i] = ((double)(int)sbr_rng_below(&r, 17) - 8) / 8;
        for (int i = 0; i < (N + 1) * d; i++)
            E[i] = (double)(int)sbr_rng_below(&r, 3) - 1;
        int32_t *idx = malloc((size_t)B * K * sizeof(int32_t));
        double *sc = gc_zeros((size_t)B * K);
        sbr_nn_scoring cat = {B, 1, N, d, chunk, 0};
        size_t need = sbr_nn_topk_scratch_f64(cat, K);
        void *scr = malloc(need);
        sbr_nn_ctx c = {.scratch = scr, .scratch_bytes = need};
        sbr_nn_topk_f64(&c, idx, sc, S, E, K, NULL, NULL, cat);
        int bad = 0;
        double *all = gc_zeros(N + 1);
        for (int b = 0; b < B; b++) {
            for (int o = 1; o <= N; o++) {
                all[o] = 0;
                for (int k = 0; k < d; k++)
                    all[o] += S[b * d + k] * E[o * d + k];
            }
            /* rank of item i: how many items beat it (higher score, or equal
             * and smaller id); the item at position j must have rank j */
            for (int j = 0; j < K; j++) {
                int i = idx[b * K + j];
                if (j >= N) {
                    bad |= i != 0 || !(sc[b * K + j] < -1e300);
                    continue;
                }
                if (i < 1 || i > N) {
                    bad = 1;
                    continue;
                }
                double si = all[i];
                int rank = 0;
                for (int o = 1; o <= N; o++)
                    rank += all[o] > si || (all[o] == si && o < i);
                bad |= rank != j || sc[b * K + j] != si;
            }
        }
        if (bad) {
            printf("    B=%d N=%d d=%d K=%d chunk=%d: wrong ranking\n", B, N, d, K, chunk);
            CHECK(0);
        }
        free(S), free(E), free(idx), free(sc), free(scr), free(all);
    }
}
