#!/usr/bin/env bash
# The session-kNN and rule baselines (common/knn, issue #23): every method
# trains (indexes) and ranks a synthetic split end to end and beats
# popularity; the lists do not depend on the thread count; --exclude-seen
# and --stdin-text work; --tune; bad input; and SKNN, V-SKNN and STAN give
# the top-20 lists of an independent Python reference (tests/ref/knn_ref.py)
# on a synthetic split and on the raw diginetica sample (skipped, saying so,
# without numpy or the data).
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3

check "a small synthetic dataset with a validation split" 0 bash -c \
    "'$B/sbr-gen' -q --clicks 20000 --items 500 --seed 5 | '$B/sbr-prep' -q --valid-frac 0.1 - -o '$T/s.sbr'"
check "the same without a validation split" 0 bash -c \
    "'$B/sbr-gen' -q --clicks 20000 --items 500 --seed 5 | '$B/sbr-prep' -q --valid-frac 0 - -o '$T/nv.sbr'"

check "sbr-train --help lists the kNN methods" 0 "$B/sbr-train" --help
for m in sknn vsknn stan vstan ar sr markov pop spop; do
    check_out "--help lists $m" "^ +$m "
done
check_out "--help lists --sample-size" "--sample-size +sknn vsknn stan vstan"
check_out "--help lists --tune" "--tune N"
check "--help-model vstan" 0 "$B/sbr-train" --help-model vstan
check_out "vstan's help names its paper" "Ludewig et al. 2021"
check_out "vstan's help shows lambda_idf's default" "--lambda-idf X +5 "
check_out "vstan's help shows the tuning ranges" "lambda_spw +0.1..10 \(log\)"

hr() { grep -o '"HR@20":[0-9.]*' "$T/out" | head -1 | cut -d: -f2; } # overall: the first
check "pop: index" 0 "$B/sbr-train" -q -m pop -o "$T/pop.model" "$T/s.sbr"
check "pop: rank and score" 0 bash -c "'$B/sbr-infer' -q -o - '$T/pop.model' '$T/s.sbr' | '$B/sbr-score' -q --json -"
pop=$(hr)
check_true "pop HR@20 read ($pop)" "[ -n '$pop' ]"
for m in sknn vsknn stan vstan ar sr markov spop; do
    check "$m: index the training split" 0 "$B/sbr-train" -q -m "$m" --log "$T/$m.log" -o "$T/$m.model" "$T/s.sbr"
    check "$m: the model file names its method" 0 "$B/sbr-inspect" -m model "$T/$m.model"
    check_out "$m: model = $m" "^$m\$"
    check "$m: rank the test split on 2 threads" 0 "$B/sbr-infer" -q --threads 2 -o "$T/$m.topk" "$T/$m.model" "$T/s.sbr"
    check "$m: score" 0 bash -c "'$B/sbr-score' -q --json '$T/$m.topk'"
    h=$(hr) bar=10
    [ "$m" = spop ] && bar=3 # popularity plus the prefix's own clicks: a little above pop
    check_true "$m: HR@20 $h > pop $pop + $bar" "awk 'BEGIN{exit !($h > $pop + $bar)}'"
    check_true "$m: the log has the validation HR@20" "grep -q valid_HR@20 '$T/$m.log'"
done

check "vsknn on 1 thread" 0 "$B/sbr-infer" -q --threads 1 -o "$T/v1.topk" "$T/vsknn.model" "$T/s.sbr"
check_sh "the same lists and scores on 1 and 2 threads" 0 \
    "cmp <('$B/sbr-inspect' -t items '$T/v1.topk'; '$B/sbr-inspect' -t scores '$T/v1.topk') \
         <('$B/sbr-inspect' -t items '$T/vsknn.topk'; '$B/sbr-inspect' -t scores '$T/vsknn.topk')"
check "vstan with random sampling, 1 thread" 0 "$B/sbr-train" -q -m vstan --sampling random --sample-size 50 -o "$T/vr.model" "$T/s.sbr"
check "... ranked on 1 thread" 0 "$B/sbr-infer" -q --threads 1 -o "$T/vr1.topk" "$T/vr.model" "$T/s.sbr"
check "... and on 2" 0 "$B/sbr-infer" -q --threads 2 -o "$T/vr2.topk" "$T/vr.model" "$T/s.sbr"
check_sh "random sampling is seeded per prefix: the same lists" 0 \
    "cmp <('$B/sbr-inspect' -t items '$T/vr1.topk') <('$B/sbr-inspect' -t items '$T/vr2.topk')"

check "--exclude-seen" 0 "$B/sbr-infer" -q --exclude-seen -o "$T/ex.topk" "$T/stan.model" "$T/s.sbr"
check "--exclude-seen: scored with --next-unseen" 0 "$B/sbr-score" -q --next-unseen "$T/ex.topk"
orig=$("$B/sbr-inspect" -t items.original "$T/vsknn.model" | sed -n '2,4p' | tr '\n' ' ')
check_sh "--stdin-text ranks a line of original ids" 0 \
    "echo '$orig' | '$B/sbr-infer' --stdin-text -q -k 5 '$T/vsknn.model'"
