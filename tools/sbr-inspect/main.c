/* sbr-inspect: look inside sbr tensor files. */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "err.h"
#include "json.h"
#include "tensor_values.h"
#include "tfile.h"

static const char usage[] =
    "Usage: sbr-inspect [OPTION]... FILE...\n"
    "Print what an sbr tensor file holds: its kind, metadata (provenance included),\n"
    "and each tensor's dtype, shape and a summary (min, max, mean, first values);\n"
    "for a sessions file, how many sessions of each split carry a user.\n"
    "FILE may be '-' for standard input; compressed and plain files are accepted.\n"
    "\n"
    "  -t, --tensor NAME   print the values of tensor NAME and nothing else: one per\n"
    "                      line, a matrix one row per line (values apart by spaces)\n"
    "  -m, --meta KEY      print the metadata value KEY and nothing else\n"
    "  -k, --kind          print only the kind of each file\n"
    "      --json          print the header as JSON (metadata, dtypes, shapes, summaries)\n"
    "  -n, --first N       values shown per tensor in the summary (default 6)\n"
    "  -q, --quiet         no informational messages\n"
    "  -h, --help          show this help and exit\n"
    "      --version       show the version and exit\n"
    "\n"
    "Example: sbr-inspect -t test.items sessions.sbr | sort -n | uniq -c | sort -rn | head\n"
    "\n" SBR_HELP_EXIT;

typedef struct {
    double min, max, mean;
    int64_t nan;
} summary;

static summary summarise(const sbr_tensor *t)
{
    summary s = {INFINITY, -INFINITY, 0, 0};
    double sum = 0;
    int64_t n = 0;
    for (int64_t i = 0; i < t->numel; i++) {
        double v = sbr_tensor_get(t, i);
        if (isnan(v)) {
            s.nan++;
            continue;
        }
        s.min = v < s.min ? v : s.min;
        s.max = v > s.max ? v : s.max;
        sum += v;
        n++;
    }
    s.mean = n ? sum / (double)n : NAN;
    return s;
}

static void print_value(FILE *fp, const sbr_tensor *t, int64_t i)
{
    double v = sbr_tensor_get(t, i);
    if (t->dtype == SBR_I64)
        fprintf(fp, "%" PRId64, ((const int64_t *)t->data)[i]);
    else if (t->dtype == SBR_U64)
        fprintf(fp, "%" PRIu64, ((const uint64_t *)t->data)[i]);
    else if (sbr_dtype_is_int(t->dtype))
        fprintf(fp, "%.0f", v);
    else
        fprintf(fp, "%.9g", v);
}

static void shape_str(const sbr_tensor *t, char *out, size_t n)
{
    size_t k = (size_t)snprintf(out, n, "[");
    for (int d = 0; d < t->ndim && k < n; d++)
        k += (size_t)snprintf(out + k, n - k, d ? ", %lld" : "%lld", (long long)t->shape[d]);
    if (k < n)
        snprintf(out + k, n - k, "]");
}

static void print_human(const sbr_tfile *f, int first)
{
    printf("%s: %s (%s, %zu bytes decoded), sha256 %.16s…\n", f->path,
           *sbr_tfile_kind(f) ? sbr_tfile_kind(f) : "(no kind)",
           f->compressed ? "zstd" : "plain", f->buflen, f->sha256);
    printf("  metadata:\n");
    for (int i = 0; i < f->n_meta; i++)
        printf("    %s = %s\n", f->meta[i].key, f->meta[i].value);
    printf("  tensors: %d\n", f->n_tensors);
    for (int i = 0; i < f->n_tensors; i++) {
        const sbr_tensor *t = &f->tensors[i];
        char shp[128];
        shape_str(t, shp, sizeof shp);
        printf("    %-24s %-4s %-18s", t->name, sbr_dtype_name(t->dtype), shp);
        if (t->numel == 0) {
            printf(" (empty)\n");
            continue;
        }
        summary s = summarise(t);
        printf(" min %.6g max %.6g mean %.6g", s.min, s.max, s.mean);
        if (s.nan)
            printf(" nan %lld", (long long)s.nan);
        printf(" |");
        for (int64_t j = 0; j < t->numel && j < first; j++) {
            putchar(' ');
            print_value(stdout, t, j);
        }
        printf(t->numel > first ? " …\n" : "\n");
    }
}

/* A sessions file: how many sessions of each split carry a user (the
 * users tensors hold -1 for an anonymous one), which the summary's mean
 * does not tell. */
static void print_users(const sbr_tfile *f)
{
    static const char *const splits[] = {"train", "valid", "test"};
    char line[256] = "";
    size_t w = 0;
    for (int k = 0; k < 3; k++) {
        char name[32];
        snprintf(name, sizeof name, "%s.users", splits[k]);
        const sbr_tensor *t = sbr_tfile_find(f, name);
        if (!t || t->dtype != SBR_I64)
            continue;
        int64_t with = 0;
        for (int64_t i = 0; i < t->numel; i++)
            with += ((const int64_t *)t->data)[i] >= 0;
        w += (size_t)snprintf(line + w, sizeof line - w, "%s %s %lld of %lld", w ? "," : "",
                              splits[k], (long long)with, (long long)t->numel);
    }
    printf("  sessions with a user:%s\n", w ? line : " none (the file has no users)");
}

