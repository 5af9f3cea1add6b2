#!/usr/bin/env bash
# Runs every tests/cli/test_*.sh; prints a total "N passed, N failed, N skipped".
cd "$(dirname "$0")/../.." || exit 2
p=0 f=0 s=0 rc=0
for t in tests/cli/test_*.sh; do
    echo "$t"
    out=$(bash "$t" 2>&1)
    trc=$?
    echo "$out" | grep -v -E '^[0-9]+ passed' || true
    line=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -1)
    if [ -z "$line" ]; then
        echo "  FAIL $t: no summary line (crashed?)"
        echo "$out" | tail -5
        f=$((f + 1)); rc=1; continue
    fi
    read -r a _ b _ c _ <<<"$(echo "$line" | tr -d ',')"
    p=$((p + a)); f=$((f + b)); s=$((s + ${c:-0}))
    [ "$trc" = 0 ] || rc=1
done
echo "$p passed, $f failed, $s skipped"
exit $rc
