# make fuzz: libFuzzer harnesses (tests/fuzz/fuzz_NAME.c -> build/fuzz/fuzz_NAME),
# built with clang against the CPU-only library and run FUZZ_SECONDS each on a
# seed corpus of real files.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS  := -std=c11 -O1 -g -D_GNU_SOURCE -DSBR_NO_TARGET_CLONES -Icommon -fopenmp -fsanitize=fuzzer,address,undefined
FUZZ_SRCS    := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS    := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
FUZZ_LIB_OBJ := $(COMMON_C:%.c=$(BUILD)/fuzz/obj/%.o) $(PREC_C:%.c=$(BUILD)/fuzz/obj/%.f32.o) \
                $(PREC_C:%.c=$(BUILD)/fuzz/obj/%.f64.o)
FUZZ_LIBS    := -lzstd -ligraph -lopenblas -lm -lpthread

$(BUILD)/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(filter-out -fsanitize=fuzzer%,$(FUZZ_CFLAGS)) -fsanitize=fuzzer-no-link,address,undefined -c $< -o $@

$(BUILD)/fuzz/obj/%.f32.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(filter-out -fsanitize=fuzzer%,$(FUZZ_CFLAGS)) -fsanitize=fuzzer-no-link,address,undefined -DSBR_BODY_F32 -c $< -o $@

$(BUILD)/fuzz/obj/%.f64.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(filter-out -fsanitize=fuzzer%,$(FUZZ_CFLAGS)) -fsanitize=fuzzer-no-link,address,undefined -DSBR_BODY_F64 -c $< -o $@

$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_OBJ)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $^ $(FUZZ_LIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build tools $(HELPERS)
	@bash tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BINS)

.PHONY: fuzz-build
.SECONDARY: $(FUZZ_LIB_OBJ)
