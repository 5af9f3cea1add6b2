/* embedding gather / scatter-add: gradient check, padding, determinism;
 * the int gather take_i32. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "harness.h"
#include "nn/nn.h"
#include "session_batch.h"

typedef struct {
    int n, V, d, pad;
    int32_t *idx;
    double *table, *dtable, *y, *w;
} emb_case;

static double emb_loss(void *u)
{
    emb_case *c = u;
    sbr_nn_ctx x = {0};
    sbr_nn_embedding_forward_f64(&x, c->y, c->table, c->idx, c->n, c->V, c->d, c->pad);
    return gc_dot(c->w, c->y, (size_t)c->n * c->d);
}

static void emb_backward(void *u)
{
    emb_case *c = u;
    sbr_nn_ctx x = {0};
    memset(c->dtable, 0, (size_t)c->V * c->d * sizeof(double));
    sbr_nn_embedding_backward_f64(&x, c->dtable, c->w, c->idx, c->n, c->V, c->d, c->pad);
}

TEST(nn_embedding_gradcheck)
{
    /* Repeated indices (so rows receive several contributions) and padding. */
    emb_case c = {.n = 40, .V = 9, .d = 21, .pad = 0};
    c.idx = malloc(c.n * sizeof(int32_t));
    for (int i = 0; i < c.n; i++)
        c.idx[i] = (int32_t)((i * 7 + 3) % c.V);
    c.table = gc_zeros((size_t)c.V * c.d), c.dtable = gc_zeros((size_t)c.V * c.d);
    c.y = gc_zeros((size_t)c.n * c.d), c.w = gc_zeros((size_t)c.n * c.d);
    gc_fill(c.table, (size_t)c.V * c.d, -1, 1, 3);
    gc_fill(c.w, (size_t)c.n * c.d, -1, 1, 4);
    gc_spec s = {.op = "embedding", .loss = emb_loss, .backward = emb_backward, .user = &c};
    gc_add(&s, "table", c.table, c.dtable, (size_t)c.V * c.d);
    CHECK_EQ_I64(gradcheck(&s), 0);
    /* Padding rows read as zero and row 0 of dtable gets nothing. */
    emb_loss(&c);
    for (int i = 0; i < c.n; i++)
        if (c.idx[i] == 0)
            for (int k = 0; k < c.d; k++)
                CHECK(c.y[(size_t)i * c.d + k] == 0);
    for (int k = 0; k < c.d; k++)
        CHECK(c.dtable[k] == 0);
    /* Without padding, row 0 is an ordinary row. */
    c.pad = -1;
    CHECK_EQ_I64(gradcheck(&s), 0);
    free(c.idx), free(c.table), free(c.dtable), free(c.y), free(c.w);
}

TEST(nn_embedding_backward_deterministic_order)
{
    /* Float sums depend on order: the result must equal the sequential sum in
     * increasing i, bit for bit, with many contributions to few rows. */
    int n = 20000, V = 5, d = 100;
    int32_t *idx = malloc(n * sizeof(int32_t));
    float *dy = gc_zeros_f((size_t)n * d), *dt = gc_zeros_f((size_t)V * d);
    float *ref = gc_zeros_f((size_t)V * d);
    for (int i = 0; i < n; i++)
        idx[i] = (int32_t)((i * 31 + i / 7) % V);
    gc_fill_f(dy, (size_t)n * d, -1, 1, 9);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < d; k++)
            ref[(size_t)idx[i] * d + k] += dy[(size_t)i * d + k];
    sbr_nn_ctx x = {0};
    sbr_nn_embedding_backward_f32(&x, dt, dy, idx, n, V, d, -1);
    CHECK(memcmp(dt, ref, (size_t)V * d * sizeof(float)) == 0);
    free(idx), free(dy), free(dt), free(ref);
}

/* order for embedding_backward_grouped, the plain way: the positions not
 * pad by (id, position), by insertion. */
static int slow_order(const int32_t *idx, int n, int pad, int32_t *ord)
{
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (idx[i] == pad)
            continue;
        int j = m++;
        while (j > 0 && idx[ord[j - 1]] > idx[i])
            ord[j] = ord[j - 1], j--;
        ord[j] = i;
    }
    return m;
}

enum { GR_N = 300, GR_V = 17, GR_D = 8 }; /* the grouped test's sizes */

