/* sbr-score: the uncertainty part of the report (report_unc.h). Rates and
 * probabilities in percent as every metric sbr shows, entropy in nats, a
 * sampling model's spread as the distance it is. */
#include "report_unc.h"

/* What a table of deciles is by: its heading and the key's column. */
typedef struct {
    const char *name;  /* the key's column and its JSON members' prefix */
    const char *about; /* what it is, in the heading */
    int spread;        /* the key is a spread (its own number format) */
} decile_key;

static const decile_key by_entropy = {"entropy",
                                      "entropy of the softmax each list ranks from, nats", 0};
static const decile_key by_spread = {
    "spread", "RMS distance of the K sampled session vectors from their mean", 1};

static void print_deciles(FILE *fp, const sbr_unc_decile *dec, const decile_key *key,
                          const sbr_metrics *m)
{
    int c = m->n_cutoffs - 1, k = m->cutoffs[c];
    int w = key->spread ? 23 : 17; /* the range's column */
    fprintf(fp, "\nby %s decile, lowest first (@%d; %s)\n%-7s %10s %*s %9s %8s %8s\n", key->name, k,
            key->about, "decile", "samples", w, key->name, "top-1 p", "HR", "MRR");
    for (int g = 0; g < SBR_UNC_GROUPS; g++) {
        const sbr_unc_decile *d = &dec[g];
        if (!d->n) { /* fewer samples than deciles */
            fprintf(fp, "%-7d %10d %*s\n", g + 1, 0, w, "-");
            continue;
        }
        fprintf(fp, "%-7d %10lld ", g + 1, (long long)d->n);
        if (key->spread)
            fprintf(fp, "%#10.4g - %-#10.4g", d->key_min, d->key_max);
        else
            fprintf(fp, "%8.3f - %-6.3f", d->key_min, d->key_max);
        fprintf(fp, " %9.2f %8.2f %8.2f\n", 100 * d->top1_mean, 100 * d->at[c].hr,
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
    print_deciles(fp, u->dec, &by_entropy, m);
    if (u->has_spread)
        print_deciles(fp, u->sdec, &by_spread, m);
    print_bins(fp, u);
}

/* A decile as a JSON object; the entropy's in %.6f as ever, a spread (a
 * distance of any scale) in %.9g. */
static void json_decile(sbr_buf *b, const sbr_unc_decile *d, int g, const decile_key *key,
                        const sbr_metrics *m)
{
    sbr_buf_printf(b, "%s{\"decile\":%d,\"samples\":%lld", g ? "," : "", g + 1, (long long)d->n);
    const char *part[3] = {"min", "max", "mean"};
    const double v[3] = {d->key_min, d->key_max, d->key_mean};
    for (int i = 0; i < 3; i++) {
        if (key->spread)
            sbr_buf_printf(b, ",\"%s_%s\":%.9g", key->name, part[i], v[i]);
        else
            sbr_buf_printf(b, ",\"%s_%s\":%.6f", key->name, part[i], v[i]);
    }
    sbr_buf_printf(b, ",\"top1_prob\":%.6f", 100 * d->top1_mean);
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
        json_decile(b, &u->dec[g], g, &by_entropy, m);
    sbr_buf_puts(b, "],\"bins\":[");
    for (int g = 0; g < SBR_UNC_GROUPS; g++) {
        const sbr_unc_bin *x = &u->bin[g];
        sbr_buf_printf(b, "%s{\"lo\":%.1f,\"hi\":%.1f,\"samples\":%lld,\"confidence\":%.6f,"
                          "\"accuracy\":%.6f}",
                       g ? "," : "", g / 10.0, (g + 1) / 10.0, (long long)x->n, 100 * x->conf,
                       100 * x->acc);
    }
    sbr_buf_puts(b, "]");
    if (u->has_spread) {
        sbr_buf_puts(b, ",\"spread_deciles\":[");
        for (int g = 0; g < SBR_UNC_GROUPS; g++)
            json_decile(b, &u->sdec[g], g, &by_spread, m);
        sbr_buf_puts(b, "]");
    }
    sbr_buf_puts(b, "}");
}
