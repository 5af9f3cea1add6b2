/* Progress on stderr for long steps: a redrawn bar (done/total, rate, ETA)
 * when stderr is a terminal, plain periodic lines when it is not, nothing
 * when quiet. */
#ifndef SBR_PROGRESS_H
#define SBR_PROGRESS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    char label[64];
    char unit[16];
    int64_t total; /* 0 when unknown */
    int64_t done;
    double t_start, t_last;
    int tty;
    int active;
} sbr_progress;

void sbr_progress_start(sbr_progress *p, const char *label, int64_t total, const char *unit);
/* Cheap to call often: draws at most a few times a second (terminal) or every
 * 10 s (SBR_PROGRESS_SECONDS overrides) otherwise. extra: e.g. "loss 3.21". */
void sbr_progress_update(sbr_progress *p, int64_t done, const char *extra);
/* Final line with the total time and mean rate. */
void sbr_progress_end(sbr_progress *p, const char *extra);

/* Monotonic seconds. */
double sbr_now(void);
/* Peak resident memory of this process in bytes (from /proc). */
int64_t sbr_peak_rss(void);

#ifdef __cplusplus
}
#endif

#endif
