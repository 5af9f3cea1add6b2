#include <math.h>
#include "model_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "model/batch.h"
#include "sessions.h"

/* Six short sessions over 9 items, with repeats (graph models see cycles). */
static int64_t offsets[7] = {0, 4, 7, 12, 14, 18, 21};
static int32_t items[21] = {1, 2, 3, 2, /**/ 4, 5, 6, /**/ 7, 8, 7, 9, 1, /**/ 3, 3,
                            /**/ 2, 6, 9, 4, /**/ 5, 5, 8};
static int32_t clusters[10] = {0, 1, 1, 2, 2, 3, 3, 1, 2, 3};

typedef struct {
    sbr_model m;
    sbr_batch_buf bb;
    double *grads[SBR_MODEL_MAX_PARAMS];
    uint64_t counter0;
} ctx_t;

static double loss(void *u)
{
    ctx_t *c = u;
    c->m.drop_counter = c->counter0; /* the same dropout masks in every evaluation */
    return sbr_model_loss_grad(&c->m, &c->bb.b, 1, 4);
}

static void backward(void *u)
{
    ctx_t *c = u;
    loss(u);
    for (int i = 0; i < c->m.grads.n; i++)
        memcpy(c->grads[i], c->m.grads.views[i].data,
               sizeof(double) * (size_t)c->m.grads.views[i].numel);
}

/* Models with a global graph (GCE-GNN, DMI-GNN): a tiny window-1 graph of the
 * sessions above, each item's 3 heaviest neighbours (ties: smaller id). */
static int set_tiny_global(sbr_model *m, sbr_err *e)
{
    enum { V = 10, K = 3 };
    double cnt[V][V] = {{0}};
    for (int s = 0; s < 6; s++)
        for (int64_t j = offsets[s]; j + 1 < offsets[s + 1]; j++)
            if (items[j] != items[j + 1])
                cnt[items[j]][items[j + 1]]++, cnt[items[j + 1]][items[j]]++;
    int32_t nbr[V * K] = {0}, n[V] = {0};
    float w[V * K] = {0};
    for (int i = 1; i < V; i++)
        for (int k = 0; k < K; k++) {
            int best = 0;
            for (int v = 1; v < V; v++) {
                int taken = 0;
                for (int q = 0; q < k; q++)
                    taken |= nbr[i * K + q] == v;
                if (!taken && cnt[i][v] > 0 && (best == 0 || cnt[i][v] > cnt[i][best]))
                    best = v;
            }
            if (!best)
                break;
            nbr[i * K + k] = best, w[i * K + k] = (float)cnt[i][best], n[i]++;
        }
    return sbr_model_set_global_table(m, nbr, w, n, e);
}

void model_cfg_tiny_pool(sbr_model_cfg *c)
{
    sbr_cfg_set_if(c, "np_pool", 1);
    sbr_cfg_set_if(c, "np_context", 2);
    sbr_cfg_set_if(c, "np_samples", 3);
    sbr_cfg_set_if(c, "np_latent", 3);
}

int model_pool_prepare(sbr_model *m, const sbr_split *sp, const int32_t *cluster, sbr_err *e)
{
    if (!(m->def->needs & SBR_NEEDS_POOL))
        return 0;
    if (sbr_model_pool_draw(m, sp, 1, e))
        return -1;
    sbr_clip_map cm = {cluster, 1};
    sbr_model_pool_refresh(m, cluster && m->cfg.n_clusters ? &cm : NULL);
    return 0;
}

int model_gradcheck_cfg(const char *name, int clip, model_cfg_fn adjust)
{
    const sbr_model_def *def = sbr_model_def_for(name, SBR_PREC_F64);
    return def ? model_gradcheck_def(def, clip, adjust) : -1;
}

