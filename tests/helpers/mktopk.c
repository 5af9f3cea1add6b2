/* Test helper: writes a small top-K file.
 *   mktopk PATH [good|dup|range|order|shape]   a valid file, or one broken that way */
#include <string.h>

#include "cli.h"
#include "err.h"
#include "topk.h"

int main(int argc, char **argv)
{
    sbr_cli_begin("mktopk", argc, argv);
    if (argc < 2)
        sbr_usage_error("usage: mktopk PATH [good|dup|range|order|shape]");
    const char *mode = argc > 2 ? argv[2] : "good";
    static int32_t items[9] = {5, 2, 7, 1, 3, 4, 2, 5, 0};
    static float scores[9] = {3, 2, 1, 3, 2, 1, 3, 2, 0};
    static int32_t targets[3] = {2, 9, 2};
    static int32_t plen[3] = {1, 4, 12};
    static uint8_t rep[3] = {0, 0, 1};
    if (!strcmp(mode, "dup"))
        items[1] = 5;
    if (!strcmp(mode, "range"))
        items[2] = 11;
    if (!strcmp(mode, "order"))
        scores[1] = 4;
    sbr_topk t = {.n = 3, .k = 3, .n_items = 10, .items = items, .scores = scores,
                  .targets = targets, .prefix_len = plen, .repeat = rep};
    sbr_tw *w = sbr_tw_new("sbr.topk");
    if (!strcmp(mode, "shape")) { /* 3 lists but 2 targets */
        int64_t shape[2] = {3, 3};
        sbr_tw_meta(w, "n_items", "10");
        sbr_tw_meta(w, "exclude_seen", "0");
        sbr_tw_add(w, "items", SBR_I32, 2, shape, items);
        sbr_tw_add(w, "scores", SBR_F32, 2, shape, scores);
        sbr_tw_add1(w, "targets", SBR_I32, 2, targets);
        sbr_tw_add1(w, "prefix_len", SBR_I32, 2, plen);
        sbr_tw_add1(w, "repeat", SBR_U8, 2, rep);
    } else
        sbr_topk_add_to(&t, w);
    sbr_err e;
    if (sbr_tw_write(w, argv[1], SBR_ZSTD_LEVEL, &e))
        sbr_fatal("%s: %s", argv[1], e.msg);
    sbr_tw_free(w);
    return 0;
}
