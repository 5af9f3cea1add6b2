/* The output-layer floor of a training step: the three sgemm of the fused
 * score + CE for one batch (logits = S E^T, dS = G E, dE = G^T S), timed
 * with OpenBLAS as plain calls. Prints the median milliseconds per batch.
 *   bench-floor B d N [repeats]
 * With --proxy, ProxySR's floor instead: its loss forward over the
 * catalogue (two sgemm per chunk, the distances and the selection of the k
 * largest violations), the op itself on the model's f32 path.
 *   bench-floor --proxy B d N k [repeats] */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn.h"
#include "progress.h"

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static float fill(size_t i, unsigned mul) { return (float)((i * mul) % 1000) / 1000.0f - 0.5f; }

static int proxy_floor(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: bench-floor --proxy B d N k [repeats]\n");
        return 2;
    }
    int B = atoi(argv[1]), d = atoi(argv[2]), N = atoi(argv[3]), k = atoi(argv[4]);
    int R = argc > 5 ? atoi(argv[5]) : 15;
    float *Q = malloc(sizeof(float) * (size_t)B * d), *V = malloc(sizeof(float) * (size_t)B * d);
    float *E = malloc(sizeof(float) * (size_t)(N + 1) * d), *loss = malloc(sizeof(float) * B);
    float *score = malloc(sizeof(float) * (size_t)B * k), *dpos = malloc(sizeof(float) * B);
    int32_t *idx = malloc(sizeof(int32_t) * (size_t)B * k), *target = malloc(sizeof(int32_t) * B);
    for (size_t i = 0; i < (size_t)B * d; i++)
        Q[i] = 0.2f * fill(i, 2654435761u), V[i] = fill(i, 97u);
    for (size_t i = 0; i < (size_t)(N + 1) * d; i++)
        E[i] = 0.2f * fill(i, 40503u);
    for (int b = 0; b < B; b++)
        target[b] = 1 + (int)(((size_t)b * 7919) % (size_t)N);
    sbr_nn_scoring sc = {B, 1, N, d, 8192 < N ? 8192 : N, 0};
    size_t sb = sbr_nn_proxy_loss_scratch_f32(sc, k);
    void *scr = malloc(sb);
    sbr_nn_ctx ctx = {.scratch = scr, .scratch_bytes = sb};
    sbr_nn_proxy_in_f32 in = {Q, V, E};
    sbr_nn_proxy_kept_f32 kp = {idx, score, dpos};
    sbr_nn_proxy_loss_cfg cf = {0.1, 1.0 / k, 0.2, k};
    double *t = malloc(sizeof(double) * (size_t)R);
    for (int r = -2; r < R; r++) {
        double t0 = sbr_now();
        sbr_nn_proxy_loss_forward_f32(&ctx, loss, &kp, &in, target, &cf, sc);
        if (r >= 0)
            t[r] = (sbr_now() - t0) * 1e3;
    }
    qsort(t, (size_t)R, sizeof *t, cmp);
    double ms = t[R / 2];
    printf("%.4f %.1f\n", ms, 2 * 2.0 * B * d * (double)N / (ms * 1e-3) / 1e9);
    free(Q), free(V), free(E), free(loss), free(score), free(dpos), free(idx), free(target);
    free(scr), free(t);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--proxy"))
        return proxy_floor(argc - 1, argv + 1);
    if (argc < 4) {
        fprintf(stderr, "usage: bench-floor B d N [repeats]\n");
        return 2;
    }
    int B = atoi(argv[1]), d = atoi(argv[2]), N = atoi(argv[3]);
    int R = argc > 4 ? atoi(argv[4]) : 15;
    float *S = malloc(sizeof(float) * (size_t)B * d), *E = malloc(sizeof(float) * (size_t)N * d);
    float *G = malloc(sizeof(float) * (size_t)B * N), *dS = malloc(sizeof(float) * (size_t)B * d);
    float *dE = calloc((size_t)N * d, sizeof(float)); /* accumulated into (beta 1) */
    for (size_t i = 0; i < (size_t)B * d; i++)
        S[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
    for (size_t i = 0; i < (size_t)N * d; i++)
        E[i] = (float)((i * 40503u) % 1000) / 1000.0f - 0.5f;
    double *t = malloc(sizeof(double) * (size_t)R);
    for (int r = -2; r < R; r++) { /* two warm-up rounds */
        double t0 = sbr_now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, N, d, 1, S, d, E, d, 0, G, N);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, d, N, 1, G, N, E, d, 0, dS, d);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, N, d, B, 1, G, N, S, d, 1, dE, d);
        if (r >= 0)
            t[r] = (sbr_now() - t0) * 1e3;
    }
    qsort(t, (size_t)R, sizeof *t, cmp);
    double ms = t[R / 2];
    printf("%.4f %.1f\n", ms, 3 * 2.0 * B * d * (double)N / (ms * 1e-3) / 1e9);
    free(S), free(E), free(G), free(dS), free(dE), free(t);
    return 0;
}
