/* Test helper: writes a small tensor file with known values.
 *   mksample KIND PATH [LEVEL]   (PATH '-' for stdout; LEVEL 0 = plain) */
#include <stdlib.h>

#include "cli.h"
#include "err.h"
#include "tfile.h"

int main(int argc, char **argv)
{
    sbr_cli_begin("mksample", argc, argv);
    if (argc < 3)
        sbr_usage_error("usage: mksample KIND PATH [LEVEL]");
    static const int64_t offsets[4] = {0, 3, 5, 9};
    static const int32_t items[9] = {1, 2, 3, 2, 4, 5, 1, 5, 2};
    static const float emb[2][3] = {{0.25f, -1.5f, 3.0f}, {1e-3f, 42.0f, -0.0f}};
    static const double dbl[3] = {3.141592653589793, -2.718281828459045, 1e300};
    static const uint8_t flags[5] = {1, 0, 1, 1, 0};
    static const int16_t small[2] = {-32768, 32767};
    sbr_tw *w = sbr_tw_new(argv[1]);
    sbr_tw_meta(w, "note", "written by tests/helpers/mksample.c");
    sbr_tw_add1(w, "offsets", SBR_I64, 4, offsets);
    sbr_tw_add1(w, "items", SBR_I32, 9, items);
    int64_t shape[2] = {2, 3};
    sbr_tw_add(w, "emb", SBR_F32, 2, shape, emb);
    sbr_tw_add1(w, "dbl", SBR_F64, 3, dbl);
    sbr_tw_add1(w, "flags", SBR_BOOL, 5, flags);
    sbr_tw_add1(w, "small", SBR_I16, 2, small);
    sbr_err e;
    if (sbr_tw_write(w, argv[2], argc > 3 ? atoi(argv[3]) : SBR_ZSTD_LEVEL, &e))
        sbr_fatal("%s: %s", argv[2], e.msg);
    sbr_tw_free(w);
    return 0;
}
