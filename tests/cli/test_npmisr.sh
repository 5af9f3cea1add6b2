#!/usr/bin/env bash
# NP-MiSR from the command line (issue #21): --encoder picks the session
# encoder and names the model; the model file keeps its context pool, so
# sbr-infer needs nothing but it and ranks a sample the same in any batch;
# under --uncertainty each sample's spread of its K samples (the top-K file's
# spread, sbr-score's spread deciles, python/sbr.py's, text mode's third
# number; none for a model that does not sample); clear misuse (exit 2, no
# file written) for an encoder that cannot be one, no samples, or a pool too
# small for the contexts.
. "$(dirname "$0")/lib.sh"

check "a small synthetic dataset" 0 bash -c \
    "'$B/sbr-gen' -q --clicks 12000 --items 300 --seed 3 | '$B/sbr-prep' -q - -o '$T/s.sbr'"
p=(-m npmisr -d 16 -e 1 --max-steps 30 --threads 1 --no-test)
check "npmisr --encoder srgnn" 0 "$B/sbr-train" "${p[@]}" --encoder srgnn -o "$T/n.model" "$T/s.sbr"
check_err "says its pool" "context pool: [0-9]+ pairs, one per drawn training session \(0\.1 of [0-9]+\)"
P=$(grep -o 'context pool: [0-9]*' "$T/err" | grep -o '[0-9]*$')
check "the model file names the pair" 0 "$B/sbr-inspect" -m model "$T/n.model"
check_out "model = npmisr-srgnn" "^npmisr-srgnn$"
check_true "it keeps the pool's $P items" \
    "[ \"\$('$B/sbr-inspect' -t pool.item '$T/n.model' | wc -l)\" = '$P' ]"
"$B/sbr-inspect" -t train.items "$T/s.sbr" | sort -u >"$T/train.items"
check_true "every pool item is a training item" \
    "! '$B/sbr-inspect' -t pool.item '$T/n.model' | sort -u | comm -23 - '$T/train.items' | grep -q ."
check "ranks from the model file alone" 0 "$B/sbr-infer" -q --threads 1 --uncertainty \
    -o "$T/a.topk" "$T/n.model" "$T/s.sbr"
check "in batches of 7" 0 "$B/sbr-infer" -q --threads 1 -b 7 --uncertainty -o "$T/b.topk" \
    "$T/n.model" "$T/s.sbr"
# Nearly all: in float, the cosines' rounding depends on the batch's rows (the
# GEMM's blocking), and a context pair tied with the C-th to the last bits may
# swap in or out; the double-precision unit test asks for the same to 1e-12.
check_true "the same lists whatever the batch (at least 98% of the samples)" \
    "paste -d'|' <('$B/sbr-inspect' -t items '$T/a.topk') <('$B/sbr-inspect' -t items '$T/b.topk') |
     awk -F'|' '{ n++; same += (\$1 == \$2) } END { exit !(n > 100 && same >= 0.98 * n) }'"
check "and its uncertainty by decile" 0 "$B/sbr-score" -q "$T/a.topk"
check_out "deciles" "calibration of the top-1 probability"

# --- the spread of the K samples (sbr-infer --uncertainty) ---------------------
rows=$("$B/sbr-inspect" -t targets "$T/a.topk" | wc -l)
check "the top-K file has a spread" 0 "$B/sbr-inspect" -t spread "$T/a.topk"
check_true "one per sample ($rows), finite and > 0" \
    "[ \$(wc -l <'$T/out') = $rows ] && awk '!(\$1 > 0 && \$1 < 1e30) { bad++ } END { exit bad > 0 }' '$T/out'"
check_true "not all alike" "[ \$(sort -u '$T/out' | wc -l) -gt 10 ]"
check "sbr-score reports it by decile" 0 "$B/sbr-score" -q "$T/a.topk"
check_out "the spread deciles' heading" "^by spread decile, lowest first \(@20; RMS distance"
check_true "ten spread deciles" \
    "sed -n '/^by spread decile/,/^\$/p' '$T/out' | grep -Ec '^[0-9]+ +[0-9]+ +[0-9.e+-]+ - [0-9.e+-]+ ' | grep -qx 10"
check "in JSON" 0 bash -c "'$B/sbr-score' -q --json '$T/a.topk' >'$T/a.json'"
check_true "JSON: uncertainty.spread_deciles, ten of them" \
    "grep -o '\"spread_deciles\":\[.*' '$T/a.json' | grep -o '\"spread_min\":' | wc -l | grep -qx 10"
