# The embedded default dataset: synthetic click logs from sbr-gen (see
# docs/PREP.md). Nothing to download: it is generated, deterministic for the seed.
SYNTH_CLICKS ?= 200000
SYNTH_SEED   ?= 1
DATA_TRAIN_ARGS ?= --epochs 4 --patience 2

$(WORK)/clicks.tsv.zst: $(BUILD)/sbr-gen | $(WORK)
	$(BUILD)/sbr-gen -q --clicks $(SYNTH_CLICKS) --seed $(SYNTH_SEED) | zstd -q -f -o $@

$(SESSIONS): $(WORK)/clicks.tsv.zst $(BUILD)/sbr-prep
	$(BUILD)/sbr-prep --valid-frac $(VALID_FRAC) -o $@ $<
