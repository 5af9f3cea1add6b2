# diginetica in the SR-GNN benchmark pickles (see pipelines/srgnn-pickles.mk.inc).
PICKLES := diginetica
# The official GCE-GNN code's diginetica settings (sbr-train --help-model gcegnn):
# dropout 0.2 on [own ; aggregate] in the global aggregator, none on the session branch.
DATA_TRAIN_ARGS ?= --epochs 30 --patience 3 $(if $(GCE_LIKE),--preset diginetica)
include pipelines/srgnn-pickles.mk.inc
