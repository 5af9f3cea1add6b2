/* Checkpoints: a tiny model (linear -> dropout -> fused score + CE, Adam with
 * L2, clipping, step LR decay) trained N steps straight, or N/2 steps, saved,
 * freed, reloaded into fresh arenas and trained N/2 more, ends with the same
 * parameter bits. Plus the errors of loading into the wrong model. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "harness.h"
#include "nn/nn.h"

enum { T_B = 16, T_DIN = 12, T_D = 8, T_N = 300, T_CHUNK = 64 };

typedef struct {
    sbr_arena params, grads, m, v;
    int iW, ib, iE;
    sbr_rng rng;
    int64_t step;
    /* activations, allocated once */
    float X[T_B * T_DIN], S[T_B * T_D], Sd[T_B * T_D], dS[T_B * T_D], dSd[T_B * T_D];
    float loss[T_B], lse[T_B], dloss[T_B];
    uint8_t mask[T_B * T_D];
    int32_t target[T_B];
    void *scratch;
    size_t scratch_bytes;
} tiny;

static void tiny_layout(tiny *t)
{
    memset(t, 0, sizeof *t);
    sbr_arena_init(&t->params, "params", sizeof(float), NULL);
    t->iW = sbr_arena_add(&t->params, "W", 2, (int64_t[]){T_D, T_DIN});
    t->ib = sbr_arena_add(&t->params, "b", 1, (int64_t[]){T_D});
    t->iE = sbr_arena_add(&t->params, "E", 2, (int64_t[]){T_N + 1, T_D});
    sbr_arena_clone_layout(&t->grads, &t->params, "grads", sizeof(float), NULL);
    sbr_arena_clone_layout(&t->m, &t->params, "adam_m", sizeof(float), NULL);
    sbr_arena_clone_layout(&t->v, &t->params, "adam_v", sizeof(float), NULL);
    sbr_err e;
    if (sbr_arena_commit(&t->params, &e) || sbr_arena_commit(&t->grads, &e) ||
        sbr_arena_commit(&t->m, &e) || sbr_arena_commit(&t->v, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        abort();
    }
    t->scratch_bytes = sbr_nn_score_ce_scratch_f32(T_B, T_N, T_D, T_CHUNK);
    t->scratch = malloc(t->scratch_bytes);
}

static void tiny_init(tiny *t, uint64_t seed)
{
    tiny_layout(t);
    sbr_nn_init_xavier_f32(sbr_arena_ptr(&t->params, t->iW), T_DIN, T_D, seed, 0);
    sbr_nn_init_uniform_f32(sbr_arena_ptr(&t->params, t->iE), (int64_t)(T_N + 1) * T_D,
                            1 / sqrt((double)T_D), seed + 1, 0);
    sbr_rng_init(&t->rng, seed + 2);
}

static void tiny_free(tiny *t)
{
    sbr_arena_free(&t->params), sbr_arena_free(&t->grads);
    sbr_arena_free(&t->m), sbr_arena_free(&t->v);
    free(t->scratch);
}

static double tiny_step(tiny *t)
{
    sbr_nn_ctx ctx = {t->scratch, t->scratch_bytes, NULL, NULL};
    float *W = sbr_arena_ptr(&t->params, t->iW), *b = sbr_arena_ptr(&t->params, t->ib);
    float *E = sbr_arena_ptr(&t->params, t->iE);
    float *dW = sbr_arena_ptr(&t->grads, t->iW), *db = sbr_arena_ptr(&t->grads, t->ib);
    float *dE = sbr_arena_ptr(&t->grads, t->iE);
    /* Four fixed batches in turn (something to learn); the dropout mask comes
     * from the model's RNG stream. */
    uint64_t off = (uint64_t)(t->step % 4) * T_B * T_DIN;
    sbr_nn_init_uniform_f32(t->X, T_B * T_DIN, 1, 999, off);
    for (int i = 0; i < T_B; i++)
        t->target[i] = 1 + (int32_t)(sbr_rng_hash(998, off + i) % T_N), t->dloss[i] = 1.0f / T_B;
    uint64_t drop_off = t->rng.counter;
    t->rng.counter += T_B * T_D;
    /* forward */
    sbr_nn_linear_forward_f32(&ctx, t->S, t->X, W, b, T_B, T_DIN, T_D);
    sbr_nn_dropout_forward_f32(&ctx, t->Sd, t->mask, t->S, T_B * T_D, 0.2f, t->rng.seed, drop_off);
    sbr_nn_score_ce_forward_f32(&ctx, t->loss, t->lse, t->Sd, E, t->target, T_B, T_N, T_D,
                                T_CHUNK);
    double L = 0;
    for (int i = 0; i < T_B; i++)
        L += t->loss[i] / T_B;
    /* backward */
    sbr_arena_zero(&t->grads);
    memset(t->dS, 0, sizeof t->dS), memset(t->dSd, 0, sizeof t->dSd);
    sbr_nn_score_ce_backward_f32(&ctx, t->dSd, dE, t->dloss, t->Sd, E, t->target, t->lse, T_B, T_N,
                                 T_D, T_CHUNK);
    sbr_nn_dropout_backward_f32(&ctx, t->dS, t->dSd, t->mask, T_B * T_D, 0.2f);
    sbr_nn_linear_backward_f32(&ctx, NULL, dW, db, t->dS, t->X, W, T_B, T_DIN, T_D);
    /* update */
    int64_t n = sbr_arena_numel(&t->params);
    sbr_nn_clip_grad_norm_f32(&ctx, t->grads.base, n, 1.0);
    int epoch = (int)(t->step / 3);
    sbr_nn_adam_cfg cfg = {sbr_nn_lr_step(0.05, 0.5, 2, epoch), 0.9, 0.999, 1e-8, 1e-4, 0};
    t->step++;
    sbr_nn_adam_step_f32(&ctx, t->params.base, t->grads.base, t->m.base, t->v.base, n, &cfg,
                         t->step);
    return L;
}

static int tiny_save(const tiny *t, const char *path, sbr_err *e)
{
    sbr_checkpoint ck = {.config = "{\"model\":\"tiny\",\"d\":8}", .params = &t->params,
                         .adam_m = &t->m, .adam_v = &t->v, .adam_t = t->step, .rng = t->rng,
                         .epoch = t->step / 3, .step = t->step};
    return sbr_checkpoint_write(path, &ck, SBR_ZSTD_LEVEL, e);
}

static int tiny_load(tiny *t, const char *path, sbr_err *e)
{
    tiny_layout(t);
    sbr_checkpoint_file cf;
    if (sbr_checkpoint_open(path, &cf, e))
        return -1;
    int rc = sbr_checkpoint_load(&cf, "param", &t->params, e);
    if (!rc && cf.has_adam)
        rc = sbr_checkpoint_load(&cf, "adam_m", &t->m, e);
    if (!rc && cf.has_adam)
        rc = sbr_checkpoint_load(&cf, "adam_v", &t->v, e);
    if (!rc && strcmp(cf.config, "{\"model\":\"tiny\",\"d\":8}") != 0)
        rc = sbr_errf(e, "config changed: %s", cf.config);
    t->rng = cf.rng;
    t->step = cf.step;
    sbr_checkpoint_close(&cf);
    return rc;
}

TEST(nn_checkpoint_resume_bit_identical)
{
    enum { STEPS = 10 };
    tiny a, b;
    tiny_init(&a, 42);
    double first = 0, later = 0;
    for (int s = 0; s < STEPS; s++) {
        double L = tiny_step(&a);
        if (s == 0)
            first = L;
        if (s == 8) /* the same batch as step 0 */
            later = L;
    }
    printf("    loss on batch 0: step 0 %.4f, step 8 %.4f\n", first, later);
    CHECK(later < first); /* it does learn */

    tiny_init(&b, 42);
    for (int s = 0; s < STEPS / 2; s++)
        tiny_step(&b);
    char path[512];
    snprintf(path, sizeof path, "%s/tiny.model", harness_tmpdir());
    sbr_err e = {{0}};
    REQUIRE(tiny_save(&b, path, &e) == 0);
    tiny_free(&b);
    memset(&b, 0xA5, sizeof b); /* nothing survives but the file */
    if (tiny_load(&b, path, &e) != 0) {
        printf("    %s\n", e.msg);
        CHECK(0);
        return;
    }
    CHECK_EQ_I64(b.step, STEPS / 2);
    for (int s = STEPS / 2; s < STEPS; s++)
        tiny_step(&b);
    CHECK(a.params.bytes == b.params.bytes);
    CHECK(memcmp(a.params.base, b.params.base, a.params.bytes) == 0);
    CHECK(memcmp(a.m.base, b.m.base, a.m.bytes) == 0);
    CHECK(a.rng.counter == b.rng.counter);
    /* A parameter that differs in one bit would be caught: */
    ((uint32_t *)b.params.base)[3] ^= 1;
    CHECK(memcmp(a.params.base, b.params.base, a.params.bytes) != 0);
    tiny_free(&a), tiny_free(&b);
}

TEST(nn_checkpoint_wrong_model_is_an_error)
{
    tiny a;
    tiny_init(&a, 7);
    char path[512], other[512];
    snprintf(path, sizeof path, "%s/a.model", harness_tmpdir());
    snprintf(other, sizeof other, "%s/other.kind", harness_tmpdir());
    sbr_err e = {{0}};
    REQUIRE(tiny_save(&a, path, &e) == 0);
    sbr_checkpoint_file cf;
    REQUIRE(sbr_checkpoint_open(path, &cf, &e) == 0);
    /* E with one more row: another catalogue. */
    sbr_arena p;
    sbr_arena_init(&p, "params", sizeof(float), NULL);
    sbr_arena_add(&p, "W", 2, (int64_t[]){T_D, T_DIN});
    sbr_arena_add(&p, "b", 1, (int64_t[]){T_D});
    sbr_arena_add(&p, "E", 2, (int64_t[]){T_N + 2, T_D});
    REQUIRE(sbr_arena_commit(&p, &e) == 0);
    CHECK(sbr_checkpoint_load(&cf, "param", &p, &e) == -1);
    printf("    expected error: %s\n", e.msg);
    CHECK(strstr(e.msg, "param.E") && strstr(e.msg, "shape") && strstr(e.msg, "a.model"));
    sbr_arena_free(&p);
    /* A model without b: the file has a tensor the model does not know. */
    sbr_arena_init(&p, "params", sizeof(float), NULL);
    sbr_arena_add(&p, "W", 2, (int64_t[]){T_D, T_DIN});
    sbr_arena_add(&p, "E", 2, (int64_t[]){T_N + 1, T_D});
    REQUIRE(sbr_arena_commit(&p, &e) == 0);
    CHECK(sbr_checkpoint_load(&cf, "param", &p, &e) == -1);
    CHECK(strstr(e.msg, "param.b") != NULL);
    sbr_arena_free(&p);
    /* Double precision arena: dtype mismatch. */
    sbr_arena_init(&p, "params", sizeof(double), NULL);
    sbr_arena_add(&p, "W", 2, (int64_t[]){T_D, T_DIN});
    REQUIRE(sbr_arena_commit(&p, &e) == 0);
    CHECK(sbr_checkpoint_load(&cf, "param", &p, &e) == -1);
    CHECK(strstr(e.msg, "F32") != NULL);
    sbr_arena_free(&p);
    sbr_checkpoint_close(&cf);
    /* Another kind of file. */
    sbr_tw *w = sbr_tw_new("sbr.graph");
    float x = 1;
    sbr_tw_add1(w, "x", SBR_F32, 1, &x);
    REQUIRE(sbr_tw_write(w, other, 0, &e) == 0);
    sbr_tw_free(w);
    CHECK(sbr_checkpoint_open(other, &cf, &e) == -1);
    printf("    expected error: %s\n", e.msg);
    CHECK(strstr(e.msg, "sbr.model") != NULL);
    tiny_free(&a);
}
