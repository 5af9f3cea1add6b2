/* Reading tensor elements of any dtype as double (for summaries, text dumps
 * and generic checks). */
#ifndef SBR_TENSOR_VALUES_H
#define SBR_TENSOR_VALUES_H

#include <stdint.h>

#include "tfile.h"

/* Element i of t converted to double (F16/BF16 decoded). */
double sbr_tensor_get(const sbr_tensor *t, int64_t i);
/* 1 for integer and bool dtypes. */
int sbr_dtype_is_int(sbr_dtype dt);

#endif
