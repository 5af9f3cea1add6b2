/* A made-up batch of session graphs for the session-nodes tests (unit and
 * GPU): B sessions of L clicks over T nodes; session b owns nodes off[b] ..
 * off[b+1]-1 (1 to 4 of them), and its clicks (padding included) and its last
 * click point into them. node_sess holds at least 4 B entries. */
#ifndef SBR_TEST_SESSION_BATCH_H
#define SBR_TEST_SESSION_BATCH_H

#include <stdint.h>

static inline void session_batch(int B, int L, int32_t *alias, int32_t *last,
                                 int32_t *node_sess, int *T)
{
    int t = 0;
    for (int b = 0; b < B; b++) {
        int nodes = 1 + b % 4;
        for (int u = 0; u < nodes; u++)
            node_sess[t + u] = b;
        for (int j = 0; j < L; j++)
            alias[b * L + j] = t + (j * 5 + b) % nodes;
        last[b] = t + (b * 3) % nodes;
        t += nodes;
    }
    *T = t;
}

#endif
