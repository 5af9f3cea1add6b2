#!/usr/bin/env bash
# The next-unseen task (common/task.h) end to end, on a hand-made dataset
# whose figures are worked out below, for a neural model (gru4rec) and a kNN
# one (sknn): sbr-train's per-epoch evaluation and selection, the task in
# the model, sbr-infer and sbr-score following it, the overrides and their
# warnings, resuming across tasks, misuse; then `make pipeline
# TASK=next-unseen` on a little synthetic data.
. "$(dirname "$0")/lib.sh"

# Six items; min_prefix 5, so every sample's prefix has at least 5 clicks.
# Valid samples (prefix -> target): [3 4 5 6 1] -> 2, [2 4 6 1 3] -> 3
# (repeat), [5 6 1 2 3 4] -> 5 (repeat), [5 6 1 2 3] -> 4: 4, 2 repeats.
# Test, in file order (longest prefix first): [1 2 3 4 5] -> 6,
# [1 2 3 4 5] -> 3 (repeat), [2 3 4 5 6 1] -> 1 (repeat), [2 3 4 5 6] -> 1,
# [6 5 4 3 2] -> 1: 5, 2 repeats. Each other prefix holds 5 distinct items:
# without them one item is left, the target, at rank 1 whatever the model:
# under next-unseen HR@1 = MRR = 100, exactly.
cat >"$T/spec" <<'SPEC'
train 1 2 3 4 5 6
train 6 5 4 3 2 1
train 1 3 5 2 4 6
train 2 4 6 1 3 5 5
train 3 1 4 1 5 6 2
valid 3 4 5 6 1 2
valid 2 4 6 1 3 3
valid 5 6 1 2 3 4 5
test 1 2 3 4 5 6
test 1 2 3 4 5 3
test 2 3 4 5 6 1 1
test 6 5 4 3 2 1
SPEC
check "a hand-made sessions file" 0 bash -c "'$B/test-helpers/mksessions' 6 5 '$T/s.sbr' <'$T/spec'"
meta() { "$B/sbr-inspect" -m "$1" "$2" 2>/dev/null; }
lists() { "$B/sbr-inspect" -t items "$1" | tr '\n' '/'; }
# What exclusion leaves of each test sample's 6 items (K = 5, 0 pads).
WANT='6 0 0 0 0/6 0 0 0 0/0 0 0 0 0/1 0 0 0 0/1 0 0 0 0/'

# --- sbr-train's evaluation ----------------------------------------------
g=(-m gru4rec -d 8 --hidden 8 -e 3 --patience 1 --metric mrr@20 --threads 1)
check "gru4rec --task next-unseen" 0 "$B/sbr-train" "${g[@]}" --task next-unseen \
    --log "$T/nu.log" -o "$T/nu.model" "$T/s.sbr"
check_err "the epoch line says the task and the repeats dropped" \
    "epoch 1 .* task next-unseen, repeats dropped: valid 2, test 2$"
check_true "each log line: the task and the repeats dropped" \
    "[ \$(grep -c '\"task\":\"next-unseen\",\"valid_repeats_dropped\":2,\"test_repeats_dropped\":2}' '$T/nu.log') = 2 ]"
check_true "prefix items left out at train time: valid and test MRR@20 100 every epoch" \
    "[ \$(grep '\"valid_MRR@20\":100.0000' '$T/nu.log' | grep -c '\"test_MRR@20\":100.0000') = 2 ]"
check_true "selected on those: no gain after epoch 1, patience 1: 2 epochs, the 1st kept" \
    "[ '$(meta epochs_done "$T/nu.model") $(meta selected_epoch "$T/nu.model")' = '2 1' ]"
check_true "the model records the task and the repeats dropped" \
    "[ '$(meta task "$T/nu.model") $(meta valid.repeats_dropped "$T/nu.model") $(meta test.repeats_dropped "$T/nu.model")' = 'next-unseen 2 2' ]"
check "the same under the default task" 0 "$B/sbr-train" -q "${g[@]}" --log "$T/st.log" \
    -o "$T/st.model" "$T/s.sbr"
