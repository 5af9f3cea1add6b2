/* The synthetic session model: see gen.h. */
#include "gen.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

#define N_SUCC 3
#define MAX_LEN 60

void gen_defaults(gen_opts *o)
{
    memset(o, 0, sizeof *o);
    o->clicks = 200000;
    o->items = 5000;
    o->clusters = 50;
    o->days = 28;
    o->start = 1600000000; /* 2020-09-13 */
    o->seed = 1;
    o->p_follow = 0.75;
    o->p_repeat = 0.08;
    o->p_cluster = 0.12;
}

/* The item catalogue: members of each cluster with cumulative power-law
 * weights, and fixed successors. */
typedef struct {
    int64_t I, C;
    int64_t *members;   /* [I] item indices grouped by cluster */
    int64_t *cstart;    /* [C + 1] cluster c holds members[cstart[c] .. cstart[c+1]) */
    double *cum;        /* [I] cumulative weight inside its cluster (aligned with members) */
    double *ccum;       /* [C] cumulative cluster popularity */
    int64_t *cluster;   /* [I] cluster of each item */
    int64_t *succ;      /* [I, N_SUCC] successors of each item */
} catalogue;

static int64_t pick_cum(const double *cum, int64_t n, double u)
{
    double x = u * cum[n - 1];
    int64_t lo = 0, hi = n - 1;
    while (lo < hi) {
        int64_t mid = (lo + hi) / 2;
        if (cum[mid] > x)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static int64_t popular_in(const catalogue *k, int64_t c, double u)
{
    int64_t a = k->cstart[c], n = k->cstart[c + 1] - a;
    return k->members[a + pick_cum(k->cum + a, n, u)];
}

static void build(const gen_opts *o, catalogue *k)
{
    int64_t I = o->items, C = o->clusters;
    sbr_rng r;
    sbr_rng_init(&r, o->seed);
    k->I = I;
    k->C = C;
    k->members = sbr_xmalloc((size_t)I * sizeof *k->members);
    for (int64_t i = 0; i < I; i++)
        k->members[i] = i;
    sbr_rng_shuffle_i64(&r, k->members, I);
    k->cstart = sbr_xmalloc((size_t)(C + 1) * sizeof *k->cstart);
    k->cum = sbr_xmalloc((size_t)I * sizeof *k->cum);
    k->cluster = sbr_xmalloc((size_t)I * sizeof *k->cluster);
    k->ccum = sbr_xmalloc((size_t)C * sizeof *k->ccum);
    for (int64_t c = 0; c <= C; c++)
        k->cstart[c] = c * I / C;
    for (int64_t c = 0; c < C; c++) {
        double acc = 0;
        for (int64_t j = k->cstart[c]; j < k->cstart[c + 1]; j++) {
            acc += pow((double)(j - k->cstart[c] + 1), -1.1);
            k->cum[j] = acc;
            k->cluster[k->members[j]] = c;
        }
        k->ccum[c] = (c ? k->ccum[c - 1] : 0) + pow((double)(c + 1), -0.8);
    }
    k->succ = sbr_xmalloc((size_t)I * N_SUCC * sizeof *k->succ);
    for (int64_t i = 0; i < I; i++) {
        int64_t c = k->cluster[i], a = k->cstart[c], n = k->cstart[c + 1] - a;
        for (int s = 0; s < N_SUCC; s++) {
            int64_t j = k->members[a + (int64_t)sbr_rng_below(&r, (uint64_t)n)];
            if (j == i && n > 1) /* a successor is another item */
                j = k->members[a + ((j == k->members[a]) ? 1 : 0)];
            k->succ[i * N_SUCC + s] = j;
        }
    }
}

static void catalogue_free(catalogue *k)
{
    free(k->members);
    free(k->cstart);
    free(k->cum);
    free(k->ccum);
    free(k->cluster);
    free(k->succ);
}

/* --- output ---------------------------------------------------------------- */

typedef struct {
    char buf[1 << 20];
    size_t n;
    FILE *fp;
    int failed;
} outbuf;

static void flush(outbuf *b)
{
    if (b->n && fwrite(b->buf, 1, b->n, b->fp) != b->n)
        b->failed = 1;
    b->n = 0;
}

static void put_u64(outbuf *b, uint64_t v)
{
    char tmp[24];
    int k = 0;
    do {
        tmp[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (k)
        b->buf[b->n++] = tmp[--k];
}

static void put_s(outbuf *b, const char *s)
{
    while (*s)
        b->buf[b->n++] = *s++;
}

static void row_tsv(outbuf *b, int64_t sess, int64_t item, int64_t t, int64_t user)
{
    put_u64(b, (uint64_t)sess);
    b->buf[b->n++] = '\t';
    put_u64(b, (uint64_t)item);
    b->buf[b->n++] = '\t';
    put_u64(b, (uint64_t)t);
    b->buf[b->n++] = '\t';
    put_u64(b, (uint64_t)user);
    b->buf[b->n++] = '\n';
}

static void row_kaggle(outbuf *b, int64_t t_ms, int64_t user, const char *ev, int64_t item,
                       int64_t txn)
{
    put_u64(b, (uint64_t)t_ms);
    b->buf[b->n++] = ',';
    put_u64(b, (uint64_t)user);
    b->buf[b->n++] = ',';
    put_s(b, ev);
    b->buf[b->n++] = ',';
    put_u64(b, (uint64_t)item);
    b->buf[b->n++] = ',';
    if (txn >= 0)
        put_u64(b, (uint64_t)txn);
    b->buf[b->n++] = '\n';
}

int gen_write(const gen_opts *o, FILE *fp, int64_t *rows_out, int64_t *sessions_out, sbr_err *e)
{
    catalogue k;
    build(o, &k);
    outbuf *b = sbr_xmalloc(sizeof *b);
    b->n = 0;
    b->fp = fp;
    b->failed = 0;
    put_s(b, o->layout == GEN_KAGGLE ? "timestamp,visitorid,event,itemid,transactionid\n"
                                     : "SessionId\tItemId\tTime\tUserId\n");
    int64_t est = o->clicks / 5 + 1; /* sessions, for spreading them over the span */
    int64_t U = o->users > 0 ? o->users : est / 3 + 1, fresh = U;
    int64_t *next_free = sbr_xcalloc((size_t)U, sizeof *next_free);
    double span = o->days * 86400.0;
    sbr_rng r;
    sbr_rng_init(&r, o->seed ^ 0x5e55105ULL);
    int64_t done = 0, rows = 0, s = 0, txn = 0;
    int64_t sess[MAX_LEN];
    while (done < o->clicks) {
        int64_t len = 2;
        while (len < MAX_LEN && sbr_rng_uniform(&r) > 0.25)
            len++;
        if (len > o->clicks - done)
            len = o->clicks - done;
        int64_t t = o->start + (int64_t)(span * (double)s / (double)est) +
                    (int64_t)sbr_rng_below(&r, 600);
        /* A returning user when that user is free, else a new visitor. */
        double x = sbr_rng_uniform(&r);
        int64_t u = (int64_t)((double)U * x * x);
        if (u >= U)
            u = U - 1;
        if (t < next_free[u])
            u = fresh++;
        int64_t c = pick_cum(k.ccum, k.C, sbr_rng_uniform(&r));
        /* A returning user's general interest: its home cluster, where its
         * sessions start and jump to (no extra draw at 0: the default log
         * keeps its bytes). */
        int home = o->user_interest > 0 && u < U;
        int64_t hc = home ? (int64_t)(sbr_rng_hash(o->seed ^ 0x40E1ull, (uint64_t)u) % (uint64_t)k.C) : 0;
        if (home && sbr_rng_uniform(&r) < o->user_interest)
            c = hc;
        int64_t cur = popular_in(&k, c, sbr_rng_uniform(&r));
        for (int64_t j = 0; j < len; j++) {
            if (j > 0) {
                double p = sbr_rng_uniform(&r);
                if (p < o->p_follow) {
                    double q = sbr_rng_uniform(&r);
                    cur = k.succ[cur * N_SUCC + (q < 0.6 ? 0 : q < 0.85 ? 1 : 2)];
                } else if (p < o->p_follow + o->p_repeat)
                    cur = sess[sbr_rng_below(&r, (uint64_t)j)];
                else if (p < o->p_follow + o->p_repeat + o->p_cluster)
                    cur = popular_in(&k, k.cluster[cur], sbr_rng_uniform(&r));
                else if (home && sbr_rng_uniform(&r) < o->user_interest)
                    cur = popular_in(&k, hc, sbr_rng_uniform(&r));
                else
                    cur = popular_in(&k, pick_cum(k.ccum, k.C, sbr_rng_uniform(&r)),
                                     sbr_rng_uniform(&r));
                t += 10 + (int64_t)sbr_rng_below(&r, 290);
            }
            sess[j] = cur;
            if (b->n > sizeof b->buf - 256)
                flush(b);
            if (o->layout == GEN_TSV)
                row_tsv(b, s + 1, cur + 1, t, u);
            else {
                int64_t ms = t * 1000 + (int64_t)sbr_rng_below(&r, 1000);
                row_kaggle(b, ms, u, "view", cur + 1, -1);
                if (sbr_rng_uniform(&r) < 0.04) {
                    row_kaggle(b, ms + 500, u, "addtocart", cur + 1, -1);
                    rows++;
                    if (sbr_rng_uniform(&r) < 0.3) {
                        row_kaggle(b, ms + 900, u, "transaction", cur + 1, txn++);
                        rows++;
                    }
                }
            }
            rows++;
        }
        if (u < U)
            next_free[u] = t + 3600;
        done += len;
        s++;
    }
    flush(b);
    int failed = b->failed;
    free(b);
    free(next_free);
    catalogue_free(&k);
    *rows_out = rows;
    *sessions_out = s;
    if (failed || fflush(fp) != 0 || ferror(fp))
        return sbr_errf(e, "write failed");
    return 0;
}
