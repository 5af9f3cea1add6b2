# retailrocket in the SR-GNN benchmark pickles (see pipelines/srgnn-pickles.mk.inc).
PICKLES := retailrocket
include pipelines/srgnn-pickles.mk.inc
