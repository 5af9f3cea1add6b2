/* sbr-train's path for the kNN and rule models (train_knn.c). */
#ifndef SBR_TRAIN_KNN_H
#define SBR_TRAIN_KNN_H

#include <stdint.h>

#include "task.h"

typedef struct {
    const char *sessions, *out, *log, *model;
    uint64_t seed;
    int tune, by_mrr;
    int refit; /* --select refit: the chosen settings indexed again on train + valid */
    sbr_task task; /* what the validation (and --tune) measures */
    int n_given; /* the model options given, in order */
    const char *const *given_name, *const *given_text;
    /* neural-only inputs: refused when given */
    const char *clusters, *graph, *resume, *preset;
} sbr_knn_train_args;

void sbr_train_knn(const sbr_knn_train_args *a);

#endif
