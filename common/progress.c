#include "progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"

double sbr_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int64_t sbr_peak_rss(void)
{
    FILE *fp = fopen("/proc/self/status", "r");
    if (!fp)
        return -1;
    char line[256];
    long long kb = -1;
    while (fgets(line, sizeof line, fp))
        if (strncmp(line, "VmHWM:", 6) == 0) {
            kb = atoll(line + 6);
            break;
        }
    fclose(fp);
    return kb < 0 ? -1 : (int64_t)kb * 1024;
}

static double plain_interval(void)
{
    const char *s = getenv("SBR_PROGRESS_SECONDS");
    double v = s ? atof(s) : 10.0;
    return v > 0 ? v : 10.0;
}

void sbr_progress_start(sbr_progress *p, const char *label, int64_t total, const char *unit)
{
    memset(p, 0, sizeof *p);
    snprintf(p->label, sizeof p->label, "%s", label);
    snprintf(p->unit, sizeof p->unit, "%s", unit ? unit : "");
    p->total = total;
    p->t_start = p->t_last = sbr_now();
    p->tty = isatty(STDERR_FILENO);
    p->active = !sbr_quiet;
}

static void human(double x, char *out, size_t n)
{
    if (x >= 1e9)
        snprintf(out, n, "%.2fG", x / 1e9);
    else if (x >= 1e6)
        snprintf(out, n, "%.2fM", x / 1e6);
    else if (x >= 1e4)
        snprintf(out, n, "%.1fk", x / 1e3);
    else
        snprintf(out, n, "%.0f", x);
}

static void draw(sbr_progress *p, const char *extra, int final)
{
    double el = sbr_now() - p->t_start;
    double rate = el > 0 ? (double)p->done / el : 0;
    char done[32], total[32], r[32], eta[32] = "";
    human((double)p->done, done, sizeof done);
    human((double)p->total, total, sizeof total);
    human(rate, r, sizeof r);
    if (p->total > 0 && rate > 0 && !final) {
        double left = (double)(p->total - p->done) / rate;
        snprintf(eta, sizeof eta, " ETA %dm%02ds", (int)(left / 60), (int)left % 60);
    } else if (final)
        snprintf(eta, sizeof eta, " in %.1fs", el);
    char bar[32] = "";
    if (p->tty && p->total > 0) {
        int w = 20, k = (int)(w * (double)p->done / (double)p->total);
        k = k < 0 ? 0 : k > w ? w : k;
        bar[0] = '[';
        for (int i = 0; i < w; i++)
            bar[1 + i] = i < k ? '#' : '.';
        bar[w + 1] = ']';
        bar[w + 2] = ' ';
        bar[w + 3] = 0;
    }
    char line[512];
    if (p->total > 0)
        snprintf(line, sizeof line, "%s: %s %s%s/%s %s, %s %s/s%s%s%s", sbr_tool(), p->label, bar,
                 done, total, p->unit, r, p->unit, eta, extra ? ", " : "", extra ? extra : "");
    else
        snprintf(line, sizeof line, "%s: %s %s %s, %s %s/s%s%s%s", sbr_tool(), p->label, done,
                 p->unit, r, p->unit, eta, extra ? ", " : "", extra ? extra : "");
    if (p->tty)
        fprintf(stderr, "\r%s\033[K%s", line, final ? "\n" : "");
    else
        fprintf(stderr, "%s\n", line);
}

void sbr_progress_update(sbr_progress *p, int64_t done, const char *extra)
{
    p->done = done;
    if (!p->active)
        return;
    double now = sbr_now();
    if (now - p->t_last < (p->tty ? 0.2 : plain_interval()))
        return;
    p->t_last = now;
    draw(p, extra, 0);
}

void sbr_progress_end(sbr_progress *p, const char *extra)
{
    if (!p->active)
        return;
    draw(p, extra, 1);
    p->active = 0;
}
