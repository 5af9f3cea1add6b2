/* sbr-score's report of a top-K file's uncertainty (metrics.h:
 * sbr_unc_metrics): the table and the JSON member. */
#ifndef SBR_SCORE_REPORT_UNC_H
#define SBR_SCORE_REPORT_UNC_H

#include <stdio.h>

#include "json.h"
#include "metrics.h"

/* The deciles at the last cutoff and the calibration, after the main table. */
void unc_print(FILE *fp, const sbr_unc_metrics *u, const sbr_metrics *m);
/* ,"uncertainty":{...} with every cutoff, appended to b (inside the object). */
void unc_json(sbr_buf *b, const sbr_unc_metrics *u, const sbr_metrics *m);

#endif
