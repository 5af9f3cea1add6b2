#!/usr/bin/env bash
# The session-kNN and rule baselines (common/knn) on a real dataset: building
# the index (sbr-train) and ranking every test prefix over the full catalogue
# (sbr-infer, all cores), best of BENCH_KNN_REPEAT (3) runs, peak RSS of the
# ranking run. Bars (issue #23, diginetica, 2 cores): index < 5 s, V-SKNN
# (k 100, sample 500) >= 50,000 prefixes/s, peak memory < 1 GiB.
# BENCH_KNN_MODELS (default "vsknn sknn stan vstan sr pop").
set -u
. "$(dirname "$0")/floor.sh"
bench_begin "Session-kNN and rule baselines: index and full-catalogue ranking"
"$B/sbr-prep" -q --format srgnn --valid-frac 0 -o "$W/s.sbr" "$DATA/$ds"
reps=${BENCH_KNN_REPEAT:-3}
echo "| model | index (s) | ranking (s) | prefixes/s | peak RSS ranking (MiB) | HR@20 | MRR@20 |"
echo "|---|---|---|---|---|---|---|"
for m in ${BENCH_KNN_MODELS:-vsknn sknn stan vstan sr pop}; do
    best_i= best_r= rate= rss=
    for _ in $(seq "$reps"); do
        "$B/sbr-train" -m "$m" -o "$W/$m.model" "$W/s.sbr" 2>"$W/tr" || { echo "| $m | failed |"; continue 2; }
        i=$(sed -n 's/.* in \([0-9.]*\) s (recency.*/\1/p' "$W/tr")
        /usr/bin/time -f '%M' -o "$W/rss" "$B/sbr-infer" -o "$W/$m.topk" "$W/$m.model" "$W/s.sbr" 2>"$W/inf" ||
            { echo "| $m | $i | failed |"; continue 2; }
        r=$(sed -n 's/.* in \([0-9.]*\) s (\([0-9]*\) samples.*/\1 \2/p' "$W/inf")
        if [ -z "$best_r" ] || awk -v a="${r% *}" -v b="$best_r" 'BEGIN{exit !(a < b)}'; then
            best_r=${r% *} rate=${r#* } rss=$(( $(cat "$W/rss") / 1024 ))
        fi
        if [ -z "$best_i" ] || awk -v a="$i" -v b="$best_i" 'BEGIN{exit !(a < b)}'; then best_i=$i; fi
    done
    "$B/sbr-score" -q --json "$W/$m.topk" >"$W/sc" # overall metrics come first
    sc="$(grep -o '"HR@20":[0-9.]*' "$W/sc" | head -1 | cut -d: -f2) $(grep -o '"MRR@20":[0-9.]*' "$W/sc" | head -1 | cut -d: -f2)"
    printf '| %s | %s | %s | %s | %s | %.2f | %.2f |\n' "$m" "$best_i" "$best_r" "$rate" "$rss" ${sc:-0 0}
done
echo
echo "Index: sbr-train's own timing of the build (reading and writing the files aside)."
echo "Ranking: sbr-infer's timing of the ranking alone, $(nproc) threads; the machine may be shared."
exit 0
