/* Logged-in users (model.h): the users a model knows, by their original
 * ids, and the map the batch builder reads. A sample's user is its index
 * 1..U in the ascending list, or 0: anonymous, or a user the model does not
 * know (who then takes the anonymous path). */
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "rng.h"

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int32_t sbr_user_index(const int64_t *ids, int64_t n, int64_t user)
{
    if (user < 0 || n <= 0)
        return 0;
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (ids[mid] < user)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && ids[lo] == user ? (int32_t)(lo + 1) : 0;
}

int64_t sbr_users_collect(const sbr_split *sp, double fraction, uint64_t seed, int64_t **out)
{
    *out = NULL;
    if (!sp->users || sp->n_sessions == 0)
        return 0;
    int64_t *ids = sbr_xmalloc(sizeof(int64_t) * (size_t)sp->n_sessions), n = 0;
    for (int64_t i = 0; i < sp->n_sessions; i++)
        if (sp->users[i] >= 0)
            ids[n++] = sp->users[i];
    qsort(ids, (size_t)n, sizeof *ids, cmp_i64);
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++) {
        if (m > 0 && ids[m - 1] == ids[i])
            continue;
        /* a user logs in or not, decided by its id alone: the same users at
         * any order of the sessions */
        double u = (double)(sbr_rng_hash(seed ^ 0x05E75EEDull, (uint64_t)ids[i]) >> 11) * 0x1p-53;
        if (fraction >= 1 || u < fraction)
            ids[m++] = ids[i];
    }
    if (m == 0) {
        free(ids);
        return 0;
    }
    *out = ids;
    return m;
}

int sbr_model_set_users(sbr_model *m, const int64_t *ids, int64_t n, sbr_err *e)
{
    if (n != m->cfg.n_users)
        return sbr_errf(e, "%lld users for a model made for %d", (long long)n, m->cfg.n_users);
    for (int64_t i = 1; i < n; i++)
        if (ids[i] <= ids[i - 1])
            return sbr_errf(e, "the users' ids are not strictly ascending at %lld", (long long)i);
    if (n > 0 && ids[0] < 0)
        return sbr_errf(e, "a negative user id (%lld)", (long long)ids[0]);
    free(m->user_ids);
    m->user_ids = n ? sbr_xmalloc(sizeof(int64_t) * (size_t)n) : NULL;
    if (n)
        memcpy(m->user_ids, ids, sizeof(int64_t) * (size_t)n);
    return 0;
}

void sbr_users_count(const sbr_model *m, const sbr_split *sp, int64_t counts[3])
{
    counts[0] = counts[1] = counts[2] = 0; /* known, unknown, anonymous */
    for (int64_t i = 0; sp->users && i < sp->n_sessions; i++) {
        int64_t u = sp->users[i];
        counts[u < 0 ? 2 : sbr_user_index(m->user_ids, m->cfg.n_users, u) ? 0 : 1]++;
    }
    if (!sp->users)
        counts[2] = sp->n_sessions;
}
