#include "plot.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io.h"
#include "tfile.h"

sbr_plot_format sbr_plot_format_of(const char *path)
{
    size_t n = strlen(path);
    return n > 4 && strcmp(path + n - 4, ".png") == 0 ? SBR_PLOT_PNG : SBR_PLOT_SVG;
}

/* A file's name without folder and extension, as a gnuplot string: in single
 * quotes, where a quote is written twice. */
static void put_label(sbr_buf *b, const char *path)
{
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    sbr_buf_puts(b, "'");
    for (size_t i = 0; i < n; i++)
        sbr_buf_puts(b, base[i] == '\'' ? "''" : (char[]){base[i], 0});
    sbr_buf_puts(b, "'");
}

static void put_number(sbr_buf *b, const sbr_json *row, const char *key)
{
    const sbr_json *v = sbr_json_get(row, key);
    if (v && v->type == SBR_JNUM && isfinite(v->num))
        sbr_buf_printf(b, " %.9g", v->num);
    else
        sbr_buf_puts(b, " NaN"); /* gnuplot leaves a gap */
}

/* One log's epochs as a datablock $logI: epoch, loss, valid HR, valid MRR,
 * test HR, test MRR (NaN where the log has none). */
static int put_log(sbr_buf *b, const char *path, int i, int K, sbr_err *e)
{
    sbr_lines *r = sbr_lines_open(path, e);
    if (!r)
        return -1;
    char keys[4][32];
    snprintf(keys[0], sizeof keys[0], "valid_HR@%d", K);
    snprintf(keys[1], sizeof keys[1], "valid_MRR@%d", K);
    snprintf(keys[2], sizeof keys[2], "test_HR@%d", K);
    snprintf(keys[3], sizeof keys[3], "test_MRR@%d", K);
    sbr_buf_printf(b, "$log%d << EOD\n", i);
    int epochs = 0, rc = 0;
    size_t len;
    for (char *line; !rc && (line = sbr_lines_next(r, &len));) {
        sbr_json row;
        if (len == 0)
            continue;
        if (sbr_json_parse(line, len, &row, e)) {
            rc = sbr_err_prefix(e, "%s:%lld", path, (long long)sbr_lines_lineno(r));
            break;
        }
        const sbr_json *ep = sbr_json_get(&row, "epoch");
        if (row.type != SBR_JOBJ || !ep || ep->type != SBR_JNUM) {
            rc = sbr_errf(e, "%s:%lld: no \"epoch\": not a sbr-train --log file?", path,
                          (long long)sbr_lines_lineno(r));
        } else {
            sbr_buf_printf(b, "%.9g", ep->num);
            put_number(b, &row, "loss");
            for (int k = 0; k < 4; k++)
                put_number(b, &row, keys[k]);
            sbr_buf_puts(b, "\n");
            epochs++;
        }
        sbr_json_free(&row);
    }
    if (!rc && sbr_lines_error(r))
        rc = sbr_errf(e, "%s: %s", path, sbr_lines_error(r));
    if (!rc && !epochs)
        rc = sbr_errf(e, "%s: no epochs (a sbr-train --log file has one JSON line per epoch)", path);
    sbr_lines_close(r);
    sbr_buf_puts(b, "EOD\n");
    return rc;
}

static void put_terminal(sbr_buf *b, const sbr_plot_cfg *c, int width, int height)
{
    if (c->format == SBR_PLOT_PNG)
        sbr_buf_printf(b, "set terminal pngcairo noenhanced size %d,%d font 'sans,10'\n", width, height);
    else
        sbr_buf_printf(b, "set terminal svg noenhanced size %d,%d dynamic font 'sans,11'\n", width, height);
    sbr_buf_puts(b, "set grid\nset key bottom right\n");
}

/* One panel: column col of every log (and col + 2, dashed, when test too). */
static void put_panel(sbr_buf *b, const sbr_plot_cfg *c, const char *ylabel, int col, int test)
{
    sbr_buf_printf(b, "set ylabel '%s'\nplot ", ylabel);
    for (int i = 0; i < c->n_inputs; i++) {
        sbr_buf_printf(b, "%s$log%d using 1:%d with linespoints lc %d dt 1 title ", i ? ", " : "",
                       i, col, i + 1);
        put_label(b, c->inputs[i]);
        if (test) {
            sbr_buf_printf(b, ".' valid', $log%d using 1:%d with linespoints lc %d dt 2 title ", i,
                           col + 2, i + 1);
            put_label(b, c->inputs[i]);
            sbr_buf_puts(b, ".' test'");
        }
    }
    sbr_buf_puts(b, "\n");
}

