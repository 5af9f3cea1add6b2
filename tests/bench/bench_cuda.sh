#!/usr/bin/env bash
# GPU op timings and the fused score+CE against three cuBLAS sgemm (bench-cuda).
echo "### CUDA ops"
echo
if [ ! -x build/bench-cuda ]; then
    echo "*skipped: built without CUDA; the figures of the GPU runs are in docs/BENCH-GPU.md*"
elif ! nvidia-smi -L >/dev/null 2>&1; then
    echo "*skipped: no GPU visible on this machine; the figures of the GPU runs are in docs/BENCH-GPU.md (docs/GPU.md: the device recipe)*"
else
    build/bench-cuda
fi
