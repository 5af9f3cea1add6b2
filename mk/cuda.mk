# CUDA mirror of the op library: GPU-vs-CPU tests and the bundle of static
# binaries for the lent GPU machine (docs/GPU.md).
#
#   make test-cuda    build build/cuda-tests and run it (every test skips,
#                     exit 0, when no GPU is visible)
#   make gpu-bundle   build/gpu/: tools + cuda-tests linked so that they run
#                     on a machine without igraph/zstd/OpenBLAS installed

CUDA_TEST_C   := $(sort $(wildcard tests/cuda/*.c))
CUDA_TEST_OBJ := $(CUDA_TEST_C:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/tests/unit/main.o
CUDA_TEST_BIN := $(BUILD)/cuda-tests

.PHONY: gpu-bundle

ifeq ($(CUDA),1)
$(CUDA_TEST_BIN): $(CUDA_TEST_OBJ) $(LIB)
	$(CC) $(CFLAGS) -o $@ $(CUDA_TEST_OBJ) $(LIB) $(LDLIBS)

test-cuda: $(CUDA_TEST_BIN)
	$(CUDA_TEST_BIN)
else
test-cuda:
	@echo "    skip: built without CUDA (nvcc not found): GPU-vs-CPU checks not run"
	@echo "0 passed, 0 failed, 1 skipped"
endif
