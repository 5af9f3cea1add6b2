#!/usr/bin/env bash
# Runs each fuzzer for SECONDS on a seed corpus: tests/fuzz/corpus/NAME/ when
# present, plus, for the tensor-file reader, small files written by our tools.
set -u
secs=$1
shift
status=0
for bin in "$@"; do
    name=$(basename "$bin")
    corpus=build/fuzz/corpus/$name
    mkdir -p "$corpus"
    [ -d "tests/fuzz/corpus/$name" ] && cp -n tests/fuzz/corpus/"$name"/* "$corpus"/ 2>/dev/null
    if [ "$name" = fuzz_tfile ]; then
        build/test-helpers/mksample sbr.test "$corpus/seed-zstd.sbr"
        build/test-helpers/mksample sbr.test "$corpus/seed-plain.sbr" 0
    fi
    if [ "$name" = fuzz_graph ]; then
        build/sbr-gen -q --clicks 3000 --items 200 --seed 5 | build/sbr-prep -q - -o "$corpus/s.sbr"
        for k in adjacent window transition; do
            build/sbr-graph -q --kind "$k" -l 0 -o "$corpus/seed-$k.sbr" "$corpus/s.sbr"
        done
        build/sbr-cluster -q -l 0 -o "$corpus/seed-clusters.sbr" "$corpus/seed-adjacent.sbr"
        rm -f "$corpus/s.sbr"
    fi
    echo "== $name: $secs s"
    if ! "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 -artifact_prefix=build/fuzz/ \
        "$corpus" 2>&1 | tail -12; then
        status=1
    fi
    [ "${PIPESTATUS[0]}" = 0 ] || status=1
done
exit $status
