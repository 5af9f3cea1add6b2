#!/usr/bin/env bash
# Training and inference speed on the real datasets, against the output-layer
# floor (the three sgemm of the fused score + CE per batch, bench-floor)
# measured in the same run. BENCH_MODELS (default "gru4rec srgnn" where
# available), BENCH_DATASET (default diginetica), BENCH_QUICK=1: time steps
# 51-350 of the epoch and extrapolate (said in the table; floor.sh).
set -u
. "$(dirname "$0")/floor.sh"
bench_begin "Training epoch and inference"
"$B/sbr-prep" -q --format srgnn --valid-frac 0 -o "$W/s.sbr" "$DATA/$ds"
floor_measure "$W/s.sbr"
models=${BENCH_MODELS:-"gru4rec srgnn"}
for m in $models; do
    if ! "$B/sbr-train" --help | grep -q "$m"; then
        echo "$m||||| not built" >> "$W/rows"
        continue
    fi
    train_rate "$W/$m.log" -q -m "$m" -e 1 --select best-test -o "$W/$m.model" "$W/s.sbr" ||
        { echo "$m|failed||||$(tail -1 "$W/$m.log.err")" >> "$W/rows"; continue; }
    epoch=$(awk -v s="$S" -v r="$rate" 'BEGIN { printf "%.1f", s / r }')
    rss=$rss_mib
    "$B/sbr-infer" -o "$W/$m.topk" "$W/$m.model" "$W/s.sbr" 2>"$W/inf" >/dev/null
    irate=$(grep -o '([0-9]* samples/s)' "$W/inf" | tr -dc '0-9')
    echo "$m|$epoch|$rate|$rss|$irate|$note" >> "$W/rows"
done
floor_remeasure
floor_sentence
echo
echo "| model | epoch (s) | samples/s | × floor | peak RSS (MiB) | inference samples/s | note |"
echo "|---|---|---|---|---|---|---|"
[ -s "$W/rows" ] && while IFS='|' read -r m epoch rate rss irate note; do
    ratio=$(awk -v e="$epoch" -v f="$floor_s" 'BEGIN { if (e + 0 > 0) printf "%.2f", e / f }')
    echo "| $m | $epoch | $rate | $ratio | $rss | $irate | $note |"
done < "$W/rows"
exit 0
