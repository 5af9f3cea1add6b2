#!/usr/bin/env bash
# The recommendation service (sbr-infer --stdin-text, issue #25): latency of
# one request at a time (p50, p99) and requests/s, SR-GNN (d 100) over the
# diginetica catalogue (43,097 items; synthetic sessions where the data are
# absent), 2,000 requests of 1-5 known original ids (1% of them malformed),
# one thread (the default of text mode) and all the cores. The model is
# trained for 100 steps only: a request's cost does not depend on the
# weights. tests/helpers/pingpong.c sends a line and waits for its answer.
set -u
cd "$(dirname "$0")/../.." || exit 2
B=build
DATA=${SBR_DATA_DIR:-../shared/data}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
if [ -d "$DATA/diginetica" ]; then
    what="diginetica's catalogue"
    "$B/sbr-prep" -q --format srgnn --valid-frac 0 -o "$W/s.sbr" "$DATA/diginetica"
else
    what="synthetic sessions ($DATA/diginetica is absent)"
    "$B/sbr-gen" -q -n 400000 -s 3 | "$B/sbr-prep" -q --valid-frac 0 - -o "$W/s.sbr"
fi
"$B/sbr-train" -q -m srgnn --max-steps 100 --select best-test -o "$W/m.sbr" "$W/s.sbr"
"$B/sbr-inspect" -t items.original "$W/s.sbr" | sed 1d >"$W/ids"
awk 'BEGIN { srand(7) } { id[NR] = $1 } END {
    for (r = 1; r <= 2000; r++) {
        if (r % 100 == 0) { print "x" r; continue }
        k = 1 + int(rand() * 5); line = ""
        for (j = 0; j < k; j++) line = line (j ? " " : "") id[1 + int(rand() * NR)]
        print line } }' "$W/ids" >"$W/req"
N=$("$B/sbr-inspect" -m n_items "$W/s.sbr")

echo "### The recommendation service: sbr-infer --stdin-text (CPU)"
echo
echo "SR-GNN, d 100, over $what ($N items), K 20, --format tsv; 2,000 requests of 1-5 ids, one at a time (the first 1% not timed); 1% malformed (each answered with an error line)."
echo
echo "| threads | requests | p50 (ms) | p99 (ms) | requests/s | error answers |"
echo "|---|---|---|---|---|---|"
for t in 1 0; do
    read -r n p50 p99 rps err < <("$B/test-helpers/pingpong" "$W/req" -- \
        "$B/sbr-infer" --stdin-text -q --format tsv --threads $t "$W/m.sbr" 2>/dev/null)
    echo "| $([ $t = 0 ] && echo "all ($(nproc))" || echo "1 (default)") | $n | $p50 | $p99 | $rps | $err |"
done