int model_gradcheck_def(const sbr_model_def *def, int clip, model_cfg_fn adjust)
{
    const char *name = def->name;
    sbr_model_cfg cfg;
    sbr_model_defaults_of(def, &cfg);
    sbr_cfg_set_if(&cfg, "dim", 4);
    sbr_cfg_set_if(&cfg, "hidden", 3);
    sbr_cfg_set_if(&cfg, "max_len", 4); /* the 5-click session is truncated: exercised too */
    sbr_cfg_set_if(&cfg, "global_k", 3); /* set_tiny_global */
    model_cfg_tiny_pool(&cfg);
    cfg.n_items = 9;
    cfg.n_clusters = clip ? 3 : 0;
    cfg.seed = 11;
    cfg.init_scale = 0.8; /* larger than 1/sqrt(d) would be: gates away from 0.5 */
    if (adjust)
        adjust(&cfg);
    ctx_t *c = calloc(1, sizeof *c);
    sbr_err e;
    if (sbr_model_create_def(&c->m, def, &cfg, SBR_PREC_F64, (int[2]){8, 4}, &e)) {
        fprintf(stdout, "    model_gradcheck %s: %s\n", name, e.msg);
        free(c);
        return -1;
    }
    /* users 3 and 7 log in (a model made with cfg.n_users = 2 knows them),
     * 9 does not, two sessions are anonymous */
    static int64_t users[6] = {3, -1, 7, 3, 9, -1};
    sbr_split sp = {6, offsets, items, NULL, users, 0};
    if (cfg.n_users == 2 && sbr_model_set_users(&c->m, (const int64_t[]){3, 7}, 2, &e)) {
        fprintf(stdout, "    model_gradcheck %s: %s\n", name, e.msg);
        sbr_model_free(&c->m);
        free(c);
        return -1;
    }
    if ((c->m.def->needs & SBR_NEEDS_GLOBAL) && set_tiny_global(&c->m, &e)) {
        fprintf(stdout, "    model_gradcheck %s: %s\n", name, e.msg);
        sbr_model_free(&c->m);
        free(c);
        return -1;
    }
    if (model_pool_prepare(&c->m, &sp, clip ? clusters : NULL, &e)) {
        fprintf(stdout, "    model_gradcheck %s: %s\n", name, e.msg);
        sbr_model_free(&c->m);
        free(c);
        return -1;
    }
    sbr_samples smp;
    sbr_samples_build(&sp, 1, &smp);
    int64_t order[8];
    for (int i = 0; i < 8; i++)
        order[i] = (i * 5) % smp.n; /* a mix of prefixes of every session */
    sbr_batch_buf_init(&c->bb, 8, 4, 0, sizeof(double));
    sbr_batch_buf_model(&c->bb, &c->m);
    sbr_clip_map cm = {clusters, 1};
    sbr_batch_fill(&c->bb, &sp, &smp, order, 8, cfg.n_items, clip ? &cm : NULL);
    c->counter0 = 12345;
    char label[64];
    snprintf(label, sizeof label, "%s%s", name, clip ? "+clip" : "");
    gc_spec s = {.op = label, .loss = loss, .backward = backward, .user = c, .h = 1e-6,
                 .rtol = 1e-5, .atol = 1e-8, .max_checks = 40};
    for (int i = 0; i < c->m.params.n; i++) {
        sbr_view *v = &c->m.params.views[i];
        c->grads[i] = gc_zeros((size_t)v->numel);
        if (s.nvars < GC_MAX_VARS)
            gc_add(&s, v->name, v->data, c->grads[i], (size_t)v->numel);
    }
    int bad = gradcheck(&s);
    for (int p0 = GC_MAX_VARS; p0 < c->m.params.n; p0 += GC_MAX_VARS) { /* the rest in passes */
        gc_spec s2 = s;
        s2.nvars = 0;
        for (int i = p0; i < c->m.params.n && s2.nvars < GC_MAX_VARS; i++)
            gc_add(&s2, c->m.params.views[i].name, c->m.params.views[i].data, c->grads[i],
                   (size_t)c->m.params.views[i].numel);
        bad += gradcheck(&s2);
    }
    for (int i = 0; i < c->m.params.n; i++)
        free(c->grads[i]);
    sbr_samples_free(&smp);
    sbr_batch_buf_free(&c->bb);
    sbr_model_free(&c->m);
    free(c);
    return bad;
}

