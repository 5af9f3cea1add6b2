#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "model/batch.h"
#include "model_check.h"

TEST(model_narm_gradcheck)
{
    CHECK(model_gradcheck("narm", 0) == 0);
}

TEST(model_narm_clip_gradcheck)
{
    CHECK(model_gradcheck("narm", 1) == 0);
}

/* The largest shapes a model meets by default: a full batch of B = 100
 * prefixes of max_len = 50 distinct clicks (so U = L = 50 for graph models),
 * d = hidden = 100, float, CLIP prompts on or off. One training step and a
 * top-K must stay inside the activation memory act_reals() reserved
 * (sbr_model_act aborts otherwise) and give a finite loss near log(N) at
 * initialisation. Returns 0 when all holds. Shared by the NARM, STAMP and
 * SR-GNN tests (declared there). */
int model_fullsize_check(const char *name, int clip);
int model_fullsize_check(const char *name, int clip)
{
    enum { S = 100, LEN = 51, N = 160 };
    sbr_model_cfg cfg;
    if (sbr_model_defaults(name, &cfg))
        return -1;
    cfg.n_items = N;
    cfg.n_clusters = clip ? 5 : 0;
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
        if (smp.prefix_len[i] == cfg.max_len)
            order[B++] = i;
    sbr_model m;
    sbr_err e;
    int bad = 0;
    if (B != S || sbr_model_create(&m, &cfg, SBR_PREC_F32, S, cfg.max_len, &e)) {
        printf("    %s: %s\n", name, B != S ? "too few full-length prefixes" : e.msg);
        bad = 1;
    } else {
        sbr_batch_buf bb;
        sbr_batch_buf_init(&bb, S, cfg.max_len, (m.impl->needs & SBR_NEEDS_GRAPH) != 0,
                           sizeof(float));
        sbr_clip_map cm = {clusters, 1};
        sbr_batch_fill(&bb, &sp, &smp, order, S, N, clip ? &cm : NULL);
        bad |= bb.b.L != cfg.max_len;
        bad |= (m.impl->needs & SBR_NEEDS_GRAPH) && bb.b.U != cfg.max_len;
        double loss = sbr_model_loss_grad(&m, &bb.b, 1, 8192);
        size_t used = m.acts.high;
        int32_t idx[S * 20];
        float score[S * 20];
        sbr_model_topk(&m, &bb.b, 20, 8192, idx, score, NULL, NULL);
        printf("    %s%s: B %d x L %d, loss %.4f (log N = %.4f), activations %.1f of %.1f MiB\n",
               name, clip ? "+clip" : "", S, bb.b.L, loss, log((double)N), used / 1048576.0,
               m.act_bytes / 1048576.0);
        bad |= !isfinite(loss) || fabs(loss - log((double)N)) > 1.0;
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

TEST(model_narm_fullsize)
{
    CHECK(model_fullsize_check("narm", 0) == 0);
    CHECK(model_fullsize_check("narm", 1) == 0);
}

/* --- forward against a plain-loop reference --------------------------------
 * A fixture shared with the STAMP and SR-GNN tests: a tiny model in double
 * (d = 4, hidden = 3), every prefix of five sessions with repeats (the
 * 6-click one truncated to max_len = 4), the model's S [B, d] in evaluation
 * mode. Each test recomputes S from the parameters and the item ids with
 * loops written from the model's equations (docs/MODELS.md). */
static int64_t fx_off[6] = {0, 5, 9, 11, 14, 20};
static int32_t fx_items[20] = {1, 2, 3, 2, 4, /**/ 5, 6, 5, 7, /**/ 8, 9, /**/ 3, 3, 3,
                               /**/ 7, 1, 2, 1, 8, 6};

typedef struct {
    sbr_model m;
    sbr_batch_buf bb;
    sbr_samples smp;
    double *S; /* [B, d] */
    int B;
} model_fx;

int model_fx_run(model_fx *f, const char *name, int layers);
void model_fx_free(model_fx *f);
const double *model_fx_param(const model_fx *f, const char *pname);
void ref_linear(double *y, const double *w, const double *b, const double *x, int in, int out);
double ref_sigmoid(double x);

int model_fx_run(model_fx *f, const char *name, int layers)
{
    memset(f, 0, sizeof *f);
    sbr_model_cfg cfg;
    if (sbr_model_defaults(name, &cfg))
        return -1;
    cfg.d = 4;
    cfg.hidden = 3;
    cfg.n_items = 9;
    cfg.max_len = 4;
    cfg.layers = layers;
    cfg.seed = 5;
    cfg.init_scale = 0.8;
    sbr_split sp = {5, fx_off, fx_items, NULL, NULL, 0};
    sbr_samples_build(&sp, 1, &f->smp);
    f->B = (int)f->smp.n;
    sbr_err e;
    if (sbr_model_create(&f->m, &cfg, SBR_PREC_F64, f->B, cfg.max_len, &e))
        return -1;
    int64_t order[32];
    for (int i = 0; i < f->B; i++)
        order[i] = i;
    sbr_batch_buf_init(&f->bb, f->B, cfg.max_len, (f->m.impl->needs & SBR_NEEDS_GRAPH) != 0,
                       sizeof(double));
    sbr_batch_fill(&f->bb, &sp, &f->smp, order, f->B, cfg.n_items, NULL);
    f->S = calloc((size_t)f->B * cfg.d, sizeof(double));
    sbr_bump_reset(&f->m.acts);
    f->m.impl->forward(&f->m, &f->bb.b, f->S, 0);
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

/* One torch GRU step: h [H] updated in place from x [In]. */
static void ref_gru_step(double *h, const double *x, const double *wih, const double *bih,
                         const double *whh, const double *bhh, int In, int H)
{
    double gi[3 * 16], gh[3 * 16];
    ref_linear(gi, wih, bih, x, In, 3 * H);
    ref_linear(gh, whh, bhh, h, H, 3 * H);
    for (int k = 0; k < H; k++) {
        double r = ref_sigmoid(gi[k] + gh[k]), z = ref_sigmoid(gi[H + k] + gh[H + k]);
        double n = tanh(gi[2 * H + k] + r * gh[2 * H + k]);
        h[k] = (1 - z) * n + z * h[k];
    }
}

TEST(model_narm_matches_reference)
{
    model_fx f;
    REQUIRE(model_fx_run(&f, "narm", 1) == 0);
    int d = f.m.cfg.d, H = f.m.cfg.hidden, L = f.bb.b.L;
    const double *E = model_fx_param(&f, "items"), *wih = model_fx_param(&f, "gru.w_ih"),
                 *bih = model_fx_param(&f, "gru.b_ih"), *whh = model_fx_param(&f, "gru.w_hh"),
                 *bhh = model_fx_param(&f, "gru.b_hh"), *A1 = model_fx_param(&f, "attn.a1"),
                 *A2 = model_fx_param(&f, "attn.a2"), *v = model_fx_param(&f, "attn.v"),
                 *Bw = model_fx_param(&f, "decoder.b");
    double worst = 0;
    for (int b = 0; b < f.B; b++) {
        int len = f.bb.b.len[b];
        double hs[8][16] = {{0}}, h[16] = {0}, c[32], q1[16], t[16], S[16];
        for (int j = 0; j < len; j++) {
            ref_gru_step(h, E + (size_t)f.bb.b.items[b * L + j] * d, wih, bih, whh, bhh, d, H);
            memcpy(hs[j], h, sizeof(double) * H);
        }
        ref_linear(q1, A1, NULL, h, H, H);
        memcpy(c, h, sizeof(double) * H); /* c_g */
        for (int k = 0; k < H; k++)
            c[H + k] = 0;
        for (int j = 0; j < len; j++) {
            ref_linear(t, A2, NULL, hs[j], H, H);
            double alpha = 0;
            for (int k = 0; k < H; k++)
                alpha += v[k] * ref_sigmoid(t[k] + q1[k]);
            for (int k = 0; k < H; k++)
                c[H + k] += alpha * hs[j][k];
        }
        ref_linear(S, Bw, NULL, c, 2 * H, d);
        for (int k = 0; k < d; k++)
            worst = fmax(worst, fabs(S[k] - f.S[b * d + k]));
    }
    printf("    narm: %d prefixes, worst |S - reference| %.3g\n", f.B, worst);
    CHECK(worst < 1e-12);
    model_fx_free(&f);
}
