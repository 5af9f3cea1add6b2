#!/usr/bin/env bash
# GCE-GNN and DMI-GNN training speed on a real dataset with its window graph,
# against the output-layer floor (bench-floor: the three sgemm of one batch)
# measured in the same run, as bench_train.sh does for the other models.
# BENCH_DATASET (default diginetica), BENCH_GCE_MODELS (default "gcegnn
# dmignn"), BENCH_QUICK=1: time steps 51-350 and extrapolate (said in the
# table; floor.sh). The epoch time is the trainer's own (samples/s over the
# epoch's training steps, evaluation excluded).
set -u
. "$(dirname "$0")/floor.sh"
bench_begin "GCE-GNN / DMI-GNN training epoch"
# A 0.5% validation tail keeps the per-epoch evaluation short.
"$B/sbr-prep" -q --format srgnn --valid-frac 0.005 -o "$W/s.sbr" "$DATA/$ds"
"$B/sbr-graph" -q --kind window --window 3 --topk 12 -o "$W/g.sbr" "$W/s.sbr"
floor_measure "$W/s.sbr"
for m in ${BENCH_GCE_MODELS:-gcegnn dmignn}; do
    # diginetica: the official GCE-GNN settings, as make pipeline trains it
    extra=()
    [ "$m" = gcegnn ] && [ "$ds" = diginetica ] && extra=(--dropout-gcn 0.2)
    train_rate "$W/$m.log" -q -m "$m" -e 1 --no-test "${extra[@]}" --graph "$W/g.sbr" -o "$W/$m.model" \
        "$W/s.sbr" || { echo "$m|failed|||$(tail -1 "$W/$m.log.err")" >> "$W/rows"; continue; }
    epoch=$(awk -v s="$S" -v r="$rate" 'BEGIN { printf "%.1f", s / r }')
    rss=$rss_mib
    echo "$m|$epoch|$rate|$rss|$note" >> "$W/rows"
done
floor_remeasure
echo "$(floor_sentence) DMI-GNN scores U = 3 interests per sample: its own floor is about 3× this."
echo
echo "| model | epoch (s) | samples/s | × floor | peak RSS (MiB) | note |"
echo "|---|---|---|---|---|---|"
[ -s "$W/rows" ] && while IFS='|' read -r m epoch rate rss note; do
    ratio=$(awk -v e="$epoch" -v f="$floor_s" 'BEGIN { if (e + 0 > 0) printf "%.2f", e / f }')
    echo "| $m | $epoch | $rate | $ratio | $rss | $note |"
done < "$W/rows"
exit 0
