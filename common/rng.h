/* Seeded, counter-based random numbers.
 *
 * Every draw is a pure function of (seed, index): x = mix64(seed, index), with
 * mix64 the splitmix64 finaliser applied to a Weyl sequence keyed by the seed.
 * So a GPU kernel (or another thread) can reproduce any draw — the dropout
 * mask of element i, the initial value of parameter j — without sharing a
 * stream, and the whole state of a generator is two integers, which makes
 * checkpoints and resumption trivial.
 *
 *   sbr_rng r; sbr_rng_init(&r, 42);
 *   double u = sbr_rng_uniform(&r);          // stream: index r.counter++
 *   uint64_t k = sbr_rng_hash(42, 1000);     // the 1000th draw of seed 42
 */
#ifndef SBR_RNG_H
#define SBR_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t seed;    /* key of the stream */
    uint64_t counter; /* index of the next draw */
} sbr_rng;

/* splitmix64 of the Weyl point seed' + index*golden, where seed' is the seed
 * itself mixed once (so that seeds 1, 2, 3 give unrelated streams). The same
 * arithmetic on a GPU gives the same bits. */
static inline uint64_t sbr_rng_mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint64_t sbr_rng_hash(uint64_t seed, uint64_t index)
{
    uint64_t key = sbr_rng_mix64(seed + 0x9e3779b97f4a7c15ULL);
    return sbr_rng_mix64(key + (index + 1) * 0x9e3779b97f4a7c15ULL);
}

/* Uniform in [0, 1) from the top 53 bits (double) or 24 bits (float). */
static inline double sbr_rng_u01(uint64_t bits) { return (double)(bits >> 11) * 0x1.0p-53; }
static inline float sbr_rng_u01f(uint64_t bits) { return (float)(bits >> 40) * 0x1.0p-24f; }

void sbr_rng_init(sbr_rng *r, uint64_t seed);
uint64_t sbr_rng_next(sbr_rng *r);       /* raw 64 bits, advances by 1 */
double sbr_rng_uniform(sbr_rng *r);      /* [0, 1), advances by 1 */
/* Standard normal by Box-Muller on draws (index, index+1); advances by 2. */
double sbr_rng_normal(sbr_rng *r);
/* The normal draw that sbr_rng_normal would give at this index (stateless). */
double sbr_rng_normal_at(uint64_t seed, uint64_t index);
/* Uniform integer in [0, n) without modulo bias; n > 0. Advances by >= 1. */
uint64_t sbr_rng_below(sbr_rng *r, uint64_t n);
/* Fisher-Yates shuffle of a[0..n) (deterministic for a given state). */
void sbr_rng_shuffle_i64(sbr_rng *r, int64_t *a, int64_t n);

#endif
