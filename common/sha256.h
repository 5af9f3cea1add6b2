/* SHA-256 (FIPS 180-4), for the provenance digests of input files. */
#ifndef SBR_SHA256_H
#define SBR_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t h[8];
    uint64_t total; /* bytes hashed */
    uint8_t block[64];
    size_t used;    /* bytes in block */
} sbr_sha256;

void sbr_sha256_init(sbr_sha256 *c);
void sbr_sha256_update(sbr_sha256 *c, const void *data, size_t n);
/* on = 1: the portable code even where the CPU has SHA-NI (tests compare
 * the two). Returns whether the accelerated path is now in use. */
int sbr_sha256_use_portable(int on);
/* Writes the digest as 64 lowercase hex digits and a NUL. */
void sbr_sha256_hex(sbr_sha256 *c, char out[65]);

#endif
