/* The model layer itself: the registry against models.def, the options every
 * model declares (defaults in range, presets that apply, parsing and ranges),
 * the typed weights' check (a struct and its declare that disagree stop the
 * program, naming the model), and layouts that give their exact size. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "model/def.h"
#include "model/model_help.h"

TEST(model_registry_matches_its_list)
{
    int n = 0;
    for (int i = 0; sbr_model_names[i]; i++, n++) {
        const sbr_model_def *f = sbr_model_def_for(sbr_model_names[i], SBR_PREC_F32),
                            *d = sbr_model_def_for(sbr_model_names[i], SBR_PREC_F64);
        REQUIRE(f && d);
        CHECK_STR(f->name, sbr_model_names[i]);
        CHECK_STR(d->name, sbr_model_names[i]);
        CHECK(f->opts == d->opts || strcmp(f->opts[0].name, d->opts[0].name) == 0);
        CHECK(f->about && f->paper && f->declare && f->layout && f->scratch && f->forward &&
              f->backward);
    }
    CHECK(n >= 7);
    CHECK(sbr_model_def_for("nosuch", SBR_PREC_F32) == NULL);
    sbr_model_cfg c;
    CHECK(sbr_model_defaults("nosuch", &c) == -1);
}

/* Every model's defaults are in their ranges, every preset applies, and
 * every option shows in --help-model. */
TEST(model_options_defaults_and_presets)
{
    for (int i = 0; sbr_model_names[i]; i++) {
        const char *name = sbr_model_names[i];
        const sbr_model_def *def = sbr_model_def_for(name, SBR_PREC_F32);
        sbr_model_cfg c;
        sbr_err e;
        REQUIRE(sbr_model_defaults(name, &c) == 0);
        if (sbr_cfg_check(&c, &e) != 0) {
            printf("    %s: %s\n", name, e.msg);
            CHECK(0);
        }
        CHECK(sbr_cfg_find(&c, "dim") >= 0 && sbr_cfg_find(&c, "max_len") >= 0);
        for (const sbr_preset *p = def->presets; p && p->name; p++) {
            sbr_model_cfg q = c;
            if (sbr_cfg_preset(&q, def->presets, p->name, &e) != 0) {
                printf("    %s --preset %s: %s\n", name, p->name, e.msg);
                CHECK(0);
            }
            CHECK_STR(q.preset, p->name);
            CHECK(sbr_cfg_check(&q, &e) == 0);
        }
        /* an option under a key a model file uses for something else would be lost */
        static const char *const reserved[] = {"model", "model_format", "preset", "n_items",
                                               "n_clusters", "init_scale", "seed", "adam_t",
                                               "drop_counter", "kind", "min_prefix",
                                               "epochs_done", "selected_epoch", "selection",
                                               "stopped_by", NULL};
        for (const sbr_opt *o = def->opts; o->name; o++) {
            for (int k = 0; reserved[k]; k++)
                CHECK(strcmp(o->name, reserved[k]) != 0);
            CHECK(!strchr(o->name, '.') && !strchr(o->name, '-'));
        }
        char *text = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&text, &len);
        REQUIRE(sbr_model_help(out, name) == 0);
        fclose(out);
        for (const sbr_opt *o = def->opts; o->name; o++) {
            char flag[64];
            sbr_opt_flag(o->name, flag, sizeof flag);
            CHECK(strstr(text, flag) != NULL);
        }
        free(text);
    }
}

TEST(model_options_parse_and_ranges)
{
    sbr_model_cfg c;
    sbr_err e;
    REQUIRE(sbr_model_defaults("dmignn", &c) == 0);
    CHECK(sbr_cfg_int(&c, "interests") == 3);
    CHECK(sbr_cfg_parse(&c, "interests", "5", &e) == 0 && sbr_cfg_int(&c, "interests") == 5);
    CHECK(sbr_cfg_parse(&c, "interests", "9", &e) == -1);
    CHECK(strstr(e.msg, "--interests") && strstr(e.msg, "out of range (1..8)"));
    CHECK(sbr_cfg_parse(&c, "interests", "2.5", &e) == -1 && strstr(e.msg, "whole"));
    CHECK(sbr_cfg_parse(&c, "dmi_beta", "1e-3", &e) == 0 && sbr_cfg_get(&c, "dmi_beta") == 1e-3);
    CHECK(sbr_cfg_parse(&c, "dmi_beta", "x", &e) == -1 && strstr(e.msg, "not a number"));
    CHECK(sbr_cfg_parse(&c, "interest_pool", "sum", &e) == 0 &&
          sbr_cfg_int(&c, "interest_pool") == 1);
    CHECK(sbr_cfg_parse(&c, "interest_pool", "median", &e) == -1 && strstr(e.msg, "max|sum"));
    CHECK(sbr_cfg_parse(&c, "hidden", "3", &e) == -1 && strstr(e.msg, "no option"));
    CHECK(sbr_cfg_set(&c, "dim", 0, &e) == -1);
    CHECK(sbr_cfg_preset(&c, sbr_model_def_for("dmignn", SBR_PREC_F32)->presets, "nosuch", &e) ==
          -1);
    CHECK(strstr(e.msg, "--help-model dmignn") != NULL);
    /* values written into files read back exactly */
    char buf[64];
    sbr_opt_format(&c.opts[sbr_cfg_find(&c, "dmi_beta")], 0.1 + 0.2, buf, sizeof buf);
    CHECK(strtod(buf, NULL) == 0.1 + 0.2);
    sbr_opt_format(&c.opts[sbr_cfg_find(&c, "dmi_beta")], 0.005, buf, sizeof buf);
    CHECK_STR(buf, "0.005");
}

