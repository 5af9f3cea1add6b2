# Benchmark programs of tests/bench (make bench).
$(BUILD)/bench-floor: $(BUILD)/obj/tests/bench/bench_floor.o $(LIB)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(LDLIBS)

BENCH_DEPS += $(BUILD)/bench-floor
