#!/usr/bin/env bash
# Training and inference speed on the real datasets, against the output-layer
# floor (the three sgemm of the fused score + CE per batch, bench-floor)
# measured in the same run. BENCH_MODELS (default "gru4rec srgnn" where
# available), BENCH_DATASET (default diginetica), BENCH_QUICK=1: time the
# first 300 steps of the epoch and extrapolate (said in the table).
set -u
B=build
DATA=${SBR_DATA_DIR:-../shared/data}
ds=${BENCH_DATASET:-diginetica}
echo "### Training epoch and inference ($ds, CPU, $(nproc) threads)"
echo
if [ ! -d "$DATA/$ds" ]; then
    echo "*skipped: $DATA/$ds is absent (real data is not shipped; set SBR_DATA_DIR)*"
    exit 0
fi
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
"$B/sbr-prep" -q --format srgnn --valid-frac 0 -o "$W/s.sbr" "$DATA/$ds"
. "$(dirname "$0")/floor.sh"
floor_measure "$W/s.sbr"
floor_sentence
echo
echo "| model | epoch (s) | samples/s | × floor | peak RSS (MiB) | inference samples/s | note |"
echo "|---|---|---|---|---|---|---|"
models=${BENCH_MODELS:-"gru4rec srgnn"}
for m in $models; do
    if ! "$B/sbr-train" --help | grep -q "$m"; then
        echo "| $m | | | | | | not built |"
        continue
    fi
    steps=()
    note="full epoch"
    if [ "${BENCH_QUICK:-0}" = 1 ]; then
        steps=(--max-steps 300)
        note="first 300 steps, extrapolated"
    fi
    /usr/bin/time -f "%M" -o "$W/rss" "$B/sbr-train" -q -m "$m" -e 1 --select best-test "${steps[@]}" \
        --log "$W/$m.log" -o "$W/$m.model" "$W/s.sbr" 2>"$W/err" || { echo "| $m | failed | | | | | $(tail -1 "$W/err") |"; continue; }
    rate=$(grep -o '"samples_per_s":[0-9.]*' "$W/$m.log" | cut -d: -f2)
    epoch=$(awk -v s="$S" -v r="$rate" 'BEGIN { printf "%.1f", s / r }')
    ratio=$(awk -v e="$epoch" -v f="$floor_s" 'BEGIN { printf "%.2f", e / f }')
    rss=$(( $(cat "$W/rss") / 1024 ))
    "$B/sbr-infer" -o "$W/$m.topk" "$W/$m.model" "$W/s.sbr" 2>"$W/inf" >/dev/null
    irate=$(grep -o '([0-9]* samples/s)' "$W/inf" | tr -dc '0-9')
    echo "| $m | $epoch | $rate | $ratio | $rss | $irate | $note |"
done