typedef struct {
    const int32_t *idx, *order;
    int m;
    float *dtable, *dy;
} grouped_call;

static void run_grouped(void *u)
{
    grouped_call *g = u;
    sbr_nn_ctx x = {0};
    sbr_nn_embedding_backward_grouped_f32(&x, g->dtable, g->dy, g->idx, g->order, g->m, GR_N,
                                          GR_V, GR_D, 0);
}

/* The grouped scatter-add gives the plain one's bits; a wrong order (a
 * position left out, two swapped, a pad one) aborts. */
TEST(nn_embedding_backward_grouped)
{
    enum { N = GR_N, V = GR_V, D = GR_D };
    int32_t idx[N], ord[N];
    for (int i = 0; i < N; i++)
        idx[i] = (int32_t)((i * 7 + i / 5) % V);
    int m = slow_order(idx, N, 0, ord);
    CHECK(m < N);
    float *dy = gc_zeros_f((size_t)N * D), *a = gc_zeros_f(V * D), *b = gc_zeros_f(V * D);
    gc_fill_f(dy, (size_t)N * D, -1, 1, 4);
    gc_fill_f(a, V * D, -1, 1, 5);
    memcpy(b, a, V * D * sizeof(float));
    sbr_nn_ctx x = {0};
    sbr_nn_embedding_backward_f32(&x, a, dy, idx, N, V, D, 0);
    sbr_nn_embedding_backward_grouped_f32(&x, b, dy, idx, ord, m, N, V, D, 0);
    CHECK(memcmp(a, b, V * D * sizeof(float)) == 0);
    for (int bad = 0; bad < 3; bad++) {
        int32_t o[N];
        memcpy(o, ord, sizeof o);
        int mm = m;
        if (bad == 0)
            mm--; /* the last position left out */
        else if (bad == 1)
            o[0] = ord[1], o[1] = ord[0]; /* two of id 1 swapped */
        else
            o[0] = 0; /* position 0 holds id 0, the pad */
        grouped_call g = {idx, o, mm, b, dy};
        CHECK(harness_aborts(run_grouped, &g));
    }
    free(dy), free(a), free(b);
}

TEST(nn_session_nodes_are_two_embeddings)
{
    enum { B = 9, L = 7, d = 13 };
    int32_t alias[B * L], last[B], node_sess[B * 4];
    int T;
    session_batch(B, L, alias, last, node_sess, &T);
    float *H = gc_zeros_f((size_t)T * d), *y = gc_zeros_f((size_t)B * L * d);
    float *yl = gc_zeros_f((size_t)B * d), *y2 = gc_zeros_f((size_t)B * L * d);
    float *yl2 = gc_zeros_f((size_t)B * d), *dy = gc_zeros_f((size_t)B * L * d);
    float *dyl = gc_zeros_f((size_t)B * d), *dH = gc_zeros_f((size_t)T * d);
    float *dH2 = gc_zeros_f((size_t)T * d);
    gc_fill_f(H, (size_t)T * d, -1, 1, 5);
    gc_fill_f(dy, (size_t)B * L * d, -1, 1, 6);
    gc_fill_f(dyl, (size_t)B * d, -1, 1, 7);
    gc_fill_f(dH, (size_t)T * d, -1, 1, 8);
    memcpy(dH2, dH, (size_t)T * d * sizeof(float));
    sbr_nn_ctx x = {0};
    sbr_nn_session_nodes_forward_f32(&x, y, yl, H, alias, last, node_sess, B, L, T, d);
    sbr_nn_embedding_forward_f32(&x, y2, H, alias, B * L, T, d, -1);
    sbr_nn_embedding_forward_f32(&x, yl2, H, last, B, T, d, -1);
    CHECK(memcmp(y, y2, (size_t)B * L * d * sizeof(float)) == 0);
    CHECK(memcmp(yl, yl2, (size_t)B * d * sizeof(float)) == 0);
    sbr_nn_session_nodes_backward_f32(&x, dH, dy, dyl, alias, last, node_sess, B, L, T, d);
    sbr_nn_embedding_backward_f32(&x, dH2, dy, alias, B * L, T, d, -1);
    sbr_nn_embedding_backward_f32(&x, dH2, dyl, last, B, T, d, -1);
    CHECK(memcmp(dH, dH2, (size_t)T * d * sizeof(float)) == 0);
    free(H), free(y), free(yl), free(y2), free(yl2), free(dy), free(dyl), free(dH), free(dH2);
}

