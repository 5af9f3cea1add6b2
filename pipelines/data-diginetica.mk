# diginetica in the SR-GNN benchmark pickles (see pipelines/srgnn-pickles.mk.inc).
PICKLES := diginetica
include pipelines/srgnn-pickles.mk.inc
