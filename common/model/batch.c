#include "model/batch.h"

#include <stdlib.h>
#include <string.h>

#include "model/devmem.h"
#include "unseen.h"
#ifdef SBR_HAVE_CUDA
#include "cuda/nn_cuda.h"
#endif

/* int32 arrays per batch: items, citems, alias, rpos [B, L]; uniq, cuniq,
 * node_sess [T] (T <= B*L); len, target, last, n_uniq, last_node [B];
 * node_off [B + 1]; in_off, out_off [T + 1]; in_idx, out_idx [B*L];
 * ids_ord, cids_ord and their sort's spare [B*L]. */
static size_t ints_needed(int B, int L)
{
    return (size_t)B * L * 12 + (size_t)B * 6 + 1 + 2 * ((size_t)B * L + 1);
}

/* reals: in_w, out_w, in_tw, out_tw [B*L] each (nnz <= B*L: a session of
 * len clicks has at most len - 1 edges) */
static size_t weights_needed(int B, int L) { return (size_t)B * L * 4; }

void sbr_batch_buf_init(sbr_batch_buf *bb, int max_B, int max_L, int graph, size_t elem)
{
    memset(bb, 0, sizeof *bb);
    bb->max_B = max_B;
    bb->max_L = max_L;
    bb->graph = graph;
    bb->backward = 1;
    bb->elem = elem;
    bb->buf = sbr_xcalloc(ints_needed(max_B, max_L), sizeof(int32_t));
    bb->wbuf = sbr_xcalloc(weights_needed(max_B, max_L), elem);
}

void sbr_batch_buf_free(sbr_batch_buf *bb)
{
    free(bb->buf);
    free(bb->wbuf);
    free(bb->xbuf);
    free(bb->xwbuf);
    memset(bb, 0, sizeof *bb);
}

/* int32 entries of the GCE-GNN arrays for B x L (T <= B*L nodes): le_off
 * [T + 1], le_idx and le_type [3 B*L] each (a node's self edge plus at most
 * two edges per click pair), gids and cgids [T*(1 + K)] each, gn [T]. */
static size_t xints_needed(int B, int L, int K)
{
    size_t BL = (size_t)B * L;
    return BL + 1 + 6 * BL + 2 * BL * (1 + (size_t)K) + BL;
}

/* reals: gw [B*L*K], flen [B] */
static size_t xreals_needed(int B, int L, int K) { return (size_t)B * L * K + (size_t)B + 1; }

void sbr_batch_buf_model(sbr_batch_buf *bb, const sbr_model *m)
{
    unsigned needs = m->impl->needs;
    bb->graph = (needs & (SBR_NEEDS_GRAPH | SBR_NEEDS_LOCAL4 | SBR_NEEDS_GLOBAL)) != 0;
    bb->local4 = (needs & SBR_NEEDS_LOCAL4) != 0;
    bb->K = (needs & SBR_NEEDS_GLOBAL) ? m->cfg.global_k : 0;
    bb->tab_nbr = m->gtab_nbr;
    bb->tab_n = m->gtab_n;
    bb->tab_w = m->gtab_w;
    bb->tab_rows = m->gtab_nbr ? (int64_t)m->cfg.n_items + 1 : 0;
    free(bb->xbuf);
    free(bb->xwbuf);
    bb->xbuf = NULL;
    bb->xwbuf = NULL;
    if (bb->local4 || (needs & SBR_NEEDS_GLOBAL)) {
        bb->xbuf = sbr_xcalloc(xints_needed(bb->max_B, bb->max_L, bb->K), sizeof(int32_t));
        bb->xwbuf = sbr_xcalloc(xreals_needed(bb->max_B, bb->max_L, bb->K), bb->elem);
    }
}

static void set_weight(void *w, size_t elem, int i, double v)
{
    if (elem == sizeof(double))
        ((double *)w)[i] = v;
    else
        ((float *)w)[i] = (float)v;
}