check_true "standard: nothing dropped, prefix items ranked (valid MRR@20 below 100)" \
    "grep -q '\"task\":\"standard\"}' '$T/st.log' && ! grep -q repeats_dropped '$T/st.log' && ! grep -q '\"valid_MRR@20\":100.0000' '$T/st.log'"
check_true "standard: the model says so" "[ '$(meta task "$T/st.model")' = standard ]"

# --- sbr-infer and sbr-score follow it ------------------------------------
check "sbr-infer on the next-unseen model" 0 "$B/sbr-infer" --threads 1 -k 5 -o "$T/nu.topk" \
    "$T/nu.model" "$T/s.sbr"
check_err "says it follows the model's task" "nu.model: selected for the next-unseen task"
check_true "the lists: exactly what is left without each prefix" "[ '$(lists "$T/nu.topk")' = '$WANT' ]"
check_true "the top-K file: task next-unseen, exclude_seen 1, repeat flags 0 1 1 0 0" \
    "[ '$(meta task "$T/nu.topk") $(meta exclude_seen "$T/nu.topk") $("$B/sbr-inspect" -t repeat "$T/nu.topk" | tr '\n' ' ')' = 'next-unseen 1 0 1 1 0 0 ' ]"
check "sbr-score follows the lists" 0 "$B/sbr-score" -c 1,5 --json -s "$T/s.sbr" "$T/nu.topk"
check_out "3 samples, 2 repeats skipped, HR@1 and MRR@1 100" \
    '^\{"samples":3,"skipped":2,"unseen_targets":0,"task":"next-unseen","HR@1":100.000000,"MRR@1":100.000000,'
check_err "says so" "nu.topk: lists for the next-unseen task: repeat samples are skipped"
check "the table" 0 "$B/sbr-score" -q -c 1,5 -o "$T/nu.metrics" "$T/nu.topk"
check_out "names the task" "^.*nu.topk: 3 samples \(2 repeats skipped: next-unseen\)"
check_true "the metrics file's protocol" "[ '$(meta protocol "$T/nu.metrics")' = next-unseen ]"
check "sbr-score --task standard on them" 0 "$B/sbr-score" -q -c 1,5 --task standard --json "$T/nu.topk"
check_out "5 samples, the 2 repeats misses: HR@1 60" '"samples":5,"skipped":0,.*"HR@1":60.000000'
check_err "warns they are misses by construction" "2 repeat samples are misses by construction"
if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
    check "python/sbr.py metrics follows the lists' task too" 0 /usr/bin/python3 python/sbr.py \
        metrics "$T/nu.topk" 1
    check_out "HR@1 100 over the 3 samples kept (60 over all 5)" "^HR@1 100.000000 "
else
    skip "python/sbr.py" "python3-numpy is not installed"
fi
check "sbr-infer --no-exclude-seen" 0 "$B/sbr-infer" --threads 1 -k 5 --no-exclude-seen \
    -o "$T/all.topk" "$T/nu.model" "$T/s.sbr"
check_err "says the task differs from the model's" "selected for the next-unseen task, ranked for the standard task as asked"
check_true "full lists, task standard" \
    "[ \$('$B/sbr-inspect' -t items '$T/all.topk' | grep -c ' 0') = 0 ] && [ '$(meta task "$T/all.topk")' = standard ]"
check "sbr-score --next-unseen on them" 0 "$B/sbr-score" -q -c 1,5 --next-unseen "$T/all.topk"
check_err "warns they may hold prefix items" "may contain prefix items"
check "sbr-infer --task next-unseen on the standard model" 0 "$B/sbr-infer" -q --threads 1 -k 5 \
    --task next-unseen -o "$T/st-nu.topk" "$T/st.model" "$T/s.sbr"
check_true "the same lists left" "[ '$(lists "$T/st-nu.topk")' = '$WANT' ]"

# --- a kNN model ------------------------------------------------------------
check "sknn --task next-unseen" 0 "$B/sbr-train" -m sknn --task next-unseen --log "$T/k.log" \
    -o "$T/k.model" "$T/s.sbr"
