#!/usr/bin/env bash
# GCE-GNN and DMI-GNN training speed on a real dataset with its window graph,
# against the output-layer floor (bench-floor: the three sgemm of one batch)
# measured in the same run, as bench_train.sh does for the other models.
# BENCH_DATASET (default diginetica), BENCH_GCE_MODELS (default "gcegnn
# dmignn"), BENCH_QUICK=1: time the first 300 steps and extrapolate (said in
# the table). The epoch time is the trainer's own (samples/s over the
# epoch's training steps, evaluation excluded).
set -u
B=build
DATA=${SBR_DATA_DIR:-../shared/data}
ds=${BENCH_DATASET:-diginetica}
echo "### GCE-GNN / DMI-GNN training epoch ($ds, CPU, $(nproc) threads)"
echo
if [ ! -d "$DATA/$ds" ]; then
    echo "*skipped: $DATA/$ds is absent (real data is not shipped; set SBR_DATA_DIR)*"
    exit 0
fi
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
# A 0.5% validation tail keeps the per-epoch evaluation short.
"$B/sbr-prep" -q --format srgnn --valid-frac 0.005 -o "$W/s.sbr" "$DATA/$ds"
"$B/sbr-graph" -q --kind window --window 3 --topk 12 -o "$W/g.sbr" "$W/s.sbr"
. "$(dirname "$0")/floor.sh"
floor_measure "$W/s.sbr"
echo "$(floor_sentence) DMI-GNN scores U = 3 interests per sample: its own floor is about 3× this."
echo
echo "| model | epoch (s) | samples/s | × floor | peak RSS (MiB) | note |"
echo "|---|---|---|---|---|---|"
for m in ${BENCH_GCE_MODELS:-gcegnn dmignn}; do
    steps=()
    note="full epoch"
    if [ "${BENCH_QUICK:-0}" = 1 ]; then
        steps=(--max-steps 300)
        note="first 300 steps, extrapolated"
    fi
    /usr/bin/time -f "%M" -o "$W/rss" "$B/sbr-train" -q -m "$m" -e 1 --no-test "${steps[@]}" \
        --graph "$W/g.sbr" --log "$W/$m.log" -o "$W/$m.model" "$W/s.sbr" 2>"$W/err" ||
        { echo "| $m | failed | | | | $(tail -1 "$W/err") |"; continue; }
    rate=$(grep -o '"samples_per_s":[0-9.]*' "$W/$m.log" | cut -d: -f2)
    epoch=$(awk -v s="$S" -v r="$rate" 'BEGIN { printf "%.1f", s / r }')
    ratio=$(awk -v e="$epoch" -v f="$floor_s" 'BEGIN { printf "%.2f", e / f }')
    rss=$(( $(cat "$W/rss") / 1024 ))
    echo "| $m | $epoch | $rate | $ratio | $rss | $note |"
done
