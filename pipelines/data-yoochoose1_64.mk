# yoochoose1_64 in the SR-GNN benchmark pickles (see pipelines/srgnn-pickles.mk.inc).
PICKLES := yoochoose1_64
include pipelines/srgnn-pickles.mk.inc
