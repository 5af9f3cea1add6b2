/* Helpers of the GPU-vs-CPU tests: see cuda_test.h. */
#include "cuda_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "rng.h"

#define CT_MAX_PTRS 512

static struct {
    void *host[CT_MAX_PTRS], *dev[CT_MAX_PTRS];
    int nh, nd;
} mem;
static sbr_nn_ctx ctx;
static int ctx_state; /* 0 unknown, 1 ready, -1 unusable */
static char skip_reason[600];
static uint64_t stream_no;
static double last_ratio;

static void free_all(void)
{
    for (int i = 0; i < mem.nh; i++)
        free(mem.host[i]);
    for (int i = 0; i < mem.nd; i++)
        sbr_cuda_free(mem.dev[i]);
    mem.nh = mem.nd = 0;
}

static void at_exit(void)
{
    if (ctx_state == 1) {
        free_all();
        sbr_nn_cuda_ctx_free(&ctx);
    }
}

int ct_begin(void)
{
    if (ctx_state == 0) {
        sbr_err e = {{0}};
        if (sbr_cuda_device_count() == 0) {
            snprintf(skip_reason, sizeof skip_reason,
                     "no CUDA GPU is visible: GPU-vs-CPU check not run");
            ctx_state = -1;
        } else if (sbr_nn_cuda_ctx_init(&ctx, (size_t)64 << 20, &e) < 0) {
            snprintf(skip_reason, sizeof skip_reason, "CUDA context: %s", e.msg);
            ctx_state = -1;
        } else {
            ctx_state = 1;
            atexit(at_exit);
        }
    }
    if (ctx_state != 1)
        return 0;
    sbr_nn_cuda_sync(&ctx);
    free_all();
    return 1;
}

const char *ct_skip_reason(void) { return skip_reason; }
sbr_nn_ctx *ct_ctx(void) { return &ctx; }

static void *host_alloc(size_t bytes)
{
    if (mem.nh == CT_MAX_PTRS) {
        fprintf(stderr, "cuda tests: too many buffers in one test\n");
        abort();
    }
    void *p = calloc(1, bytes ? bytes : 1);
    if (!p) {
        fprintf(stderr, "cuda tests: out of memory\n");
        abort();
    }
    return mem.host[mem.nh++] = p;
}

static void *dev_alloc(size_t bytes)
{
    if (mem.nd == CT_MAX_PTRS) {
        fprintf(stderr, "cuda tests: too many device buffers in one test\n");
        abort();
    }
    sbr_err e;
    void *p = sbr_cuda_malloc(bytes, &e);
    if (!p) {
        fprintf(stderr, "cuda tests: %s\n", e.msg);
        abort();
    }
    return mem.dev[mem.nd++] = p;
}

sbr_nn_ctx *ct_cpu_ctx(size_t bytes)
{
    static sbr_nn_ctx c;
    memset(&c, 0, sizeof c);
    c.scratch = host_alloc(bytes);
    c.scratch_bytes = bytes;
    return &c;
}

ct_buf ct_in(size_t n, float lo, float hi)
{
    ct_buf b = {host_alloc(n * sizeof(float)), dev_alloc(n * sizeof(float)), n};
    uint64_t seed = 0xc0dau + stream_no++;
    for (size_t i = 0; i < n; i++)
        b.h[i] = lo + (hi - lo) * sbr_rng_u01f(sbr_rng_hash(seed, i));
    sbr_cuda_h2d(b.d, b.h, n * sizeof(float));
    return b;
}

ct_buf ct_out(size_t n)
{
    ct_buf b = {host_alloc(n * sizeof(float)), dev_alloc(n * sizeof(float)), n};
    sbr_cuda_memset(b.d, 0xff, n * sizeof(float));
    return b;
}

float *ct_download(const float *dev, size_t n)
{
    float *h = host_alloc(n * sizeof(float));
    sbr_nn_cuda_sync(ct_ctx());
    sbr_cuda_d2h(h, dev, n * sizeof(float));
    return h;
}

ct_ibuf ct_ints(size_t n, int lo, int hi)
{
    ct_ibuf b = {host_alloc(n * sizeof(int32_t)), dev_alloc(n * sizeof(int32_t)), n};
    uint64_t seed = 0x1d5u + stream_no++;
    for (size_t i = 0; i < n; i++)
        b.h[i] = lo + (int32_t)(sbr_rng_hash(seed, i) % (uint64_t)(hi - lo + 1));
    sbr_cuda_h2d(b.d, b.h, n * sizeof(int32_t));
    return b;
}

