/* Pictures of training runs with gnuplot: the curves of sbr-train --log
 * files (one JSON object per epoch) and a bar chart of sbr-score's .metrics
 * files. The library writes a gnuplot script with the data inline, runs
 * gnuplot on it and writes the picture it prints through sbr_out (a
 * temporary file renamed into place, or '-' for standard output). */
#ifndef SBR_PLOT_H
#define SBR_PLOT_H

#include "err.h"
#include "json.h"

typedef enum { SBR_PLOT_SVG, SBR_PLOT_PNG } sbr_plot_format;

typedef struct {
    const char *const *inputs; /* --log files (curves) or .metrics files (bars) */
    int n_inputs;
    const char *output;        /* the picture, '-' for standard output */
    sbr_plot_format format;
    int cutoff;                /* the K of HR@K and MRR@K */
    const char *title;         /* NULL: none */
    int script_only;           /* write the gnuplot script itself, run nothing */
} sbr_plot_cfg;

/* The format an output's name asks for (.png: PNG; anything else SVG). */
sbr_plot_format sbr_plot_format_of(const char *path);
/* Training curves: loss, HR@K and MRR@K per epoch, validation solid and test
 * dashed, one colour per log. Every input must hold at least one epoch. */
int sbr_plot_curves(const sbr_plot_cfg *c, sbr_err *e);
/* HR@K and MRR@K of each .metrics file (kind sbr.metrics) as grouped bars. */
int sbr_plot_bars(const sbr_plot_cfg *c, sbr_err *e);
/* The gnuplot script for cfg into b (what --script writes). curves: 1 for
 * sbr_plot_curves' script, 0 for the bars'. */
int sbr_plot_script(const sbr_plot_cfg *c, int curves, sbr_buf *b, sbr_err *e);

#endif
