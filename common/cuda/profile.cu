// Where the GPU time of a training step goes, launch site by launch site
// (cuda/nn_cuda.h: sbr_cuda_prof_*). There is no Nsight Systems on the lent
// machines, so this measures with CUDA events: every SBR_CUDA_LAUNCHED and
// SBR_CUBLAS_CHECK of a profiled step records an event after its call, and
// the time between two events is charged to the later call (with whatever
// copies or library launches were queued since the one before).
//
// Timed as they come, those gaps would also hold the GPU's idle time while
// the host is still launching. So a profiled step first queues a kernel that
// spins for a fixed time: the host queues the whole step behind it, and the
// GPU then runs the queue back to back. A step whose host took longer than
// the hold is counted apart (its figures would include idle time). The
// host's clock at each mark also charges the host's time between two marks
// (less the marks' own event records) to the later one: what queueing each
// call costs the host.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda/kernels.cuh"

#define PROF_MAX_MARKS 4096 // events of one step
#define PROF_MAX_SITES 512  // distinct launch sites

typedef struct {
    const char *file, *what;
    int line;
    long long calls;
    double ms, host_ms; /* GPU time, and the host's time queueing it */
} prof_site;

typedef struct {
    const char *file, *what;
    int line;
    double host_in, host; /* host clock (ms) after the call, after the event */
} prof_mark;

static struct {
    cudaStream_t stream;
    cudaEvent_t ev[PROF_MAX_MARKS + 1];
    int created;
    prof_mark mark[PROF_MAX_MARKS];
    int n_marks, overflow;
    double host_t0;
    prof_site site[PROF_MAX_SITES];
    int n_sites;
    long long steps, steps_too_slow, steps_overflow;
    double step_ms, step_host_ms;
} prof;

extern "C" int sbr_cuda_prof_on = 0;

static double host_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

// Spins for ns nanoseconds of the device's global timer.
__global__ void k_prof_hold(unsigned long long ns)
{
    unsigned long long t0, t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t0));
    do
        asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
    while (t - t0 < ns);
}

#define PROF_HOLD_MS 20.0

extern "C" void sbr_cuda_prof_begin(sbr_nn_ctx *ctx)
{
    if (!prof.created) {
        for (int i = 0; i <= PROF_MAX_MARKS; i++)
            SBR_CUDA_CHECK(cudaEventCreate(&prof.ev[i]));
        prof.created = 1;
    }
    prof.stream = sbr_cuda_stream(ctx);
    SBR_CUDA_CHECK(cudaStreamSynchronize(prof.stream));
    k_prof_hold<<<1, 1, 0, prof.stream>>>((unsigned long long)(PROF_HOLD_MS * 1e6));
    SBR_CUDA_CHECK(cudaGetLastError());
    SBR_CUDA_CHECK(cudaEventRecord(prof.ev[PROF_MAX_MARKS], prof.stream)); // the step's start
    prof.n_marks = 0;
    prof.overflow = 0;
    prof.host_t0 = host_ms();
    sbr_cuda_prof_on = 1;
}

extern "C" void sbr_cuda_prof_mark(const char *file, int line, const char *what)
{
    double in = host_ms();
    if (prof.n_marks >= PROF_MAX_MARKS) {
        prof.overflow = 1;
        return;
    }
    prof_mark *m = &prof.mark[prof.n_marks];
    m->file = file, m->line = line, m->what = what;
    m->host_in = in;
    // cudaEventRecord is itself checked without a mark (no recursion)
    cudaError_t err = cudaEventRecord(prof.ev[prof.n_marks], prof.stream);
    if (err != cudaSuccess)
        sbr_cuda_fail(__FILE__, __LINE__, "cudaEventRecord", cudaGetErrorString(err));
    m->host = host_ms();
    prof.n_marks++;
}