static int curves_script(const sbr_plot_cfg *c, sbr_buf *b, sbr_err *e)
{
    for (int i = 0; i < c->n_inputs; i++)
        if (put_log(b, c->inputs[i], i, c->cutoff, e))
            return -1;
    put_terminal(b, c, 1320, 440);
    sbr_buf_puts(b, "set xlabel 'epoch'\nset style data linespoints\n");
    sbr_buf_puts(b, "set multiplot layout 1,3");
    if (c->title) {
        sbr_buf_puts(b, " title ");
        put_label(b, c->title); /* a title, quoted the same way (no extension to cut) */
    }
    sbr_buf_puts(b, "\n");
    put_panel(b, c, "training loss", 2, 0);
    char hr[32], mrr[32];
    snprintf(hr, sizeof hr, "HR@%d (%%)", c->cutoff);
    snprintf(mrr, sizeof mrr, "MRR@%d (%%)", c->cutoff);
    put_panel(b, c, hr, 3, 1);
    put_panel(b, c, mrr, 4, 1);
    sbr_buf_puts(b, "unset multiplot\n");
    return 0;
}

/* HR@K and MRR@K of one .metrics file, in percent. */
static int metrics_of(const char *path, int K, double out[2], sbr_err *e)
{
    sbr_tfile f;
    if (sbr_tfile_read(path, &f, e))
        return -1;
    int rc = sbr_tfile_expect_kind(&f, "sbr.metrics", e) ? sbr_err_prefix(e, "%s", path) : 0;
    const char *text = rc ? NULL : sbr_tfile_meta(&f, "metrics");
    sbr_json j = {0};
    if (!rc && (!text || sbr_json_parse(text, strlen(text), &j, e)))
        rc = text ? sbr_err_prefix(e, "%s: metadata \"metrics\"", path)
                  : sbr_errf(e, "%s: no \"metrics\" metadata", path);
    for (int k = 0; !rc && k < 2; k++) {
        char key[32];
        snprintf(key, sizeof key, k ? "MRR@%d" : "HR@%d", K);
        const sbr_json *v = sbr_json_get(&j, key);
        if (!v || v->type != SBR_JNUM)
            rc = sbr_errf(e, "%s: no %s (sbr-score --cutoffs)", path, key);
        else
            out[k] = v->num;
    }
    sbr_json_free(&j);
    sbr_tfile_free(&f);
    return rc;
}

static int bars_script(const sbr_plot_cfg *c, sbr_buf *b, sbr_err *e)
{
    sbr_buf_puts(b, "$bars << EOD\n");
    for (int i = 0; i < c->n_inputs; i++) {
        double v[2];
        if (metrics_of(c->inputs[i], c->cutoff, v, e))
            return -1;
        sbr_buf_printf(b, "%d %.6f %.6f\n", i, v[0], v[1]);
    }
    sbr_buf_puts(b, "EOD\n");
    put_terminal(b, c, 240 + 90 * c->n_inputs, 440);
    sbr_buf_puts(b, "set key outside top center horizontal\nset style data histograms\n"
                    "set style histogram clustered gap 1\nset style fill solid 0.8 border -1\n"
                    "set yrange [0:*]\nset ylabel '%'\nset xtics rotate by -30 left\nset xtics (");
    for (int i = 0; i < c->n_inputs; i++) {
        sbr_buf_puts(b, i ? ", " : "");
        put_label(b, c->inputs[i]);
        sbr_buf_printf(b, " %d", i);
    }
    sbr_buf_puts(b, ")\n");
    if (c->title) {
        sbr_buf_puts(b, "set title ");
        put_label(b, c->title);
        sbr_buf_puts(b, "\n");
    }
    sbr_buf_printf(b, "plot $bars using 2 title 'HR@%d', '' using 3 title 'MRR@%d'\n", c->cutoff,
                   c->cutoff);
    return 0;
}