check_true "--stdin-text: five ids" "[ \$(wc -w < '$T/out') = 5 ]"
check_sh "--stdin-text --exclude-seen leaves the line's own ids out" 0 \
    "echo '$orig' | '$B/sbr-infer' --stdin-text --exclude-seen -q -k 20 '$T/sr.model'"
check_true "... none of them" "! grep -qwE '$(echo $orig | tr ' ' '|')' '$T/out'"

check "--tune 3 on the validation split" 0 "$B/sbr-train" -q -m vsknn --tune 3 --seed 2 --k 50 \
    --log "$T/tune.log" -o "$T/tune.model" "$T/s.sbr"
check_true "the log has three settings" "[ \$(grep -c '\"tune\"' '$T/tune.log') = 3 ]"
check_true "a given option stays fixed" "[ \$(grep -c 'k=50 ' '$T/tune.log') = 3 ]"
check "the table is in the model's metadata" 0 "$B/sbr-inspect" -m tune.table "$T/tune.model"
check_out "... with the best setting" "^best: [123] \(hr@20"
check "--tune without a validation split" 2 "$B/sbr-train" -q -m vstan --tune 2 -o "$T/x.model" "$T/nv.sbr"
check_err "... says so" "no validation split|has none"
# --select refit: the chosen settings indexed again on train + valid.
check "--tune 3 --select refit" 0 "$B/sbr-train" -m vsknn --tune 3 --seed 2 --k 50 --select refit \
    -o "$T/refit.model" "$T/s.sbr"
check_err "indexes train + valid" "refit: the chosen settings indexed on train \\+ valid"
check "the model says so" 0 "$B/sbr-inspect" -m selection "$T/refit.model"
check_out "selection" "^refit: the options of the best valid HR@20"
check_true "the same settings as tuned on train alone" \
    "cmp -s <('$B/sbr-inspect' -m tune.table '$T/tune.model') <('$B/sbr-inspect' -m tune.table '$T/refit.model')"
check_true "more sessions in the index" \
    "[ \$('$B/sbr-inspect' -m knn.sessions '$T/refit.model') -gt \$('$B/sbr-inspect' -m knn.sessions '$T/tune.model') ]"
check "it ranks the test split" 0 "$B/sbr-infer" -q -o "$T/refit.topk" "$T/refit.model" "$T/s.sbr"
check "--select refit without a validation split" 2 "$B/sbr-train" -q -m vsknn --select refit \
    -o "$T/x.model" "$T/nv.sbr"
check "--tune on a neural model" 2 "$B/sbr-train" -q -m gru4rec --tune 2 -o "$T/x.model" "$T/s.sbr"
check "a k larger than the training sessions" 0 "$B/sbr-train" -m sknn --k 999999 -o "$T/big.model" "$T/s.sbr"
check_err "... is clamped, said once" "more than the [0-9]+ training sessions"
check_true "... once" "[ \$(grep -c 'training sessions: k' '$T/err') = 1 ]"
check "an option of another method" 2 "$B/sbr-train" -q -m ar --k 5 -o "$T/x.model" "$T/s.sbr"
check "a value out of range" 2 "$B/sbr-train" -q -m stan --lambda-spw -1 -o "$T/x.model" "$T/s.sbr"
check "--graph with a kNN method" 2 "$B/sbr-train" -q -m sknn --graph "$T/s.sbr" -o "$T/x.model" "$T/s.sbr"
check "a sessions file whose training split is empty" 0 "$PY" tests/ref/empty_train.py "$T/s.sbr" "$T/empty.sbr"
check "an empty training split" 1 "$B/sbr-train" -q -m sknn -o "$T/x.model" "$T/empty.sbr"
check_err "... a clear error" "training split is empty"

# The reference (tests/ref/knn_ref.py): SKNN, V-SKNN, STAN top-20 lists.
ref_check() { # ref_check LABEL SESSIONS
    local label=$1 s=$2
    for m in sknn vsknn stan; do
        "$B/sbr-train" -q -m "$m" -o "$T/r.model" "$s" &&
            "$B/sbr-infer" -q -o "$T/r.topk" "$T/r.model" "$s" || { _bad "$label $m" "train/infer"; continue; }
        check "$label: $m gives the reference's top-20 lists" 0 "$PY" tests/ref/knn_ref.py "$m" "$s" "$T/r.topk"
    done
}
if ! "$PY" -c 'import numpy' 2>/dev/null; then
    skip "the kNN reference" "python3-numpy is not installed (make deps)"
else
    ref_check "synthetic" "$T/s.sbr"
    raw="$DATA/raw/diginetica-sample/sample_train-item-views.csv"
    if [ -e "$raw" ]; then
        check "the raw diginetica sample" 0 "$B/sbr-prep" -q --valid-frac 0 -o "$T/dg.sbr" "$raw"
        ref_check "raw diginetica sample" "$T/dg.sbr"
    else
        skip "the kNN reference on raw data" "$raw is absent"
    fi
fi
t_end
