/* libFuzzer harness: the restricted pickle reader and the SR-GNN preparation
 * must never crash, hang or leak on any bytes. The input is split at its
 * first 0x00 0xff pair into a training and a test pickle (no split: the
 * whole input is both). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pickle.h"
#include "prep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sbr_pickle p;
    sbr_err e;
    if (sbr_pickle_parse(data, size, &p, &e) == 0) {
        sbr_pk_seqs s;
        if (sbr_pickle_seqs(&p, p.root, 1, INT64_MAX, "x", &s, &e) == 0)
            sbr_pk_seqs_free(&s);
        int64_t *v, n;
        if (sbr_pickle_ints(&p, p.root, 1, INT64_MAX, "x", &v, &n, &e) == 0)
            free(v);
        sbr_pickle_free(&p);
    }
    size_t cut = size;
    for (size_t i = 0; i + 1 < size; i++)
        if (data[i] == 0 && data[i + 1] == 0xff) {
            cut = i;
            break;
        }
    const uint8_t *te = cut < size ? data + cut + 2 : data;
    size_t nte = cut < size ? size - cut - 2 : size;
    sbr_prep_opts o;
    sbr_prep_defaults(SBR_FMT_SRGNN, &o);
    o.unseen_keep = size & 1;
    sbr_sessions out;
    sbr_counts c = {0};
    int inferred;
    if (sbr_prep_srgnn(data, cut, "train", (int)(size & 2) >> 1, te, nte, "test", &o, &out, &c, &inferred, &e) == 0) {
        for (int k = 0; k < SBR_NSPLITS; k++) {
            sbr_samples smp;
            sbr_samples_build(&out.split[k], out.min_prefix, &smp);
            sbr_samples_free(&smp);
        }
        sbr_sessions_free(&out);
    }
    return 0;
}