/* Points the batch arrays into the buffer for B x L (T = B*L nodes at most;
 * uniq holds the rows' unique items at stride L until they are packed). */
static void layout(sbr_batch_buf *bb, int B, int L)
{
    sbr_batch *b = &bb->b;
    int32_t *p = bb->buf;
    size_t BL = (size_t)B * L;
    b->items = p, p += BL;
    b->citems = p, p += BL;
    b->alias = p, p += BL;
    b->rpos = p, p += BL;
    b->uniq = p, p += BL;
    b->cuniq = p, p += BL;
    b->in_idx = p, p += BL;
    b->out_idx = p, p += BL;
    b->node_sess = p, p += BL;
    b->len = p, p += B;
    b->target = p, p += B;
    b->last = p, p += B;
    b->n_uniq = p, p += B;
    b->last_node = p, p += B;
    b->node_off = p, p += B + 1;
    b->in_off = p, p += BL + 1;
    b->out_off = p, p += BL + 1;
    b->ids_ord = p, p += BL;
    b->cids_ord = p, p += BL;
    bb->ord_spare = p;
    b->in_w = bb->wbuf;
    b->out_w = (char *)bb->wbuf + BL * bb->elem;
    b->in_tw = (char *)bb->wbuf + 2 * BL * bb->elem;
    b->out_tw = (char *)bb->wbuf + 3 * BL * bb->elem;
}

/* ord [m] = the positions i < n with ids[i] != 0, sorted by (ids[i], i), as
 * embedding_backward_grouped takes them: a stable radix sort of 11-bit
 * digits (ids >= 0: items, clusters). spare: n ints. Returns m. */
static int group_ids(const int32_t *ids, int n, int32_t *ord, int32_t *spare)
{
    int m = 0;
    uint32_t mx = 0;
    for (int i = 0; i < n; i++)
        if (ids[i] != 0) {
            ord[m++] = i;
            mx = (uint32_t)ids[i] > mx ? (uint32_t)ids[i] : mx;
        }
    for (int shift = 0; shift < 32 && (mx >> shift) > 0; shift += 11) {
        int count[2049] = {0};
        for (int j = 0; j < m; j++)
            count[(((uint32_t)ids[ord[j]] >> shift) & 2047) + 1]++;
        for (int c = 0; c < 2048; c++)
            count[c + 1] += count[c];
        for (int j = 0; j < m; j++)
            spare[count[((uint32_t)ids[ord[j]] >> shift) & 2047]++] = ord[j];
        memcpy(ord, spare, sizeof(int32_t) * (size_t)m);
    }
    return m;
}

/* Unique items of row r in order of first click; alias[j] = index of click j. */
static int unique_row(const int32_t *items, int len, int32_t *uniq, int32_t *alias)
{
    int n = 0;
    for (int j = 0; j < len; j++) {
        int u = 0;
        while (u < n && uniq[u] != items[j])
            u++;
        if (u == n)
            uniq[n++] = items[j];
        alias[j] = u;
    }
    return n;
}

/* SR-GNN's session graph of one row (utils.get_slice): an edge u -> v for
 * each consecutive pair (counted once), in-weights 1/indeg(v), out-weights
 * 1/outdeg(u). Appends the row's nu nodes (from node n0 on) to the CSR
 * arrays; alias: the row's clicks as indices 0..nu-1. A_in^T has A_out's
 * pattern and A_out^T A_in's, in the same order: in_tw / out_tw are the
 * transposes' weights over those patterns (the GGNN backward's A^T dy). */
