#!/usr/bin/env bash
# Runs on the lent GPU machine (docs/GPU.md), from the repository root, with
# build/gpu.tar.xz carried: unpacks the bundle, says what the machine is,
# runs the GPU-vs-CPU tests and the GPU benchmark. Logs go to $OUT (or
# build/gpu-out) so that they come back. Exit status: that of cuda-tests.
# Then tests/cuda/models.sh ($OUT/models.log): every model trained on the GPU
# against the CPU. SBR_TESTS_TIMEOUT, SBR_MODELS_TIMEOUT and SBR_BENCH_TIMEOUT
# (seconds, 600 each) bound the three steps, so that a hang cannot spend the
# lease.
set -u
out=${OUT:-build/gpu-out}
mkdir -p "$out" build
if [ ! -x build/gpu/cuda-tests ]; then
    [ -f build/gpu.tar.xz ] || { echo "device-run: build/gpu.tar.xz was not carried" >&2; exit 2; }
    tar -xJf build/gpu.tar.xz -C build 2>/dev/null ||
        python3 -c "import tarfile; tarfile.open('build/gpu.tar.xz').extractall('build')" ||
        { echo "device-run: cannot unpack build/gpu.tar.xz" >&2; exit 2; }
fi
. build/gpu/env.sh
{
    echo "machine: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -1)"
    echo "glibc: $(ldd --version 2>&1 | head -1)"
    echo "commit: $(git rev-parse --short HEAD 2>/dev/null)"
    ldd build/gpu/cuda-tests | grep -E 'not found|cublas' || true
} | tee "$out/machine.txt"
timeout "${SBR_TESTS_TIMEOUT:-600}" build/gpu/cuda-tests 2>&1 | tee "$out/cuda-tests.log"
status=${PIPESTATUS[0]}
# every model trained on the GPU against the CPU, through the tools
SBR_BIN=build/gpu timeout "${SBR_MODELS_TIMEOUT:-600}" bash tests/cuda/models.sh 2>&1 |
    tee "$out/models.log"
[ "${PIPESTATUS[0]}" = 0 ] || status=1
if [ "${SBR_NO_BENCH:-0}" != 1 ]; then
    timeout "${SBR_BENCH_TIMEOUT:-600}" build/gpu/bench-cuda 2>&1 | tee "$out/bench-cuda.md"
fi
echo "device-run: cuda-tests exit $status; logs in $out"
exit "$status"
