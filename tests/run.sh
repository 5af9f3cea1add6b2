#!/usr/bin/env bash
# make test: runs every suite and ends with the grand total
# "N passed, N failed, N skipped" (the CI reads that last line).
cd "$(dirname "$0")/.." || exit 2
total_p=0 total_f=0 total_s=0 status=0

suite() { # suite NAME CMD...
    local name=$1
    shift
    echo "== $name"
    local log
    log=$(mktemp)
    "$@" 2>&1 | tee "$log" | grep --line-buffered -E 'FAIL|skip|^[0-9]+ passed'
    local rc=${PIPESTATUS[0]}
    local line
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
    if [ -z "$line" ]; then
        echo "   $name: no summary line (exit $rc); its last lines:"
        tail -n 20 "$log" | sed 's/^/   | /'
        rm -f "$log"
        total_f=$((total_f + 1)); status=1; return
    fi
    rm -f "$log"
    read -r a _ b _ c _ <<<"$(echo "$line" | tr -d ',')"
    total_p=$((total_p + a)); total_f=$((total_f + b)); total_s=$((total_s + ${c:-0}))
    [ "$rc" = 0 ] || status=1
}

suite "unit tests" build/unit-tests
suite "unit tests under ASan+UBSan" env ASAN_OPTIONS=detect_leaks=0 build/unit-tests-asan
suite "CLI tests" bash tests/cli/run.sh
for s in tests/suites/*.sh; do
    [ -e "$s" ] && suite "$(basename "$s" .sh)" bash "$s"
done
echo
echo "$total_p passed, $total_f failed, $total_s skipped"
exit $status