static void graph_row(sbr_batch_buf *bb, int n0, const int32_t *alias, int len, int nu,
                      int *nnz_in, int *nnz_out)
{
    sbr_batch *b = &bb->b;
    /* edges as a dense nu x nu bitmap, and the degrees: sessions are short
     * (<= L) */
    static _Thread_local uint8_t adj[256 * 256];
    static _Thread_local int deg[2 * 256];
    uint8_t *a = nu <= 256 ? adj : sbr_xcalloc((size_t)nu * nu, 1);
    int *indeg = nu <= 256 ? deg : sbr_xcalloc(2 * (size_t)nu, sizeof(int)), *outdeg = indeg + nu;
    if (nu <= 256)
        memset(a, 0, (size_t)nu * nu);
    for (int j = 0; j + 1 < len; j++)
        a[alias[j] * nu + alias[j + 1]] = 1;
    for (int u = 0; u < nu; u++) {
        indeg[u] = outdeg[u] = 0;
        for (int v = 0; v < nu; v++) {
            indeg[u] += a[v * nu + u];
            outdeg[u] += a[u * nu + v];
        }
    }
    for (int u = 0; u < nu; u++) {
        int node = n0 + u;
        b->in_off[node] = *nnz_in;
        b->out_off[node] = *nnz_out;
        for (int v = 0; v < nu; v++) {
            if (a[v * nu + u]) { /* A_in[u][v] = A_out^T[u][v] */
                b->in_idx[*nnz_in] = n0 + v;
                set_weight(b->in_w, bb->elem, *nnz_in, 1.0 / indeg[u]);
                if (b->out_tw)
                    set_weight(b->out_tw, bb->elem, *nnz_in, 1.0 / outdeg[v]);
                (*nnz_in)++;
            }
            if (a[u * nu + v]) { /* A_out[u][v] = A_in^T[u][v] */
                b->out_idx[*nnz_out] = n0 + v;
                set_weight(b->out_w, bb->elem, *nnz_out, 1.0 / outdeg[u]);
                if (b->in_tw)
                    set_weight(b->in_tw, bb->elem, *nnz_out, 1.0 / indeg[v]);
                (*nnz_out)++;
            }
        }
    }
    if (a != adj)
        free(a);
    if (indeg != deg)
        free(indeg);
}

/* GCE-GNN's session graph of row i (official utils.Data): every real node
 * has its self edge (type 0); for nodes u != v, type 1 when v was clicked
 * right before u somewhere in the prefix, 2 when right after, 3 both.
 * Appends the row's nodes to le_off / le_idx / le_type. */
static void local4_row(sbr_batch *b, int i, int *nnz)
{
    int nu = b->n_uniq[i], len = b->len[i], n0 = b->node_off[i];
    static _Thread_local uint8_t adj[256 * 256];
    uint8_t *a = nu <= 256 ? adj : sbr_xcalloc((size_t)nu * nu, 1);
    memset(a, 0, (size_t)nu * nu);
    const int32_t *al = b->alias + (size_t)i * b->L;
    for (int j = 0; j + 1 < len; j++) { /* a[x * nu + y]: y clicked right after x */
        int x = al[j] - n0, y = al[j + 1] - n0;
        if (x != y)
            a[x * nu + y] = 1;
    }
    for (int u = 0; u < nu; u++) {
        int node = n0 + u;
        b->le_off[node] = *nnz;
        b->le_idx[*nnz] = node;
        b->le_type[(*nnz)++] = 0;
        for (int v = 0; v < nu; v++) {
            if (v == u)
                continue;
            int before = a[v * nu + u], after = a[u * nu + v];
            if (!before && !after)
                continue;
            b->le_idx[*nnz] = n0 + v;
            b->le_type[(*nnz)++] = before && after ? 3 : before ? 1 : 2;
        }
    }
    if (a != adj)
        free(a);
}

/* The arrays of GCE-GNN's layers: the four-type session graph, the global
 * neighbours of every node (from the model's table), prefix lengths as
 * reals. */