int model_gradcheck(const char *name, int clip) { return model_gradcheck_cfg(name, clip, NULL); }

/* The largest shapes a model meets by default: a full batch of B = 100
 * prefixes of max_len = 50 distinct clicks (so U = L = 50 for graph models),
 * d = hidden = 100, float, CLIP prompts on or off. One training step and a
 * top-K on the activations laid out for that batch, with a finite loss near
 * log(N) at initialisation.
 * Returns 0 when all holds.
 */
int model_fullsize_check(const char *name, int clip)
{
    return model_fullsize_check_with(name, clip, NULL);
}

static int fullsize_check(const char *name, int clip, model_prep_fn prep, model_cfg_fn adjust);

int model_fullsize_check_with(const char *name, int clip, model_prep_fn prep)
{
    return fullsize_check(name, clip, prep, NULL);
}

int model_fullsize_check_cfg(const char *name, int clip, model_cfg_fn adjust)
{
    return fullsize_check(name, clip, NULL, adjust);
}

static int fullsize_check(const char *name, int clip, model_prep_fn prep, model_cfg_fn adjust)
{
    enum { S = 100, LEN = 51, N = 160 };
    sbr_model_cfg cfg;
    if (sbr_model_defaults(name, &cfg))
        return -1;
    sbr_cfg_set_if(&cfg, "np_pool", 1); /* its 100 sessions: 100 pairs */
    if (adjust)
        adjust(&cfg);
    cfg.n_items = N;
    cfg.n_clusters = clip ? 5 : 0;
    int max_len = sbr_cfg_int(&cfg, "max_len");
    int64_t *off = malloc(sizeof(int64_t) * (S + 1));
    int32_t *items = malloc(sizeof(int32_t) * S * LEN), clusters[N + 1];
    for (int s = 0; s <= S; s++)
        off[s] = (int64_t)s * LEN;
    for (int s = 0; s < S; s++)
        for (int j = 0; j < LEN; j++)
            items[s * LEN + j] = (s * 7 + j) % N + 1; /* 51 distinct items per session */
    for (int i = 0; i <= N; i++)
        clusters[i] = i ? i % 5 + 1 : 0;
    sbr_split sp = {S, off, items, NULL, NULL, 0};
    sbr_samples smp;
    sbr_samples_build(&sp, 1, &smp);
    int64_t order[S];
    int B = 0;
    for (int64_t i = 0; i < smp.n && B < S; i++)
        if (smp.prefix_len[i] == max_len)
            order[B++] = i;
    sbr_model m;
    sbr_err e;
    int bad = 0;
    if (B != S || sbr_model_create(&m, &cfg, SBR_PREC_F32, S, max_len, &e)) {
        printf("    %s: %s\n", name, B != S ? "too few full-length prefixes" : e.msg);
        bad = 1;
    } else {
        if ((prep && prep(&m, &e)) || model_pool_prepare(&m, &sp, clip ? clusters : NULL, &e)) {
            printf("    %s: %s\n", name, e.msg);
            bad = 1;
        }
        sbr_batch_buf bb;
        sbr_batch_buf_init(&bb, S, max_len, 0, sizeof(float));
        sbr_batch_buf_model(&bb, &m); /* the graphs and tables this model needs */
        sbr_clip_map cm = {clusters, 1};
        sbr_batch_fill(&bb, &sp, &smp, order, S, N, clip ? &cm : NULL);
        bad |= bb.b.L != max_len;
        bad |= bb.b.nodes && bb.b.nodes->U != max_len;
        /* ce: the loss without the model's own term (DMI-GNN's regulariser) */
        double loss = sbr_model_loss_grad(&m, &bb.b, 1, 8192), ce = loss - m.last_xloss;
        int32_t idx[S * 20];
        float score[S * 20];
        sbr_model_topk(&m, &bb.b, 20, 8192, idx, score, NULL, NULL);
        printf("    %s%s: B %d x L %d, U %d, loss %.4f (CE %.4f, log N = %.4f), activations "
               "%.1f MiB\n", name, clip ? "+clip" : "", S, bb.b.L, m.interests, loss, ce,
               log((double)N), m.act_bytes / 1048576.0);
        bad |= !isfinite(loss);
        if (!m.def->score || m.def->score->ce) /* near log N only for a softmax CE */
            bad |= fabs(ce - log((double)N)) > 1.0;
        for (int i = 0; i < S * 20; i++)
            bad |= idx[i] < 1 || idx[i] > N || !isfinite(score[i]);
        sbr_batch_buf_free(&bb);
        sbr_model_free(&m);
    }
    sbr_samples_free(&smp);
    free(off);
    free(items);
    return bad;
}

