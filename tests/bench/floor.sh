# Sourced by bench_train.sh and bench_gce.sh: the output-layer floor of a
# training epoch, measured now (bench-floor: the three sgemm of the fused
# score + CE for one batch of 100, d 100, over the whole catalogue).
B=build

# bench_begin TITLE: the section's heading; DATA, ds (BENCH_DATASET, default
# diginetica) and a work folder W removed at exit; a skip line and exit 0
# when the real data is absent.
bench_begin() {
    DATA=${SBR_DATA_DIR:-../shared/data}
    ds=${BENCH_DATASET:-diginetica}
    echo "### $1 ($ds, CPU, $(nproc) threads)"
    echo
    if [ ! -d "$DATA/$ds" ]; then
        echo "*skipped: $DATA/$ds is absent (real data is not shipped; set SBR_DATA_DIR)*"
        exit 0
    fi
    W=$(mktemp -d)
    trap 'rm -rf "$W"' EXIT
}
# floor_measure SESSIONS: sets N (items), S (training samples), floor_ms,
# gflops, batches and floor_s (seconds per epoch at the floor).
floor_measure() {
    N=$("$B/sbr-inspect" -m n_items "$1")
    S=$("$B/sbr-inspect" -m train.samples "$1")
    read -r floor_ms gflops < <("$B/bench-floor" 100 100 "$N" 15)
    batches=$(( (S + 99) / 100 ))
    floor_s=$(awk -v m="$floor_ms" -v b="$batches" 'BEGIN { printf "%.1f", m * b / 1000 }')
}

# floor_remeasure: measures the floor again (after the models ran: the
# machine's speed drifts) and makes floor_ms / floor_s the mean of the two.
floor_remeasure() {
    local again g2
    read -r again g2 < <("$B/bench-floor" 100 100 "$N" 15)
    floor_before=$floor_ms floor_after=$again
    floor_ms=$(awk -v a="$floor_ms" -v b="$again" 'BEGIN { printf "%.4f", (a + b) / 2 }')
    gflops=$(awk -v m="$floor_ms" -v n="$N" 'BEGIN { printf "%.1f", 3 * 2 * 100 * 100 * n / (m * 1e6) }')
    floor_s=$(awk -v m="$floor_ms" -v b="$batches" 'BEGIN { printf "%.1f", m * b / 1000 }')
}

# The sentence the tables open with.
floor_sentence() {
    local both=""
    [ -n "${floor_after:-}" ] && both=" (mean of $floor_before before and $floor_after after the runs)"
    echo "Output-layer floor: 3 sgemm per batch of 100 (d 100, $N items): $floor_ms ms$both ($gflops GFLOP/s) × $batches batches = **$floor_s s** per epoch."
}

# train_rate LOG ARGS...: runs "sbr-train ARGS --log LOG" and sets rate
# (training samples/s), note and rss_mib (peak RSS). Full mode: one whole
# epoch, the trainer's own rate. BENCH_QUICK=1: two runs, of 50 and 350
# steps, and the rate of the 300 steps between (allocation, first-touch page
# faults and thread start-up are not steps: in the first 300 steps they made
# SR-GNN's epoch look 20% longer).
train_rate() {
    local log=$1 a b
    shift
    if [ "${BENCH_QUICK:-0}" != 1 ]; then
        note="full epoch"
        /usr/bin/time -f "%M" -o "$log.rss" "$B/sbr-train" "$@" --log "$log" 2>"$log.err" || return 1
        rate=$(grep -o '"samples_per_s":[0-9.]*' "$log" | cut -d: -f2)
    else
        note="steps 51-350, extrapolated"
        "$B/sbr-train" "$@" --max-steps 50 --log "$log.50" 2>"$log.err" || return 1
        /usr/bin/time -f "%M" -o "$log.rss" "$B/sbr-train" "$@" --max-steps 350 --log "$log" \
            2>"$log.err" || return 1
        a=$(grep -o '"seconds":[0-9.]*' "$log.50" | cut -d: -f2)
        b=$(grep -o '"seconds":[0-9.]*' "$log" | cut -d: -f2)
        rate=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.1f", 300 * 100 / (b - a) }')
    fi
    rss_mib=$(( $(cat "$log.rss") / 1024 ))
}
