#!/usr/bin/env bash
# make bench: runs every tests/bench/bench_*.sh (each prints a Markdown section:
# a '### title' line and a table) and writes them, under a description of the
# machine, to docs/BENCH.md. Benchmarks may read ../shared/data and say so when
# they skip. Set BENCH_ONLY=name to run one.
cd "$(dirname "$0")/../.." || exit 2
out=docs/BENCH.md
tmp=$(mktemp)
{
    echo "# Benchmarks"
    echo
    echo "Written by \`make bench\` (tests/bench/run.sh); medians of repeated runs unless a row says otherwise."
    echo
    echo "- machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB"
    echo "- GPU: $(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 || true)"
    echo "- commit: $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet -- . ':!docs/BENCH.md' 2>/dev/null || echo ' (with local changes)'), $(date -u +%Y-%m-%d)"
    echo
} > "$tmp"
sed -i 's/^- GPU: $/- GPU: none visible/' "$tmp"
status=0
for b in tests/bench/bench_*.sh; do
    [ -e "$b" ] || continue
    name=$(basename "$b" .sh)
    [ -n "${BENCH_ONLY:-}" ] && [ "$name" != "bench_$BENCH_ONLY" ] && [ "$name" != "$BENCH_ONLY" ] && continue
    echo "== $name" >&2
    if ! bash "$b" >> "$tmp"; then
        echo "   $name failed" >&2
        echo "*$name failed*" >> "$tmp"
        status=1
    fi
    echo >> "$tmp"
done
if [ -z "${BENCH_ONLY:-}" ]; then
    mv "$tmp" "$out"
    cat "$out"
else
    cat "$tmp"
    rm -f "$tmp"
fi
exit $status