/* --- the typed weights' check, on a model outside the registry -------------- */

typedef struct {
    double *a, *b; /* [2], [3] */
} two_w;

typedef struct {
    two_w w, g;
    int mode; /* 0: both declared, 1: b forgotten, 2: a declared twice, 3: b none */
} two_state;

static int two_mode;

static void two_declare(sbr_model *m)
{
    two_state *st = m->state;
    st->mode = two_mode;
    sbr_weights(m, &st->w, &st->g, sizeof st->w);
    sbr_param(m, &st->w.a, "two.a", SBR_SHAPE(2), SBR_INIT_ONE, 0);
    if (st->mode == 0)
        sbr_param(m, &st->w.b, "two.b", SBR_SHAPE(3), SBR_INIT_ZERO, 0);
    else if (st->mode == 2)
        sbr_param(m, &st->w.a, "two.a2", SBR_SHAPE(3), SBR_INIT_ZERO, 0);
    else if (st->mode == 3)
        sbr_param_none(m, &st->w.b);
}

static void two_layout(sbr_model *m, sbr_lay *l, const sbr_dims *dm)
{
    (void)m, (void)l, (void)dm;
}

static size_t two_scratch(const sbr_model *m, const sbr_dims *dm)
{
    (void)m, (void)dm;
    return 0;
}

static void two_forward(sbr_model *m, const sbr_batch *b, void *S, int train)
{
    (void)m, (void)b, (void)S, (void)train;
}

static void two_backward(sbr_model *m, const sbr_batch *b, const void *dS)
{
    (void)m, (void)b, (void)dS;
}

static const sbr_opt two_opts[] = {SBR_OPT_DIM(4), SBR_OPT_MAX_LEN(5), {0}};
static const sbr_model_def two_def = {.name = "two", .about = "a test", .paper = "none",
                                      .opts = two_opts, .state_size = sizeof(two_state),
                                      .declare = two_declare, .layout = two_layout,
                                      .scratch = two_scratch, .forward = two_forward,
                                      .backward = two_backward};

static void two_create(void *arg)
{
    two_mode = *(int *)arg;
    sbr_model_cfg c;
    sbr_model_defaults_of(&two_def, &c);
    c.n_items = 3;
    sbr_model m;
    sbr_err e;
    if (sbr_model_create_def(&m, &two_def, &c, SBR_PREC_F64, (int[2]){2, 5}, &e))
        exit(4);
    two_state *st = m.state;
    /* bound: the members point at their arena tensors and gradients */
    int ok = st->w.a == sbr_arena_ptr(&m.params, 0) && st->g.a == sbr_arena_ptr(&m.grads, 0) &&
             st->w.a[0] == 1 && (two_mode == 3 ? !st->w.b && !st->g.b
                                               : st->w.b == sbr_arena_ptr(&m.params, 1));
    sbr_model_free(&m);
    exit(ok ? 0 : 5);
}

TEST(model_typed_weights_checked)
{
    char err[512];
    int mode = 0;
    CHECK_EQ_I64(harness_exits(two_create, &mode, err, sizeof err), 0);
    mode = 3;
    CHECK_EQ_I64(harness_exits(two_create, &mode, err, sizeof err), 0);
    mode = 1; /* a member no parameter binds */
    CHECK_EQ_I64(harness_exits(two_create, &mode, err, sizeof err), 1);
    CHECK(strstr(err, "model two: member 1 of weight struct 0 is declared by no sbr_param"));
    mode = 2; /* a member bound twice */
    CHECK_EQ_I64(harness_exits(two_create, &mode, err, sizeof err), 1);
    CHECK(strstr(err, "model two: member 0 of weight struct 0 declared twice"));
}

/* Every model's layout, run without a base, is the size it takes with one:
 * the activations are exactly what create allocated (no formula by hand). */
TEST(model_layout_exact)
{
    for (int i = 0; sbr_model_names[i]; i++) {
        sbr_model_cfg c;
        sbr_model_defaults(sbr_model_names[i], &c);
        sbr_cfg_set_if(&c, "dim", 8);
        c.n_items = 20;
        sbr_model m;
        sbr_err e;
        REQUIRE(sbr_model_create(&m, &c, SBR_PREC_F32, 7, 9, &e) == 0);
        sbr_batch_caps cap = sbr_batch_caps_for(7, 9, m.global_k);
        sbr_dims dm = {cap.B, cap.L, cap.T, cap.E, cap.K};
        sbr_lay a = {NULL, 0}, b = {(char *)m.act_mem, 0};
        m.def->layout(&m, &a, &dm);
        m.def->layout(&m, &b, &dm);
        CHECK(a.used == b.used && a.used > 0 && a.used <= m.act_bytes);
        sbr_model_free(&m);
    }
}
