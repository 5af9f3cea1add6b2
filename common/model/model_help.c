/* What sbr-train says of the models: the registry's list, the options every
 * model declares, one model's options and presets (model_help.h). */
#include "model/model_help.h"

#include <string.h>

#include "model/def.h"

void sbr_model_help_list(FILE *out)
{
    for (int i = 0; sbr_model_names[i]; i++) {
        const sbr_model_def *d = sbr_model_def_for(sbr_model_names[i], SBR_PREC_F32);
        fprintf(out, "        %-9s %s\n", d->name, d->about);
    }
}

int sbr_model_option_names(const char **names, int cap)
{
    int n = 0;
    for (int i = 0; sbr_model_names[i]; i++) {
        const sbr_opt *o = sbr_model_def_for(sbr_model_names[i], SBR_PREC_F32)->opts;
        for (; o->name; o++) {
            int k = 0;
            while (k < n && strcmp(names[k], o->name) != 0)
                k++;
            if (k == n && n < cap)
                names[n++] = o->name;
        }
    }
    return n;
}

void sbr_model_help_option_owners(FILE *out, const char *name)
{
    for (int i = 0; sbr_model_names[i]; i++)
        for (const sbr_opt *o = sbr_model_def_for(sbr_model_names[i], SBR_PREC_F32)->opts; o->name;
             o++)
            if (strcmp(o->name, name) == 0)
                fprintf(out, " %s", sbr_model_names[i]);
}

void sbr_model_help_options(FILE *out)
{
    const char *names[128];
    int n = sbr_model_option_names(names, 128);
    sbr_opt_help_list(out, names, n, sbr_model_help_option_owners);
}

int sbr_model_help(FILE *out, const char *name)
{
    const sbr_model_def *d = sbr_model_def_for(name, SBR_PREC_F32);
    if (!d)
        return -1;
    fprintf(out, "%s: %s\n  %s\n", d->name, d->about, d->paper);
    if (d->encoder) {
        fprintf(out, "  its session encoder: %s (--encoder NAME, or -m %.*s-NAME; below, its "
                     "options too); may be:", d->encoder->name,
                (int)strcspn(d->name, "-"), d->name);
        for (int i = 0; sbr_model_names[i]; i++) {
            const sbr_model_def *e = sbr_model_def_for(sbr_model_names[i], SBR_PREC_F32);
            if (!e->encoder && !sbr_encoder_unfit(e))
                fprintf(out, " %s", e->name);
        }
        fprintf(out, "\n  trains with a context pool drawn from the training sessions, kept in "
                     "the model file\n");
    }
    if (d->needs & SBR_NEEDS_GLOBAL)
        fprintf(out, "  needs --graph FILE: its global item graph (sbr-graph --kind window "
                     "--window 3 --topk 12 on the training split)\n");
    fprintf(out, "\nOptions (--NAME VALUE; every resolved value is written into the model "
                 "file):\n");
    fprintf(out, "  %-22s %-10s %-16s %s\n", "option", "default", "range", "");
    for (const sbr_opt *o = d->opts; o->name; o++) {
        char flag[64], def[64], range[128];
        sbr_opt_flag(o->name, flag, sizeof flag);
        snprintf(flag + strlen(flag), sizeof flag - strlen(flag), " %s", sbr_opt_type_word(o));
        sbr_opt_format(o, o->def, def, sizeof def);
        sbr_opt_range(o, range, sizeof range);
        fprintf(out, "  --%-20s %-10s %-16s %s\n", flag, def, range, o->help);
    }
    if (d->presets && d->presets[0].name) {
        fprintf(out, "\nPresets (--preset NAME; options given on the command line win):\n");
        for (const sbr_preset *p = d->presets; p->name; p++)
            fprintf(out, "  %-14s %s\n  %-14s %s\n", p->name, p->about, "", p->values);
    }
    return 0;
}