/* --- forward against a plain-loop reference --------------------------------
 * A fixture shared with the STAMP and SR-GNN tests: a tiny model in double
 * (d = 4, hidden = 3), every prefix of five sessions with repeats (the
 * 6-click one truncated to max_len = 4), the model's S [B, d] in evaluation
 * mode. Each test recomputes S from the parameters and the item ids with
 * loops written from the model's equations (docs/MODELS.md). */
int64_t fx_off[6] = {0, 5, 9, 11, 14, 20};
int32_t fx_items[20] = {1, 2, 3, 2, 4, /**/ 5, 6, 5, 7, /**/ 8, 9, /**/ 3, 3, 3,
                               /**/ 7, 1, 2, 1, 8, 6};



int model_fx_run(model_fx *f, const char *name, int layers)
{
    memset(f, 0, sizeof *f);
    sbr_model_cfg cfg;
    if (sbr_model_defaults(name, &cfg))
        return -1;
    sbr_cfg_set_if(&cfg, "dim", 4);
    sbr_cfg_set_if(&cfg, "hidden", 3);
    sbr_cfg_set_if(&cfg, "max_len", 4);
    sbr_cfg_set_if(&cfg, "layers", layers);
    model_cfg_tiny_pool(&cfg);
    cfg.n_items = 9;
    cfg.seed = 5;
    cfg.init_scale = 0.8;
    sbr_split sp = {5, fx_off, fx_items, NULL, NULL, 0};
    sbr_samples_build(&sp, 1, &f->smp);
    f->B = (int)f->smp.n;
    sbr_err e;
    if (sbr_model_create(&f->m, &cfg, SBR_PREC_F64, f->B, 4, &e))
        return -1;
    f->sp = sp;
    if (model_pool_prepare(&f->m, &f->sp, NULL, &e))
        return -1;
    int64_t order[32];
    for (int i = 0; i < f->B; i++)
        order[i] = i;
    sbr_batch_buf_init(&f->bb, f->B, 4, 0, sizeof(double));
    sbr_batch_buf_model(&f->bb, &f->m);
    sbr_batch_fill(&f->bb, &f->sp, &f->smp, order, f->B, cfg.n_items, NULL);
    f->S = calloc((size_t)f->B * f->m.d, sizeof(double));
    sbr_model_forward(&f->m, &f->bb.b, f->S);
    return 0;
}

void model_fx_free(model_fx *f)
{
    free(f->S);
    sbr_batch_buf_free(&f->bb);
    sbr_samples_free(&f->smp);
    sbr_model_free(&f->m);
}

const double *model_fx_param(const model_fx *f, const char *pname)
{
    int i = sbr_arena_find(&f->m.params, pname);
    if (i < 0) {
        printf("    no parameter %s\n", pname);
        abort();
    }
    return f->m.params.views[i].data;
}

