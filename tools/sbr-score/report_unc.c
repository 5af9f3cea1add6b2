/* sbr-score: the uncertainty part of the report (report_unc.h). Rates and
 * probabilities in percent as every metric sbr shows, entropy in nats. */
#include "report_unc.h"

static void print_deciles(FILE *fp, const sbr_unc_metrics *u, const sbr_metrics *m)
{
    int c = m->n_cutoffs - 1, k = m->cutoffs[c];
    fprintf(fp, "\nby entropy decile, lowest first (@%d; entropy of the softmax each list ranks "
                "from, nats)\n%-7s %10s %17s %9s %8s %8s\n",
            k, "decile", "samples", "entropy", "top-1 p", "HR", "MRR");
    for (int g = 0; g < SBR_UNC_GROUPS; g++) {
        const sbr_unc_decile *d = &u->dec[g];
        if (!d->n) { /* fewer samples than deciles */
            fprintf(fp, "%-7d %10d %17s\n", g + 1, 0, "-");
            continue;
        }
        fprintf(fp, "%-7d %10lld %8.3f - %-6.3f %9.2f %8.2f %8.2f\n", g + 1, (long long)d->n,
                d->ent_min, d->ent_max, 100 * d->top1_mean, 100 * d->at[c].hr,
                100 * d->at[c].mrr);
    }
}

static void print_bins(FILE *fp, const sbr_unc_metrics *u)
{
    fprintf(fp, "\ncalibration of the top-1 probability: ECE %.2f (10 equal-width bins; top-1 "
                "accuracy %.2f, mean top-1 probability %.2f)\n%-9s %10s %11s %9s\n",
            100 * u->ece, 100 * u->acc, 100 * u->conf, "p", "samples", "confidence",
            "accuracy");
    for (int g = 0; g < SBR_UNC_GROUPS; g++) {
        const sbr_unc_bin *b = &u->bin[g];
        fprintf(fp, "[%.1f,%.1f%c %10lld", g / 10.0, (g + 1) / 10.0,
                g + 1 < SBR_UNC_GROUPS ? ')' : ']', (long long)b->n);
        if (b->n)
            fprintf(fp, " %11.2f %9.2f", 100 * b->conf, 100 * b->acc);
        fputc('\n', fp);
    }
}

void unc_print(FILE *fp, const sbr_unc_metrics *u, const sbr_metrics *m)
{
    print_deciles(fp, u, m);
    print_bins(fp, u);
}

static void json_decile(sbr_buf *b, const sbr_unc_decile *d, int g, const sbr_metrics *m)
{
    sbr_buf_printf(b, "%s{\"decile\":%d,\"samples\":%lld,\"entropy_min\":%.6f,"
                      "\"entropy_max\":%.6f,\"entropy_mean\":%.6f,\"top1_prob\":%.6f",
                   g ? "," : "", g + 1, (long long)d->n, d->ent_min, d->ent_max, d->ent_mean,
                   100 * d->top1_mean);
    for (int c = 0; c < m->n_cutoffs; c++)
        sbr_buf_printf(b, ",\"HR@%d\":%.6f,\"MRR@%d\":%.6f,\"NDCG@%d\":%.6f", m->cutoffs[c],
                       100 * d->at[c].hr, m->cutoffs[c], 100 * d->at[c].mrr, m->cutoffs[c],
                       100 * d->at[c].ndcg);
    sbr_buf_puts(b, "}");
}

void unc_json(sbr_buf *b, const sbr_unc_metrics *u, const sbr_metrics *m)
{
    sbr_buf_printf(b, ",\"uncertainty\":{\"samples\":%lld,\"ece\":%.6f,\"top1_accuracy\":%.6f,"
                      "\"top1_prob\":%.6f,\"deciles\":[",
                   (long long)u->n, 100 * u->ece, 100 * u->acc, 100 * u->conf);
    for (int g = 0; g < SBR_UNC_GROUPS; g++)
        json_decile(b, &u->dec[g], g, m);
    sbr_buf_puts(b, "],\"bins\":[");
    for (int g = 0; g < SBR_UNC_GROUPS; g++) {
        const sbr_unc_bin *x = &u->bin[g];
        sbr_buf_printf(b, "%s{\"lo\":%.1f,\"hi\":%.1f,\"samples\":%lld,\"confidence\":%.6f,"
                          "\"accuracy\":%.6f}",
                       g ? "," : "", g / 10.0, (g + 1) / 10.0, (long long)x->n, 100 * x->conf,
                       100 * x->acc);
    }
    sbr_buf_puts(b, "]}");
}
