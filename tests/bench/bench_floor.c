/* The output-layer floor of a training step: the three sgemm of the fused
 * score + CE for one batch (logits = S E^T, dS = G E, dE = G^T S), timed
 * with OpenBLAS as plain calls. Prints the median milliseconds per batch.
 *   bench-floor B d N [repeats] */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>

#include "progress.h"

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
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