static void gce_inputs(sbr_batch_buf *bb, const int32_t *clusters)
{
    sbr_batch *b = &bb->b;
    int B = b->B, K = bb->K;
    size_t T = (size_t)b->T, BL = (size_t)B * b->L;
    int32_t *p = bb->xbuf;
    b->le_off = p, p += T + 1;
    b->le_idx = p, p += 3 * BL;
    b->le_type = p, p += 3 * BL;
    b->gids = p, p += T * (1 + (size_t)K);
    b->cgids = p, p += T * (1 + (size_t)K);
    b->gn = p;
    b->gnbr = b->gids + T;
    b->K = K;
    b->gw = bb->xwbuf;
    b->flen = (char *)bb->xwbuf + T * K * bb->elem;
    for (int i = 0; i < B; i++)
        set_weight(b->flen, bb->elem, i, b->len[i]);
    int nnz = 0;
    if (bb->local4) {
        for (int i = 0; i < B; i++)
            local4_row(b, i, &nnz);
        b->le_off[T] = nnz;
    }
    b->nnz_le = nnz;
    memcpy(b->gids, b->uniq, sizeof(int32_t) * T);
    if (clusters)
        memcpy(b->cgids, b->cuniq, sizeof(int32_t) * T);
    for (size_t r = 0; r < T; r++) {
        int32_t it = b->uniq[r];
        int cnt = it > 0 && it < bb->tab_rows ? bb->tab_n[it] : 0;
        b->gn[r] = cnt;
        for (int k = 0; k < K; k++) {
            size_t at = r * K + k;
            int32_t nb = k < cnt ? bb->tab_nbr[(size_t)it * K + k] : 0;
            b->gnbr[at] = nb;
            set_weight(b->gw, bb->elem, (int)at, k < cnt ? bb->tab_w[(size_t)it * K + k] : 0);
            if (clusters)
                b->cgids[T + at] = nb ? clusters[nb] : 0;
        }
    }
    if (!clusters)
        b->cgids = NULL;
}

