#include "rng.h"

#include <math.h>

void sbr_rng_init(sbr_rng *r, uint64_t seed)
{
    r->seed = seed;
    r->counter = 0;
}

uint64_t sbr_rng_next(sbr_rng *r) { return sbr_rng_hash(r->seed, r->counter++); }

double sbr_rng_uniform(sbr_rng *r) { return sbr_rng_u01(sbr_rng_next(r)); }

double sbr_rng_normal_at(uint64_t seed, uint64_t index)
{
    /* 1 - u keeps the logarithm finite (u is in [0, 1)). */
    double u1 = 1.0 - sbr_rng_u01(sbr_rng_hash(seed, index));
    double u2 = sbr_rng_u01(sbr_rng_hash(seed, index + 1));
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

double sbr_rng_normal(sbr_rng *r)
{
    double z = sbr_rng_normal_at(r->seed, r->counter);
    r->counter += 2;
    return z;
}

uint64_t sbr_rng_below(sbr_rng *r, uint64_t n)
{
    /* Rejection of the incomplete top block: values >= limit are redrawn. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    for (;;) {
        uint64_t x = sbr_rng_next(r);
        if (x < limit)
            return x % n;
    }
}

void sbr_rng_shuffle_i64(sbr_rng *r, int64_t *a, int64_t n)
{
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)sbr_rng_below(r, (uint64_t)i + 1);
        int64_t t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}
