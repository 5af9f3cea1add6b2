/* Batches: samples of a session split turned, on the host, into the padded
 * arrays and session graphs a model reads, and fed to the device it computes
 * on. A batch is a core every model reads (items, lengths, targets) plus one
 * part per need, each with its own builder, capacity and upload (batch_*.c),
 * built only for the models that ask for it (their SBR_NEEDS_* bits): a new
 * kind of input is a new part, not new fields for every batch.
 *
 * Prefixes are left-aligned, padded with 0 at the tail; items unseen in
 * training appear as 0 (no embedding) but keep their position. */
#ifndef SBR_MODEL_BATCH_H
#define SBR_MODEL_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "nn/nn.h"
#include "sessions.h"

/* What a model reads beyond the core (the parts), and how the step scores. */
#define SBR_NEEDS_GRAPH 1u      /* SR-GNN's in/out session graph (b->adj), over the nodes */
#define SBR_NEEDS_LOCAL4 2u     /* GCE-GNN's four-type session graph (b->local4) */
#define SBR_NEEDS_GLOBAL 4u     /* the global neighbours (b->global): sbr-train --graph */
#define SBR_NEEDS_NORM_ITEMS 8u /* score against L2-normalised item vectors (DMI-GNN) */
/* Several session vectors per sample: U = the option "interests". With U > 1,
 * S and dS are [B, U, d] and an item's score is max_u S_u . e (or the sum,
 * the option "interest_pool"): score_multi.inc. */
#define SBR_NEEDS_INTERESTS 16u
#define SBR_NEEDS_EOP 32u       /* LESSR's EOP multigraph and shortcut graph (b->eop) */
#define SBR_NEEDS_CLICKS 64u    /* the clicks packed without padding (b->clicks) */
/* A context pool of training pairs (model.h, sbr_model_pool): each row's own
 * pair, never retrieved for it (b->pool) */
#define SBR_NEEDS_POOL 128u
/* The parts that stand on the nodes (b->nodes). */
#define SBR_NEEDS_NODES (SBR_NEEDS_GRAPH | SBR_NEEDS_LOCAL4 | SBR_NEEDS_GLOBAL | SBR_NEEDS_EOP)

/* The nodes of a graph batch: the unique items of each prefix in order of
 * first click, packed: row b's n_uniq[b] nodes are nodes node_off[b] ..
 * node_off[b+1]-1 of the T = sum n_uniq graph nodes (no padding nodes). */
typedef struct {
    int U;              /* the most unique items of any row (informative) */
    int T;              /* graph nodes: sum of n_uniq */
    int32_t *node_off;  /* [B + 1] first node of each row; node_off[B] = T */
    int32_t *node_sess; /* [T] the row of each node */
    int32_t *uniq;      /* [T] the nodes' item ids (0: unseen item) */
    int32_t *cuniq;     /* [T] their cluster ids (CLIP) or NULL */
    int32_t *n_uniq;    /* [B] */
    int32_t *alias;     /* [B, L] node of each click (padding: node_off[b]) */
    int32_t *last_node; /* [B] node of the last click */
} sbr_batch_nodes;

/* SR-GNN's degree-normalised in/out adjacency over the nodes, CSR. */
typedef struct {
    int32_t *in_off, *in_idx;   /* [T + 1], [nnz_in]: in-neighbours of each node */
    int32_t *out_off, *out_idx; /* [T + 1], [nnz_out]: out-neighbours */
    void *in_w, *out_w;         /* [nnz] edge weights (real of the precision) */
    /* the transposes' weights: A_in^T over A_out's pattern, A_out^T over
     * A_in's (same order), for the GGNN backward (NULL: forward only) */
    void *in_tw, *out_tw;       /* [nnz_out], [nnz_in] */
    int nnz_in, nnz_out;
} sbr_batch_adj;

/* GCE-GNN's session graph, CSR over the T nodes: every node has its self
 * edge (type 0); for nodes i != j of a session, type 1: j was clicked right
 * before i somewhere in the prefix (the official code's adjacency code 2),
 * type 2: right after (code 3), type 3: both (code 4). */
typedef struct {
    int32_t *le_off;    /* [T + 1] */
    int32_t *le_idx;    /* [nnz_le] neighbour node */
    int32_t *le_type;   /* [nnz_le] 0..3 */
    int nnz_le;
} sbr_batch_local4;

