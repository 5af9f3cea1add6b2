#!/usr/bin/env bash
# Runs on the lent GPU machine after device-run.sh (docs/GPU.md): trains and
# ranks on the real data, carried in .gpu-data/ (the shared data beside the
# checkout does not travel; common/cuda/bundle/gpu-data.sh makes it here):
# for each SET, SET.sess (sbr-prep), SET.win (sbr-graph --kind window
# --window 3 --topk 12) and SET.clusters (sbr-cluster --resolution 1 --seed 1
# of the adjacent graph), as `make pipeline` makes them; a SET named *-paper
# selects the best test epoch, any other on its validation split. One job
# per argument:
#
#   SET:MODEL:SECONDS[:NAME[:EXTRA TRAIN ARGS]]
#
# trains MODEL on .gpu-data/SET.sess with --device cuda (CLIP-SBR prompts when
# NAME ends in -clip), stopping after the epoch that ends past SECONDS (killed
# SBR_KILL_AFTER s, default 60, after that), then ranks the test split with the selected model on the
# GPU and scores it. Everything goes to $OUT/SET/NAME.{log,train.txt,
# infer.txt,score.json} (the layout of docs/runs). SBR_JOBS=N runs N jobs at
# once (default 1: alone, for timings); SBR_THREADS=N gives each --threads N;
# SBR_DEVICE=cpu tries the script here.
set -u
out=${OUT:-build/gpu-out}
bin=${SBR_BIN:-build/gpu}
work=build/gpu-work
dev=${SBR_DEVICE:-cuda}
mkdir -p "$out" "$work"
[ -f "$bin/env.sh" ] && . "$bin/env.sh"

run_job() {
    local set=$1 model=$2 seconds=$3 name=$4 extra=$5
    local sess=.gpu-data/$set.sess dir=$out/$set
    mkdir -p "$dir"
    local args=(-m "$model" --device "$dev" --epochs 30 --patience 3 --time-limit "${seconds}s"
        ${SBR_THREADS:+--threads "$SBR_THREADS"})
    case $set in *-paper) args+=(--select best-test) ;; *) args+=(--select valid) ;; esac
    case $model in gcegnn|dmignn) args+=(--graph ".gpu-data/$set.win") ;; esac
    case $name in *-clip) args+=(--clusters ".gpu-data/$set.clusters") ;; esac
    # shellcheck disable=SC2206
    args+=($extra)
    echo "$bin/sbr-train ${args[*]} --log $set/$name.log -o MODEL $sess" > "$dir/$name.cmd"
    timeout $((seconds + ${SBR_KILL_AFTER:-60})) "$bin/sbr-train" "${args[@]}" --log "$dir/$name.log" \
        -o "$work/$set-$name.model" "$sess" > "$dir/$name.train.txt" 2>&1
    local rc=$?
    if [ $rc != 0 ]; then echo "== $set/$name: sbr-train exit $rc"; tail -n 3 "$dir/$name.train.txt"; return; fi
    local t0 t1
    t0=$(date +%s%N)
    timeout 60 "$bin/sbr-infer" --device "$dev" -k 20 -o "$work/$set-$name.topk" \
        "$work/$set-$name.model" "$sess" > "$dir/$name.infer.txt" 2>&1 ||
        { echo "== $set/$name: sbr-infer failed"; tail -n 3 "$dir/$name.infer.txt"; return; }
    t1=$(date +%s%N)
    echo "sbr-infer ($dev), the whole tool with its start-up: $(( (t1 - t0) / 1000000 )) ms" >> "$dir/$name.infer.txt"
    "$bin/sbr-score" --json "$work/$set-$name.topk" > "$dir/$name.score.json" 2> /dev/null
    echo "== $set/$name: $(grep -E 'selected epoch' "$dir/$name.train.txt" | tail -n 1 | sed 's/^sbr-train: //')"
    echo "   $(grep -E 'epoch [0-9]+ +loss' "$dir/$name.train.txt" | tail -n 1 | sed 's/^sbr-train: //')"
    echo "   $(grep -E 'samples/s\)' "$dir/$name.infer.txt" | sed 's/^sbr-infer: //')"
}

jobs_max=${SBR_JOBS:-1}
for job in "$@"; do
    IFS=: read -r set model seconds name extra <<< "$job"
    name=${name:-$model}
    if [ "$jobs_max" -le 1 ]; then
        run_job "$set" "$model" "$seconds" "$name" "${extra:-}"
    else
        while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n; done
        run_job "$set" "$model" "$seconds" "$name" "${extra:-}" &
    fi
done
wait
echo "device-train: done; logs in $out"