void sbr_batch_fill(sbr_batch_buf *bb, const sbr_split *sp, const sbr_samples *smp,
                    const int64_t *order, int B, int n_items, const sbr_clip_map *clip)
{
    const int32_t *clusters = clip ? clip->cluster : NULL;
    if (B > bb->max_B)
        sbr_fatal("internal error: batch of %d over its capacity %d", B, bb->max_B);
    /* L: the longest (truncated) prefix of this batch. */
    int L = 1;
    for (int i = 0; i < B; i++) {
        int len = smp->prefix_len[order[i]];
        len = len > bb->max_L ? bb->max_L : len;
        L = len > L ? len : L;
    }
    layout(bb, B, L);
    sbr_batch *b = &bb->b;
    b->B = B;
    b->L = L;
    b->citems = clusters ? b->citems : NULL;
    if (!bb->backward)
        b->in_tw = b->out_tw = NULL;
    b->cuniq = clusters && bb->graph ? b->cuniq : NULL;
    memset(bb->buf, 0, sizeof(int32_t) * (size_t)B * L * 9);
    int U = 0, nnz_in = 0, nnz_out = 0;
    int32_t *row_alias = sbr_xmalloc(sizeof(int32_t) * (size_t)L);
    for (int i = 0; i < B; i++) {
        int64_t s = smp->session[order[i]];
        int full = smp->prefix_len[order[i]];
        int len = full > bb->max_L ? bb->max_L : full;
        const int32_t *src = sp->items + sp->offsets[s] + (full - len);
        b->len[i] = len;
        b->target[i] = sp->items[sp->offsets[s] + full];
        b->last[i] = i * L + len - 1;
        for (int j = 0; j < len; j++) {
            b->items[i * L + j] = src[j] <= n_items ? src[j] : 0;
            b->rpos[i * L + j] = len - 1 - j;
        }
        if (clusters)
            sbr_unseen_assign(clusters, n_items, clip->frequent, src, len, b->citems + i * L);
        if (bb->graph) {
            int nu = unique_row(b->items + (size_t)i * L, len, b->uniq + (size_t)i * L, row_alias);
            b->n_uniq[i] = nu;
            U = nu > U ? nu : U;
            memcpy(b->alias + (size_t)i * L, row_alias, sizeof(int32_t) * (size_t)len);
        }
    }
    if (bb->graph) {
        /* Pack uniq from stride L to the rows' node ranges (node_off[i] <=
         * i*L: front to back never overwrites a row not yet moved), point
         * the clicks at their nodes, build the graphs. */
        b->U = U;
        int T = 0;
        for (int i = 0; i < B; i++) {
            int nu = b->n_uniq[i];
            b->node_off[i] = T;
            memmove(b->uniq + T, b->uniq + (size_t)i * L, sizeof(int32_t) * (size_t)nu);
            for (int u = 0; u < nu; u++)
                b->node_sess[T + u] = i;
            T += nu;
        }
        b->node_off[B] = T;
        b->T = T;
        for (int i = 0; i < B; i++) {
            int32_t *al = b->alias + (size_t)i * L, n0 = b->node_off[i];
            memcpy(row_alias, al, sizeof(int32_t) * (size_t)b->len[i]);
            graph_row(bb, n0, row_alias, b->len[i], b->n_uniq[i], &nnz_in, &nnz_out);
            for (int j = 0; j < L; j++)
                al[j] = n0 + (j < b->len[i] ? row_alias[j] : 0);
            b->last_node[i] = al[b->len[i] - 1];
            if (clusters) /* the cluster of a node: that of its first click */
                for (int j = b->len[i] - 1; j >= 0; j--)
                    b->cuniq[al[j]] = b->citems[(size_t)i * L + j];
        }
        b->in_off[T] = nnz_in;
        b->out_off[T] = nnz_out;
        b->nnz_in = nnz_in;
        b->nnz_out = nnz_out;
    } else
        b->U = b->T = 0;
    free(row_alias);
    /* the front's ids (the nodes' items for graph batches, else the clicks')
     * grouped for its embedding backward */
    const int32_t *ids = bb->graph ? b->uniq : b->items, *cids = bb->graph ? b->cuniq : b->citems;
    int n = bb->graph ? b->T : B * L;
    if (!bb->backward)
        b->ids_ord = NULL, cids = NULL;
    b->n_ord = b->ids_ord ? group_ids(ids, n, b->ids_ord, bb->ord_spare) : 0;
    b->n_cord = cids ? group_ids(cids, n, b->cids_ord, bb->ord_spare) : 0;
    if (!cids)
        b->cids_ord = NULL;
    if (bb->xbuf)
        gce_inputs(bb, clusters);
}

/* --- feeding a device ------------------------------------------------------ */

void sbr_feeder_init(sbr_feeder *f, sbr_prec prec, int max_B, int max_L, int graph)
{
    memset(f, 0, sizeof *f);
    f->prec = prec;
    size_t elem = prec == SBR_PREC_F64 ? sizeof(double) : sizeof(float);
    sbr_batch_buf_init(&f->host, max_B, max_L, graph, elem);
    if (prec == SBR_PREC_CUDA) {
        f->dev_bytes = ints_needed(max_B, max_L) * sizeof(int32_t) +
                       weights_needed(max_B, max_L) * elem + 1024;
        const sbr_allocator *al = sbr_dev_allocator(prec);
        f->dev_mem = al->alloc(f->dev_bytes, al->user);
        if (!f->dev_mem)
            sbr_fatal("out of GPU memory for a batch (%zu bytes)", f->dev_bytes);
    }
}

static void feeder_grow(sbr_feeder *f);

void sbr_feeder_model(sbr_feeder *f, const sbr_model *m)
{
    sbr_batch_buf_model(&f->host, m);
    if (f->prec != SBR_PREC_CUDA)
        return;
    if (f->host.xbuf)
        feeder_grow(f);
    f->ctx = (sbr_nn_ctx *)&m->ctx; /* the ops take a mutable context */
}

