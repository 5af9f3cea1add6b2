#include "cli.h"

#include "version.h" /* build/gen/version.h, written by the Makefile */

const char *sbr_version(void) { return SBR_VERSION_STRING; }
