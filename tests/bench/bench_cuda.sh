#!/usr/bin/env bash
# GPU op timings and the fused score+CE against three cuBLAS sgemm (bench-cuda).
echo "### CUDA ops"
echo
if [ ! -x build/bench-cuda ]; then
    echo "*skipped: built without CUDA*"
elif ! nvidia-smi -L >/dev/null 2>&1; then
    echo "*skipped: no GPU visible on this machine (see docs/GPU.md for the device recipe)*"
else
    build/bench-cuda
fi
