/* libFuzzer harness: the raw click-log readers and the preparation protocol
 * must never crash, hang or leak. The first byte picks the layout and a few
 * protocol options; the rest is the file. When the rest holds a 0x00 0xff
 * pair, the bytes after the first one are a separate TEST log (a dataset
 * published already split), read from a file by sbr_log_read_test as
 * sbr-prep TRAIN TEST does. An odd size adds --train-recent 1/2; the size's
 * second bit ProxySR's protocol (sessions by user and day, keyed by user
 * in the column layouts, and a split 8:1:1 by count when not recent). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "clicklog.h"
#include "prep.h"

static char path[64];

static void remove_temp(void) { unlink(path); }

/* The TEST part in a file of its own: the file reader is what sbr-prep uses. */
static const char *write_test(const uint8_t *p, size_t n)
{
    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/sbr-fuzz-csv-test-%d", (int)getpid());
        atexit(remove_temp);
    }
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0)
        abort();
    return path;
}

/* Length of the training part of text[0..n): up to the first 0x00 0xff. */
static size_t train_part(const uint8_t *text, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++)
        if (text[i] == 0 && text[i + 1] == 0xff)
            return i;
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const sbr_format fmts[8] = {SBR_FMT_AUTO,       SBR_FMT_KAGGLE,  SBR_FMT_DIGINETICA,
                                       SBR_FMT_YOOCHOOSE,  SBR_FMT_SESSIONREC, SBR_FMT_RECBOLE,
                                       SBR_FMT_CSV,        SBR_FMT_CSV};
    uint8_t sel = data[0];
    sbr_log_opts lo = {.format = fmts[sel & 7], .skip_bad = (sel >> 3) & 1,
                       .events = SBR_EV_VIEW | SBR_EV_CART};
    if (lo.format == SBR_FMT_CSV) {
        lo.session_col = (sel & 1) ? "1" : NULL;
        lo.user_col = "2";
        lo.item_col = "3";
        lo.time_col = (sel >> 4) & 1 ? "4" : NULL;
        lo.no_header = (sel >> 5) & 1;
    }
    int proxysr = (size >> 1) & 1;
    lo.by_user = proxysr;
    const uint8_t *text = data + 1;
    size_t n = size - 1, ntr = train_part(text, n);
    sbr_clicklog g;
    sbr_err e;
    if (sbr_log_parse_buffer("fuzz", (const char *)text, (int64_t)ntr, &lo, &g, &e) < 0)
        return 0;
    if (ntr < n && sbr_log_read_test(write_test(text + ntr + 2, n - ntr - 2), &lo, &g, &e) < 0) {
        sbr_log_free(&g);
        return 0;
    }
    sbr_prep_opts o;
    sbr_prep_defaults(g.format, &o);
    o.min_support = 1 + ((sel >> 4) & 1);
    o.iterate = (sel >> 5) & 1;
    o.max_len = (sel >> 6) & 1 ? 3 : 0;
    o.unseen_keep = (sel >> 7) & 1;
    o.dedup = sel & 1;
    o.recent_num = o.recent_den = (int64_t)(size & 1);
    o.recent_den *= 2;
    o.cut_days = proxysr;
    if (proxysr && !(size & 1))
        o.split[0] = 8, o.split[1] = 1, o.split[2] = 1;
    sbr_sessions out;
    sbr_counts c = {0};
    if (sbr_prep_log(&g, &o, &out, &c, &e) == 0)
        sbr_sessions_free(&out);
    sbr_log_free(&g);
    return 0;
}
