#!/usr/bin/env bash
# sbr-graph and sbr-cluster speed and peak memory (targets of issue 5):
#   graph of a 30-million-click generated log  <= 10 s on 2 cores
#   Leiden on the diginetica adjacency graph    <= 5 s
# The log comes from sbr-gen (synthetic), prepared once with every click in the
# training split and cached in build/bench-cache/. Each row: median of 3 runs
# of the whole tool (reading, building, writing), peak RSS from /usr/bin/time.
# GRAPH_BENCH_CLICKS overrides the 30M (for a quick try).
cd "$(dirname "$0")/../.." || exit 2
B=build
CLICKS=${GRAPH_BENCH_CLICKS:-30000000}
DATA=${SBR_DATA_DIR:-../shared/data}
C=$B/bench-cache
mkdir -p "$C"
for x in sbr-gen sbr-prep sbr-graph sbr-cluster; do
    [ -x "$B/$x" ] || { echo "bench_graph: $B/$x is missing (make)" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "bench_graph: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }

# run3 CMD...: of 3 runs, the median wall seconds, the median CPU seconds
# (user + sys, children included) and the largest peak RSS (MiB) -> "S CPU MIB".
# CPU time shows what the wall time would be on an idle machine when other
# jobs share the cores.
run3() {
    local i s=() c=() m=0 r tf
    tf=$(mktemp)
    for i in 1 2 3; do
        if ! /usr/bin/time -o "$tf" -f '%e %U %S %M' "$@" >/dev/null 2>"$tf.err"; then
            echo "bench_graph: failed: $* ($(head -c 300 "$tf.err"))" >&2
            rm -f "$tf" "$tf.err"
            echo "failed - 0"
            return
        fi
        read -r -a r <<<"$(tail -1 "$tf")"
        s+=("${r[0]}")
        c+=("$(awk -v u="${r[1]}" -v y="${r[2]}" 'BEGIN { printf "%.2f", u + y }')")
        [ "${r[3]}" -gt "$m" ] && m=${r[3]}
    done
    rm -f "$tf" "$tf.err"
    printf '%s %s %d\n' "$(printf '%s\n' "${s[@]}" | sort -g | sed -n 2p)" \
        "$(printf '%s\n' "${c[@]}" | sort -g | sed -n 2p)" $((m / 1024))
}
row() { # WHAT RESULT TARGET
    local a
    read -r -a a <<<"$2"
    local ok=""
    if [ -n "$3" ]; then
        ok=$(awk -v t="${a[0]}" -v g="$3" 'BEGIN { print (t != "failed" && t + 0 <= g) ? "yes" : "**no**" }')
    fi
    echo "| $1 | ${a[0]} | ${a[1]} | ${a[2]} | ${3:+<= $3 s} | $ok |"
}

echo "### Item graphs and Leiden clusters ($(nproc) cores)"
echo
echo "Load average at the start: $(cut -d' ' -f1-3 /proc/loadavg) (wall times need an otherwise idle machine)."
echo
echo "| what | wall (s) | CPU (s) | peak RSS (MiB) | target (wall) | met |"
echo "|---|---|---|---|---|---|"

S=$C/gen_${CLICKS}.sess
if [ ! -s "$S" ]; then
    echo "bench_graph: generating $CLICKS clicks (sbr-gen, cached in $S)" >&2
    "$B/sbr-gen" -q -n "$CLICKS" --items 200000 --clusters 2000 -s 1 |
        "$B/sbr-prep" -q --format sessionrec --valid-frac 0 --test-days 0 -o "$S.tmp" - &&
        mv "$S.tmp" "$S" || { echo "bench_graph: generating the log failed" >&2; exit 1; }
fi
n=$("$B/sbr-inspect" -m train.clicks "$S")
row "sbr-graph adjacent, generated log ($n clicks, sbr-gen)" \
    "$(run3 "$B/sbr-graph" -q -o "$C/gen.g" "$S")" 10
row "sbr-graph window w=3 top-12, same log" "$(run3 "$B/sbr-graph" -q --kind window -o "$C/gen_w.g" "$S")" ""
row "sbr-graph transition, same log" "$(run3 "$B/sbr-graph" -q --kind transition -o "$C/gen_t.g" "$S")" ""

if [ -d "$DATA/diginetica" ]; then
    "$B/sbr-prep" -q -o "$C/dg.sess" "$DATA/diginetica" && "$B/sbr-graph" -q -o "$C/dg.g" "$C/dg.sess" ||
        { echo "bench_graph: preparing diginetica failed" >&2; exit 1; }
    e=$("$B/sbr-inspect" -m n_edges "$C/dg.g")
    row "sbr-graph adjacent, diginetica train split" "$(run3 "$B/sbr-graph" -q -o "$C/dg2.g" "$C/dg.sess")" ""
    row "sbr-cluster (3 restarts, default), diginetica adjacency ($e edges)" \
        "$(run3 "$B/sbr-cluster" -q -o "$C/dg.c" "$C/dg.g")" 5
    row "sbr-cluster -R 1 (one Leiden run), diginetica adjacency" \
        "$(run3 "$B/sbr-cluster" -q -R 1 -o "$C/dg1.c" "$C/dg.g")" ""
else
    echo "| Leiden on diginetica | skipped: no $DATA/diginetica | | | | |"
fi
echo
echo "Generated log: \`sbr-gen -n $CLICKS --items 200000 --clusters 2000 -s 1\` (synthetic, not real users), all clicks in the training split."
