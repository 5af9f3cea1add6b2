#!/usr/bin/env bash
# The accuracy runs of docs/RESULTS.md, one `make pipeline` after another.
#
#   pipelines/results.sh QUEUE      run the queue, then the table
#   pipelines/results.sh table      the table of every run in work/ and docs/runs/
#   pipelines/results.sh archive    copy each finished run's log and metrics to docs/runs/
#
# QUEUE is a text file, one run per line: DATASET MODEL CLIP PROTOCOL [NAME
# [TRAIN_ARGS...]] (e.g. "retailrocket dmignn 0 paper dmignn-U1 --interests 1").
# The first line is taken off the file when its run starts, so the queue may
# be edited while it runs. Each run's make output goes to work/DATASET[-paper]/
# NAME.out, beside its .log (one JSON line per epoch) and .metrics.
set -u
cd "$(dirname "$0")/.." || exit 2
DATA_DIR=${DATA_DIR:-../shared/data}
THREADS=${THREADS:-0}

run_queue() {
    local q=$1 line ds model clip proto name args work
    while [ -s "$q" ]; do
        line=$(head -1 "$q")
        sed -i 1d "$q"
        [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
        read -r ds model clip proto name args <<<"$line"
        name=${name:-$model$([ "$clip" = 1 ] && echo -clip)}
        work=work/$ds$([ "$proto" = paper ] && echo -paper)
        mkdir -p "$work"
        echo "$(date -u +%FT%TZ) start $line" >&2
        make --no-print-directory pipeline DATASET="$ds" MODEL="$model" CLIP="$clip" PROTOCOL="$proto" \
            RUN_NAME="$name" TRAIN_ARGS="$args" DATA_DIR="$DATA_DIR" THREADS="$THREADS" \
            >"$work/$name.out" 2>&1
        echo "$(date -u +%FT%TZ) done ($?) $line" >&2
        [ -s "$work/$name.topk" ] && build/sbr-score --json "$work/$name.topk" >"$work/$name.score.json"
    done
}

# Training logs (one JSON line per epoch) and sbr-score --json: small, and
# enough for results-table.sh to rebuild the table without the work files.
archive() {
    local json to
    for json in work/*/*.score.json; do
        [ -s "$json" ] || continue
        to=docs/runs/$(basename "$(dirname "$json")")
        mkdir -p "$to" && cp "${json%.score.json}.log" "$json" "$to/"
    done
}

case ${1:-} in
archive) archive ;;
table) exec bash pipelines/results-table.sh ;;
"" | -h | --help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
*) [ -f "$1" ] || { echo "results.sh: $1: no such queue file" >&2; exit 2; }
   run_queue "$1"; bash pipelines/results-table.sh ;;
esac
