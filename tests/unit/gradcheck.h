/* Finite-difference gradient checks of the ops (double precision).
 *
 * A check perturbs every element (or a sample) of each variable x by ±h,
 * evaluates the scalar loss, and compares (L(x+h) - L(x-h)) / 2h with the
 * analytic gradient the op's backward wrote:
 *     |analytic - numeric| <= atol + rtol * max(|analytic|, |numeric|).
 * The loss is usually a fixed random projection of the op's outputs,
 * L = sum_i w_i y_i, so that dL/dy = w exercises every output. */
#ifndef SBR_GRADCHECK_H
#define SBR_GRADCHECK_H

#include <stddef.h>
#include <stdint.h>

#define GC_MAX_VARS 12

typedef struct {
    const char *name;
    double *x;    /* [n] values that are perturbed (restored afterwards) */
    double *grad; /* [n] analytic gradient, filled by backward() */
    size_t n;
} gc_var;

typedef struct {
    const char *op;                /* name in messages */
    double (*loss)(void *user);    /* forward pass to a scalar; must not modify any x */
    void (*backward)(void *user);  /* zeroes then fills the grad of every var */
    void *user;
    gc_var vars[GC_MAX_VARS];
    int nvars;
    double h;        /* step; 0: 1e-6 */
    double rtol;     /* 0: 1e-5 */
    double atol;     /* 0: 1e-8 */
    int max_checks;  /* elements checked per var (a deterministic sample); 0: all */
    int quiet;       /* 1: print nothing (for the test that expects a failure) */
} gc_spec;

/* Runs the check; returns the number of elements that disagree (0 = pass).
 * Prints, per variable, the worst relative error, and the first mismatches. */
int gradcheck(const gc_spec *s);

/* Adds a variable to the spec. */
void gc_add(gc_spec *s, const char *name, double *x, double *grad, size_t n);

/* Fresh random data: uniform in [lo, hi), deterministic for a seed. */
void gc_fill(double *x, size_t n, double lo, double hi, uint64_t seed);
void gc_fill_f(float *x, size_t n, float lo, float hi, uint64_t seed);
/* sum_i w[i] * y[i] */
double gc_dot(const double *w, const double *y, size_t n);
/* Largest |a - b| / (atol + rtol*|b|) over n: <= 1 means they agree. */
double gc_agree_f32(const float *a, const double *b, size_t n, double rtol, double atol);

/* Zeroed allocations that the test frees with free(). */
double *gc_zeros(size_t n);
float *gc_zeros_f(size_t n);

#endif
