# The op library's benchmark program: tests/bench/bench_ops.c -> build/bench-ops,
# run by tests/bench/bench_ops.sh under `make bench`.
BENCH_OPS := $(BUILD)/bench-ops
BENCH_DEPS += $(BENCH_OPS)

$(BENCH_OPS): $(BUILD)/obj/tests/bench/bench_ops.o $(LIB)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(LDLIBS)

.PHONY: bench-ops
bench-ops: $(BENCH_OPS)
	@bash tests/bench/bench_ops.sh
