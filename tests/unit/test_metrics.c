#include <math.h>
#include <string.h>

#include "harness.h"
#include "metrics.h"

TEST(metrics_hand_computed)
{
    int32_t items[9] = {5, 2, 7, /**/ 1, 3, 4, /**/ 2, 5, 1};
    float scores[9] = {3, 2, 1, 3, 2, 1, 3, 2, 1};
    int32_t targets[3] = {2, 9, 2};
    int32_t plen[3] = {1, 4, 12};
    uint8_t rep[3] = {0, 0, 1};
    sbr_topk t = {.n = 3, .k = 3, .n_items = 10, .items = items, .scores = scores,
                  .targets = targets, .prefix_len = plen, .repeat = rep};
    int cut[2] = {1, 3};
    sbr_metrics m;
    sbr_metrics_compute(&t, cut, 2, SBR_TASK_STANDARD, &m);
    CHECK_EQ_I64(m.n_samples, 3);
    CHECK_NEAR(m.all[0].hr, 1.0 / 3, 1e-12);
    CHECK_NEAR(m.all[1].hr, 2.0 / 3, 1e-12);
    CHECK_NEAR(m.all[1].mrr, (0.5 + 0 + 1) / 3, 1e-12);
    CHECK_NEAR(m.all[1].ndcg, (1 / log2(3.0) + 1) / 3, 1e-12);
    CHECK_NEAR(m.all[0].mrr, 1.0 / 3, 1e-12);
    CHECK_NEAR(m.coverage[0], 0.3, 1e-12);
    CHECK_NEAR(m.coverage[1], 0.6, 1e-12);
    /* buckets: 1 -> "1", 4 -> "4", 12 -> "10+" */
    CHECK_EQ_I64(m.by_len[0][1].n, 1);
    CHECK_EQ_I64(m.by_len[3][1].n, 1);
    CHECK_EQ_I64(m.by_len[6][1].n, 1);
    CHECK_NEAR(m.by_len[6][1].mrr, 1.0, 1e-12);
    /* Next-unseen drops the repeat (row 2). */
    sbr_metrics_compute(&t, cut, 2, SBR_TASK_NEXT_UNSEEN, &m);
    CHECK_EQ_I64(m.n_samples, 2);
    CHECK_EQ_I64(m.n_skipped, 1);
    CHECK_NEAR(m.all[1].hr, 0.5, 1e-12);
    CHECK_NEAR(m.all[1].mrr, 0.25, 1e-12);
}

TEST(metrics_len_buckets)
{
    CHECK_EQ_I64(sbr_len_bucket(1), 0);
    CHECK_EQ_I64(sbr_len_bucket(4), 3);
    CHECK_EQ_I64(sbr_len_bucket(5), 4);
    CHECK_EQ_I64(sbr_len_bucket(6), 4);
    CHECK_EQ_I64(sbr_len_bucket(9), 5);
    CHECK_EQ_I64(sbr_len_bucket(10), 6);
    CHECK_EQ_I64(sbr_len_bucket(500), 6);
}
