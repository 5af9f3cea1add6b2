/* Test helper: writes a small top-K file.
 *   mktopk PATH [good|dup|range|order|shape]   a valid file, or one broken that way
 *   mktopk PATH unc|unc-half   20 samples with their uncertainty, whose entropy
 *                              deciles and calibration are known (unc_file), or
 *                              the entropy without the top-1 probability */
#include <string.h>

#include "cli.h"
#include "err.h"
#include "topk.h"

/* 20 samples; the j-th lowest entropy is j / 10, written in the order
 * j = 7 i mod 20. Lists [1, 2]: the target is item 1 for j < 10, item 2 for
 * j < 14, else 3 (a miss). Top-1 probabilities, exact in binary: 1 (j < 2),
 * 0.875, 0.75, 0.625, 0.5 (a bin's lower edge), 0.375, 0.25 (pairs), then
 * 0.125 (j >= 14). tests/cli/test_uncertainty.sh says what follows. */
static void unc_file(sbr_tw *w, int half)
{
    static int32_t items[40], targets[20], plen[20];
    static float scores[40], ent[20], p1[20];
    static uint8_t rep[20];
    static const float pj[7] = {1, 0.875f, 0.75f, 0.625f, 0.5f, 0.375f, 0.25f};
    for (int i = 0; i < 20; i++) {
        int j = 7 * i % 20;
        items[2 * i] = 1, items[2 * i + 1] = 2, scores[2 * i] = 2, scores[2 * i + 1] = 1;
        targets[i] = j < 10 ? 1 : j < 14 ? 2 : 3;
        plen[i] = 1 + i % 4;
        ent[i] = (float)j / 10;
        p1[i] = j < 14 ? pj[j / 2] : 0.125f;
    }
    sbr_topk t = {.n = 20, .k = 2, .n_items = 10, .items = items, .scores = scores,
                  .targets = targets, .prefix_len = plen, .repeat = rep,
                  .entropy = half ? NULL : ent, .top1 = half ? NULL : p1};
    sbr_topk_add_to(&t, w);
    if (half)
        sbr_tw_add1(w, "entropy", SBR_F32, 20, ent);
}

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
    if (!strncmp(mode, "unc", 3))
        unc_file(w, !strcmp(mode, "unc-half"));
    else if (!strcmp(mode, "shape")) { /* 3 lists but 2 targets */
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
