#!/usr/bin/env bash
# Op library on the CPU (float path): each op's median time and rate, and the
# fused score + cross-entropy against the plain sgemm calls it replaces.
cd "$(dirname "$0")/../.." || exit 2
bin=build/bench-ops
[ -x "$bin" ] || { echo "bench_ops: $bin is missing (make build/bench-ops)" >&2; exit 1; }
echo "### Ops on the CPU (float, $(nproc) threads, median of 7)"
echo
echo "Fused score+CE target: forward+backward at most 1.3x the three plain sgemm calls."
echo
"$bin" "$@"