check_err "its validation line" "validation \(task next-unseen, 2 repeats dropped\): HR@20 100.00 MRR@20 100.00"
check_true "its log" "grep -q '\"task\": \"next-unseen\".*\"valid_MRR@20\": 100.000000, \"valid_repeats_dropped\": 2' '$T/k.log'"
check_true "its model" "[ '$(meta task "$T/k.model") $(meta valid.repeats_dropped "$T/k.model")' = 'next-unseen 2' ]"
check "sbr-infer on it" 0 "$B/sbr-infer" --threads 2 -k 5 -o "$T/k.topk" "$T/k.model" "$T/s.sbr"
check_err "follows its task" "k.model: selected for the next-unseen task"
check_true "the lists left without each prefix" "[ '$(lists "$T/k.topk")' = '$WANT' ]"
check "sbr-score" 0 "$B/sbr-score" -q -c 1,5 --json "$T/k.topk"
check_out "3 samples, 2 skipped, MRR@1 100" '"samples":3,"skipped":2,.*"task":"next-unseen","HR@1":100.000000,"MRR@1":100.000000'
check "sknn, standard" 0 "$B/sbr-train" -q -m sknn -o "$T/ks.model" "$T/s.sbr"
check "ranked" 0 "$B/sbr-infer" -q -k 5 -o "$T/ks.topk" "$T/ks.model" "$T/s.sbr"
check_true "full lists (5 of 6 items: prefix items among them)" \
    "[ \$('$B/sbr-inspect' -t items '$T/ks.topk' | grep -c ' 0') = 0 ] && [ '$(meta task "$T/ks.topk")' = standard ]"
check_sh "--stdin-text on the next-unseen model leaves the line's items out" 0 \
    "echo '101 102 103 104 105' | '$B/sbr-infer' --stdin-text -q -k 5 '$T/k.model'"
check_out "only 106 is left" "^106$"

# --- resuming, misuse --------------------------------------------------------
check "a next-unseen checkpoint" 0 "$B/sbr-train" -q "${g[@]}" -e 1 --task next-unseen \
    --checkpoint "$T/nu.ckpt" -o "$T/h.model" "$T/s.sbr"
check "resumed under the standard task" 1 "$B/sbr-train" -q "${g[@]}" --resume "$T/nu.ckpt" \
    -o "$T/h2.model" "$T/s.sbr"
check_err "names the checkpoint and both tasks" "nu.ckpt: a checkpoint of the next-unseen task; this run asks for standard"
check "sbr-train --task unseen" 2 "$B/sbr-train" -q --task unseen -o "$T/x.model" "$T/s.sbr"
check_err "names the option and the choices" "--task.*standard.*next-unseen"
check "sbr-infer --task unseen" 2 "$B/sbr-infer" -q --task unseen -o "$T/x.topk" "$T/nu.model" "$T/s.sbr"
check "sbr-score --task unseen" 2 "$B/sbr-score" -q --task unseen "$T/nu.topk"

# --- make pipeline TASK=next-unseen ---------------------------------------------
W=$T/w
pipe() { make -s --no-print-directory pipeline BUILD="$B" WORK="$W" SYNTH_CLICKS=5000 THREADS=1 "$@"; }
check "make pipeline TASK=next-unseen" 0 pipe TASK=next-unseen \
    TRAIN_ARGS='--epochs 1 --patience 0 -d 16 --hidden 16'
check_out "the table says the task" "\(next-unseen task\)"
check_out "and the repeats skipped" "gru4rec-next-unseen.topk: [0-9]+ samples \([0-9]+ repeats skipped: next-unseen\)"
check_true "train, infer and score ran for it" \
    "[ '$(meta task "$W/gru4rec-next-unseen.model") $(meta task "$W/gru4rec-next-unseen.topk") $(meta protocol "$W/gru4rec-next-unseen.metrics")' = 'next-unseen next-unseen next-unseen' ]"
check_true "its log says the task" "grep -q '\"task\":\"next-unseen\",\"valid_repeats_dropped\":' '$W/gru4rec-next-unseen.log'"
check "an unknown TASK" 2 pipe TASK=unseen
check_err "says so" "TASK=unseen is unknown: standard or next-unseen"
t_end
