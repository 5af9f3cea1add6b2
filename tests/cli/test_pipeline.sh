#!/usr/bin/env bash
# make pipeline on a tiny synthetic dataset: every stage a file, a repeated run
# redoes nothing, new TRAIN_ARGS retrain, an interrupted training resumes from
# its checkpoint and ends bit-identical to an uninterrupted one.
. "$(dirname "$0")/lib.sh"
W=$T/w
pipe() {
    make -s --no-print-directory pipeline BUILD="$B" WORK="$W" SYNTH_CLICKS=5000 THREADS=1 "$@"
}
small=(TRAIN_ARGS='--epochs 2 --patience 0 -d 16 --hidden 16')

check "pipeline on 5,000 synthetic clicks" 0 pipe "${small[@]}"
check_out "ends with the metrics table" '^HR +[0-9.]+ +[0-9.]+ +[0-9.]+'
check_true "every stage left its file" \
    'for f in clicks.tsv.zst sessions.sbr gru4rec.args gru4rec.model gru4rec.topk gru4rec.metrics; do [ -s "$W/$f" ] || exit 1; done'
check_true "no checkpoint left behind" '[ ! -e "$W/gru4rec.ckpt" ]'
check_true "two epochs logged" '[ "$(wc -l <"$W/gru4rec.log")" = 2 ]'
cp "$W/gru4rec.model" "$T/full.model"

check "a repeated run" 0 pipe "${small[@]}"
check_true "redoes nothing" '! grep -q "sbr-train\|sbr-prep\|sbr-gen" "$T/out" "$T/err"'

# An interruption after epoch 1: its checkpoint, as the pipeline's own
# training command would have left it (the model never written).
rm "$W/gru4rec.model"
read -r -a sig <"$W/gru4rec.args"
check "epoch 1 with a checkpoint" 0 "$B/sbr-train" "${sig[@]}" --threads 1 -q -e 1 \
    --checkpoint "$W/gru4rec.ckpt" --log "$W/gru4rec.log" -o "$T/half.model" "$W/sessions.sbr"
check "the pipeline again" 0 pipe "${small[@]}"
check_out "resumes the interrupted training" 'gru4rec\.ckpt: resuming'
check_true "epochs 1 and 2 logged once each" \
    '[ "$(grep -o "\"epoch\":[0-9]*" "$W/gru4rec.log" | tr "\n" " ")" = "\"epoch\":1 \"epoch\":2 " ]'
check_true "resumed model bit-identical to the uninterrupted one" \
    "cmp -s <('$B/sbr-inspect' -t param.items '$T/full.model') <('$B/sbr-inspect' -t param.items '$W/gru4rec.model')"
check_true "its checkpoint removed" '[ ! -e "$W/gru4rec.ckpt" ]'

# A stale checkpoint (older than the sessions) is not resumed.
check "epoch 1 with a checkpoint" 0 "$B/sbr-train" "${sig[@]}" --threads 1 -q -e 1 \
    --checkpoint "$W/gru4rec.ckpt" -o "$T/half.model" "$W/sessions.sbr"
touch -d '1 hour ago' "$W/gru4rec.ckpt"
rm "$W/gru4rec.model"
check "the pipeline with a stale checkpoint" 0 pipe "${small[@]}"
check_true "starts afresh" '! grep -q resuming "$T/out" && [ "$(wc -l <"$W/gru4rec.log")" = 2 ]'

check "new TRAIN_ARGS" 0 pipe TRAIN_ARGS='--epochs 1 --patience 0 -d 16 --hidden 16'
check_true "retrain (and nothing before training)" \
    'grep -q "sbr-train" "$T/out" && ! grep -q "sbr-prep\\|sbr-gen" "$T/out" "$T/err" && [ "$(wc -l <"$W/gru4rec.log")" = 1 ]'
t_end
