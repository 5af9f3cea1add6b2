# sbr — session-based recommendation toolkit. See README.md.
#
#   make            build every tool into build/
#   make test       check dependencies, build, run every test (the CI command)
#   make pipeline   prep -> graph -> cluster -> train -> infer -> score
#   make bench      speed/memory benchmarks, table in docs/BENCH.md
#   make deps       install the Debian packages sbr needs (root), or print how
#   make fuzz       build and run the libFuzzer harnesses (clang)
#   make test-cuda  GPU-vs-CPU checks (skips when no GPU is visible)
#   make install    tools, man pages, bash completion, python/sbr.py under
#                   PREFIX (default /usr/local; DESTDIR too); make uninstall

SHELL   := /bin/bash
BUILD   := build
CC      := gcc
OPT     ?= -O2
# -fno-math-errno: nothing reads errno after a math call, and with it sqrt is
# an instruction the compiler may vectorise (Adam over every parameter ran
# 1.9x faster). -fno-trapping-math: nothing reads the floating-point
# exception flags, and without it GCC will not compute both sides of a
# select such as LeakyReLU's "x > 0 ? x : slope * x", so the loop stays a
# branch on the sign, mispredicted half the time (GCE-GNN's global
# aggregator backward spent 3 of its 10 ms there). IEEE results are
# unchanged by either.
FPFLAGS := -fno-math-errno -fno-trapping-math
CFLAGS  := -std=c11 $(OPT) -g -Wall -Wextra -fopenmp $(FPFLAGS) -D_GNU_SOURCE -Icommon $(EXTRA_CFLAGS)
LDLIBS  := -Wl,--as-needed -lzstd -ligraph -lopenblas -lm -lpthread
# Sanitizer build of the unit tests (CPU path only).
ASAN_CFLAGS := -std=c11 -O1 -g -Wall -Wextra -fopenmp $(FPFLAGS) -D_GNU_SOURCE -Icommon \
               -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

# The headers of the required packages (mk/deps.sh): without them a build
# would stop inside the compiler, so it stops here, saying what to run.
# Targets that build nothing (deps, help, clean) go on.
MISSING_HEADERS := $(foreach h,igraph/igraph.h zstd.h cblas.h,\
  $(if $(wildcard /usr/include/$(h) /usr/include/*/$(h) /usr/local/include/$(h)),,$(h)))
ifneq ($(strip $(MISSING_HEADERS)),)
ifneq ($(filter-out deps deps-check help clean clean-work,$(or $(MAKECMDGOALS),all)),)
$(error sbr: missing headers: $(strip $(MISSING_HEADERS)): run 'make deps' (installs libigraph-dev libzstd-dev libopenblas-dev zstd pkg-config))
endif
endif

# --- CUDA: on when nvcc is found (CUDA=0 turns it off) -----------------------
NVCC ?= $(shell command -v nvcc 2>/dev/null || ls /usr/local/cuda/bin/nvcc 2>/dev/null)
# nvcc may be a wrapper script outside the toolkit (/usr/local/bin/nvcc), so the
# libraries are looked for where cuBLAS really is, not only beside nvcc.
CUDA_LIBDIR ?= $(firstword $(patsubst %/libcublas.so,%,$(wildcard \
  $(abspath $(dir $(NVCC))..)/lib64/libcublas.so \
  $(abspath $(dir $(NVCC))..)/targets/x86_64-linux/lib/libcublas.so \
  $(if $(CUDA_HOME),$(CUDA_HOME)/lib64/libcublas.so) \
  /usr/local/cuda/lib64/libcublas.so /usr/local/cuda/targets/x86_64-linux/lib/libcublas.so \
  /usr/lib/x86_64-linux-gnu/libcublas.so)))
CUDA ?= $(if $(NVCC),$(if $(CUDA_LIBDIR),1,0),0)
CUDA_OFF_WHY := $(if $(NVCC),nvcc found but not cuBLAS (set CUDA_LIBDIR),nvcc not found)
ifeq ($(CUDA),1)
CFLAGS     += -DSBR_HAVE_CUDA=1 -DSBR_CUDA_MODELS=1
# cuBLAS is not linked: common/cuda/cublas_load.cu opens it when a GPU context
# is made (by the sonames found here), and the CUDA runtime is linked
# statically, so the tools start at once and run on hosts without the toolkit.
CUBLAS_SONAMES := $(foreach l,cublas cublasLt,$(or $(shell objdump -p $(CUDA_LIBDIR)/lib$(l).so 2>/dev/null   | awk '/SONAME/ { print $$2 }'),lib$(l).so))
NVCCFLAGS  := -O2 -std=c++17 -arch=sm_90 -Icommon -DSBR_HAVE_CUDA=1 -Xcompiler -Wall,-Wextra,-fPIC \
  -DSBR_CUDA_LIBDIR='"$(CUDA_LIBDIR)"' -DSBR_CUBLAS_SONAME='"$(word 1,$(CUBLAS_SONAMES))"' \
  -DSBR_CUBLASLT_SONAME='"$(word 2,$(CUBLAS_SONAMES))"'
LDLIBS     += -L$(CUDA_LIBDIR) -lcudart_static -ldl -lrt -lstdc++
endif

# --- sources ------------------------------------------------------------------
# Model bodies are compiled once per precision (common/model/body.h): the
# models (common/models/NAME.c) and the parts they share (common/model/body/).
PREC_C     := $(sort $(wildcard common/models/*.c common/model/body/*.c))
PRECS      := f32 f64 $(if $(filter 1,$(CUDA)),cuda)
COMMON_C   := $(filter-out $(PREC_C),$(sort $(wildcard common/*.c common/*/*.c)))
COMMON_CU  := $(sort $(wildcard common/*.cu common/*/*.cu))
COMMON_OBJ := $(COMMON_C:%.c=$(BUILD)/obj/%.o) \
              $(foreach p,$(PRECS),$(PREC_C:%.c=$(BUILD)/obj/%.$(p).o))
