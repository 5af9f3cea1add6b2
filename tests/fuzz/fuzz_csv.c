/* libFuzzer harness: the raw click-log readers and the preparation protocol
 * must never crash, hang or leak. The first byte picks the layout and a few
 * protocol options; the rest is the file. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "clicklog.h"
#include "prep.h"

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
    sbr_clicklog g;
    sbr_err e;
    if (sbr_log_parse_buffer("fuzz", (const char *)data + 1, (int64_t)size - 1, &lo, &g, &e) < 0)
        return 0;
    sbr_prep_opts o;
    sbr_prep_defaults(g.format, &o);
    o.min_support = 1 + ((sel >> 4) & 1);
    o.iterate = (sel >> 5) & 1;
    o.max_len = (sel >> 6) & 1 ? 3 : 0;
    o.unseen_keep = (sel >> 7) & 1;
    o.dedup = sel & 1;
    sbr_sessions out;
    sbr_counts c = {0};
    if (sbr_prep_log(&g, &o, &out, &c, &e) == 0)
        sbr_sessions_free(&out);
    sbr_log_free(&g);
    return 0;
}
