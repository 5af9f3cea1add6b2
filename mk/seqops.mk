# Benchmark of the sequence and graph ops (GRU, GGNN, edge attention, MHSA,
# hinge, Gaussian): tests/bench/bench_seqops.c -> build/bench-seqops, run by
# tests/bench/bench_seqops.sh under `make bench`.
BENCH_SEQOPS := $(BUILD)/bench-seqops
BENCH_DEPS += $(BENCH_SEQOPS)

$(BENCH_SEQOPS): $(BUILD)/obj/tests/bench/bench_seqops.o $(LIB)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(LDLIBS)

.PHONY: bench-seqops
bench-seqops: $(BENCH_SEQOPS)
	@bash tests/bench/bench_seqops.sh
