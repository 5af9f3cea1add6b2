/* SR-GNN (Wu et al. 2019) as its official code (srgnn/pytorch_code/model.py)
 * runs it: the session encoder of body/srgnn.h (gated graph steps over each
 * session's graph, the soft-attention readout without a softmax,
 * S = W_t [a ; v_last] + b_t), scored against the item table as S . E.
 * Optional dropout on the node embeddings (0 by default: the official model
 * has none). docs/MODELS.md. */
#include "model/body.h"

#include "model/body/srgnn.h"

static const sbr_opt opts[] = {
    SBR_OPT_DIM(100),
    SBR_OPT_I("layers", 1, 1, 64, "gated graph steps"),
    SBR_OPT_MAX_LEN(50),
    SBR_OPT_R("dropout", 0, 0, 0.99, "dropout on the node embeddings (the official model has none)"),
    {0}};

typedef struct {
    R(sbr_srgnn) enc;
} state;

static void declare(sbr_model *m)
{
    R(sbr_srgnn_declare)(m, &SBR_STATE(state, m)->enc, 0);
}

static void layout(sbr_model *m, sbr_lay *l, const sbr_dims *dm)
{
    R(sbr_srgnn_layout)(m, &SBR_STATE(state, m)->enc, l, dm);
}

static size_t scratch(const sbr_model *m, const sbr_dims *dm)
{
    return R(sbr_srgnn_scratch)(dm, m->d);
}

static void forward(sbr_model *m, const sbr_batch *b, void *S, int train)
{
    R(sbr_srgnn_forward)(m, &SBR_STATE(state, m)->enc, b, S, train);
}

static void backward(sbr_model *m, const sbr_batch *b, const void *dS)
{
    R(sbr_srgnn_backward)(m, &SBR_STATE(state, m)->enc, b, dS, NULL);
}

SBR_MODEL_DEF(srgnn) = {
    .name = "srgnn",
    .about = "SR-GNN: gated graph steps over each session's graph, soft-attention readout",
    .paper = "Wu et al., Session-based Recommendation with Graph Neural Networks, AAAI 2019 (as "
             "its official code runs it)",
    .needs = SBR_NEEDS_GRAPH,
    .opts = opts,
    .state_size = sizeof(state),
    .declare = declare,
    .layout = layout,
    .scratch = scratch,
    .forward = forward,
    .backward = backward,
};