ifeq ($(CUDA),1)
COMMON_OBJ += $(COMMON_CU:%.cu=$(BUILD)/obj/%.cu.o)
endif
LIB        := $(BUILD)/libsbr.a
TOOLS      := $(patsubst tools/%/main.c,%,$(sort $(wildcard tools/sbr-*/main.c)))
TOOL_BINS  := $(TOOLS:%=$(BUILD)/%)
UNIT_C     := $(sort $(wildcard tests/unit/*.c))
UNIT_BIN   := $(BUILD)/unit-tests
UNIT_ASAN  := $(BUILD)/unit-tests-asan
# Small programs the CLI tests use (tests/helpers/NAME.c -> build/test-helpers/NAME).
HELPERS    := $(patsubst tests/helpers/%.c,$(BUILD)/test-helpers/%,$(wildcard tests/helpers/*.c))

# Programs the benchmarks need beyond `all` (fragments append to it).
BENCH_DEPS :=

# Fragments of later stages (extra targets, benchmarks, pipelines).
include $(sort $(wildcard mk/*.mk))
include pipelines/pipeline.mk

.PHONY: all tools test test-unit test-asan test-cli test-cuda bench bench-deps fuzz deps \
        deps-check pipeline clean help FORCE
.DEFAULT_GOAL := all

all: tools $(UNIT_BIN) $(HELPERS)
	@if [ "$(CUDA)" = 1 ]; then echo "sbr: built with the CUDA path (sm_90, $(NVCC))"; \
	 else echo "sbr: $(CUDA_OFF_WHY): built without the GPU path (CPU only)"; fi

tools: $(TOOL_BINS)

help:
	@sed -n '2,10p' Makefile | sed 's/^# \{0,1\}//'

# --- compile ------------------------------------------------------------------
# What the objects were compiled for, in a file rewritten only when it
# changes: a build dir made with CUDA=0 and built again with the GPU path (or
# another OPT) is recompiled whole, never linked from objects of both.
# EXTRA_CFLAGS (make test's -Werror) changes no object and is left out.
BUILD_CONFIG := CC=$(CC) OPT=$(OPT) CUDA=$(CUDA) NVCC=$(NVCC)
$(BUILD)/config: FORCE
	@mkdir -p $(dir $@)
	@[ "$$(cat $@ 2>/dev/null)" = '$(BUILD_CONFIG)' ] || echo '$(BUILD_CONFIG)' > $@

$(BUILD)/obj/%.o: %.c $(BUILD)/config
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/%.f32.o: %.c $(BUILD)/config
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DSBR_BODY_F32 -MMD -MP -c $< -o $@

$(BUILD)/obj/%.f64.o: %.c $(BUILD)/config
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DSBR_BODY_F64 -MMD -MP -c $< -o $@

# The version the tools report and write into every file: the release and
# the last commit that changed the code (common, tools, the make files), with
# "-dirty" when the code differs from it, in a header rewritten only when it
# changes: a commit of docs alone rebuilds nothing (and retrains no pipeline).
SBR_RELEASE := 0.1.0
CODE_PATHS  := common tools Makefile mk
GIT_COMMIT  := $(shell git log -1 --format=%h --abbrev=7 -- $(CODE_PATHS) 2>/dev/null)$(if \
  $(shell git diff --quiet HEAD -- $(CODE_PATHS) 2>/dev/null || echo dirty),-dirty)
SBR_VERSION_STRING := $(SBR_RELEASE)$(if $(GIT_COMMIT),+g$(GIT_COMMIT))
$(BUILD)/gen/version.h: FORCE
	@mkdir -p $(dir $@)
	@v='#define SBR_VERSION_STRING "$(SBR_VERSION_STRING)"'; \
	 [ "$$(cat $@ 2>/dev/null)" = "$$v" ] || echo "$$v" > $@
VERSION_OBJS := $(BUILD)/obj/common/version.o $(BUILD)/asan/common/version.o \
                $(BUILD)/fuzz/obj/common/version.o
$(VERSION_OBJS): $(BUILD)/gen/version.h
$(VERSION_OBJS): CFLAGS += -I$(BUILD)/gen
$(VERSION_OBJS): ASAN_CFLAGS += -I$(BUILD)/gen
$(VERSION_OBJS): FUZZ_CFLAGS += -I$(BUILD)/gen
FORCE:

$(BUILD)/obj/%.cuda.o: %.c $(BUILD)/config
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DSBR_BODY_CUDA -MMD -MP -c $< -o $@

$(BUILD)/obj/%.cu.o: %.cu $(BUILD)/config
	@mkdir -p $(dir $@)
	$(NVCC) $(NVCCFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/asan/%.f32.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) -DSBR_BODY_F32 -MMD -MP -c $< -o $@

$(BUILD)/asan/%.f64.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) -DSBR_BODY_F64 -MMD -MP -c $< -o $@

$(LIB): $(COMMON_OBJ)
	@rm -f $@
	ar rcs $@ $^

# One link rule per tool: every .c in tools/NAME/ plus the library.
define tool_rule
$(BUILD)/$(1): $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tools/$(1)/*.c)) $(LIB)
	$$(CC) $$(CFLAGS) -o $$@ $$(filter %.o,$$^) $(LIB) $$(LDLIBS)
endef
$(foreach t,$(TOOLS),$(eval $(call tool_rule,$(t))))

$(BUILD)/test-helpers/%: $(BUILD)/obj/tests/helpers/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(UNIT_BIN): $(UNIT_C:%.c=$(BUILD)/obj/%.o) $(LIB)
	$(CC) $(CFLAGS) -o $@ $(filter %.o,$^) $(LIB) $(LDLIBS)

$(UNIT_ASAN): $(UNIT_C:%.c=$(BUILD)/asan/%.o) $(COMMON_C:%.c=$(BUILD)/asan/%.o) \
              $(PREC_C:%.c=$(BUILD)/asan/%.f32.o) $(PREC_C:%.c=$(BUILD)/asan/%.f64.o)
	$(CC) $(ASAN_CFLAGS) -o $@ $^ $(filter-out -L% -lcudart_static -lstdc++ -Wl%,$(LDLIBS))

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# --- dependencies -------------------------------------------------------------
deps:
	@bash mk/deps.sh install

deps-check:
	@bash mk/deps.sh check

# --- tests --------------------------------------------------------------------
# make test builds with -Werror: "no warnings" is a promise, and a warning
# (an incompatible pointer, say) has hidden a real bug before. It builds the
# benchmark programs too: tests/suites/bench_smoke.sh runs each at tiny sizes.
NPROC := $(shell nproc 2>/dev/null || echo 2)
test: deps-check
	@$(MAKE) --no-print-directory -j$(NPROC) all $(UNIT_ASAN) $(BENCH_DEPS) EXTRA_CFLAGS=-Werror
	@bash tests/run.sh

test-unit: $(UNIT_BIN)
	$(UNIT_BIN)

test-asan: $(UNIT_ASAN)
	$(UNIT_ASAN)

# make bench: every tests/bench/bench_*.sh, assembled into docs/BENCH.md.
bench: all $(BENCH_DEPS)
	@bash tests/bench/run.sh

# The programs make bench needs, one a line (tests/suites/bench_smoke.sh).
bench-deps:
	@printf '%s\n' $(BENCH_DEPS)

test-cli: tools
	@bash tests/cli/run.sh

clean:
	rm -rf $(BUILD)

clean-work:
	rm -rf work
