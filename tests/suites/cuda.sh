#!/usr/bin/env bash
# The GPU-vs-CPU checks as part of make test: every GPU test skips, saying
# why, where no GPU is visible; the API check (every op has a CUDA mirror)
# and the host-side checks run anyway.
cd "$(dirname "$0")/../.." || exit 2
make --no-print-directory -s test-cuda 2>&1
