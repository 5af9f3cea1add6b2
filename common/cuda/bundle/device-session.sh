#!/usr/bin/env bash
# One whole device call (docs/GPU.md), for a session that has a single call
# to spend: on the lent GPU machine, from the repository root, with
# build/gpu.tar.xz and .gpu-data carried.
#
#   bash common/cuda/bundle/device-session.sh SECONDS JOB...
#
# Alone on the GPU first: cuda-tests, bench-cuda, the step profile
# (SBR_STEP_TIMING=3) and the epoch timing (SBR_STEP_TIMING=1) of SR-GNN and
# GCE-GNN on diginetica; then the JOBs of device-train.sh, SBR_JOBS of them
# at once (default: all), each given a time limit that ends it before
# SECONDS (counted from the start of this script) have passed, beside
# tests/cuda/models.sh. Everything is packed into $OUT/all.tgz as it goes
# (so that a call cut short still brings back what it had).
# SBR_SESSION_PHASES (default "tests profile variants timing jobs") picks the
# phases; variants: SR-GNN's step under run-time switches (SBR_GEMM,
# SBR_CUBLAS_MATH, SBR_PREFETCH; VAR=VAL+VAR=VAL sets two), 3,200 steps each.
# cuda-tests run twice: as they are, and with every GEMM on cublasLt.
# The jobs run under the CUDA MPS daemon when it starts (several processes
# then share the GPU about 1.7 times better: device-share.sh). When
# build/gpu-prev.tar.xz is carried too (a bundle that has passed on a GPU
# before), the jobs use it if this bundle fails cuda-tests or SR-GNN's first
# epoch loss on diginetica differs from the known 7.070809.
set -u
budget=${1:?usage: device-session.sh SECONDS JOB...}
shift
t0=$(date +%s)
o=${OUT:-build/gpu-out}
b=common/cuda/bundle
mkdir -p "$o/s"
pack() { (cd "$o" && tar czf all.tgz.tmp s && mv all.tgz.tmp all.tgz); }
left() { echo $((budget - ($(date +%s) - t0))); }
log() { echo "[$(($(date +%s) - t0)) s] $*" | tee -a "$o/s/session.txt"; }

tar -xJf build/gpu.tar.xz -C build || exit 2
. build/gpu/env.sh
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; nproc; } \
    > "$o/s/machine.txt" 2>&1
phases=${SBR_SESSION_PHASES:-tests profile variants timing jobs}
phase() { case " $phases " in *" $1 "*) return 0 ;; esac; return 1; }
if phase tests; then
    log "cuda-tests"
    timeout 120 build/gpu/cuda-tests > "$o/s/cuda-tests.log" 2>&1
    log "cuda-tests: $(tail -n 1 "$o/s/cuda-tests.log")"
    SBR_GEMM=lt timeout 120 build/gpu/cuda-tests > "$o/s/cuda-tests-lt.log" 2>&1
    log "cuda-tests under SBR_GEMM=lt: $(tail -n 1 "$o/s/cuda-tests-lt.log")"
    timeout 40 build/gpu/bench-cuda > "$o/s/bench-cuda.md" 2>&1
    pack
fi
if phase profile; then
    log "profile"
    for job in "diginetica-paper:srgnn:cublas:" "diginetica-paper:srgnn:lt:" \
        "diginetica-paper:gcegnn:cublas:--dropout-gcn 0.2 --graph .gpu-data/diginetica-paper.win"; do
        IFS=: read -r set m gemm extra <<< "$job"
        # shellcheck disable=SC2086
        SBR_GEMM=$gemm SBR_STEP_TIMING=3 timeout 90 build/gpu/sbr-train -m "$m" --device cuda \
            -e 1 --max-steps 3200 --select best-test $extra -o /tmp/p.model \
            ".gpu-data/$set.sess" 2>&1 | tr '\r' '\n' | grep -v 'ETA' > "$o/s/profile-$m-$gemm.txt"
    done
    pack
