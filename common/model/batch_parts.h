/* The parts of a batch (batch.h): what a batch holds beyond its core for the
 * models that ask for it. Each part is a file, batch_NAME.c, defining one
 * sbr_batch_part, and one entry of sbr_batch_parts (batch.c); internal to
 * batch.c and feeder.c. docs/CONTRIBUTING.md: "A new kind of input". */
#ifndef SBR_MODEL_BATCH_PARTS_H
#define SBR_MODEL_BATCH_PARTS_H

#include "model/batch.h"

typedef struct {
    const char *name;
    unsigned need; /* built when a buffer's needs meet any of these SBR_NEEDS_* bits */
    /* its arrays at capacity, for batches of B x L (K global neighbours per node) */
    size_t (*ints)(int B, int L, int K);
    size_t (*reals)(int B, int L, int K);
    /* lays itself out over its buffers (ints, reals: their capacities above),
     * builds from the core and the parts before it, and points bb->b at itself */
    void (*fill)(sbr_batch_buf *bb, int32_t *ints, void *reals, const sbr_clip_map *clip);
    /* copies its arrays to the device (sbr_upload_array) and points u->f->dev
     * at a device copy of itself */
    void (*upload)(sbr_upload *u, const sbr_batch_buf *hb);
} sbr_batch_part;

/* The core's int32 arrays at capacity (batch.c; its reals: flen [B]). */
size_t sbr_batch_core_ints(int B, int L);

/* The parts in the order they are built (NULL-terminated); at most
 * SBR_BATCH_MAX_PARTS. */
extern const sbr_batch_part *const sbr_batch_parts[];

extern const sbr_batch_part sbr_batch_part_nodes;  /* batch_nodes.c */
extern const sbr_batch_part sbr_batch_part_adj;    /* batch_adj.c */
extern const sbr_batch_part sbr_batch_part_local4; /* batch_local4.c */
extern const sbr_batch_part sbr_batch_part_global; /* batch_global.c */
extern const sbr_batch_part sbr_batch_part_eop;    /* batch_eop.c */
extern const sbr_batch_part sbr_batch_part_clicks; /* batch_clicks.c */
extern const sbr_batch_part sbr_batch_part_pool;   /* batch_pool.c */

#endif
