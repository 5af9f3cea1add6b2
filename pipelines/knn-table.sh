#!/usr/bin/env bash
# The session-kNN and rule baselines on the SR-GNN splits of the real data:
# every method with session-rec's defaults trained on all the training
# sessions (the papers' split, no epoch to select: nothing peeks), and V-SKNN
# and V-STAN tuned on a validation split (the last 10% of the training
# sessions, --tune N settings) and then scored on the test split. Prints a
# Markdown table: HR@20, MRR@20, Cov@20 (percent), the seconds to build the
# index and to rank the test prefixes. Logs go to OUT (default work/knn).
#
#   bash pipelines/knn-table.sh [DATASET...]   (TUNE=N, default 30; THREADS)
set -u
cd "$(dirname "$0")/.." || exit 2
B=${BUILD:-build}
DATA=${DATA_DIR:-../shared/data}
OUT=${OUT:-work/knn}
TUNE=${TUNE:-30}
THREADS=${THREADS:-0}
mkdir -p "$OUT"
datasets=${*:-retailrocket diginetica yoochoose1_64}
echo "| dataset | method | settings | HR@20 | MRR@20 | Cov@20 | index (s) | ranking (s) | prefixes/s |"
echo "|---|---|---|---|---|---|---|---|---|"
row() { # DATASET METHOD SETTINGS SESSIONS ARGS...
    local ds=$1 m=$2 what=$3 s=$4 tag
    shift 4
    tag=$OUT/$ds-$m-${what%% *}
    local t0 t1 t2
    t0=$(date +%s.%N)
    "$B/sbr-train" -q -m "$m" --threads "$THREADS" "$@" --log "$tag.log" -o "$tag.model" "$s" 2>"$tag.err" ||
        { echo "| $ds | $m | $what | failed: $(tail -1 "$tag.err") |||||"; return; }
    t1=$(date +%s.%N)
    "$B/sbr-infer" -q --threads "$THREADS" -k 20 -o "$tag.topk" "$tag.model" "$s" 2>>"$tag.err" ||
        { echo "| $ds | $m | $what | failed: $(tail -1 "$tag.err") |||||"; return; }
    t2=$(date +%s.%N)
    "$B/sbr-score" --json "$tag.topk" > "$tag.score.json"
    local n; n=$("$B/sbr-inspect" -m test.samples "$s")
    awk -v ds="$ds" -v m="$m" -v what="$what" -v t0="$t0" -v t1="$t1" -v t2="$t2" -v n="$n" '
        function get(k,  r) { if (match($0, "\"" k "\":[0-9.]+")) return substr($0, RSTART + length(k) + 3, RLENGTH - length(k) - 3); return "–" }
        { printf "| %s | %s | %s | %.2f | %.2f | %.2f | %.1f | %.1f | %.0f |\n", ds, m, what, get("HR@20"), get("MRR@20"), get("Cov@20"), t1 - t0, t2 - t1, n / (t2 - t1) }' "$tag.score.json"
}
for ds in $datasets; do
    if [ ! -d "$DATA/$ds" ]; then
        echo "| $ds | skipped: $DATA/$ds is absent |||||||"
        continue
    fi
    all=$OUT/$ds.sbr valid=$OUT/$ds-valid.sbr
    "$B/sbr-prep" -q --format srgnn --valid-frac 0 -o "$all" "$DATA/$ds"
    "$B/sbr-prep" -q --format srgnn --valid-frac 0.1 -o "$valid" "$DATA/$ds"
    for m in sknn vsknn stan vstan ar sr markov pop spop; do
        row "$ds" "$m" "defaults" "$all"
    done
    for m in vsknn vstan; do
        row "$ds" "$m" "tuned ($TUNE on valid)" "$valid" --tune "$TUNE" --seed 1
    done
done