/* y [out] = w [out, in] x + b (b may be NULL) */
void ref_linear(double *y, const double *w, const double *b, const double *x, int in, int out)
{
    for (int o = 0; o < out; o++) {
        double s = b ? b[o] : 0;
        for (int i = 0; i < in; i++)
            s += w[o * in + i] * x[i];
        y[o] = s;
    }
}

double ref_sigmoid(double x) { return 1 / (1 + exp(-x)); }

/* SR-GNN's official model.py on one prefix, dense, from the item ids: nodes
 * are the unique items, A_in[i][j] = edge(j -> i) / indeg(i), A_out[i][j] =
 * edge(i -> j) / outdeg(i) (utils.get_slice, each edge counted once), `steps`
 * GNNCell steps (parameters gnn.*); hseq [len, d] the clicks' node states. */
void ref_ggnn_clicks(const model_fx *f, const int32_t *it, int len, int steps, double *hseq)
{
    enum { MX = 8, D = 8 };
    int d = f->m.d, n = 0, alias[MX];
    int32_t node[MX];
    for (int j = 0; j < len; j++) {
        int u = 0;
        while (u < n && node[u] != it[j])
            u++;
        if (u == n)
            node[n++] = it[j];
        alias[j] = u;
    }
    double A[MX][MX] = {{0}}, ain[MX][MX] = {{0}}, aout[MX][MX] = {{0}};
    for (int j = 0; j + 1 < len; j++)
        A[alias[j]][alias[j + 1]] = 1;
    for (int i = 0; i < n; i++) {
        double indeg = 0, outdeg = 0;
        for (int j = 0; j < n; j++)
            indeg += A[j][i], outdeg += A[i][j];
        for (int j = 0; j < n; j++) {
            ain[i][j] = indeg > 0 ? A[j][i] / indeg : 0;
            aout[i][j] = outdeg > 0 ? A[i][j] / outdeg : 0;
        }
    }
    const double *E = model_fx_param(f, "items");
    double h[MX][D];
    for (int i = 0; i < n; i++)
        memcpy(h[i], E + (size_t)node[i] * d, sizeof(double) * d);
    const double *win = model_fx_param(f, "gnn.w_in"), *bin = model_fx_param(f, "gnn.b_in"),
                 *wout = model_fx_param(f, "gnn.w_out"), *bout = model_fx_param(f, "gnn.b_out"),
                 *biah = model_fx_param(f, "gnn.b_iah"), *boah = model_fx_param(f, "gnn.b_oah"),
                 *wih = model_fx_param(f, "gnn.w_ih"), *bih = model_fx_param(f, "gnn.b_ih"),
                 *whh = model_fx_param(f, "gnn.w_hh"), *bhh = model_fx_param(f, "gnn.b_hh");
    for (int s = 0; s < steps; s++) {
        double ein[MX][D], eout[MX][D], hn[MX][D];
        for (int i = 0; i < n; i++) {
            ref_linear(ein[i], win, bin, h[i], d, d);
            ref_linear(eout[i], wout, bout, h[i], d, d);
        }
        for (int i = 0; i < n; i++) {
            double a[2 * D], gi[3 * D], gh[3 * D];
            for (int k = 0; k < d; k++) {
                a[k] = biah[k], a[d + k] = boah[k];
                for (int j = 0; j < n; j++)
                    a[k] += ain[i][j] * ein[j][k], a[d + k] += aout[i][j] * eout[j][k];
            }
            ref_linear(gi, wih, bih, a, 2 * d, 3 * d);
            ref_linear(gh, whh, bhh, h[i], d, 3 * d);
            for (int k = 0; k < d; k++) {
                double r = ref_sigmoid(gi[k] + gh[k]), z = ref_sigmoid(gi[d + k] + gh[d + k]);
                double nn = tanh(gi[2 * d + k] + r * gh[2 * d + k]);
                hn[i][k] = nn + z * (h[i][k] - nn);
            }
        }
        memcpy(h, hn, sizeof h);
    }
    for (int j = 0; j < len; j++)
        memcpy(hseq + j * d, h[alias[j]], sizeof(double) * d);
}

