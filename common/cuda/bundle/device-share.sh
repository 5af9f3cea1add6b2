#!/usr/bin/env bash
# On the lent GPU machine (docs/GPU.md), after the bundle is unpacked: how
# several training processes share the one GPU, to plan runs that go at
# once. For N in the arguments (default 1 4 8), N SR-GNN trainings on
# diginetica of STEPS steps each (SBR_SHARE_STEPS, default 3000) start
# together; prints the wall time and the steps per second of all of them.
# With SBR_SHARE_MPS=1 the same again under the CUDA MPS daemon, when it
# starts. Output: one line per case on stdout.
set -u
bin=${SBR_BIN:-build/gpu}
steps=${SBR_SHARE_STEPS:-3000}
sess=.gpu-data/diginetica-paper.sess
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

share() { # N LABEL
    local n=$1 label=$2 t0 t1 pids=()
    t0=$(date +%s%N)
    for ((i = 0; i < n; i++)); do
        timeout 120 "$bin/sbr-train" -q -m srgnn --device cuda --threads 1 -e 1 --max-steps "$steps" \
            --select best-test -o "$tmp/$i.model" "$sess" 2> "$tmp/$i.err" &
        pids+=($!)
    done
    local bad=0
    for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
    t1=$(date +%s%N)
    local s
    s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
    echo "$label: $n processes x $steps steps in $s s wall (start-up and the test ranking included): $(awk -v n="$n" -v k="$steps" -v s="$s" 'BEGIN { printf "%.0f", n * k / s }') steps/s together; $bad failed$([ $bad != 0 ] && echo ": $(tail -n 1 "$tmp"/*.err | tr '\n' ' ')")"
}

for n in ${*:-1 4 8}; do share "$n" "no MPS"; done
if [ "${SBR_SHARE_MPS:-0}" = 1 ]; then
    export CUDA_MPS_PIPE_DIRECTORY=$tmp/mps CUDA_MPS_LOG_DIRECTORY=$tmp/mpslog
    mkdir -p "$CUDA_MPS_PIPE_DIRECTORY" "$CUDA_MPS_LOG_DIRECTORY"
    if timeout 10 nvidia-cuda-mps-control -d; then
        for n in ${*:-1 4 8}; do share "$n" "MPS"; done
        echo quit | timeout 10 nvidia-cuda-mps-control
    else
        echo "MPS: nvidia-cuda-mps-control -d failed"
    fi
fi