/* LESSR's two graphs over the nodes (Chen and Wong 2020, the official
 * collate.py's seq_to_eop_multigraph and seq_to_shortcut_graph).
 *
 * The EOP multigraph: one edge per consecutive click pair of a prefix (len
 * - 1 edges, repeats kept), so that each node's in-edges, in click order,
 * are the sequence a GRU runs over. They are laid out step-major, as a
 * packed sequence batch: step s holds the s-th in-edge of every node with
 * more than s in-edges, the nodes in one order at every step (decreasing
 * in-degree, ties by node), so that the rows of step s are the first rows
 * of step s - 1 (the same nodes): edge step_off[s] + r is the s-th in-edge
 * of the node of row r.
 *
 * The shortcut graph: an edge u -> v for every pair of clicks i <= j with
 * u the node of click i and v that of click j, counted once (self loops
 * included): CSR by destination, each node's sources in increasing node
 * order, and its transpose (for each source, the positions of its edges,
 * increasing), so that backward passes add without atomics or sorts. */
typedef struct {
    int E;                /* EOP edges: sum of len - 1 */
    int D;                /* steps: the largest in-degree (0 when E = 0) */
    /* [D + 1] the first edge of each step; HOST memory in the device copy
     * too: the model's host code reads the step sizes as it queues them */
    const int32_t *step_off;
    int32_t *e_src;       /* [E] step-major: the source node of each edge */
    int32_t *e_ord;       /* [E] the edge positions sorted by (e_src, position) */
    int32_t *last_edge;   /* [T] the position of each node's last in-edge; E: none */
    int nnz;              /* shortcut edges */
    int32_t *sc_off, *sc_src;   /* [T + 1], [nnz]: the in-edges of each node */
    int32_t *sc_dst;            /* [nnz] the destination of each edge */
    int32_t *sct_off, *sct_pos; /* [T + 1], [nnz]: the positions of the edges out of each node */
    /* [B, L] row b's nodes (slot u < n_uniq[b]: node node_off[b] + u; else
     * node_off[b]), to read the nodes as a padded [B, L] batch with len =
     * nodes->n_uniq */
    int32_t *slot;
} sbr_batch_eop;

/* The batch's clicks packed without padding: row b's len[b] clicks are
 * packed rows off[b] .. off[b+1]-1 of n = sum len (pack_rows, for ops
 * that work on the real clicks only: TAGNN's target_score). */
typedef struct {
    int n;          /* clicks: sum of len */
    int32_t *off;   /* [B + 1] first packed row of each row; off[B] = n */
} sbr_batch_clicks;

/* The pool row of each sample's own session (SBR_NEEDS_POOL): the pair a
 * training sample must not retrieve as its context; -1 when its session
 * has none, or the batch is not from the split the pool was drawn from.
 * And the pool rows of the sessions before its own (the pool is in session
 * order, the sessions of a split in time order): those a training sample
 * may retrieve when its contexts come from its past only; INT32_MAX for a
 * batch from another split. */
typedef struct {
    int32_t *excl; /* [B] */
    int32_t *lim;  /* [B] */
} sbr_batch_pool;

/* The global graph: the top-K neighbours of each node's item in the model's
 * table. gids [T + T*K] holds every node's item (= uniq) followed by the
 * nodes' neighbours, so that one front call embeds both; cgids their
 * clusters (CLIP) or NULL. */
typedef struct {
    int K;              /* neighbours per node (the model's global_k) */
    int32_t *gids;      /* [T + T*K] */
    int32_t *cgids;     /* same, or NULL */
    int32_t *gnbr;      /* = gids + T: [T, K] neighbour items (0 past gn) */
    void *gw;           /* [T, K] edge weights (real; 0 past gn) */
    int32_t *gn;        /* [T] valid neighbours 0..K */
} sbr_batch_global;

/* A batch of samples where the model computes: host pointers for the CPU
 * precisions, device pointers (a copy) for CUDA. */
