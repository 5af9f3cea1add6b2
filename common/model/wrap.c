/* Wrappers (model/def.h): a model that runs another as its session encoder
 * (NP-MiSR over GCE-GNN, SR-GNN, NARM, ...). The encoder's functions read
 * their own state through m->state (SBR_STATE) and, rarely, m->def; for the
 * length of each call both are the encoder's, everything else (the
 * parameter arena, the op context, the options, the dropout stream) the
 * wrapper's, so the encoder declares its weights into the wrapper's arena
 * and lays its activations out in the wrapper's memory. */
#include "model/def.h"

typedef struct {
    void *state;
    const sbr_model_def *def;
} saved;

static saved enter(sbr_model *m)
{
    saved s = {m->state, m->def};
    if (!m->def->encoder)
        sbr_fatal("internal error: model %s has no encoder", m->cfg.model);
    m->state = (char *)m->state + m->def->encoder_at;
    m->def = m->def->encoder;
    return s;
}

static void leave(sbr_model *m, saved s)
{
    m->state = s.state;
    m->def = s.def;
}

void sbr_encoder_declare(sbr_model *m)
{
    saved s = enter(m);
    m->def->declare(m);
    leave(m, s);
}

void sbr_encoder_layout(sbr_model *m, sbr_lay *l, const sbr_dims *dm)
{
    saved s = enter(m);
    m->def->layout(m, l, dm);
    leave(m, s);
}

size_t sbr_encoder_scratch(const sbr_model *m, const sbr_dims *dm)
{
    sbr_model *w = (sbr_model *)m; /* restored before returning */
    saved s = enter(w);
    size_t n = w->def->scratch(w, dm);
    leave(w, s);
    return n;
}

void sbr_encoder_forward(sbr_model *m, const sbr_batch *b, void *S, int train)
{
    saved s = enter(m);
    m->def->forward(m, b, S, train);
    leave(m, s);
}

void sbr_encoder_backward(sbr_model *m, const sbr_batch *b, const void *dS)
{
    saved s = enter(m);
    m->def->backward(m, b, dS);
    leave(m, s);
}

const char *sbr_encoder_unfit(const sbr_model_def *def)
{
    if (def->default_encoder || def->encoder)
        return "it wraps an encoder itself";
    if (def->score)
        return "it scores the catalogue through its own hook, not S . E";
    if (def->needs & SBR_NEEDS_INTERESTS)
        return "it has several session vectors (interests)";
    if (def->needs & SBR_NEEDS_NORM_ITEMS)
        return "it scores against normalised item vectors";
    return NULL;
}