/* pack_rows: rows of 2, 0, 5 (= L) and 1 positions. */
typedef struct {
    int B, L, d;
    int32_t off[5];
    double *x, *dx, *y, *w;
} pack_case;

static double pack_loss(void *u)
{
    pack_case *c = u;
    sbr_nn_pack_rows_forward_f64(NULL, c->y, c->x, c->off, c->B, c->L, c->d);
    return gc_dot(c->w, c->y, (size_t)c->off[c->B] * c->d);
}

static void pack_backward(void *u)
{
    pack_case *c = u;
    memset(c->dx, 0, (size_t)c->B * c->L * c->d * sizeof(double));
    sbr_nn_pack_rows_backward_f64(NULL, c->dx, c->w, c->off, c->B, c->L, c->d);
}

TEST(nn_pack_rows)
{
    pack_case c = {.B = 4, .L = 5, .d = 3, .off = {0, 2, 2, 7, 8}};
    size_t nx = (size_t)c.B * c.L * c.d, ny = (size_t)c.off[c.B] * c.d;
    c.x = gc_zeros(nx), c.dx = gc_zeros(nx), c.y = gc_zeros(ny), c.w = gc_zeros(ny);
    gc_fill(c.x, nx, -1, 1, 11), gc_fill(c.w, ny, -1, 1, 12);
    gc_spec s = {.op = "pack_rows", .loss = pack_loss, .backward = pack_backward, .user = &c};
    gc_add(&s, "x", c.x, c.dx, nx);
    CHECK_EQ_I64(gradcheck(&s), 0);
    pack_loss(&c);
    for (int b = 0; b < c.B; b++) /* y's row off[b] + j is x's (b, j) */
        for (int j = 0; j < c.off[b + 1] - c.off[b]; j++)
            CHECK(memcmp(c.y + ((size_t)c.off[b] + j) * c.d, c.x + ((size_t)b * c.L + j) * c.d,
                         c.d * sizeof(double)) == 0);
    for (size_t i = 0; i < nx; i++) /* backward adds: the padding keeps what it had */
        c.dx[i] = 1;
    sbr_nn_pack_rows_backward_f64(NULL, c.dx, c.w, c.off, c.B, c.L, c.d);
    for (int b = 0; b < c.B; b++)
        for (int j = 0; j < c.L; j++)
            for (int k = 0; k < c.d; k++) {
                int in = j < c.off[b + 1] - c.off[b];
                double want = 1 + (in ? c.w[((size_t)c.off[b] + j) * c.d + k] : 0);
                CHECK(c.dx[((size_t)b * c.L + j) * c.d + k] == want);
            }
    free(c.x), free(c.dx), free(c.y), free(c.w);
}

/* take_i32: a plain loop's values, 0 for -1 and every index outside
 * 0..V-1, the same in both instantiations, in place over idx too. */
TEST(nn_take_i32)
{
    enum { V = 7, N = 40 };
    int32_t table[V], idx[N], y[N], y2[N], want[N];
    for (int v = 0; v < V; v++)
        table[v] = 1000 + 13 * v;
    for (int i = 0; i < N; i++)
        idx[i] = i % 11 - 2; /* -2..8: in range, -1, -2, V, V + 1 */
    idx[5] = INT32_MIN, idx[6] = INT32_MAX;
    for (int i = 0; i < N; i++)
        want[i] = idx[i] >= 0 && idx[i] < V ? table[idx[i]] : 0;
    sbr_nn_take_i32_f32(NULL, y, table, idx, N, V);
    sbr_nn_take_i32_f64(NULL, y2, table, idx, N, V);
    CHECK(memcmp(y, want, sizeof y) == 0);
    CHECK(memcmp(y2, want, sizeof y2) == 0);
    CHECK(want[2] == table[0] && want[1] == 0 && want[9] == 0);
    sbr_nn_take_i32_f32(NULL, idx, table, idx, N, V); /* y may be idx */
    CHECK(memcmp(idx, want, sizeof idx) == 0);
    y[0] = 9;
    sbr_nn_take_i32_f32(NULL, y, table, idx, 0, V); /* n = 0: nothing written */
    sbr_nn_take_i32_f32(NULL, y + 1, table, idx, 1, 0); /* V = 0: every index outside */
    CHECK(y[0] == 9 && y[1] == 0);
}
