#!/usr/bin/env bash
# One row per arm of a seed study: the mean and the spread (half the range)
# over its seeds of the test HR@20 / MRR@20 of the kept model (sbr-score
# --json) and of the validation HR@20 / MRR@20 it was selected at (its
# training log), from the runs DIR/ARM-sSEED.{score.json,log} that
# pipelines/results.sh leaves (or their copies in docs/runs).
#
#   pipelines/seeds-table.sh DIR ARM...
set -u
[ $# -ge 2 ] || { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
dir=$1
shift
# num FILE KEY [LINE]: the first value of "KEY" in FILE (LINE: that line only)
num() { { [ -n "${3:-}" ] && sed -n "${3}p" "$1" || cat "$1"; } | grep -o "\"$2\":[-0-9.]*" | head -1 | cut -d: -f2; }
echo "| arm | seeds | valid HR@20 | valid MRR@20 | test HR@20 | test MRR@20 |"
echo "|---|---|---|---|---|---|"
for arm in "$@"; do
    vals=""
    n=0
    for js in "$dir/$arm"-s*.score.json; do
        [ -s "$js" ] || continue
        log=${js%.score.json}.log
        # the selected epoch: the best validation HR@20 (the first of equals)
        best=$(grep -n -o '"valid_HR@20":[0-9.]*' "$log" | awk -F'[:]' '$3 > b || NR == 1 { b = $3; l = $1 } END { print l }')
        vals="$vals $(num "$log" valid_HR@20 "$best") $(num "$log" valid_MRR@20 "$best") $(num "$js" HR@20) $(num "$js" MRR@20)"
        n=$((n + 1))
    done
    [ "$n" -gt 0 ] || continue
    echo "$vals" | awk -v arm="$arm" -v n="$n" '{
        for (k = 0; k < 4; k++) { lo[k] = 1e9; hi[k] = -1e9; s[k] = 0 }
        for (i = 1; i <= NF; i++) { k = (i - 1) % 4; v = $i; s[k] += v; if (v < lo[k]) lo[k] = v; if (v > hi[k]) hi[k] = v }
        printf "| %s | %d |", arm, n
        for (k = 0; k < 4; k++) printf " %.2f ± %.2f |", s[k] / n, (hi[k] - lo[k]) / 2
        printf "\n" }'
done
