#!/usr/bin/env bash
# The benchmarks as part of make test: every program make bench needs
# (BENCH_DEPS, built by make test with -Werror) runs once at tiny sizes, and
# every tests/bench/*.sh must parse. The figures mean nothing; the point is
# that a benchmark which stops compiling, crashes or loses its rows fails CI
# instead of waiting for the next make bench (bench_seqops.c once called an
# old ggnn_backward for weeks). A new benchmark program needs a line in
# smoke() below, or this suite fails on it.
cd "$(dirname "$0")/../.." || exit 2
pass=0 fail=0 skip=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

ok() { echo "  ok   $1"; pass=$((pass + 1)); }
bad() { echo "  FAIL $1"; sed 's/^/       | /' "$out" | tail -n 15; fail=$((fail + 1)); }

# rows NAME N: the last run printed at least N Markdown table rows
rows() { [ "$(grep -c '^| ' "$out")" -ge "$2" ]; }

# smoke BIN: runs one program at tiny sizes and checks what it printed
smoke() {
    local bin=$1 name
    name=$(basename "$bin")
    if [ ! -x "$bin" ]; then
        echo "$bin is missing (make $bin)" >"$out"
        bad "$name"
        return
    fi
    case $name in
    bench-floor) # B d N repeats: "median-ms GFLOP/s"
        if timeout 60 "$bin" 4 8 300 1 >"$out" 2>&1 &&
            grep -Eq '^[0-9.]+ [0-9.]+$' "$out"; then ok "$name"; else bad "$name"; fi ;;
    bench-ops) # through its make bench script, which passes the flag on
        if timeout 60 bash tests/bench/bench_ops.sh --smoke >"$out" 2>&1 && rows "$name" 30
        then ok "$name --smoke"; else bad "$name --smoke"; fi ;;
    bench-seqops)
        if timeout 60 bash tests/bench/bench_seqops.sh --smoke >"$out" 2>&1 && rows "$name" 15
        then ok "$name --smoke"; else bad "$name --smoke"; fi ;;
    bench-cuda) # without a GPU it says so and exits 0; with one, a single repeat
        if ! timeout 300 "$bin" --repeats 1 >"$out" 2>&1; then
            bad "$name --repeats 1"
        elif grep -q '^skip:' "$out"; then
            echo "  skip $name: $(grep -m1 '^skip:' "$out" | sed 's/^skip: //')"
            skip=$((skip + 1))
        elif rows "$name" 10; then ok "$name --repeats 1"; else bad "$name --repeats 1"; fi ;;
    *)
        echo "no smoke run for $bin: add one to tests/suites/bench_smoke.sh" >"$out"
        bad "$name" ;;
    esac
}

deps=$(make --no-print-directory -s bench-deps)
[ -n "$deps" ] || { echo "  FAIL make bench-deps listed nothing"; fail=$((fail + 1)); }
for b in $deps; do
    smoke "$b"
done
# The scripts that time whole tools (no program of their own to smoke):
# the start-up table and the service's latency, on synthetic data.
if timeout 120 bash tests/bench/bench_start.sh >"$out" 2>&1 && rows start 10
then ok "bench_start.sh"; else bad "bench_start.sh"; fi
if SBR_DATA_DIR=/nonexistent timeout 300 bash tests/bench/bench_serve.sh >"$out" 2>&1 &&
    rows serve 3 && ! grep -q '^| [^|]* |  |' "$out"
then ok "bench_serve.sh (synthetic)"; else bad "bench_serve.sh (synthetic)"; fi
for s in tests/bench/*.sh; do
    if bash -n "$s" 2>"$out"; then ok "bash -n $s"; else bad "bash -n $s"; fi
done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
