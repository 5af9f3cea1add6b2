# diginetica in the SR-GNN benchmark pickles (all_train_seq.txt, test.txt, zstd or
# not) under $(DATA_DIR)/diginetica: see ../shared/data/README.md. The validation
# split is the last 10% of the training sessions (time order).
DATA_TRAIN_ARGS ?= --epochs 30 --patience 3

$(SESSIONS): $(BUILD)/sbr-prep | $(WORK)
	@test -d "$(DATA_DIR)/diginetica" || { echo "sbr: $(DATA_DIR)/diginetica not found: set DATA_DIR to the folder holding diginetica/ (SR-GNN pickles)" >&2; exit 1; }
	$(BUILD)/sbr-prep --format srgnn --valid-frac 0.1 -o $@ $(DATA_DIR)/diginetica