check "sbr-infer says the mean spread" 0 "$B/sbr-infer" --threads 1 --uncertainty \
    -o "$T/c.topk" "$T/n.model" "$T/s.sbr"
check_err "on stderr" "uncertainty: mean entropy .*, mean spread [0-9.e+-]+$"
if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
    check_true "python/sbr.py: TopK.spread and the deciles by spread as sbr-score's" \
        "/usr/bin/python3 - '$T' <<'PYEOF'
import json, sys
sys.path.insert(0, 'python')
import sbr
T = sys.argv[1]
u = json.load(open(T + '/a.json'))['uncertainty']
t = sbr.TopK(T + '/a.topk')
assert t.spread is not None and len(t.spread) == len(t.targets)
for (n, lo, hi, hr, mrr), d in zip(t.deciles(20, by='spread'), u['spread_deciles']):
    assert n == d['samples'] and abs(lo - d['spread_min']) < 1e-6 and abs(hi - d['spread_max']) < 1e-6, d
    assert abs(hr - d['HR@20']) < 1e-4 and abs(mrr - d['MRR@20']) < 1e-4, d
PYEOF"
else
    skip "python/sbr.py's spread" "python3-numpy is not installed"
fi
first=$("$B/sbr-inspect" -t items.original "$T/s.sbr" | sed -n '2,4p' | tr '\n' ' ')
check_sh "--stdin-text --uncertainty" 0 \
    "printf '%s\n\n' '$first' | '$B/sbr-infer' --stdin-text -q --uncertainty --threads 1 -k 5 '$T/n.model'"
check_true "five ids, a tab, the entropy, the probability and the spread" \
    "head -1 '$T/out' | grep -Eq '^[0-9]+( [0-9]+){4}	[0-9.e+-]+ [0-9.e+-]+ [0-9.e+-]+\$'"
check_true "an empty line stays empty" "[ \"\$(sed -n 2p '$T/out')\" = '' ]"
check "a model that does not sample (srgnn)" 0 "$B/sbr-train" -q -m srgnn -d 16 -e 1 \
    --max-steps 10 --threads 1 --no-test -o "$T/g.model" "$T/s.sbr"
check "ranked with --uncertainty" 0 "$B/sbr-infer" -q --threads 1 --uncertainty \
    -o "$T/g.topk" "$T/g.model" "$T/s.sbr"
check_true "has the entropy but no spread" \
    "'$B/sbr-inspect' '$T/g.topk' | grep -q entropy && ! '$B/sbr-inspect' '$T/g.topk' | grep -q spread"
check "sbr-score" 0 "$B/sbr-score" -q "$T/g.topk"
check_true "shows no spread deciles" "! grep -q 'spread' '$T/out'"
check_sh "its text mode" 0 \
    "printf '%s\n' '$first' | '$B/sbr-infer' --stdin-text -q --uncertainty --threads 1 -k 5 '$T/g.model'"
check_true "two numbers after the tab, as before" \
    "grep -Eq '^[0-9]+( [0-9]+){4}	[0-9.e+-]+ [0-9.e+-]+\$' '$T/out'"
check "-m npmisr-narm is the same as --encoder narm" 0 "$B/sbr-train" -m npmisr-narm -d 16 -e 1 \
    --max-steps 5 --threads 1 --no-test -q -o "$T/m.model" "$T/s.sbr"

misuse() { # misuse LABEL PATTERN ARGS...: exit 2, says why, writes nothing
    local label=$1 pat=$2
    shift 2
    rm -f "$T/bad.model"
    check "$label: misuse" 2 "$B/sbr-train" "${p[@]}" "$@" -o "$T/bad.model" "$T/s.sbr"
    check_err "$label: says why" "$pat"
    check_true "$label: no model written" "[ ! -e '$T/bad.model' ]"
}
misuse "an encoder with interests" "--encoder dmignn: not an encoder for npmisr: it has several" \
    --encoder dmignn
misuse "an encoder that is no model" "--encoder bert4rec: not an encoder for npmisr: no such model" \
    --encoder bert4rec
misuse "NP-MiSR over itself" "--encoder npmisr: not an encoder for npmisr: it wraps" --encoder npmisr
misuse "K = 0" "np.samples" --encoder srgnn --np-samples 0
misuse "a pool too small for the contexts" \
    "keeps [0-9]+ of the [0-9]+ training sessions with a pair: fewer than the 11 pairs" \
    --encoder srgnn --np-pool 0.0005
misuse "GCE-GNN's graph" "needs its global graph" # the default encoder, without --graph
t_end
