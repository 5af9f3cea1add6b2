#!/usr/bin/env bash
# Predictive uncertainty end to end: sbr-infer --uncertainty writes each
# sample's entropy and top-1 probability (in range, the same on 1 and 2
# threads), sbr-score reports them by entropy decile and as a calibration
# error (checked exactly on a hand-made file, and against python/sbr.py on a
# trained model's), --stdin-text prints them, next-unseen's exclusions
# shape them (a hand-made dataset where exclusion leaves one item or none),
# and the models without a softmax over S . E refuse (exit 2).
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3

# --- a hand-made top-K file (tests/helpers/mktopk.c, unc_file) ----------------
# Entropies j / 10 (j = 0..19), two samples per decile; hits at rank 1 for
# j < 10, rank 2 for j < 14; top-1 probabilities by pairs 1, .875, .75, .625,
# .5, .375, .25, then .125 for j >= 14. Bins: [0.1,0.2) 6 samples, accuracy
# 0; [0.2,0.3) and [0.3,0.4) 2 each, 0; [0.5,0.6) .. [0.9,1] 2 each, 1. ECE =
# (6 x .125 + 2 x (.25 + .375) + 2 x (.5 + .375 + .25 + .125 + 0)) / 20 = 22.5 %.
MK=$B/test-helpers/mktopk
check "a top-K file with known uncertainty" 0 "$MK" "$T/h.topk" unc
check "score it" 0 "$B/sbr-score" -c 1,2 "$T/h.topk"
check_out "decile 1: entropy 0 - 0.1, top-1 p 100, HR@2 and MRR@2 100" \
    '^1 +2 +0\.000 - 0\.100 +100\.00 +100\.00 +100\.00$'
check_out "decile 6: 37.5, hits at rank 2 (MRR 50)" '^6 +2 +1\.000 - 1\.100 +37\.50 +100\.00 +50\.00$'
check_out "decile 10: misses" '^10 +2 +1\.800 - 1\.900 +12\.50 +0\.00 +0\.00$'
check_out "ECE 22.50, accuracy 50, mean probability 47.5" \
    'ECE 22\.50 .*top-1 accuracy 50\.00, mean top-1 probability 47\.50'
check_out "p = 0.5 falls in [0.5,0.6)" '^\[0\.5,0\.6\) +2 +50\.00 +100\.00$'
check_out "p = 1 in the last bin, closed" '^\[0\.9,1\.0\] +2 +100\.00 +100\.00$'
check_out "an empty bin shows no rates" '^\[0\.4,0\.5\) +0$'
check "the same in JSON" 0 "$B/sbr-score" -c 1,2 --json "$T/h.topk"
check_out "JSON: ece" '"uncertainty":\{"samples":20,"ece":22\.500000,"top1_accuracy":50\.000000'
check_out "JSON: decile 7" '"decile":7,"samples":2,"entropy_min":1\.200000,.*"HR@2":100\.000000,"MRR@2":50\.000000'
check_out "JSON: bin [0.1, 0.2)" '"lo":0\.1,"hi":0\.2,"samples":6,"confidence":12\.500000,"accuracy":0\.000000'
check "entropy without top1_prob is refused" 0 "$MK" "$T/half.topk" unc-half
check "... by sbr-score" 1 "$B/sbr-score" "$T/half.topk"
check_err "naming the file and what is missing" 'half\.topk: entropy without top1_prob'
check "a file without uncertainty" 0 "$MK" "$T/plain.topk"
check "scores as before" 0 "$B/sbr-score" -c 1,3 "$T/plain.topk"
check_true "without deciles or ECE" "! grep -q 'entropy decile\|ECE' '$T/out'"

# --- a trained model --------------------------------------------------------------
check "generate and prepare a small synthetic dataset" 0 bash -c \
    "'$B/sbr-gen' -q --clicks 20000 --items 500 --clusters 16 --seed 5 | '$B/sbr-prep' -q - -o '$T/s.sbr'"
check "train gru4rec one epoch" 0 "$B/sbr-train" -q -m gru4rec -e 1 --threads 1 --no-test \
    -o "$T/g.model" "$T/s.sbr"
check "infer with --uncertainty" 0 "$B/sbr-infer" --threads 1 --uncertainty -o "$T/g.topk" \
    "$T/g.model" "$T/s.sbr"
