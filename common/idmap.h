/* A map from 64-bit original ids (sessions, users, items) to dense ids
 * 0, 1, 2, ... in order of first insertion. Ids in a small non-negative range
 * go through a direct table (one array lookup: what makes parsing tens of
 * millions of rows fast); any other id through an open-addressing hash. */
#ifndef SBR_IDMAP_H
#define SBR_IDMAP_H

#include <stdint.h>

/* Largest id served by the direct table (its size grows as ids appear). */
#define SBR_IDMAP_DIRECT_MAX ((int64_t)1 << 25)

typedef struct {
    int32_t *direct;   /* [direct_cap] dense id + 1, 0 = absent */
    int64_t direct_cap;
    int64_t *hkeys;    /* [hcap] */
    int32_t *hvals;    /* [hcap] dense id + 1, 0 = empty slot */
    int64_t hcap, hused;
    int64_t *original; /* [n] original id of each dense id */
    int64_t n, cap;
} sbr_idmap;

void sbr_idmap_init(sbr_idmap *m);
void sbr_idmap_free(sbr_idmap *m);
/* Dense id of x, inserting it when new. */
int32_t sbr_idmap_get(sbr_idmap *m, int64_t x);
/* The same, inlined for ids already in the direct table (the hot path of
 * parsing); anything else goes through sbr_idmap_get. */
static inline int32_t sbr_idmap_get_fast(sbr_idmap *m, int64_t x)
{
    if (x >= 0 && x < m->direct_cap && m->direct[x])
        return m->direct[x] - 1;
    return sbr_idmap_get(m, x);
}

/* Dense id of x, or -1 when absent. */
int32_t sbr_idmap_find(const sbr_idmap *m, int64_t x);

#endif