ct_ibuf ct_ints_from(const int32_t *v, size_t n)
{
    ct_ibuf b = {host_alloc(n * sizeof(int32_t)), dev_alloc(n * sizeof(int32_t)), n};
    memcpy(b.h, v, n * sizeof(int32_t));
    sbr_cuda_h2d(b.d, b.h, n * sizeof(int32_t));
    return b;
}

ct_bbuf ct_bytes_out(size_t n)
{
    ct_bbuf b = {host_alloc(n), dev_alloc(n), n};
    sbr_cuda_memset(b.d, 0xab, n);
    return b;
}

int ct_check(const char *what, ct_buf b, double rtol, double atol)
{
    sbr_nn_cuda_sync(&ctx);
    float *g = host_alloc(b.n * sizeof(float));
    sbr_cuda_d2h(g, b.d, b.n * sizeof(float));
    int bad = 0;
    double worst = 0;
    for (size_t i = 0; i < b.n; i++) {
        double ref = b.h[i], got = g[i], tol = atol + rtol * fabs(ref);
        double diff = fabs(got - ref);
        double r = diff <= tol ? (tol > 0 ? diff / tol : 0) : (tol > 0 ? diff / tol : INFINITY);
        if (!(diff <= tol)) { /* NaN fails too */
            if (bad < 3)
                harness_fail(__FILE__, __LINE__, "%s[%zu]: gpu %.9g, cpu %.9g (tol %.3g)", what,
                             i, got, ref, tol);
            bad++;
        }
        if (r > worst || diff != diff)
            worst = r;
    }
    if (bad > 3)
        harness_fail(__FILE__, __LINE__, "%s: %d of %zu elements differ", what, bad, b.n);
    last_ratio = worst;
    return bad;
}

int ct_check_bits(const char *what, const void *dev, const void *host, size_t bytes)
{
    sbr_nn_cuda_sync(&ctx);
    unsigned char *g = host_alloc(bytes);
    sbr_cuda_d2h(g, dev, bytes);
    const unsigned char *h = host;
    for (size_t i = 0; i < bytes; i++)
        if (g[i] != h[i]) {
            harness_fail(__FILE__, __LINE__, "%s: byte %zu differs: gpu 0x%02x, cpu 0x%02x", what,
                         i, g[i], h[i]);
            return 1;
        }
    return 0;
}

double ct_last_ratio(void) { return last_ratio; }

/* GPU and CPU agree rank by rank, except where two scores are within the
 * tolerance of each other (a near tie may swap with other rounding). */
void ct_topk_compare(const ct_ibuf *idx, const ct_buf *sc, int B, int K)
{
    sbr_nn_cuda_sync(ct_ctx());
    int32_t gi[512];
    float gs[512];
    int swaps = 0;
    for (int b = 0; b < B; b++) {
        sbr_cuda_d2h(gi, idx->d + (size_t)b * K, (size_t)K * sizeof(int32_t));
        sbr_cuda_d2h(gs, sc->d + (size_t)b * K, (size_t)K * sizeof(float));
        for (int r = 0; r < K; r++) {
            int32_t ci = idx->h[(size_t)b * K + r];
            float cs = sc->h[(size_t)b * K + r];
            double tol = 1e-5 + 1e-4 * fabs(cs);
            if (!(fabs(gs[r] - cs) <= tol) && !(isinf(cs) && gs[r] == cs)) {
                harness_fail(__FILE__, __LINE__, "topk row %d rank %d: score gpu %.9g cpu %.9g",
                             b, r, gs[r], cs);
                return;
            }
            if (gi[r] != ci) {
                /* allowed only for a near tie with the neighbouring rank, or
                 * at the last rank with the first item left out (its score,
                 * checked above, is then within the tolerance) */
                int near = (r > 0 && fabs(sc->h[(size_t)b * K + r - 1] - cs) <= 2 * tol) ||
                           (r + 1 < K && fabs(sc->h[(size_t)b * K + r + 1] - cs) <= 2 * tol) ||
                           r == K - 1;
                if (!near) {
                    harness_fail(__FILE__, __LINE__, "topk row %d rank %d: item gpu %d cpu %d", b,
                                 r, gi[r], ci);
                    return;
                }
                swaps++;
            }
        }
    }
    if (swaps)
        printf("    (%d near-tie swaps)\n", swaps);
}
