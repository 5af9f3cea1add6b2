#!/usr/bin/env bash
# sbr-train --select refit (make pipeline PROTOCOL=refit): the epochs
# selected on validation, then a fresh model trained on train + valid for as
# many, the test split ranked once; logged and recorded as such.
. "$(dirname "$0")/lib.sh"

"$B/sbr-gen" -q -n 8000 --items 300 --clusters 10 -o "$T/gen.tsv"
check "sessions" 0 "$B/sbr-prep" -q -o "$T/s.sbr" "$T/gen.tsv"
tr=$("$B/sbr-inspect" -m train.samples "$T/s.sbr") va=$("$B/sbr-inspect" -m valid.samples "$T/s.sbr")
g=(-m gru4rec -d 16 --hidden 16 -e 3 --patience 0 --threads 1)
check "gru4rec --select refit" 0 "$B/sbr-train" "${g[@]}" --select refit --log "$T/r.log" \
    -o "$T/r.model" "$T/s.sbr"
sel=$("$B/sbr-inspect" -m selected_epoch "$T/r.model")
check_err "the refit trains on train + valid ($tr + $va samples)" \
    "refit: $sel epochs selected on validation; a fresh model trained on train \+ valid \($((tr + va)) samples\)"
check_true "the log: 3 epochs, then $sel of the refit" \
    "[ \$(grep -vc '\"phase\"' '$T/r.log') = 3 ] && [ \$(grep -c '\"phase\":\"refit\"' '$T/r.log') = '$sel' ]"
check_true "the test split ranked once, after the refit's last epoch" \
    "[ \$(grep -c 'test_HR@20' '$T/r.log') = 4 ] && tail -1 '$T/r.log' | grep -q 'test_HR@20'"
check "the model says how it was selected" 0 "$B/sbr-inspect" -m selection "$T/r.model"
check_out "refit" "^refit: the epochs selected on valid HR@20, trained on train \+ valid$"
check "and keeps the validation figures it selected on" 0 "$B/sbr-inspect" -m valid.HR@20 "$T/r.model"
check "it ranks" 0 "$B/sbr-infer" -q -o "$T/r.topk" "$T/r.model" "$T/s.sbr"
check "--select refit on a kNN model: its options indexed on train + valid" 0 "$B/sbr-train" -m sknn \
    --select refit -o "$T/k.model" "$T/s.sbr"
check_err "says so" "refit: the given settings indexed on train \\+ valid"
t_end
