# diginetica in the SR-GNN benchmark pickles (see pipelines/srgnn-pickles.mk.inc).
PICKLES := diginetica
# The official GCE-GNN code's diginetica settings: dropout 0.2 on [own ; aggregate]
# in the global aggregator (its default elsewhere is 0), none on the session branch.
DATA_TRAIN_ARGS ?= --epochs 30 --patience 3 $(if $(filter gcegnn,$(MODEL)),--dropout-gcn 0.2)
include pipelines/srgnn-pickles.mk.inc