/* torch's LayerNorm over x [d] in place (gain g, bias b). */
static void ref_layernorm(double *x, const double *g, const double *b, int d, double eps)
{
    double mu = 0, var = 0;
    for (int k = 0; k < d; k++)
        mu += x[k] / d;
    for (int k = 0; k < d; k++)
        var += (x[k] - mu) * (x[k] - mu) / d;
    for (int k = 0; k < d; k++)
        x[k] = (x[k] - mu) / sqrt(var + eps) * g[k] + b[k];
}

static const double *blk_param(const model_fx *f, const char *prefix, const char *name)
{
    char full[96];
    snprintf(full, sizeof full, "%s.%s", prefix, name);
    return model_fx_param(f, full);
}

/* RecBole's TransformerLayer written out: nh heads of scaled dot-product
 * attention over the n rows of x (keys j <= i when causal), output
 * projection, residual, LayerNorm, the FFN (gelu: x Phi(x); else relu),
 * residual, LayerNorm. */
void ref_trm_block(const model_fx *f, const char *prefix, const double *x, int n,
                   const ref_blk_cfg *c, double *y)
{
    enum { MN = 8, MD = 8, MF = 512 };
    int d = f->m.d, dh = d / c->nh;
    double q[MN][MD], k[MN][MD], v[MN][MD], att[MN][MD] = {{0}}, r1[MN][MD], hid[MF], o[MD];
    for (int i = 0; i < n; i++) {
        ref_linear(q[i], blk_param(f, prefix, "wq"), blk_param(f, prefix, "bq"), x + i * d, d, d);
        ref_linear(k[i], blk_param(f, prefix, "wk"), blk_param(f, prefix, "bk"), x + i * d, d, d);
        ref_linear(v[i], blk_param(f, prefix, "wv"), blk_param(f, prefix, "bv"), x + i * d, d, d);
    }
    for (int h = 0; h < c->nh; h++)
        for (int i = 0; i < n; i++) {
            int nj = c->causal ? i + 1 : n;
            double s[MN], mx = -INFINITY, sum = 0;
            for (int j = 0; j < nj; j++) {
                s[j] = 0;
                for (int t = h * dh; t < (h + 1) * dh; t++)
                    s[j] += q[i][t] * k[j][t] / sqrt((double)dh);
                mx = fmax(mx, s[j]);
            }
            for (int j = 0; j < nj; j++)
                sum += (s[j] = exp(s[j] - mx));
            for (int j = 0; j < nj; j++)
                for (int t = h * dh; t < (h + 1) * dh; t++)
                    att[i][t] += s[j] / sum * v[j][t];
        }
    for (int i = 0; i < n; i++) {
        ref_linear(r1[i], blk_param(f, prefix, "wo"), blk_param(f, prefix, "bo"), att[i], d, d);
        for (int t = 0; t < d; t++)
            r1[i][t] += x[i * d + t];
        ref_layernorm(r1[i], blk_param(f, prefix, "ln1_g"), blk_param(f, prefix, "ln1_b"), d,
                      c->eps);
        ref_linear(hid, blk_param(f, prefix, "w1"), blk_param(f, prefix, "b1"), r1[i], d, c->dff);
        for (int t = 0; t < c->dff; t++)
            hid[t] = c->gelu ? hid[t] * 0.5 * (1 + erf(hid[t] / sqrt(2.0))) : fmax(hid[t], 0);
        ref_linear(o, blk_param(f, prefix, "w2"), blk_param(f, prefix, "b2"), hid, c->dff, d);
        for (int t = 0; t < d; t++)
            y[i * d + t] = o[t] + r1[i][t];
        ref_layernorm(y + i * d, blk_param(f, prefix, "ln2_g"), blk_param(f, prefix, "ln2_b"), d,
                      c->eps);
    }
}