typedef struct {
    int B, L;           /* samples, padded length (the longest prefix here) */
    int32_t *items;     /* [B, L] item ids, 0 = padding / unknown */
    int32_t *citems;    /* [B, L] cluster ids of items (CLIP), 0 for padding; or NULL */
    int32_t *len;       /* [B] prefix lengths, 1..L */
    int32_t *target;    /* [B] next item (training: 1..N) */
    int32_t *last;      /* [B] b * L + len[b] - 1: flat index of the last click */
    int32_t *rpos;      /* [B, L] len[b] - 1 - j: distance from the last click (0 on padding) */
    int32_t *user;      /* [B] the sample's user as the model knows it (1..U), 0: anonymous or
                           unknown (model.h: logged-in users); all 0 without a user map */
    int32_t *cusers;    /* [B, L] CLIP-SBR's user prompts: each click's user (user[b]), 0 for
                           padding; or NULL (the model has none) */
    void *flen;         /* [B] prefix lengths as reals */
    /* The front's ids, grouped for its embedding backward
     * (embedding_backward_grouped): the positions of the nonzero ids of the
     * nodes' uniq (graph batches) or items (else), sorted by (id, position);
     * the same of cuniq / citems (CLIP; else NULL). NULL in batches built
     * for a forward only (sbr_batch_buf.backward). */
    int32_t *ids_ord, *cids_ord; /* [n_ord], [n_cord] */
    int n_ord, n_cord;
    /* The parts, NULL unless the model needs them. */
    const sbr_batch_nodes *nodes;
    const sbr_batch_adj *adj;
    const sbr_batch_local4 *local4;
    const sbr_batch_global *global;
    const sbr_batch_eop *eop;
    const sbr_batch_clicks *clicks;
    const sbr_batch_pool *pool;
} sbr_batch;

/* The largest a batch of max_B x max_L may get: nodes T <= B L, four-type
 * edges E <= 3 B L (a node's self edge plus at most two per click pair). */
typedef struct {
    int B, L, T, E, K;
} sbr_batch_caps;
sbr_batch_caps sbr_batch_caps_for(int max_B, int max_L, int K);

struct sbr_model;

#define SBR_BATCH_MAX_PARTS 8

typedef struct {
    sbr_batch b;        /* host pointers into the buffers below */
    int max_B, max_L;   /* capacity */
    unsigned needs;     /* the parts to build (SBR_NEEDS_*) */
    /* build what only a backward reads (the transposes' weights, the grouped
     * ids): 1 from sbr_batch_buf_init; evaluation turns it off */
    int backward;
    size_t elem;        /* size of a real: 4 or 8 */
    int32_t *core;      /* the core's int32 arrays, one allocation */
    void *core_r;       /* flen */
    int32_t *ord_spare; /* [B*L] in core: the spare of the grouping's sort */
    /* the parts (one member each), and their buffers by their place in
     * sbr_batch_parts (batch_parts.h) */
    sbr_batch_nodes nodes;
    sbr_batch_adj adj;
    sbr_batch_local4 local4;
    sbr_batch_global global;
    sbr_batch_eop eop;
    sbr_batch_clicks clicks;
    sbr_batch_pool pool;
    int32_t *part_ints[SBR_BATCH_MAX_PARTS];
    void *part_reals[SBR_BATCH_MAX_PARTS];
    /* the model's global table (SBR_NEEDS_GLOBAL) */
    int K;
    const int32_t *tab_nbr, *tab_n;
    const float *tab_w;
    int64_t tab_rows;
    /* the model's users (ascending original ids), or NULL */
    const int64_t *user_ids;
    int64_t n_users;
    int user_prompts; /* fill cusers (the model has CLIP-SBR user prompts) */
    /* the model's pool (SBR_NEEDS_POOL): the split it was drawn from and
     * each of its sessions' pool row (model.h, sbr_model_pool), or NULL */
    const sbr_split *pool_split;
    const int32_t *pool_row_of, *pool_rows_before;
    /* the samples of the fill in progress, for parts that read more than
     * the core (the pool's exclusions) */
    const sbr_split *fill_sp;
    const sbr_samples *fill_smp;
    const int64_t *fill_order;
} sbr_batch_buf;

/* max_L: the longest prefix a batch may hold (the model's max_len); needs:
 * the parts to build (a model's SBR_NEEDS_*; sbr_batch_buf_model sets them
 * from the model). */