/* The device batch, grown for the model's extra inputs (GCE-GNN's). */
static void feeder_grow(sbr_feeder *f)
{
    const sbr_allocator *al = sbr_dev_allocator(f->prec);
    al->free(f->dev_mem, al->user);
    f->dev_bytes += xints_needed(f->host.max_B, f->host.max_L, f->host.K) * sizeof(int32_t) +
                    xreals_needed(f->host.max_B, f->host.max_L, f->host.K) * f->host.elem + 1024;
    f->dev_mem = al->alloc(f->dev_bytes, al->user);
    if (!f->dev_mem)
        sbr_fatal("out of GPU memory for a batch (%zu bytes)", f->dev_bytes);
}

#ifdef SBR_HAVE_CUDA
static void stage_init(sbr_feeder *f)
{
    for (int k = 0; k < 2; k++) {
        f->stage[k] = sbr_cuda_host_alloc(f->dev_bytes);
        f->stage_done[k] = sbr_cuda_event_new();
    }
}

static void stage_free(sbr_feeder *f)
{
    for (int k = 0; k < 2; k++) {
        if (f->stage_done[k]) {
            sbr_cuda_event_wait(f->stage_done[k]);
            sbr_cuda_event_free(f->stage_done[k]);
        }
        sbr_cuda_host_free(f->stage[k]);
    }
}

/* Takes the next staging buffer, once its last copy has completed. */
static void stage_begin(sbr_feeder *f)
{
    int k = f->stage_next;
    sbr_cuda_event_wait(f->stage_done[k]);
    f->stage_cur = f->stage[k];
}

/* Sends the packed bytes [0, used) in one copy on the model's stream. */
static void stage_send(sbr_feeder *f, size_t used)
{
    int k = f->stage_next;
    sbr_cuda_h2d_async(f->ctx, f->dev_mem, f->stage_cur, used);
    sbr_cuda_event_record(f->stage_done[k], f->ctx);
    f->stage_next = 1 - k;
    f->stage_cur = NULL;
}
#endif

void sbr_feeder_free(sbr_feeder *f)
{
#ifdef SBR_HAVE_CUDA
    if (f->stage[0])
        stage_free(f);
    if (f->prec == SBR_PREC_CUDA)
        sbr_cuda_known_clear();
#endif
    if (f->dev_mem) {
        const sbr_allocator *al = sbr_dev_allocator(f->prec);
        al->free(f->dev_mem, al->user);
    }
    sbr_batch_buf_free(&f->host);
    memset(f, 0, sizeof *f);
}

/* Tells the CUDA runtime the count at the end of a CSR offset array just
 * uploaded (dev [T + 1], host its source), so that the backward passes need
 * not read it back. */
static void known_end(sbr_feeder *f, const int32_t *dev, const int32_t *host, size_t T)
{
#ifdef SBR_HAVE_CUDA
    if (f->prec == SBR_PREC_CUDA && dev && host)
        sbr_cuda_known_int(dev + T, host[T]);
#else
    (void)f, (void)dev, (void)host, (void)T;
#endif
}

/* Copies n elements of size es from *src to the device cursor (through the
 * staging buffer at the same offset, when there is one); repoints. */
static void up(sbr_feeder *f, char **cur, void **ptr, size_t n, size_t es)
{
    if (!*ptr)
        return;
    size_t bytes = n * es;
    if (f->stage_cur)
        memcpy(f->stage_cur + (*cur - (char *)f->dev_mem), *ptr, bytes);
    else
        sbr_dev_upload(f->prec, *cur, *ptr, bytes);
    *ptr = *cur;
    *cur += (bytes + 15) & ~(size_t)15;
}

const sbr_batch *sbr_feeder_fill(sbr_feeder *f, const sbr_split *sp, const sbr_samples *smp,
                                 const int64_t *order, int B, int n_items,
                                 const sbr_clip_map *clip)
{
    sbr_batch_fill(&f->host, sp, smp, order, B, n_items, clip);
    return sbr_feeder_put(f, &f->host);
}

