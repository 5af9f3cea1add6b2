#include "tensor_values.h"

#include <math.h>
#include <string.h>

static double half_to_double(uint16_t h)
{
    int sign = h >> 15, exp = (h >> 10) & 0x1F, man = h & 0x3FF;
    double v;
    if (exp == 0)
        v = ldexp(man, -24);
    else if (exp == 31)
        v = man ? NAN : INFINITY;
    else
        v = ldexp(man + 1024, exp - 25);
    return sign ? -v : v;
}

static double bf16_to_double(uint16_t h)
{
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

int sbr_dtype_is_int(sbr_dtype dt)
{
    return dt != SBR_F16 && dt != SBR_BF16 && dt != SBR_F32 && dt != SBR_F64;
}

double sbr_tensor_get(const sbr_tensor *t, int64_t i)
{
    const void *p = t->data;
    switch (t->dtype) {
    case SBR_BOOL:
    case SBR_U8: return ((const uint8_t *)p)[i];
    case SBR_I8: return ((const int8_t *)p)[i];
    case SBR_U16: return ((const uint16_t *)p)[i];
    case SBR_I16: return ((const int16_t *)p)[i];
    case SBR_F16: return half_to_double(((const uint16_t *)p)[i]);
    case SBR_BF16: return bf16_to_double(((const uint16_t *)p)[i]);
    case SBR_U32: return ((const uint32_t *)p)[i];
    case SBR_I32: return ((const int32_t *)p)[i];
    case SBR_F32: return ((const float *)p)[i];
    case SBR_U64: return (double)((const uint64_t *)p)[i];
    case SBR_I64: return (double)((const int64_t *)p)[i];
    case SBR_F64: return ((const double *)p)[i];
    default: return NAN;
    }
}
