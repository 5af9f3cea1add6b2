/* libFuzzer harness, differential: a Kaggle events.csv read from a file goes
 * through the mapped reader and its straight-line row scanner (clicklog.c,
 * kaggle_run), from a buffer through the general line parser. Both must give
 * the same result, row for row, or the same error. The first byte picks
 * --skip-bad and the event types. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clicklog.h"

static char path[64];

static void remove_temp(void) { unlink(path); }

static const char *temp_path(void)
{
    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/sbr-fuzz-kaggle-%d.csv", (int)getpid());
        atexit(remove_temp);
    }
    return path;
}

static void same(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "mapped and buffered readers differ: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    const char *text = (const char *)data + 1;
    size_t n = size - 1;
    const char *path = temp_path();
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(text, 1, n, f) != n || fclose(f) != 0)
        abort();
    sbr_log_opts lo = {.format = SBR_FMT_KAGGLE, .skip_bad = sel & 1,
                       .events = ((sel >> 1) & 7) ? (sel >> 1) & 7 : SBR_EV_VIEW};
    sbr_clicklog a, b;
    sbr_err ea = {0}, eb = {0};
    int ra = sbr_log_read(path, &lo, &a, &ea);
    int rb = sbr_log_parse_buffer(path, text, (int64_t)n, &lo, &b, &eb);
    same(ra == rb, "return code");
    if (ra < 0) {
        same(strcmp(ea.msg, eb.msg) == 0, "error message");
        return 0;
    }
    same(a.n == b.n, "rows kept");
    same(a.lines == b.lines && a.rows == b.rows && a.bad_rows == b.bad_rows &&
             a.skipped_events == b.skipped_events && a.blank_lines == b.blank_lines,
         "counts");
    for (int64_t i = 0; i < a.n; i++)
        same(a.key[i] == b.key[i] && a.item[i] == b.item[i] && a.t[i] == b.t[i], "a row");
    sbr_log_free(&a);
    sbr_log_free(&b);
    return 0;
}