check_err "says the mean entropy" 'uncertainty: mean entropy [0-9.]+ nats'
N=$("$B/sbr-inspect" -m n_items "$T/g.topk")
"$B/sbr-inspect" -t entropy "$T/g.topk" >"$T/ent"
"$B/sbr-inspect" -t top1_prob "$T/g.topk" >"$T/p1"
rows=$("$B/sbr-inspect" -t targets "$T/g.topk" | wc -l)
check_true "one entropy and one probability per sample ($rows)" \
    "[ $rows -gt 100 ] && [ \$(wc -l <'$T/ent') = $rows ] && [ \$(wc -l <'$T/p1') = $rows ]"
check_true "entropy in [0, log N] (N = $N)" \
    "awk -v n=$N '\$1 < 0 || \$1 > log(n) { bad++ } END { exit bad > 0 }' '$T/ent'"
check_true "top-1 probability in (0, 1]" "awk '\$1 <= 0 || \$1 > 1 { bad++ } END { exit bad > 0 }' '$T/p1'"
check_true "not all alike (a trained model is surer of some prefixes)" \
    "[ \$(sort -u '$T/ent' | wc -l) -gt 10 ]"
check "the same on two threads" 0 "$B/sbr-infer" -q --threads 2 --uncertainty \
    -o "$T/g2.topk" "$T/g.model" "$T/s.sbr"
check_true "identical entropies and probabilities" \
    "'$B/sbr-inspect' -t entropy '$T/g2.topk' | cmp -s - '$T/ent' && '$B/sbr-inspect' -t top1_prob '$T/g2.topk' | cmp -s - '$T/p1'"
check "sbr-score reports them" 0 "$B/sbr-score" "$T/g.topk"
check_out "ten deciles" '^10 +[0-9]+ +[0-9.]+ - [0-9.]+'
check_out "an ECE" 'ECE [0-9]+\.[0-9]{2} \(10 equal-width bins'
check_true "no spread deciles (gru4rec does not sample)" "! grep -q 'spread' '$T/out'"
check "JSON" 0 bash -c "'$B/sbr-score' --json '$T/g.topk' >'$T/g.json'"
check_true "JSON: ten deciles and ten bins" \
    "[ \$(grep -o '\"decile\":' '$T/g.json' | wc -l) = 10 ] && [ \$(grep -o '\"lo\":' '$T/g.json' | wc -l) = 10 ]"
check "a metrics file keeps them" 0 "$B/sbr-score" -q -o "$T/g.metrics" "$T/g.topk"
check "its metadata" 0 "$B/sbr-inspect" -m metrics "$T/g.metrics"
check_out "holds the ECE" '"ece":'
if "$PY" -c 'import numpy' 2>/dev/null; then
    check_true "python/sbr.py: the same ECE and deciles as sbr-score" "$PY - '$T' <<'PYEOF'
import json, sys
sys.path.insert(0, 'python')
import sbr
T = sys.argv[1]
u = json.load(open(T + '/g.json'))['uncertainty']
t = sbr.TopK(T + '/g.topk')
assert abs(t.ece() - u['ece']) < 1e-4, (t.ece(), u['ece'])
assert t.spread is None and 'spread_deciles' not in u  # gru4rec does not sample
try:
    t.deciles(20, by='spread')
    raise AssertionError('deciles by spread without one')
except ValueError as e:
    assert 'no spread' in str(e), e
for (n, lo, hi, hr, mrr), d in zip(t.deciles(20), u['deciles']):
    assert n == d['samples'] and abs(hr - d['HR@20']) < 1e-4 and abs(mrr - d['MRR@20']) < 1e-4, d
PYEOF"
else
    skip "python/sbr.py against sbr-score" "python3-numpy is not installed"
fi
check "infer without --uncertainty" 0 "$B/sbr-infer" -q --threads 1 -o "$T/g0.topk" \
    "$T/g.model" "$T/s.sbr"
check_true "no uncertainty tensors then" "! '$B/sbr-inspect' '$T/g0.topk' | grep -q 'entropy\|top1_prob'"

# --- text mode --------------------------------------------------------------------
first=$("$B/sbr-inspect" -t items.original "$T/s.sbr" | sed -n '2,4p' | tr '\n' ' ')
check_sh "--stdin-text --uncertainty" 0 \
    "printf '%s\n\n' '$first' | '$B/sbr-infer' --stdin-text -q --uncertainty --threads 1 -k 5 '$T/g.model'"
