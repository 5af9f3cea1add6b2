/* Parts of the op library that do not depend on the element type. */
#include "nn/nn.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void sbr_nn_fail(const char *op, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "sbr nn: %s: ", op);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

double sbr_nn_lr_step(double lr0, double gamma, int step_size, int epoch)
{
    if (step_size <= 0 || epoch <= 0)
        return lr0;
    return lr0 * pow(gamma, (double)(epoch / step_size));
}
