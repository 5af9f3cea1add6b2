#!/usr/bin/env bash
# The backbones of issue #20 (TAGNN, GC-SAN, LESSR, CORE): a training epoch
# of each on diginetica against the GEMMs its output layer must do, measured
# in the same run (bench-floor at the model's own d). TAGNN scores every
# candidate against every click of the prefix: besides the three sgemm of
# S . E it does six of the same size over the batch's clicks (its forward's
# E Q^T and E V^T, the backward's two into dE and one each into dV and dQ),
# so its floor is floor(B) + 2 floor(clicks per batch), with the clicks per
# batch the mean prefix length (as trained: at most max_len 50) times 100.
# ProxySR (issue #22) scores by distance, not by S . E: its floor is its
# loss's forward over the catalogue (two sgemm per chunk, the distances,
# the selection of the 100 largest violations: bench-floor --proxy), its
# backward being sparse (the kept items only).
# BENCH_BACKBONES (default "gcsan core lessr tagnn proxysr"), BENCH_QUICK=1 as in
# bench_train.sh (steps 51-350, extrapolated).
set -u
. "$(dirname "$0")/floor.sh"
bench_begin "The new backbones: training epoch and inference"
"$B/sbr-prep" -q --format srgnn --valid-frac 0 -o "$W/s.sbr" "$DATA/$ds"
N=$("$B/sbr-inspect" -m n_items "$W/s.sbr")
S=$("$B/sbr-inspect" -m train.samples "$W/s.sbr")
batches=$(( (S + 99) / 100 ))
# the mean prefix length of the training samples: a session of n clicks
# gives the prefixes 1 .. n-1, each cut to the last 50 clicks
mean_len=$("$B/sbr-inspect" -t train.offsets "$W/s.sbr" | awk -v cap=50 '
    NR > 1 { n = $1 - prev; for (k = 1; k < n; k++) { s += (k < cap ? k : cap); c++ } }
    { prev = $1 } END { printf "%.3f", s / c }')
clicks=$(awk -v m="$mean_len" 'BEGIN { printf "%d", m * 100 + 0.5 }')

# floor_of D ROWS: seconds per epoch of three sgemm [ROWS, D] x [D, N]
floor_of() {
    local ms
    read -r ms _ < <("$B/bench-floor" "$2" "$1" "$N" 9)
    awk -v m="$ms" -v b="$batches" 'BEGIN { printf "%.1f", m * b / 1000 }'
}

models=${BENCH_BACKBONES:-"gcsan core lessr tagnn proxysr"}
for m in $models; do
    if ! "$B/sbr-train" --help | grep -qw "$m"; then
        echo "$m|||||| not built" >> "$W/rows"
        continue
    fi
    d=$("$B/sbr-train" --help-model "$m" | awk '$1 == "--dim" { print $3; exit }')
    d=${d:-100}
    floor=$(floor_of "$d" 100)
    what="3 sgemm at d $d"
    if [ "$m" = proxysr ]; then
        read -r ms _ < <("$B/bench-floor" --proxy 100 "$d" "$N" 100 9)
        floor=$(awk -v m="$ms" -v b="$batches" 'BEGIN { printf "%.1f", m * b / 1000 }')
        what="its loss forward at d $d: 2 sgemm + distances + 100 violators"
    fi
    if [ "$m" = tagnn ]; then
        extra=$(floor_of "$d" "$clicks")
        floor=$(awk -v a="$floor" -v b="$extra" 'BEGIN { printf "%.1f", a + 2 * b }')
        what="3 sgemm at d $d + 6 over $clicks clicks per batch"
    fi
    train_rate "$W/$m.log" -q -m "$m" -e 1 --select best-test -o "$W/$m.model" "$W/s.sbr" ||
        { echo "$m|$floor|failed||||$(tail -1 "$W/$m.log.err")" >> "$W/rows"; continue; }
    epoch=$(awk -v s="$S" -v r="$rate" 'BEGIN { printf "%.1f", s / r }')
    "$B/sbr-infer" -o "$W/$m.topk" "$W/$m.model" "$W/s.sbr" 2>"$W/inf" >/dev/null
    irate=$(grep -o '([0-9]* samples/s)' "$W/inf" | tr -dc '0-9')
    echo "$m|$floor|$epoch|$rate|$rss_mib|$irate|$note; floor: $what" >> "$W/rows"
done
echo "$N items, $S training samples ($batches batches of 100), mean prefix length $mean_len. Each model's floor is the GEMMs its output layer must do per epoch, timed now by bench-floor."
echo
echo "| model | floor (s) | epoch (s) | samples/s | × floor | peak RSS (MiB) | inference samples/s | note |"
echo "|---|---|---|---|---|---|---|---|"
[ -s "$W/rows" ] && while IFS='|' read -r m floor epoch rate rss irate note; do
    ratio=$(awk -v e="$epoch" -v f="$floor" 'BEGIN { if (e + 0 > 0 && f + 0 > 0) printf "%.2f", e / f }')
    echo "| $m | $floor | $epoch | $rate | $ratio | $rss | $irate | $note |"
done < "$W/rows"
exit 0
