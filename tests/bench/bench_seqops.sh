#!/usr/bin/env bash
# Sequence and graph ops on the CPU (float path): median time and rate of each
# forward and backward at SR-GNN-lineage shapes (batch 100, length <= 20, d = 100).
cd "$(dirname "$0")/../.." || exit 2
bin=build/bench-seqops
[ -x "$bin" ] || { echo "bench_seqops: $bin is missing (make build/bench-seqops)" >&2; exit 1; }
echo "### Sequence and graph ops on the CPU (float, $(nproc) threads, median of 7)"
echo
echo "ms: wall time; CPU ms: process CPU time (all threads), the cost when the machine is shared."
echo
"$bin" "$@"
