# CUDA mirror of the op library: GPU-vs-CPU tests and the bundle of binaries
# for the lent GPU machine (docs/GPU.md).
#
#   make test-cuda    build build/cuda-tests and run it (every GPU test skips,
#                     exit 0, when no GPU is visible); first checks that every
#                     _cuda op api.inc declares is defined with C linkage; then
#                     every model trained on the GPU against the CPU
#                     (tests/cuda/models.sh)
#   make gpu-bundle   build/gpu/: every tool + cuda-tests, linked so that they
#                     run where igraph, zstd and OpenBLAS are not installed;
#                     build/gpu.tar.xz: the same, compressed, to carry

CUDA_TEST_C   := $(sort $(wildcard tests/cuda/*.c))
CUDA_TEST_OBJ := $(CUDA_TEST_C:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/tests/unit/main.o
CUDA_TEST_BIN := $(BUILD)/cuda-tests

CUDA_BENCH_BIN := $(BUILD)/bench-cuda

.PHONY: gpu-bundle cuda-api-check bench-cuda

ifeq ($(CUDA),1)
$(CUDA_TEST_BIN): $(CUDA_TEST_OBJ) $(LIB)
	$(CC) $(CFLAGS) -o $@ $(CUDA_TEST_OBJ) $(LIB) $(LDLIBS)

# A _cuda definition whose parameters drifted from api.inc would compile as a
# C++ overload and leave the C symbol undefined: list what nn.h declares and
# what libsbr.a defines. A function's name is followed by its "(", which
# leaves out the per-precision struct types (sbr_nn_gru_w_cuda, ...).
cuda-api-check: $(LIB)
	@missing=$$(comm -23 \
	  <($(CC) -E -DSBR_HAVE_CUDA=1 -D_GNU_SOURCE -Icommon common/nn/nn.h | \
	    grep -o 'sbr_nn_[a-z0-9_]*_cuda *(' | tr -d ' (' | sort -u) \
	  <(nm $(LIB) 2>/dev/null | awk '$$2 == "T" {print $$3}' | grep '_cuda$$' | sort -u)); \
	if [ -n "$$missing" ]; then \
	  echo "cuda-api-check: declared in common/nn/api.inc, not defined in common/cuda:"; \
	  echo "$$missing" | sed 's/^/    /'; exit 1; \
	else echo "cuda-api-check: every _cuda op of api.inc is defined"; fi

# GPU timings of the ops (Markdown rows; a skip line without a GPU). Built
# by `make bench`; a tests/bench/bench_cuda.sh that runs it would add the
# section to docs/BENCH.md.
BENCH_DEPS += $(CUDA_BENCH_BIN)
$(CUDA_BENCH_BIN): $(BUILD)/obj/tests/cuda/bench/bench_cuda.o $(LIB)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(LDLIBS)

bench-cuda: $(CUDA_BENCH_BIN)
	$(CUDA_BENCH_BIN)

test-cuda: $(CUDA_TEST_BIN) tools
	@$(MAKE) --no-print-directory cuda-api-check
	$(CUDA_TEST_BIN)
	bash tests/cuda/models.sh

# --- the GPU bundle -------------------------------------------------------------
# Static: zstd, igraph, OpenBLAS (+ gfortran, quadmath), libgomp, libstdc++,
# cudart. Dynamic: libc, libm, cuBLAS/cuBLASLt (found on the GPU machine in
# /usr/local/cuda/lib64, see docs/GPU.md), libcuda (the driver). Linked
# without -fopenmp so that gcc does not add the shared libgomp.
GCC_LIBDIR := $(dir $(shell $(CC) -print-libgcc-file-name))
GPU_DIR    := $(BUILD)/gpu
GPU_ARPACK := $(BUILD)/obj/common/cuda/bundle/arpack_unavailable.o
GPU_LIBS   := -Wl,-Bstatic -lzstd -ligraph -lopenblas -Wl,-Bdynamic \
              $(GCC_LIBDIR)libgfortran.a $(GCC_LIBDIR)libquadmath.a $(GCC_LIBDIR)libgomp.a \
              $(GCC_LIBDIR)libstdc++.a -static-libgcc $(CUDA_LIBDIR)/libcudart_static.a \
              -lm -lpthread -ldl -lrt \
              -Wl,-rpath,/usr/local/cuda/lib64 -s
GPU_BINS   := $(TOOLS:%=$(GPU_DIR)/%) $(GPU_DIR)/cuda-tests $(GPU_DIR)/bench-cuda
# What ldd may still list (the GPU machine has these).
GPU_LDD_OK := linux-vdso|ld-linux|libc\.so|libm\.so|libdl\.so|librt\.so|libpthread\.so|libgcc_s|libstdc\+\+|libgomp|libcublas|libcublasLt|libcuda\.so

define gpu_tool_rule
$(GPU_DIR)/$(1): $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tools/$(1)/*.c)) $(LIB) $(GPU_ARPACK)
	@mkdir -p $(GPU_DIR)
	$(CC) -o $$@ $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tools/$(1)/*.c)) $(LIB) $(GPU_ARPACK) $(GPU_LIBS)
endef
$(foreach t,$(TOOLS),$(eval $(call gpu_tool_rule,$(t))))

$(GPU_DIR)/cuda-tests: $(CUDA_TEST_OBJ) $(LIB) $(GPU_ARPACK)
	@mkdir -p $(GPU_DIR)
	$(CC) -o $@ $(CUDA_TEST_OBJ) $(LIB) $(GPU_ARPACK) $(GPU_LIBS)

$(GPU_DIR)/bench-cuda: $(BUILD)/obj/tests/cuda/bench/bench_cuda.o $(LIB) $(GPU_ARPACK)
	@mkdir -p $(GPU_DIR)
	$(CC) -o $@ $< $(LIB) $(GPU_ARPACK) $(GPU_LIBS)

$(GPU_DIR)/env.sh: common/cuda/bundle/env.sh
	@mkdir -p $(GPU_DIR)
	cp $< $@

gpu-bundle: $(GPU_BINS) $(GPU_DIR)/env.sh
	@bad=0; for b in $(GPU_BINS); do \
	  extra=$$(ldd $$b | grep -vE '$(GPU_LDD_OK)' | sed 's/^[[:space:]]*//'); \
	  if [ -n "$$extra" ]; then echo "gpu-bundle: $$b still needs: $$extra"; bad=1; fi; \
	done; [ $$bad = 0 ] || exit 1
	@tar -C $(BUILD) -cf - gpu | xz -9 -T2 > $(BUILD)/gpu.tar.xz.tmp && \
	  mv $(BUILD)/gpu.tar.xz.tmp $(BUILD)/gpu.tar.xz
	@echo "gpu-bundle: $(words $(GPU_BINS)) binaries in $(GPU_DIR) ($$(du -sh $(GPU_DIR) | cut -f1)), ldd clean;" \
	  "carry $(BUILD)/gpu.tar.xz ($$(du -h $(BUILD)/gpu.tar.xz | cut -f1)): see docs/GPU.md"
else
test-cuda:
	@echo "    skip: built without CUDA ($(CUDA_OFF_WHY)): GPU-vs-CPU checks not run"
	@echo "0 passed, 0 failed, 1 skipped"

gpu-bundle:
	@echo "gpu-bundle: needs nvcc (CUDA) at build time" >&2; exit 2
endif