check_true "five ids, a tab, the entropy and the probability" \
    "head -1 '$T/out' | grep -Eq '^[0-9]+( [0-9]+){4}	[0-9.e-]+ [0-9.e-]+\$'"
check_true "in range" "head -1 '$T/out' | cut -f2 | awk -v n=$N '{ exit !(\$1 >= 0 && \$1 <= log(n) && \$2 > 0 && \$2 <= 1) }'"
check_true "an empty line stays empty" "[ \"\$(sed -n 2p '$T/out')\" = '' ]"

# --- next-unseen: exclusion leaves one item or none ------------------------------
# The hand-made dataset of test_task.sh: each test prefix holds 5 of the 6
# items but one, [2 3 4 5 6 1], which holds all 6. Ranked without its
# prefix's items a sample keeps one item (entropy 0, probability 1) or none
# (an empty list: 0 and 0), whatever the model.
cat >"$T/spec" <<'SPEC'
train 1 2 3 4 5 6
train 6 5 4 3 2 1
train 1 3 5 2 4 6
train 2 4 6 1 3 5 5
valid 3 4 5 6 1 2
test 1 2 3 4 5 6
test 1 2 3 4 5 3
test 2 3 4 5 6 1 1
test 6 5 4 3 2 1
SPEC
check "a hand-made sessions file" 0 bash -c "'$B/test-helpers/mksessions' 6 5 '$T/n.sbr' <'$T/spec'"
check "train a tiny gru4rec" 0 "$B/sbr-train" -q -m gru4rec -d 8 --hidden 8 -e 1 --threads 1 \
    -o "$T/n.model" "$T/n.sbr"
check "rank next-unseen with --uncertainty" 0 "$B/sbr-infer" -q --task next-unseen -k 5 \
    --uncertainty -o "$T/n.topk" "$T/n.model" "$T/n.sbr"
check_true "entropies 0 0 0 0 0" "[ \"\$('$B/sbr-inspect' -t entropy '$T/n.topk' | tr '\n' ' ')\" = '0 0 0 0 0 ' ]"
check_true "probabilities 1 1 0 1 1 (the third list is empty)" \
    "[ \"\$('$B/sbr-inspect' -t top1_prob '$T/n.topk' | tr '\n' ' ')\" = '1 1 0 1 1 ' ]"
check "rank standard with --uncertainty" 0 "$B/sbr-infer" -q --task standard -k 5 \
    --uncertainty -o "$T/s6.topk" "$T/n.model" "$T/n.sbr"
check_true "then every entropy is above 0 (six items)" \
    "'$B/sbr-inspect' -t entropy '$T/s6.topk' | awk '\$1 <= 0 { bad++ } END { exit bad > 0 }'"

# --- the models without it ----------------------------------------------------
check "sknn" 0 "$B/sbr-train" -q -m sknn -o "$T/k.model" "$T/s.sbr"
check "kNN: --uncertainty is misuse" 2 "$B/sbr-infer" -q --uncertainty -o "$T/k.topk" \
    "$T/k.model" "$T/s.sbr"
check_err "saying why" 'k\.model: --uncertainty: a sknn model has no softmax over the catalogue'
check_true "and writing nothing" "[ ! -e '$T/k.topk' ]"
check "tagnn" 0 "$B/sbr-train" -q -m tagnn -e 1 --threads 1 --no-test -o "$T/t.model" "$T/s.sbr"
check "tagnn: --uncertainty is misuse" 2 "$B/sbr-infer" -q --uncertainty -o "$T/t.topk" \
    "$T/t.model" "$T/s.sbr"
check_err "saying why" 't\.model: --uncertainty is not available for model tagnn: it scores the catalogue through its own hook'
check "tagnn in text mode too" 2 bash -c "echo '$first' | '$B/sbr-infer' --stdin-text -q --uncertainty '$T/t.model'"
check "--help documents it" 0 "$B/sbr-infer" --help
check_out "in sbr-infer's" '--uncertainty'
check_out "with the spread of a sampling model" 'K sampled session vectors'
check "sbr-score --help says what it reports" 0 "$B/sbr-score" --help
check_out "the ECE's definition" 'ECE = sum over 10 equal-width bins'
check_out "and the spread deciles" 'by spread decile'
t_end
