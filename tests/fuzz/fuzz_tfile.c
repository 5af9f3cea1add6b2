/* libFuzzer harness: the tensor-file reader must never crash, hang or leak on
 * any input, compressed or plain. */
#include <stddef.h>
#include <stdint.h>

#include "tfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sbr_tfile f;
    sbr_err e;
    if (sbr_tfile_parse(data, size, &f, &e) == 0) {
        /* Touch every tensor byte so that a wrong range shows up under ASan. */
        volatile uint8_t sink = 0;
        for (int i = 0; i < f.n_tensors; i++)
            for (size_t k = 0; k < f.tensors[i].nbytes; k++)
                sink ^= ((const uint8_t *)f.tensors[i].data)[k];
        (void)sink;
        sbr_tfile_free(&f);
    }
    return 0;
}
