#!/usr/bin/env bash
# GCE-GNN, DMI-GNN and NP-MiSR (over GCE-GNN) training speed on a real
# dataset with its window graph, against the output-layer floor (bench-floor:
# the three sgemm of one batch) measured in the same run, as bench_train.sh
# does for the other models, and against GCE-GNN's epoch of the same run (NP-
# MiSR's bar: 1.6x; its epoch includes the refresh of its context pool, but
# under BENCH_QUICK, whose two runs both end with one, not).
# BENCH_DATASET (default diginetica), BENCH_GCE_MODELS (default "gcegnn
# dmignn npmisr"), BENCH_QUICK=1: time steps 51-350 and extrapolate (said in the
# table; floor.sh). The epoch time is the trainer's own (samples/s over the
# epoch's training steps, evaluation excluded).
set -u
. "$(dirname "$0")/floor.sh"
bench_begin "GCE-GNN / DMI-GNN / NP-MiSR training epoch"
# A 0.5% validation tail keeps the per-epoch evaluation short.
"$B/sbr-prep" -q --format srgnn --valid-frac 0.005 -o "$W/s.sbr" "$DATA/$ds"
"$B/sbr-graph" -q --kind window --window 3 --topk 12 -o "$W/g.sbr" "$W/s.sbr"
floor_measure "$W/s.sbr"
for m in ${BENCH_GCE_MODELS:-gcegnn dmignn npmisr}; do
    # diginetica: the official GCE-GNN settings, as make pipeline trains it
    extra=()
    case $m in gcegnn | npmisr) [ "$ds" = diginetica ] && extra=(--dropout-gcn 0.2) ;; esac
    train_rate "$W/$m.log" -q -m "$m" -e 1 --no-test "${extra[@]}" --graph "$W/g.sbr" -o "$W/$m.model" \
        "$W/s.sbr" || { echo "$m|failed|||$(tail -1 "$W/$m.log.err")" >> "$W/rows"; continue; }
    epoch=$(awk -v s="$S" -v r="$rate" 'BEGIN { printf "%.1f", s / r }')
    rss=$rss_mib
    echo "$m|$epoch|$rate|$rss|$note" >> "$W/rows"
done
floor_remeasure
echo "$(floor_sentence) DMI-GNN scores U = 3 interests per sample: its own floor is about 3× this."
echo
gce=$(awk -F'|' '$1 == "gcegnn" { print $2 }' "$W/rows" 2>/dev/null)
echo "| model | epoch (s) | samples/s | × floor | × gcegnn | peak RSS (MiB) | note |"
echo "|---|---|---|---|---|---|---|"
[ -s "$W/rows" ] && while IFS='|' read -r m epoch rate rss note; do
    ratio=$(awk -v e="$epoch" -v f="$floor_s" 'BEGIN { if (e + 0 > 0) printf "%.2f", e / f }')
    rg=$(awk -v e="$epoch" -v g="$gce" 'BEGIN { if (e + 0 > 0 && g + 0 > 0) printf "%.2f", e / g }')
    echo "| $m | $epoch | $rate | $ratio | $rg | $rss | $note |"
done < "$W/rows"
exit 0
