/* sbr-prep's named recipes (--recipe) and the split by count (--split):
 * a paper's data protocol as one word, which single options then override. */
#include "args.h"

#include <string.h>

#include "cli.h"
#include "err.h"

const char *const prep_recipe_names[] = {"none", "proxysr", NULL};

/* ProxySR (Cho et al., SIGIR'21, section 4.1.1): sessions from session ids
 * where the log has them (Diginetica), else each user's clicks of a day
 * (RetailRocket, LastFM); 8:1:1 by count in time order; valid and test
 * items unseen in training dropped. Filters: RetailRocket only drops
 * sessions of fewer than 2 items (to keep the short sessions); Diginetica
 * and LastFM drop items seen fewer than 5 times and sessions of fewer than
 * 3 items, which is what the other layouts get. The paper has no
 * pre-filter (SR-GNN's length-1 drop before counting) and says nothing of
 * duplicate clicks: the layout's --dedup stays. Every sample of a session
 * counts (min prefix 1): RetailRocket keeps its 2-item sessions for them. */
static void proxysr(sbr_format fmt, sbr_prep_opts *o)
{
    o->cut_days = 1; /* applies to user-keyed logs only (sbr_prep_opts) */
    o->split[0] = 8, o->split[1] = 1, o->split[2] = 1;
    o->unseen_keep = 0;
    o->pre_min_len = 0;
    o->min_prefix = 1;
    if (fmt == SBR_FMT_KAGGLE) {
        o->min_support = 0;
        o->min_len = 2;
    } else {
        o->min_support = 5;
        o->min_len = 3;
    }
}

void prep_apply_recipe(int recipe, sbr_format fmt, sbr_prep_opts *o)
{
    if (recipe == PREP_RECIPE_PROXYSR)
        proxysr(fmt, o);
}

/* One part of A:B:C: digits with at most 6 decimals; *dec = how many. */
static int64_t split_part(const char *arg, const char *p, size_t n, int *dec)
{
    int64_t v = 0;
    int seen_dot = 0, digits = 0;
    *dec = 0;
    if (n > 0 && p[0] == '-')
        sbr_usage_error("--split: '%s': a part is negative", arg);
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '.' && !seen_dot) {
            seen_dot = 1;
            continue;
        }
        if (p[i] < '0' || p[i] > '9')
            sbr_usage_error("--split: '%s': '%.*s' is not a number", arg, (int)n, p);
        if (++digits > 9 || (seen_dot && ++*dec > 6))
            sbr_usage_error("--split: '%s': '%.*s' has too many digits (at most 9, 6 after the "
                            "point)", arg, (int)n, p);
        v = v * 10 + (p[i] - '0');
    }
    if (digits == 0)
        sbr_usage_error("--split: '%s': '%.*s' is not a number", arg, (int)n, p);
    return v;
}

/* "A:B:C" as three integers in the same proportions (0.8:0.1:0.1 -> 8:1:1
 * scaled by the most decimals any part has), each at most 1e9 so that
 * prep.c's share() cannot overflow. */
void prep_parse_split(const char *arg, int64_t out[3])
{
    const char *p = arg;
    int64_t v[3];
    int dec[3], dmax = 0;
    for (int k = 0; k < 3; k++) {
        const char *c = strchr(p, ':');
        if ((k < 2) != (c != NULL))
            sbr_usage_error("--split: '%s' is not three parts A:B:C (e.g. 8:1:1)", arg);
        size_t n = c ? (size_t)(c - p) : strlen(p);
        v[k] = split_part(arg, p, n, &dec[k]);
        dmax = dec[k] > dmax ? dec[k] : dmax;
        p = c ? c + 1 : p + n;
    }
    for (int k = 0; k < 3; k++) {
        for (int d = dec[k]; d < dmax; d++)
            v[k] *= 10;
        if (v[k] > 1000000000)
            sbr_usage_error("--split: '%s': the parts are too large (at most 1e9 once scaled to "
                            "the same decimals)", arg);
        out[k] = v[k];
    }
    if (v[0] + v[1] + v[2] == 0)
        sbr_usage_error("--split: '%s': the parts sum to zero", arg);
    if (v[0] == 0)
        sbr_usage_error("--split: '%s': the train part is 0 (nothing to train on)", arg);
}