const sbr_batch *sbr_feeder_put(sbr_feeder *f, const sbr_batch_buf *hb)
{
    if (f->prec != SBR_PREC_CUDA)
        return &hb->b;
    sbr_batch *d = &f->dev;
    *d = hb->b;
    int B = d->B;
    char *cur = f->dev_mem;
#ifdef SBR_HAVE_CUDA
    /* staging pays from the second batch on (sbr-infer's text mode fills one
     * batch per line: page-locked buffers would cost more than they save) */
    if (!f->stage[0] && f->ctx && f->fills > 0)
        stage_init(f);
    if (f->stage[0])
        stage_begin(f);
    sbr_cuda_known_clear(); /* this buffer's old values are stale */
#endif
    f->fills++;
    size_t BL = (size_t)B * d->L, T = (size_t)d->T, es = hb->elem;
    size_t i4 = sizeof(int32_t);
    up(f, &cur, (void **)&d->items, BL, i4);
    up(f, &cur, (void **)&d->citems, BL, i4);
    up(f, &cur, (void **)&d->len, (size_t)B, i4);
    up(f, &cur, (void **)&d->target, (size_t)B, i4);
    up(f, &cur, (void **)&d->last, (size_t)B, i4);
    up(f, &cur, (void **)&d->rpos, BL, i4);
    up(f, &cur, (void **)&d->ids_ord, (size_t)d->n_ord, i4);
    up(f, &cur, (void **)&d->cids_ord, (size_t)d->n_cord, i4);
    if (hb->graph) {
        up(f, &cur, (void **)&d->node_off, (size_t)B + 1, i4);
        up(f, &cur, (void **)&d->node_sess, T, i4);
        up(f, &cur, (void **)&d->uniq, T, i4);
        up(f, &cur, (void **)&d->cuniq, T, i4);
        up(f, &cur, (void **)&d->n_uniq, (size_t)B, i4);
        up(f, &cur, (void **)&d->alias, BL, i4);
        up(f, &cur, (void **)&d->last_node, (size_t)B, i4);
        up(f, &cur, (void **)&d->in_off, T + 1, i4);
        up(f, &cur, (void **)&d->out_off, T + 1, i4);
        known_end(f, d->in_off, hb->b.in_off, T);
        known_end(f, d->out_off, hb->b.out_off, T);
        up(f, &cur, (void **)&d->in_idx, (size_t)d->nnz_in, i4);
        up(f, &cur, (void **)&d->out_idx, (size_t)d->nnz_out, i4);
        up(f, &cur, &d->in_w, (size_t)d->nnz_in, es);
        up(f, &cur, &d->out_w, (size_t)d->nnz_out, es);
        up(f, &cur, &d->in_tw, (size_t)d->nnz_out, es);
        up(f, &cur, &d->out_tw, (size_t)d->nnz_in, es);
    }
    if (hb->xbuf) {
        size_t TK = T * (size_t)d->K;
        if (hb->local4) {
            up(f, &cur, (void **)&d->le_off, T + 1, i4);
            known_end(f, d->le_off, hb->b.le_off, T);
            up(f, &cur, (void **)&d->le_idx, (size_t)d->nnz_le, i4);
            up(f, &cur, (void **)&d->le_type, (size_t)d->nnz_le, i4);
        }
        up(f, &cur, (void **)&d->gids, T + TK, i4);
        d->gnbr = d->gids + T;
        up(f, &cur, (void **)&d->cgids, T + TK, i4);
        up(f, &cur, (void **)&d->gn, T, i4);
        up(f, &cur, &d->gw, TK, es);
        up(f, &cur, &d->flen, (size_t)B, es);
    }
#ifdef SBR_HAVE_CUDA
    if (f->stage_cur)
        stage_send(f, (size_t)(cur - (char *)f->dev_mem));
#endif
    return d;
}
