#!/usr/bin/env bash
# NARM, STAMP, SR-GNN, TAGNN, GC-SAN, CORE, LESSR, ProxySR, NP-MiSR and mean (the walkthrough model) end to end on a small synthetic dataset, with and
# without CLIP-SBR cluster prompts: train one epoch, rank the test split,
# score; each must clearly beat a popularity ranking. Plus: the model file
# says which model it holds, and the same seed gives the same parameters.
. "$(dirname "$0")/lib.sh"

check "generate and prepare a small synthetic dataset" 0 bash -c \
    "'$B/sbr-gen' -q --clicks 20000 --items 500 --clusters 16 --seed 5 | '$B/sbr-prep' -q - -o '$T/s.sbr'"
check "graph and clusters of its training split" 0 bash -c \
    "'$B/sbr-graph' -q --kind adjacent -o - '$T/s.sbr' | '$B/sbr-cluster' -q - -o '$T/c.sbr'"

# Popularity: HR@20 of the 20 most clicked training items for every test sample.
"$B/sbr-inspect" -t train.items "$T/s.sbr" >"$T/train.items"
"$B/sbr-inspect" -t test.offsets "$T/s.sbr" >"$T/test.off"
"$B/sbr-inspect" -t test.items "$T/s.sbr" >"$T/test.items"
pop=$(awk -v top="$(sort -n "$T/train.items" | uniq -c | sort -k1,1nr -k2,2n | head -20 |
    awk '{printf "%s,", $2}')" '
    BEGIN { n = split(top, t, ","); for (i = 1; i <= n; i++) if (t[i] != "") hot[t[i]] = 1 }
    FNR == 1 { f++ }
    f == 1 { off[FNR - 1] = $1; noff = FNR; next }
    { item[FNR - 1] = $1 }
    END {
        for (s = 0; s + 1 < noff; s++)
            for (j = off[s] + 1; j < off[s + 1]; j++) { n_s++; hits += (item[j] in hot) }
        printf "%.2f", 100 * hits / n_s
    }' "$T/test.off" "$T/test.items")
check_true "popularity HR@20 computed ($pop)" "[ -n '$pop' ]"

# train_score MODEL LABEL [TRAIN OPTIONS...]: one epoch, infer, score; HR@20 > pop + 10.
train_score() {
    local m=$1 label=$2
    shift 2
    check "$label: train one epoch" 0 "$B/sbr-train" -q -m "$m" -e 1 --threads 1 --no-test "$@" \
        -o "$T/$label.model" "$T/s.sbr"
    check "$label: the model file names its model" 0 "$B/sbr-inspect" -m model "$T/$label.model"
    check_out "$label: model = $m" "^$m\$"
    check "$label: rank the test split" 0 "$B/sbr-infer" -q --threads 1 -o "$T/$label.topk" \
        "$T/$label.model" "$T/s.sbr"
    check "$label: score" 0 "$B/sbr-score" -q --json -s "$T/s.sbr" "$T/$label.topk"
    local hr
    hr=$(grep -o '"HR@20":[0-9.]*' "$T/out" | head -1 | cut -d: -f2)
    echo "       $label HR@20 $hr, popularity $pop"
    check_true "$label: HR@20 ($hr) clearly above popularity ($pop)" \
        "awk -v a='$hr' -v b='$pop' 'BEGIN { exit !(a != \"\" && a > b + 10) }'"
}

# STAMP at the learning rate of its paper's setting (0.005): at 0.001 its
# small initial weights need more than one epoch of this tiny dataset.
train_score narm narm
train_score narm narm-clip --clusters "$T/c.sbr"
train_score stamp stamp --lr 0.005
train_score stamp stamp-clip --lr 0.005 --clusters "$T/c.sbr"
train_score srgnn srgnn
train_score srgnn srgnn-clip --clusters "$T/c.sbr"
train_score gcsan gcsan
train_score gcsan gcsan-clip --clusters "$T/c.sbr"
train_score core core
train_score core core-clip --clusters "$T/c.sbr"
train_score core core-ave --encoder ave
train_score mean mean
train_score mean mean-clip --clusters "$T/c.sbr"
# LESSR at lr 0.003: its default d = 32 (the official code's) learns this tiny
# dataset too slowly at 0.001 for one epoch (HR@20 35 there, 65 here).
train_score lessr lessr --lr 0.003
train_score lessr lessr-clip --lr 0.003 --clusters "$T/c.sbr"

train_score tagnn tagnn
train_score tagnn tagnn-clip --clusters "$T/c.sbr"
train_score proxysr proxysr
train_score proxysr proxysr-clip --clusters "$T/c.sbr"
# NP-MiSR on its default encoder (GCE-GNN, with its window graph) and on SR-GNN
check "a window graph (GCE-GNN's)" 0 "$B/sbr-graph" -q --kind window --window 3 --topk 12 \
    -o "$T/w.sbr" "$T/s.sbr"
train_score npmisr npmisr --graph "$T/w.sbr"
train_score npmisr-srgnn npmisr-srgnn-clip --clusters "$T/c.sbr"

# TAGNN and ProxySR rank through their own scoring hooks (model/def.h), and
# the exclusions of --exclude-seen must reach them: rank a prefix, feed its
# top three back as a prefix (items the model ranks high for themselves),
# none may come back.
first=$("$B/sbr-inspect" -t items.original "$T/s.sbr" | sed -n '2,4p' | tr '\n' ' ')
for m in tagnn proxysr; do
    check_sh "$m: text mode ranks" 0 "echo '$first' | '$B/sbr-infer' --stdin-text -q --threads 1 -k 10 '$T/$m.model'"
    head -1 "$T/out" | tr ' ' '\n' | grep . | head -3 >"$T/seen"
    check_sh "$m: --exclude-seen" 0 "tr '\n' ' ' <'$T/seen' | '$B/sbr-infer' --stdin-text --exclude-seen -q --threads 1 -k 10 '$T/$m.model'"
    check_true "$m: no item of the prefix in its list" "[ -s '$T/seen' ] && ! tr ' ' '\n' <'$T/out' | grep -qxF -f '$T/seen'"
    check "$m: exclude-seen lists of the test split" 0 "$B/sbr-infer" -q --threads 1 --exclude-seen \
        -o "$T/$m-ns.topk" "$T/$m.model" "$T/s.sbr"
    check "$m: next-unseen scoring" 0 "$B/sbr-score" -q --next-unseen "$T/$m-ns.topk"
done

check "STAMP again with the same seed" 0 "$B/sbr-train" -q -m stamp -e 1 --threads 1 --no-test \
    --lr 0.005 -o "$T/stamp2.model" "$T/s.sbr"
check_true "same seed, same parameters" \
    "cmp -s <('$B/sbr-inspect' -t param.attn.w1 '$T/stamp.model') <('$B/sbr-inspect' -t param.attn.w1 '$T/stamp2.model')"
check "--layers 2 gives SR-GNN two GNN steps" 0 "$B/sbr-train" -q -m srgnn -e 1 --layers 2 \
    --max-steps 5 --threads 1 --no-test -o "$T/srgnn2.model" "$T/s.sbr"
check "the model file records them" 0 "$B/sbr-inspect" -m layers "$T/srgnn2.model"
check_out "layers = 2" "^2$"
t_end