fi
if phase variants; then
    # A/B of run-time switches on SR-GNN's step: 3,200 steps each, twice, in
    # turn; the timing line gives the wall ms per step.
    log "variants"
    for rep in 1 2; do
        for v in base SBR_GEMM=lt SBR_CUBLAS_MATH=default SBR_GEMM=lt+SBR_CUBLAS_MATH=tf32 \
            SBR_CUBLAS_MATH=tf32 SBR_PREFETCH=0; do
            echo "== $v ($rep)"
            # shellcheck disable=SC2086
            env SBR_STEP_TIMING=1 $([ $v = base ] || echo ${v//+/ }) timeout 60 build/gpu/sbr-train \
                -m srgnn --device cuda -e 1 --max-steps 3200 --select best-test -o /tmp/v.model \
                .gpu-data/diginetica-paper.sess 2>&1 | tr '\r' '\n' | grep -E 'step timing|epoch 1  loss'
        done
    done > "$o/s/variants.txt"
    pack
fi
if phase timing; then
    log "timing"
    SBR_STEP_TIMING=1 OUT=$o/s/timing SBR_KILL_AFTER=40 bash $b/device-train.sh \
        diginetica-paper:srgnn:12 "diginetica-paper:gcegnn:25::--dropout-gcn 0.2" \
        > "$o/s/timing.txt" 2>&1
    pack
fi
phase jobs || { log "done"; pack; exit 0; }
jobs_bin=build/gpu
good=1
if phase tests && ! tail -n 1 "$o/s/cuda-tests.log" | grep -q ' 0 failed'; then good=0; fi
if phase timing && ! grep -q '"epoch":1,"loss":7.070809,' "$o/s/timing/diginetica-paper/srgnn.log" 2>/dev/null; then
    good=0
fi
if [ $good = 0 ] && [ -f build/gpu-prev.tar.xz ]; then
    mkdir -p build/prev && tar -xJf build/gpu-prev.tar.xz -C build/prev && jobs_bin=build/prev/gpu
fi
log "jobs ($# of them, $(left) s left) with $jobs_bin"
export CUDA_MPS_PIPE_DIRECTORY=/tmp/sbr-mps CUDA_MPS_LOG_DIRECTORY=/tmp/sbr-mps-log
mkdir -p "$CUDA_MPS_PIPE_DIRECTORY" "$CUDA_MPS_LOG_DIRECTORY"
mps=0
timeout 10 nvidia-cuda-mps-control -d && mps=1
log "MPS: $mps"
# every model's GPU training against its CPU training, then again with the
# GEMMs on cublasLt
(
    SBR_BIN=build/gpu timeout $(($(left) - 20)) bash tests/cuda/models.sh > "$o/s/models.log" 2>&1
    SBR_GEMM=lt SBR_BIN=build/gpu timeout $(($(left) - 20)) bash tests/cuda/models.sh \
        > "$o/s/models-lt.log" 2>&1
) &
models=$!
# each job's limit: what is left, less the longest epoch expected under
# sharing and the ranking after it
lim=$(($(left) - ${SBR_SESSION_MARGIN:-100}))
jobs_=()
for j in "$@"; do
    IFS=: read -r set model _ rest <<< "$j"
    jobs_+=("$set:$model:$lim${rest:+:$rest}")
done
( while sleep 45; do pack; done ) &
packer=$!
SBR_BIN=$jobs_bin SBR_THREADS=1 SBR_JOBS=${SBR_JOBS:-$#} SBR_KILL_AFTER=$((${SBR_SESSION_MARGIN:-100} - 30)) \
    OUT=$o/s/runs bash $b/device-train.sh "${jobs_[@]}" > "$o/s/jobs.txt" 2>&1
wait $models
kill $packer 2>/dev/null
[ $mps = 1 ] && echo quit | timeout 10 nvidia-cuda-mps-control
log "done"
pack