static void print_json(const sbr_tfile *f)
{
    sbr_buf b = {0};
    sbr_buf_puts(&b, "{\"file\":");
    sbr_buf_json_str(&b, f->path);
    sbr_buf_printf(&b, ",\"sha256\":\"%s\",\"compressed\":%s,\"metadata\":{", f->sha256,
                   f->compressed ? "true" : "false");
    for (int i = 0; i < f->n_meta; i++) {
        if (i)
            sbr_buf_puts(&b, ",");
        sbr_buf_json_str(&b, f->meta[i].key);
        sbr_buf_puts(&b, ":");
        sbr_buf_json_str(&b, f->meta[i].value);
    }
    sbr_buf_puts(&b, "},\"tensors\":[");
    for (int i = 0; i < f->n_tensors; i++) {
        const sbr_tensor *t = &f->tensors[i];
        sbr_buf_puts(&b, i ? ",{\"name\":" : "{\"name\":");
        sbr_buf_json_str(&b, t->name);
        sbr_buf_printf(&b, ",\"dtype\":\"%s\",\"shape\":[", sbr_dtype_name(t->dtype));
        for (int d = 0; d < t->ndim; d++)
            sbr_buf_printf(&b, d ? ",%lld" : "%lld", (long long)t->shape[d]);
        sbr_buf_puts(&b, "]");
        if (t->numel > 0) {
            summary s = summarise(t);
            if (isfinite(s.min) && isfinite(s.max) && isfinite(s.mean))
                sbr_buf_printf(&b, ",\"min\":%.17g,\"max\":%.17g,\"mean\":%.17g", s.min, s.max,
                               s.mean);
        }
        sbr_buf_puts(&b, "}");
    }
    sbr_buf_puts(&b, "]}\n");
    fputs(b.s, stdout);
    sbr_buf_free(&b);
}

int main(int argc, char **argv)
{
    sbr_cli_begin("sbr-inspect", argc, argv);
    enum { OPT_VERSION = 256, OPT_JSON };
    static const struct option opts[] = {
        {"tensor", required_argument, 0, 't'}, {"meta", required_argument, 0, 'm'},
        {"kind", no_argument, 0, 'k'},         {"json", no_argument, 0, OPT_JSON},
        {"first", required_argument, 0, 'n'},  {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},         {"version", no_argument, 0, OPT_VERSION},
        {0, 0, 0, 0}};
    const char *tensor = NULL, *meta = NULL;
    int kind_only = 0, json = 0, first = 6, c;
    while ((c = getopt_long(argc, argv, "t:m:kn:qh", opts, NULL)) != -1) {
        switch (c) {
        case 't': tensor = optarg; break;
        case 'm': meta = optarg; break;
        case 'k': kind_only = 1; break;
        case OPT_JSON: json = 1; break;
        case 'n': first = (int)sbr_arg_int("--first", optarg, 0, 1000000); break;
        case 'q': sbr_quiet = 1; break;
        case 'h': sbr_cli_help(usage);
        case OPT_VERSION: sbr_cli_version();
        default: sbr_cli_bad_option();
        }
    }
    if (optind >= argc)
        sbr_usage_error("no FILE given");
    if ((tensor || meta) && argc - optind > 1)
        sbr_usage_error("--tensor and --meta take a single FILE");
    for (int i = optind; i < argc; i++) {
        sbr_tfile f;
        sbr_err e;
        if (sbr_tfile_read(argv[i], &f, &e))
            sbr_fatal("%s: %s", argv[i], e.msg);
        if (tensor) {
            const sbr_tensor *t = sbr_tfile_find(&f, tensor);
            if (!t)
                sbr_fatal("%s: no tensor \"%s\"", argv[i], tensor);
            /* one value per line; a matrix (or more) one row of its last dimension */
            int64_t row = t->ndim >= 2 && t->shape[t->ndim - 1] > 0 ? t->shape[t->ndim - 1] : 1;
            for (int64_t j = 0; j < t->numel; j++) {
                print_value(stdout, t, j);
                putchar((j + 1) % row ? ' ' : '\n');
            }
        } else if (meta) {
            const char *v = sbr_tfile_meta(&f, meta);
            if (!v)
                sbr_fatal("%s: no metadata \"%s\"", argv[i], meta);
            puts(v);
        } else if (kind_only)
            printf("%s: %s\n", argv[i], sbr_tfile_kind(&f));
        else if (json)
            print_json(&f);
        else {
            print_human(&f, first);
            if (strcmp(sbr_tfile_kind(&f), "sbr.sessions") == 0)
                print_users(&f);
        }
        sbr_tfile_free(&f);
    }
    if (fflush(stdout) != 0 || ferror(stdout))
        sbr_fatal("write to stdout failed");
    return SBR_EXIT_OK;
}
