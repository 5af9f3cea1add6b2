/* The counter-based RNG: pinned values (the CUDA side must reproduce them),
 * streams, ranges and moments. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "rng.h"

TEST(nn_rng_pinned_values)
{
    /* splitmix64 reference values: mix64 of the golden-ratio increments. These
     * pin the algorithm; a CUDA port must give the same numbers. */
    CHECK(sbr_rng_mix64(0x9e3779b97f4a7c15ULL) == 0xe220a8397b1dcdafULL);
    /* hash(42, 7) by an independent Python evaluation of the formula in rng.h */
    uint64_t h = sbr_rng_hash(42, 7);
    CHECK(h == 0xbc16a3d4cc48678eULL);
    sbr_rng r;
    sbr_rng_init(&r, 42);
    for (int i = 0; i < 7; i++)
        sbr_rng_next(&r);
    CHECK(sbr_rng_next(&r) == h); /* the stream is the hash at its counter */
    CHECK(sbr_rng_hash(42, 8) != h && sbr_rng_hash(43, 7) != h);
    /* Consecutive seeds are not shifted copies of one stream. */
    CHECK(sbr_rng_hash(1, 1) != sbr_rng_hash(2, 0));
}

TEST(nn_rng_ranges_and_moments)
{
    sbr_rng r;
    sbr_rng_init(&r, 5);
    int n = 200000, hist[10] = {0};
    double s = 0, s2 = 0;
    for (int i = 0; i < n; i++) {
        double u = sbr_rng_uniform(&r);
        CHECK(u >= 0 && u < 1);
        hist[(int)(u * 10)]++;
    }
    for (int k = 0; k < 10; k++)
        CHECK(hist[k] > n / 10 - 800 && hist[k] < n / 10 + 800); /* sd ~134 */
    for (int i = 0; i < n; i++) {
        double z = sbr_rng_normal(&r);
        s += z, s2 += z * z;
    }
    CHECK_NEAR(s / n, 0, 0.01);
    CHECK_NEAR(s2 / n, 1, 0.02);
    for (int i = 0; i < 10000; i++) {
        uint64_t v = sbr_rng_below(&r, 7);
        CHECK(v < 7);
    }
    CHECK(sbr_rng_u01f(UINT64_MAX) < 1.0f && sbr_rng_u01(UINT64_MAX) < 1.0);
    int64_t a[100];
    for (int i = 0; i < 100; i++)
        a[i] = i;
    sbr_rng_shuffle_i64(&r, a, 100);
    int seen[100] = {0}, moved = 0;
    for (int i = 0; i < 100; i++)
        seen[a[i]]++, moved += a[i] != i;
    for (int i = 0; i < 100; i++)
        CHECK(seen[i] == 1);
    CHECK(moved > 50);
}
