#!/usr/bin/env bash
# sbr-prep speed and peak memory (target of issue 4): a generated
# Kaggle-layout events.csv of at least 30 million rows prepared end to end (read, sessions,
# filters, split, compressed output written) at >= 5 million rows/s on this
# machine, with peak RSS under 2 GiB. The log comes from sbr-gen (synthetic)
# and is cached in build/bench-cache/. Each row: median of 3 runs of the whole
# tool, peak RSS from /usr/bin/time. PREP_BENCH_CLICKS overrides the size.
cd "$(dirname "$0")/../.." || exit 2
B=build
# 28.6 M views + ~5.2% addtocart/transaction rows = 30,085,847 rows (>= 30 M)
CLICKS=${PREP_BENCH_CLICKS:-28600000}
DATA=${SBR_DATA_DIR:-../shared/data}
C=$B/bench-cache
mkdir -p "$C"
for x in sbr-gen sbr-prep; do
    [ -x "$B/$x" ] || { echo "bench_prep: $B/$x is missing (make)" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "bench_prep: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }

# run3 CMD...: median wall seconds and max peak RSS (MiB) of 3 runs -> "S MIB"
run3() {
    local i s=() m=0 r
    for i in 1 2 3; do
        /usr/bin/time -o "$C/time.txt" -f '%e %M' "$@" >/dev/null 2>/dev/null
        r=$(tail -1 "$C/time.txt")
        s+=("${r% *}")
        [ "${r#* }" -gt "$m" ] && m=${r#* }
    done
    printf '%s %d\n' "$(printf '%s\n' "${s[@]}" | sort -g | sed -n 2p)" $((m / 1024))
}
# row WHAT ROWS "S MIB" [MIN_RATE]
row() {
    local t=${3% *} mib=${3#* } rate ok=""
    rate=$(awk -v n="$2" -v t="$t" 'BEGIN { printf "%.2f", (t > 0 ? n / t / 1e6 : 0) }')
    if [ -n "${4:-}" ]; then
        ok=$(awk -v r="$rate" -v g="$4" -v m="$mib" 'BEGIN { print (r >= g && m < 2048) ? "yes" : "**no**" }')
    fi
    echo "| $1 | $2 | $t | $rate | $mib | ${4:+>= $4 M rows/s, < 2048 MiB} | $ok |"
}

echo "### sbr-prep: click logs to session files ($(nproc) cores)"
echo
echo "| input | rows | time (s) | M rows/s | peak RSS (MiB) | target | met |"
echo "|---|---|---|---|---|---|---|"
LOG=$C/kaggle-$CLICKS.csv
if [ ! -s "$LOG" ]; then
    "$B/sbr-gen" -q -n "$CLICKS" --layout kaggle -o "$LOG" || exit 1
fi
ROWS=$(($(wc -l <"$LOG") - 1))
row "synthetic Kaggle events.csv (sbr-gen, $(du -m "$LOG" | cut -f1) MB)" "$ROWS" \
    "$(run3 "$B/sbr-prep" -q -o "$C/prep.sess" "$LOG")" 5
row "same, zstd output level 3" "$ROWS" "$(run3 "$B/sbr-prep" -q -l 3 -o "$C/prep.sess" "$LOG")"
for ds in diginetica retailrocket yoochoose1_64; do
    [ -d "$DATA/$ds" ] || continue
    n=$("$B/sbr-prep" -q -o "$C/$ds.sess" "$DATA/$ds" && "$B/sbr-inspect" -m prep.count.train_pickle.clicks "$C/$ds.sess")
    row "$ds SR-GNN pickles (clicks)" "$n" "$(run3 "$B/sbr-prep" -q -o "$C/$ds.sess" "$DATA/$ds")"
done
rm -f "$C/prep.sess" "$C/time.txt"
