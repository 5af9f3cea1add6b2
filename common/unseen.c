/* The unseen-item cluster rule of CLIP-SBR 3.3; see unseen.h. */
#include "unseen.h"

#include <stdlib.h>

#include "err.h"

static int32_t known_cluster(const int32_t *cluster, int64_t n_items, int32_t item)
{
    return item >= 1 && item <= n_items ? cluster[item] : 0;
}

/* Votes of a cluster among the distinct known items of the session. */
typedef struct {
    int32_t cluster;
    int64_t votes;
} vote;

static int64_t votes_of(const vote *v, int64_t nv, int32_t c)
{
    for (int64_t k = 0; k < nv; k++)
        if (v[k].cluster == c)
            return v[k].votes;
    return 0;
}

int64_t sbr_unseen_assign(const int32_t *cluster, int64_t n_items, int32_t frequent,
                          const int32_t *items, int64_t len, int32_t *out)
{
    int64_t unseen = 0;
    for (int64_t i = 0; i < len; i++) {
        out[i] = known_cluster(cluster, n_items, items[i]);
        unseen += out[i] <= 0;
    }
    if (unseen == 0)
        return 0;
    /* The votes do not depend on the unseen position: count them once. */
    vote *v = sbr_xmalloc((size_t)len * sizeof *v);
    int64_t nv = 0, maxv = 0;
    for (int64_t i = 0; i < len; i++) {
        if (out[i] <= 0)
            continue;
        int dup = 0;
        for (int64_t j = 0; j < i && !dup; j++)
            dup = items[j] == items[i];
        if (dup)
            continue;
        int64_t k = 0;
        while (k < nv && v[k].cluster != out[i])
            k++;
        if (k == nv)
            v[nv++] = (vote){out[i], 0};
        if (++v[k].votes > maxv)
            maxv = v[k].votes;
    }
    for (int64_t i = 0; i < len; i++) {
        int32_t c = known_cluster(cluster, n_items, items[i]);
        if (c > 0)
            continue;
        int32_t best = 0;
        /* Nearest known item (earlier first at equal distance) whose cluster
         * has the most votes. */
        for (int64_t d = 1; d < len && !best; d++)
            for (int side = 0; side < 2 && !best; side++) {
                int64_t j = side == 0 ? i - d : i + d;
                if (j < 0 || j >= len)
                    continue;
                int32_t cj = known_cluster(cluster, n_items, items[j]);
                if (cj > 0 && votes_of(v, nv, cj) == maxv)
                    best = cj;
            }
        out[i] = best > 0 ? best : frequent;
    }
    free(v);
    return unseen;
}
