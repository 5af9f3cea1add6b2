#!/usr/bin/env bash
# One row per arm of a seed study: the mean and the spread over its seeds of
# the validation HR@20 / MRR@20 of the selected epoch (the best validation
# HR@20, the first of equals, in its training log) and of the test HR@20 /
# MRR@20 of the kept model (sbr-score --json, or where a run has none, the
# log's test figures at that epoch: the same lists). Runs are the files
# DIR/ARM-sSEED.log (+ .score.json) that pipelines/results.sh leaves, or
# their copies in docs/runs.
#
#   pipelines/seeds-table.sh [--std] [--paired BASE] DIR ARM...
#
# The spread is half the range, or with --std the sample standard deviation.
# --paired BASE adds a second table: for each other arm, its difference from
# BASE seed by seed (the seeds both have), mean ± standard deviation, and in
# how many seeds the arm is ahead.
set -u
std=0 base=""
while [ $# -gt 0 ]; do
    case $1 in
    --std) std=1; shift ;;
    --paired) base=${2:?--paired needs an arm}; shift 2 ;;
    *) break ;;
    esac
done
[ $# -ge 2 ] || { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
dir=$1
shift
# num FILE KEY [LINE]: the first value of "KEY" in FILE (LINE: that line only)
num() { { [ -n "${3:-}" ] && sed -n "${3}p" "$1" || cat "$1"; } | grep -o "\"$2\":[-0-9.]*" | head -1 | cut -d: -f2; }
# rows ARM: one line "SEED vHR vMRR tHR tMRR" per run of ARM
rows() {
    local log js best seed
    for log in "$dir/$1"-s*.log; do
        [ -s "$log" ] || continue
        seed=${log##*-s}
        seed=${seed%.log}
        [[ $seed =~ ^[0-9]+$ ]] || continue
        best=$(grep -n -o '"valid_HR@20":[0-9.]*' "$log" | awk -F'[:]' '$3 > b || NR == 1 { b = $3; l = $1 } END { print l }')
        [ -n "$best" ] || continue
        js=${log%.log}.score.json
        if [ -s "$js" ]; then
            echo "$seed $(num "$log" valid_HR@20 "$best") $(num "$log" valid_MRR@20 "$best") $(num "$js" HR@20) $(num "$js" MRR@20)"
        else
            echo "$seed $(num "$log" valid_HR@20 "$best") $(num "$log" valid_MRR@20 "$best") $(num "$log" test_HR@20 "$best") $(num "$log" test_MRR@20 "$best")"
        fi
    done
}
# stats LABEL: mean ± spread of the columns 2..5 of stdin (column 1: the seed)
stats() {
    awk -v label="$1" -v std="$std" '{
        n++; for (k = 2; k <= 5; k++) { v[n, k] = $k; s[k] += $k } }
    END {
        if (!n) exit
        printf "| %s | %d |", label, n
        for (k = 2; k <= 5; k++) {
            m = s[k] / n; lo = 1e9; hi = -1e9; q = 0
            for (i = 1; i <= n; i++) { x = v[i, k]; if (x < lo) lo = x; if (x > hi) hi = x; q += (x - m) ^ 2 }
            sp = std ? (n > 1 ? sqrt(q / (n - 1)) : 0) : (hi - lo) / 2
            printf " %.2f ± %.2f |", m, sp
        }
        printf "\n" }'
}
echo "| arm | seeds | valid HR@20 | valid MRR@20 | test HR@20 | test MRR@20 |"
echo "|---|---|---|---|---|---|"
for arm in "$@"; do
    rows "$arm" | stats "$arm"
done
[ -n "$base" ] || exit 0
echo
echo "| arm − $base (paired by seed) | seeds | valid HR@20 | valid MRR@20 | test HR@20 | test MRR@20 | ahead in test HR@20 |"
echo "|---|---|---|---|---|---|---|"
for arm in "$@"; do
    [ "$arm" = "$base" ] && continue
    join <(rows "$base" | sort -k1,1) <(rows "$arm" | sort -k1,1) | awk -v label="$arm" '{
        n++; for (k = 2; k <= 5; k++) { d = $(k + 4) - $k; v[n, k] = d; s[k] += d }; ahead += $8 > $4 }
    END {
        if (!n) exit
        printf "| %s | %d |", label, n
        for (k = 2; k <= 5; k++) {
            m = s[k] / n; q = 0
            for (i = 1; i <= n; i++) q += (v[i, k] - m) ^ 2
            printf " %+.2f ± %.2f |", m, (n > 1 ? sqrt(q / (n - 1)) : 0)
        }
        printf " %d of %d |\n", ahead, n }'
done