static prof_site *site_of(const prof_mark *m)
{
    for (int i = 0; i < prof.n_sites; i++)
        if (prof.site[i].line == m->line && strcmp(prof.site[i].file, m->file) == 0 &&
            strcmp(prof.site[i].what, m->what) == 0)
            return &prof.site[i];
    if (prof.n_sites == PROF_MAX_SITES)
        return NULL;
    prof_site *s = &prof.site[prof.n_sites++];
    s->file = m->file, s->line = m->line, s->what = m->what, s->calls = 0, s->ms = 0;
    s->host_ms = 0;
    return s;
}

extern "C" void sbr_cuda_prof_end(void)
{
    sbr_cuda_prof_on = 0;
    double host = host_ms() - prof.host_t0;
    SBR_CUDA_CHECK(cudaStreamSynchronize(prof.stream));
    if (prof.overflow) { // more launches than events: not counted
        prof.steps_overflow++;
        return;
    }
    if (host > 0.8 * PROF_HOLD_MS) { // the GPU may have idled (or the step waited for it)
        prof.steps_too_slow++;
        return;
    }
    cudaEvent_t prev = prof.ev[PROF_MAX_MARKS];
    double prev_host = prof.host_t0;
    for (int i = 0; i < prof.n_marks; i++) {
        float ms = 0;
        SBR_CUDA_CHECK(cudaEventElapsedTime(&ms, prev, prof.ev[i]));
        prof_site *s = site_of(&prof.mark[i]);
        if (s)
            s->calls++, s->ms += ms, s->host_ms += prof.mark[i].host_in - prev_host;
        prof.step_host_ms += prof.mark[i].host_in - prev_host;
        prof.step_ms += ms;
        prev = prof.ev[i];
        prev_host = prof.mark[i].host;
    }
    prof_mark tail = {"(after the last mark)", "host only", 0, 0, 0};
    prof_site *s = site_of(&tail);
    double rest = host + prof.host_t0 - prev_host;
    if (s)
        s->calls++, s->host_ms += rest;
    prof.step_host_ms += rest;
    prof.steps++;
}

static int by_time(const void *a, const void *b)
{
    double x = ((const prof_site *)a)->ms, y = ((const prof_site *)b)->ms;
    return (x < y) - (x > y);
}

extern "C" void sbr_cuda_prof_report(FILE *out, const char *title)
{
    if (prof.steps == 0) {
        fprintf(out, "%s: no step profiled: %lld took the host longer than the %.0f ms hold "
                     "(a step that waits for the GPU, e.g. --clip reading the norm, cannot be "
                     "profiled), %lld had over %d launches\n",
                title, prof.steps_too_slow, PROF_HOLD_MS, prof.steps_overflow, PROF_MAX_MARKS);
        prof.steps_too_slow = prof.steps_overflow = 0;
        return;
    }
    qsort(prof.site, (size_t)prof.n_sites, sizeof prof.site[0], by_time);
    double per = 1.0 / (double)prof.steps;
    long long calls = 0;
    for (int i = 0; i < prof.n_sites; i++)
        if (prof.site[i].line > 0) // not the host's tail
            calls += prof.site[i].calls;
    fprintf(out, "%s: GPU time of a step, %lld steps profiled (%lld left out): %.4f ms in %.1f "
                 "marked launches; the host's time queueing them: %.4f ms\n",
            title, prof.steps, prof.steps_too_slow + prof.steps_overflow, prof.step_ms * per,
            (double)calls * per, prof.step_host_ms * per);
    fprintf(out, "| launch site | what | calls / step | GPU ms / step | share | host ms / step |\n"
                 "|---|---|---|---|---|---|\n");
    for (int i = 0; i < prof.n_sites; i++) {
        const prof_site *s = &prof.site[i];
        const char *base = strrchr(s->file, '/');
        fprintf(out, "| %s:%d | %s | %.1f | %.4f | %.1f%% | %.4f |\n", base ? base + 1 : s->file,
                s->line, s->what, (double)s->calls * per, s->ms * per,
                100 * s->ms / prof.step_ms, s->host_ms * per);
    }
    prof.n_sites = 0;
    prof.steps = prof.steps_too_slow = prof.steps_overflow = 0;
    prof.step_ms = prof.step_host_ms = 0;
}
