/* What sbr-train says of the models (model_help.c), from the registry and
 * the options each model declares. */
#ifndef SBR_MODEL_HELP_H
#define SBR_MODEL_HELP_H

#include <stdio.h>

/* "  NAME  what it is" for every model, in the registry's order. */
void sbr_model_help_list(FILE *out);
/* Every option name some model declares, once each, in the registry's
 * order (at most cap): the long options sbr-train accepts beyond its own.
 * Returns how many. */
int sbr_model_option_names(const char **names, int cap);
/* " NAME NAME ..." of the models that have option `name`. */
void sbr_model_help_option_owners(FILE *out, const char *name);
/* "  --FLAG  MODEL MODEL ..." for every option some model declares. */
void sbr_model_help_options(FILE *out);
/* One model's page (sbr-train --help-model NAME): what it is, where it comes
 * from, its options with defaults, ranges and help, its presets. -1 when
 * the name is unknown. */
int sbr_model_help(FILE *out, const char *name);

#endif
