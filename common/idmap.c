/* Dense id map: see idmap.h. */
#include "idmap.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"

void sbr_idmap_init(sbr_idmap *m) { memset(m, 0, sizeof *m); }

void sbr_idmap_free(sbr_idmap *m)
{
    free(m->direct);
    free(m->hkeys);
    free(m->hvals);
    free(m->original);
    memset(m, 0, sizeof *m);
}

static uint64_t hash64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int32_t new_id(sbr_idmap *m, int64_t x)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 1024;
        m->original = sbr_xrealloc(m->original, (size_t)m->cap * sizeof *m->original);
    }
    if (m->n >= INT32_MAX)
        sbr_fatal("more than %d distinct ids", INT32_MAX);
    m->original[m->n] = x;
    return (int32_t)m->n++;
}

static void hash_grow(sbr_idmap *m)
{
    int64_t oc = m->hcap, nc = oc ? 2 * oc : 1024;
    int64_t *ok = m->hkeys;
    int32_t *ov = m->hvals;
    m->hkeys = sbr_xmalloc((size_t)nc * sizeof *m->hkeys);
    m->hvals = sbr_xcalloc((size_t)nc, sizeof *m->hvals);
    m->hcap = nc;
    for (int64_t i = 0; i < oc; i++)
        if (ov[i]) {
            uint64_t h = hash64((uint64_t)ok[i]) & (uint64_t)(nc - 1);
            while (m->hvals[h])
                h = (h + 1) & (uint64_t)(nc - 1);
            m->hkeys[h] = ok[i];
            m->hvals[h] = ov[i];
        }
    free(ok);
    free(ov);
}

int32_t sbr_idmap_get(sbr_idmap *m, int64_t x)
{
    if (x >= 0 && x < SBR_IDMAP_DIRECT_MAX) {
        if (x >= m->direct_cap) {
            int64_t c = m->direct_cap ? m->direct_cap : 4096;
            while (c <= x)
                c *= 2;
            if (c > SBR_IDMAP_DIRECT_MAX)
                c = SBR_IDMAP_DIRECT_MAX;
            m->direct = sbr_xrealloc(m->direct, (size_t)c * sizeof *m->direct);
            memset(m->direct + m->direct_cap, 0, (size_t)(c - m->direct_cap) * sizeof *m->direct);
            m->direct_cap = c;
        }
        int32_t v = m->direct[x];
        if (v)
            return v - 1;
        v = new_id(m, x);
        m->direct[x] = v + 1;
        return v;
    }
    if (2 * (m->hused + 1) > m->hcap)
        hash_grow(m);
    uint64_t mask = (uint64_t)(m->hcap - 1), h = hash64((uint64_t)x) & mask;
    while (m->hvals[h]) {
        if (m->hkeys[h] == x)
            return m->hvals[h] - 1;
        h = (h + 1) & mask;
    }
    int32_t v = new_id(m, x);
    m->hkeys[h] = x;
    m->hvals[h] = v + 1;
    m->hused++;
    return v;
}

int32_t sbr_idmap_find(const sbr_idmap *m, int64_t x)
{
    if (x >= 0 && x < SBR_IDMAP_DIRECT_MAX)
        return x < m->direct_cap && m->direct[x] ? m->direct[x] - 1 : -1;
    if (!m->hcap)
        return -1;
    uint64_t mask = (uint64_t)(m->hcap - 1), h = hash64((uint64_t)x) & mask;
    while (m->hvals[h]) {
        if (m->hkeys[h] == x)
            return m->hvals[h] - 1;
        h = (h + 1) & mask;
    }
    return -1;
}