int sbr_plot_script(const sbr_plot_cfg *c, int curves, sbr_buf *b, sbr_err *e)
{
    return curves ? curves_script(c, b, e) : bars_script(c, b, e);
}

/* Runs gnuplot on the script in file `script`; its standard output (the
 * picture) into *out; its last line on standard error into e on failure. */
static int run_gnuplot(const char *script, const char *errpath, sbr_buf *out, sbr_err *e)
{
    int fd[2];
    if (pipe(fd))
        return sbr_errf(e, "pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0)
        return close(fd[0]), close(fd[1]), sbr_errf(e, "fork: %s", strerror(errno));
    if (pid == 0) {
        dup2(fd[1], STDOUT_FILENO);
        close(fd[0]), close(fd[1]);
        if (!freopen(errpath, "w", stderr))
            _exit(126);
        execlp("gnuplot", "gnuplot", script, (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    char chunk[65536];
    ssize_t n;
    while ((n = read(fd[0], chunk, sizeof chunk)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0)
            sbr_buf_put(out, chunk, (size_t)n);
    close(fd[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        return sbr_errf(e, "gnuplot is not installed (apt-get install gnuplot-nox)");
    char last[512] = "", line[512];
    FILE *f = fopen(errpath, "r");
    while (f && fgets(line, sizeof line, f))
        if (line[strspn(line, " \t\r\n")])
            snprintf(last, sizeof last, "%s", line);
    if (f)
        fclose(f);
    last[strcspn(last, "\r\n")] = 0;
    return sbr_errf(e, "gnuplot failed: %s", last[0] ? last : "no message");
}

/* A temporary file holding text, for gnuplot to read; its path in tmpl. */
static int temp_with(char *tmpl, const char *text, sbr_err *e)
{
    int fd = mkstemp(tmpl);
    if (fd < 0)
        return sbr_errf(e, "%s: %s", tmpl, strerror(errno));
    size_t n = strlen(text), done = 0;
    while (done < n) {
        ssize_t w = write(fd, text + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return close(fd), unlink(tmpl), sbr_errf(e, "%s: %s", tmpl, strerror(errno));
        done += (size_t)w;
    }
    return close(fd) ? (unlink(tmpl), sbr_errf(e, "%s: %s", tmpl, strerror(errno))) : 0;
}

static int write_out(const char *path, const void *p, size_t n, int binary, sbr_err *e)
{
    sbr_out o;
    if (sbr_out_open(&o, path, binary, e))
        return -1;
    if (sbr_out_write(&o, p, n, e)) {
        sbr_out_abort(&o);
        return -1;
    }
    return sbr_out_commit(&o, e);
}

static int plot(const sbr_plot_cfg *c, int curves, sbr_err *e)
{
    sbr_buf script = {0}, pic = {0};
    int rc = sbr_plot_script(c, curves, &script, e);
    if (!rc && c->script_only) {
        rc = write_out(c->output, script.s, strlen(script.s), 0, e);
    } else if (!rc) {
        const char *dir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        char sp[4096], ep[4096];
        snprintf(sp, sizeof sp, "%s/sbr-plot-XXXXXX", dir);
        snprintf(ep, sizeof ep, "%s/sbr-plot-err-XXXXXX", dir);
        if (!(rc = temp_with(sp, script.s, e))) { /* temp_with leaves nothing on failure */
            if (!(rc = temp_with(ep, "", e))) {
                rc = run_gnuplot(sp, ep, &pic, e);
                unlink(ep);
            }
            unlink(sp);
        }
        if (!rc && pic.len == 0)
            rc = sbr_errf(e, "gnuplot wrote no picture");
        if (!rc)
            rc = write_out(c->output, pic.s, pic.len, c->format == SBR_PLOT_PNG, e);
    }
    sbr_buf_free(&script);
    sbr_buf_free(&pic);
    return rc;
}

int sbr_plot_curves(const sbr_plot_cfg *c, sbr_err *e) { return plot(c, 1, e); }
int sbr_plot_bars(const sbr_plot_cfg *c, sbr_err *e) { return plot(c, 0, e); }
