# Sourced by bench_train.sh and bench_gce.sh: the output-layer floor of a
# training epoch, measured now (bench-floor: the three sgemm of the fused
# score + CE for one batch of 100, d 100, over the whole catalogue).
# floor_measure SESSIONS: sets N (items), S (training samples), floor_ms,
# gflops, batches and floor_s (seconds per epoch at the floor).
floor_measure() {
    N=$("$B/sbr-inspect" -m n_items "$1")
    S=$("$B/sbr-inspect" -m train.samples "$1")
    read -r floor_ms gflops < <("$B/bench-floor" 100 100 "$N" 15)
    batches=$(( (S + 99) / 100 ))
    floor_s=$(awk -v m="$floor_ms" -v b="$batches" 'BEGIN { printf "%.1f", m * b / 1000 }')
}

# The sentence the tables open with.
floor_sentence() {
    echo "Output-layer floor: 3 sgemm per batch of 100 (d 100, $N items): $floor_ms ms ($gflops GFLOP/s) × $batches batches = **$floor_s s** per epoch."
}