void sbr_batch_buf_init(sbr_batch_buf *bb, int max_B, int max_L, unsigned needs, size_t elem);
void sbr_batch_buf_free(sbr_batch_buf *bb);
/* Prepares the buffer for what model m reads beyond the core (its parts,
 * the global neighbours of its table); call after init. */
void sbr_batch_buf_model(sbr_batch_buf *bb, const struct sbr_model *m);

/* Cluster ids for CLIP-SBR prompts: cluster [n_items + 1] of the training
 * items; items unseen in training take a cluster by the rule of
 * common/unseen.h (their session's known items, else `frequent`). */
typedef struct {
    const int32_t *cluster;
    int32_t frequent;
} sbr_clip_map;

/* Fills the batch with samples order[0..B) of smp (a split's samples).
 * Prefixes longer than max_L keep their last max_L items; items above
 * n_items become 0 (no embedding; with clip their position still gets a
 * cluster prompt); targets are copied as they are. clip may be NULL. */
void sbr_batch_fill(sbr_batch_buf *bb, const sbr_split *sp, const sbr_samples *smp,
                    const int64_t *order, int B, int n_items, const sbr_clip_map *clip);

/* --- feeding a device ---------------------------------------------------------- */

/* A batch where the model computes: for the CPU precisions the host batch
 * itself, for CUDA a device copy (one device allocation, reused). Once the
 * feeder knows the model (sbr_feeder_init), from its second batch on a CUDA
 * batch is packed into one of two page-locked staging buffers and sent in
 * one copy queued on the model's stream: the host fills the next batch while
 * the GPU still runs the last step (the copy waits for it in stream order),
 * and a staging buffer is refilled only after its copy has completed. */
typedef struct {
    sbr_batch_buf host;
    int cuda;            /* the model computes on the GPU */
    sbr_batch dev;
    /* the device copies of the parts (their arrays on the device) */
    sbr_batch_nodes dnodes;
    sbr_batch_adj dadj;
    sbr_batch_local4 dlocal4;
    sbr_batch_global dglobal;
    sbr_batch_eop deop;
    sbr_batch_clicks dclicks;
    sbr_batch_pool dpool;
    void *dev_mem;
    size_t dev_bytes;
    sbr_nn_ctx *ctx;     /* the model's (CUDA): stream of the async copies */
    int64_t fills;       /* batches filled so far (staging starts at the second) */
    char *stage[2];      /* page-locked [dev_bytes] each, or NULL: sync copies */
    void *stage_done[2]; /* events: stage[k]'s last copy has completed */
    int stage_next;
    char *stage_cur;     /* the buffer being packed by this fill */
} sbr_feeder;

/* A feeder for model m's batches of up to max_B samples on its device. */
void sbr_feeder_init(sbr_feeder *f, const struct sbr_model *m, int max_B);
void sbr_feeder_free(sbr_feeder *f);
/* Fills (as sbr_batch_fill) and returns the batch on the model's device. */
const sbr_batch *sbr_feeder_fill(sbr_feeder *f, const sbr_split *sp, const sbr_samples *smp,
                                 const int64_t *order, int B, int n_items,
                                 const sbr_clip_map *clip);
/* The same for a batch filled elsewhere (sbr_batch_fill on a buffer set up
 * like the feeder's host batch: the same sizes and model). The CPU
 * precisions compute on hb itself, so it must stay as it is until the step is
 * done; on CUDA it is copied out before this returns. */
const sbr_batch *sbr_feeder_put(sbr_feeder *f, const sbr_batch_buf *hb);

/* --- what the parts share (batch_*.c, batch_parts.h) ---------------------------- */

/* A cursor over the device copy of a batch: each array is copied (through
 * the staging buffer when there is one) and its pointer repointed. */
typedef struct {
    sbr_feeder *f;
    char *cur;
} sbr_upload;
void sbr_upload_array(sbr_upload *u, void *ptr_to_ptr, size_t n, size_t elem_size);
/* After uploading a CSR offset array dev [T + 1] from host: tells the CUDA
 * runtime its last value, so that backward passes need not read it back. */
void sbr_upload_csr_end(sbr_upload *u, const int32_t *dev, const int32_t *host, size_t T);
/* Stores v into element i of an array of reals of size elem. */
void sbr_batch_set_real(void *w, size_t elem, size_t i, double v);

#endif
