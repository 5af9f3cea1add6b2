#!/usr/bin/env bash
# Training speed of two builds, measured alternately in one run: the time
# per step of steps 51-350 of diginetica (the difference of a 350- and a
# 50-step run, so that start-up and first touches do not count), old and new
# in turn (the order flipped every round), and the output-layer floor
# (bench-floor) twice a round. Prints one line per run and, at the end,
# medians and the median paired difference. For "measure before and after"
# on a machine whose speed drifts (docs/BENCH.md).
#
#   bash tests/dev/ab_speed.sh OLD_BUILD NEW_BUILD [ROUNDS] [MODEL...]
#
# Defaults: 8 rounds of srgnn and gcegnn (gcegnn with --dropout-gcn 0.2, as
# make pipeline trains it on diginetica). Needs ../shared/data/diginetica.
set -u
old=$1 new=$2 rounds=${3:-8}
shift 2 && shift $(( $# > 0 ? 1 : 0 ))
models=${*:-srgnn gcegnn}
data=${SBR_DATA_DIR:-$(cd "$(dirname "$0")/../.." && pwd)/../shared/data}
[ -d "$data/diginetica" ] || { echo "ab_speed: $data/diginetica is absent"; exit 2; }
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
"$new/sbr-prep" -q --format srgnn --valid-frac 0.005 -o "$W/s.sbr" "$data/diginetica"
"$new/sbr-graph" -q --kind window --window 3 --topk 12 -o "$W/g.sbr" "$W/s.sbr"
N=$("$new/sbr-inspect" -m n_items "$W/s.sbr")

# ms RUN ARGS...: milliseconds per step of steps 51..350
ms() {
    local bin=$1 a b
    shift
    for n in 50 350; do
        "$bin" "$@" -q --no-test -e 1 --max-steps $n --log "$W/$n.log" -o "$W/x.model" "$W/s.sbr" || return 1
    done
    a=$(grep -o '"seconds":[0-9.]*' "$W/50.log" | cut -d: -f2)
    b=$(grep -o '"seconds":[0-9.]*' "$W/350.log" | cut -d: -f2)
    awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", (b - a) / 300 * 1000 }'
}

for r in $(seq 1 "$rounds"); do
    echo "floor $("$new/bench-floor" 100 100 "$N" 15 | cut -d' ' -f1)"
    for m in $models; do
        extra=()
        case $m in gcegnn) extra=(--dropout-gcn 0.2 --graph "$W/g.sbr") ;; dmignn) extra=(--graph "$W/g.sbr") ;; esac
        order="old new"
        [ $((r % 2)) = 0 ] && order="new old"
        for side in $order; do
            dir=$old
            [ "$side" = new ] && dir=$new
            echo "round $r $m $side $(ms "$dir/sbr-train" -m "$m" "${extra[@]}")"
        done
    done
    echo "floor $("$new/bench-floor" 100 100 "$N" 15 | cut -d' ' -f1)"
done | tee "$W/runs"
awk '
    $1 == "floor" { f[nf++] = $2 }
    $1 == "round" { t[$3, $4, $2] = $5; seen[$3] = 1; R = $2 > R ? $2 : R }
    function median(a, n,   i, j, x) {
        for (i = 1; i < n; i++) for (j = i; j > 0 && a[j - 1] > a[j]; j--) { x = a[j]; a[j] = a[j - 1]; a[j - 1] = x }
        return n % 2 ? a[int(n / 2)] : (a[n / 2 - 1] + a[n / 2]) / 2
    }
    END {
        fm = median(f, nf)
        printf "floor median %.3f ms per batch of 100\n", fm
        for (m in seen) {
            n = 0
            for (r = 1; r <= R; r++) { o[n] = t[m, "old", r]; w[n] = t[m, "new", r]; d[n] = w[n] - o[n]; n++ }
            mo = median(o, n); mw = median(w, n); md = median(d, n)
            printf "%s: old %.2f ms/step (%.3f x floor), new %.2f (%.3f x floor), paired new - old %+.2f ms (%+.1f%%), %d rounds\n", m, mo, mo / fm, mw, mw / fm, md, 100 * md / mo, n
        }
    }' "$W/runs"
