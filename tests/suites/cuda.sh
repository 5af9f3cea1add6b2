#!/usr/bin/env bash
# The GPU-vs-CPU checks as part of make test: every GPU test skips, saying
# why, where no GPU is visible; the API check (every op has a CUDA mirror)
# and the host-side checks run anyway. make test-cuda runs two suites (the
# ops, tests/cuda/*.c, and the models, tests/cuda/models.sh): their counts
# are added into one summary line.
cd "$(dirname "$0")/../.." || exit 2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
make --no-print-directory -s test-cuda 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tr -d ',' |
    awk '{ p += $1; f += $3; s += $5 } END { printf "%d passed, %d failed, %d skipped\n", p, f, s }'
exit "$rc"
