/* A model's options: lookup, parsing, ranges, presets (options.h). */
#include "model/options.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const sbr_prompt_norm_names[] = {"feature", "sequence", "none", NULL};

int sbr_cfg_find(const sbr_model_cfg *c, const char *name)
{
    for (int i = 0; c->opts && c->opts[i].name; i++)
        if (strcmp(c->opts[i].name, name) == 0)
            return i;
    return -1;
}

double sbr_cfg_get(const sbr_model_cfg *c, const char *name)
{
    int i = sbr_cfg_find(c, name);
    if (i < 0)
        sbr_fatal("internal error: model \"%s\" has no option \"%s\"", c->model, name);
    return c->opt[i];
}

int sbr_cfg_int(const sbr_model_cfg *c, const char *name) { return (int)sbr_cfg_get(c, name); }

double sbr_cfg_get_or(const sbr_model_cfg *c, const char *name, double dflt)
{
    int i = sbr_cfg_find(c, name);
    return i < 0 ? dflt : c->opt[i];
}

void sbr_opt_flag(const char *name, char *buf, size_t n)
{
    snprintf(buf, n, "%s", name);
    for (char *p = buf; *p; p++)
        if (*p == '_')
            *p = '-';
}

const char *sbr_opt_type_word(const sbr_opt *o)
{
    return o->type == SBR_OPT_INT ? "N" : o->type == SBR_OPT_REAL ? "X" : "NAME";
}

void sbr_opt_help_list(FILE *out, const char *const *names, int n,
                       void (*owners)(FILE *out, const char *name))
{
    for (int k = 0; k < n; k++) {
        char flag[64];
        sbr_opt_flag(names[k], flag, sizeof flag);
        fprintf(out, "  --%-16s", flag);
        owners(out, names[k]);
        fputc('\n', out);
    }
}

static int n_choices(const sbr_opt *o)
{
    int k = 0;
    while (o->choices && o->choices[k])
        k++;
    return k;
}

/* The shortest decimal that reads back as v. */
static void shortest(double v, char *buf, size_t n)
{
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(buf, n, "%.0f", v);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

void sbr_opt_range(const sbr_opt *o, char *buf, size_t n)
{
    if (o->type == SBR_OPT_CHOICE) {
        size_t at = 0;
        buf[0] = 0;
        for (int k = 0; o->choices[k] && at < n; k++)
            at += (size_t)snprintf(buf + at, n - at, "%s%s", k ? "|" : "", o->choices[k]);
        return;
    }
    char lo[32], hi[32];
    shortest(o->lo, lo, sizeof lo);
    shortest(o->hi, hi, sizeof hi);
    snprintf(buf, n, "%s..%s", lo, hi);
}

void sbr_opt_format(const sbr_opt *o, double v, char *buf, size_t n)
{
    if (o->type == SBR_OPT_CHOICE && v >= 0 && v < n_choices(o))
        snprintf(buf, n, "%s", o->choices[(int)v]);
    else if (o->type == SBR_OPT_REAL)
        shortest(v, buf, n);
    else
        snprintf(buf, n, "%.0f", v);
}

/* -1 with e set when v is not a value of o. */
static int check_value(const sbr_opt *o, double v, sbr_err *e)
{
    char range[128];
    sbr_opt_range(o, range, sizeof range);
    if (o->type == SBR_OPT_CHOICE) {
        if (v == floor(v) && v >= 0 && v < n_choices(o))
            return 0;
        return sbr_errf(e, "%g is not one of %s", v, range);
    }
    if (!isfinite(v) || v < o->lo || v > o->hi)
        return sbr_errf(e, "%.10g is out of range (%s)", v, range);
    if (o->type == SBR_OPT_INT && v != floor(v))
        return sbr_errf(e, "%.10g is not a whole number", v);
    return 0;
}

int sbr_cfg_set(sbr_model_cfg *c, const char *name, double v, sbr_err *e)
{
    int i = sbr_cfg_find(c, name);
    if (i < 0)
        return sbr_errf(e, "model \"%s\" has no option \"%s\"", c->model, name);
    if (check_value(&c->opts[i], v, e))
        return sbr_err_prefix(e, "%s", name);
    c->opt[i] = v;
    return 0;
}

void sbr_cfg_set_if(sbr_model_cfg *c, const char *name, double v)
{
    int i = sbr_cfg_find(c, name);
    if (i >= 0)
        c->opt[i] = v;
}

int sbr_cfg_parse_value(sbr_model_cfg *c, int i, const char *text, sbr_err *e)
{
    const sbr_opt *o = &c->opts[i];
    if (o->type == SBR_OPT_CHOICE) {
        for (int k = 0; o->choices[k]; k++)
            if (strcmp(o->choices[k], text) == 0) {
                c->opt[i] = k;
                return 0;
            }
        char range[128];
        sbr_opt_range(o, range, sizeof range);
        return sbr_errf(e, "\"%s\" is not one of %s", text, range);
    }
    char *end;
    double v = strtod(text, &end);
    if (end == text || *end)
        return sbr_errf(e, "\"%s\" is not a number", text);
    if (check_value(o, v, e))
        return -1;
    c->opt[i] = v;
    return 0;
}

int sbr_cfg_parse(sbr_model_cfg *c, const char *name, const char *text, sbr_err *e)
{
    int i = sbr_cfg_find(c, name);
    if (i < 0)
        return sbr_errf(e, "model \"%s\" has no option \"%s\"", c->model, name);
    if (sbr_cfg_parse_value(c, i, text, e) == 0)
        return 0;
    char flag[64];
    sbr_opt_flag(name, flag, sizeof flag);
    return sbr_err_prefix(e, "--%s", flag);
}

int sbr_cfg_preset(sbr_model_cfg *c, const sbr_preset *presets, const char *name, sbr_err *e)
{
    if (!name || !*name)
        return 0;
    const sbr_preset *p = presets;
    while (p && p->name && strcmp(p->name, name) != 0)
        p++;
    if (!p || !p->name)
        return sbr_errf(e, "model \"%s\" has no preset \"%s\" (sbr-train --help-model %s lists "
                           "them)", c->model, name, c->model);
    char buf[512];
    snprintf(buf, sizeof buf, "%s", p->values);
    for (char *save = NULL, *tok = strtok_r(buf, " ", &save); tok;
         tok = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq)
            sbr_fatal("internal error: preset %s of %s: \"%s\"", name, c->model, tok);
        *eq = 0;
        if (sbr_cfg_parse(c, tok, eq + 1, e))
            return -1;
    }
    snprintf(c->preset, sizeof c->preset, "%s", name);
    return 0;
}

int sbr_cfg_check(const sbr_model_cfg *c, sbr_err *e)
{
    for (int i = 0; c->opts && c->opts[i].name; i++)
        if (check_value(&c->opts[i], c->opt[i], e))
            return sbr_err_prefix(e, "%s", c->opts[i].name);
    return 0;
}
