/* Finite-difference gradient checker: see gradcheck.h. */
#include "gradcheck.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "err.h"
#include "rng.h"

void gc_add(gc_spec *s, const char *name, double *x, double *grad, size_t n)
{
    if (s->nvars == GC_MAX_VARS) {
        fprintf(stderr, "gradcheck: too many variables\n");
        abort();
    }
    s->vars[s->nvars++] = (gc_var){name, x, grad, n};
}

/* Checks element i of var v; returns 1 when it disagrees. */
static int check_one(const gc_spec *s, const gc_var *v, size_t i, double h, double rtol,
                     double atol, double *worst, int *printed)
{
    double x0 = v->x[i];
    v->x[i] = x0 + h;
    double lp = s->loss(s->user);
    v->x[i] = x0 - h;
    double lm = s->loss(s->user);
    v->x[i] = x0;
    double num = (lp - lm) / (2 * h);
    double ana = v->grad[i];
    double scale = fmax(fabs(num), fabs(ana));
    double err = fabs(num - ana);
    double rel = err / (atol + rtol * scale);
    if (rel > *worst)
        *worst = rel;
    if (!(err <= atol + rtol * scale)) { /* also catches NaN */
        if (!s->quiet && (*printed)++ < 5)
            printf("    gradcheck %s: d/d%s[%zu]: analytic %.10g numeric %.10g\n", s->op,
                   v->name, i, ana, num);
        return 1;
    }
    return 0;
}

int gradcheck(const gc_spec *s)
{
    double h = s->h > 0 ? s->h : 1e-6;
    double rtol = s->rtol > 0 ? s->rtol : 1e-5;
    double atol = s->atol > 0 ? s->atol : 1e-8;
    s->backward(s->user);
    int bad = 0;
    for (int k = 0; k < s->nvars; k++) {
        const gc_var *v = &s->vars[k];
        double worst = 0;
        int printed = 0, badv = 0;
        size_t checked = 0;
        if (s->max_checks <= 0 || v->n <= (size_t)s->max_checks) {
            for (size_t i = 0; i < v->n; i++)
                badv += check_one(s, v, i, h, rtol, atol, &worst, &printed);
            checked = v->n;
        } else {
            /* A deterministic sample: random positions, plus both ends. */
            sbr_rng r;
            sbr_rng_init(&r, 1234 + (uint64_t)k);
            for (int c = 0; c < s->max_checks; c++) {
                size_t i = c == 0 ? 0 : c == 1 ? v->n - 1 : (size_t)sbr_rng_below(&r, v->n);
                badv += check_one(s, v, i, h, rtol, atol, &worst, &printed);
            }
            checked = (size_t)s->max_checks;
        }
        if (!s->quiet)
            printf("    gradcheck %s: %-8s %6zu/%-6zu checked, worst err/tol %.3g%s\n", s->op,
                   v->name, checked, v->n, worst, badv ? "  MISMATCH" : "");
        bad += badv;
    }
    return bad;
}

void gc_fill(double *x, size_t n, double lo, double hi, uint64_t seed)
{
    for (size_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * sbr_rng_u01(sbr_rng_hash(seed, i));
}

void gc_fill_f(float *x, size_t n, float lo, float hi, uint64_t seed)
{
    for (size_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * (float)sbr_rng_u01(sbr_rng_hash(seed, i));
}

double gc_dot(const double *w, const double *y, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += w[i] * y[i];
    return s;
}

double gc_agree_f32(const float *a, const double *b, size_t n, double rtol, double atol)
{
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double r = fabs((double)a[i] - b[i]) / (atol + rtol * fabs(b[i]));
        if (isnan(r))
            return INFINITY;
        if (r > worst)
            worst = r;
    }
    return worst;
}

double *gc_zeros(size_t n) { return sbr_xcalloc(n ? n : 1, sizeof(double)); }
float *gc_zeros_f(size_t n) { return sbr_xcalloc(n ? n : 1, sizeof(float)); }
