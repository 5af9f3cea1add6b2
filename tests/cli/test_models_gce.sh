#!/usr/bin/env bash
# GCE-GNN and DMI-GNN end to end on a small synthetic dataset with its window
# graph: train one epoch, infer without the graph (the model file carries its
# neighbour table), score, beat popularity; interest weights; CLIP prompts;
# the ablation switches; bad input.
. "$(dirname "$0")/lib.sh"

check "generate and prepare a small synthetic dataset" 0 bash -c \
    "'$B/sbr-gen' -q --clicks 15000 --items 500 --clusters 12 --seed 5 | '$B/sbr-prep' -q - -o '$T/s.sbr'"
check "its window graph (GCE-GNN's global graph)" 0 "$B/sbr-graph" -q --kind window --window 3 \
    --topk 12 -o "$T/g.sbr" "$T/s.sbr"

# Popularity: the 20 most clicked training items for every test sample.
pop=$(/usr/bin/env python3 - "$T" "$B" <<'PY' 2>/dev/null
import subprocess, sys, collections
t, b = sys.argv[1], sys.argv[2]
def tensor(name):
    out = subprocess.run([f"{b}/sbr-inspect", "-t", name, f"{t}/s.sbr"], capture_output=True, text=True, check=True).stdout
    return [int(x) for x in out.split()]
top = {i for i, _ in collections.Counter(tensor("train.items")).most_common(20)}
off, te = tensor("test.offsets"), tensor("test.items")
hits = n = 0
for s in range(len(off) - 1):
    sess = te[off[s]:off[s + 1]]
    for j in range(1, len(sess)):
        n += 1
        hits += sess[j] in top
print(f"{100 * hits / n:.2f}")
PY
)

for m in gcegnn dmignn; do
    check "train $m for 1 epoch (1 thread)" 0 "$B/sbr-train" -q -m $m -e 1 --threads 1 \
        --graph "$T/g.sbr" --log "$T/$m.log" -o "$T/$m.model" "$T/s.sbr"
    check "infer with $m (no graph argument)" 0 "$B/sbr-infer" -q --threads 1 \
        -o "$T/$m.topk" "$T/$m.model" "$T/s.sbr"
    check "score $m" 0 "$B/sbr-score" --json -s "$T/s.sbr" "$T/$m.topk"
    hr=$(grep -o '"HR@20":[0-9.]*' "$T/out" | head -1 | cut -d: -f2)
    check_true "$m HR@20 ($hr) clearly beats popularity ($pop)" \
        "awk -v a='$hr' -v b='$pop' 'BEGIN { exit !(a > b + 10) }'"
done
check_true "the DMI regulariser is logged apart" "grep -q '\"reg_loss\"' '$T/dmignn.log'"
check_true "GCE-GNN has no regulariser in its log" "! grep -q reg_loss '$T/gcegnn.log'"
check "the model stores the neighbour table" 0 "$B/sbr-inspect" "$T/gcegnn.model"
check_out "global.nbr [items + 1, 12]" "global\.nbr +I32 +\[[0-9]+, 12\]"

# Interest weights: [samples, U, max_len], zero past each prefix.
check "sbr-infer --interest-weights" 0 "$B/sbr-infer" -q --threads 1 \
    --interest-weights "$T/iw.sbr" -o "$T/x.topk" "$T/dmignn.model" "$T/s.sbr"
check "inspect them" 0 "$B/sbr-inspect" "$T/iw.sbr"
check_out "kind sbr.interests" "sbr\.interests"
check_out "three interests over 50 positions" "weights +F32 +\[[0-9]+, 3, 50\]"
check_true "same top-K with and without --interest-weights" \
    "cmp -s <('$B/sbr-inspect' -t items '$T/x.topk') <('$B/sbr-inspect' -t items '$T/dmignn.topk')"
check "weights of a model that has none" 1 bash -c "'$B/sbr-train' -q -e 1 --max-steps 3 --no-test \
    --threads 1 -o '$T/gru.model' '$T/s.sbr' && '$B/sbr-infer' -q --interest-weights '$T/n.sbr' \
    -o '$T/n.topk' '$T/gru.model' '$T/s.sbr'"
check_err "says so" "gru.model: --interest-weights: a gru4rec model has no readout weights"

# CLIP-SBR prompts and the DMI-GNN ablations (a few steps each).
check "clusters" 0 bash -c "'$B/sbr-graph' -q --kind adjacent -o - '$T/s.sbr' | '$B/sbr-cluster' -q - -o '$T/c.sbr'"
check "gcegnn with CLIP prompts" 0 "$B/sbr-train" -q -m gcegnn -e 1 --max-steps 15 --threads 1 \
    --no-test --graph "$T/g.sbr" --clusters "$T/c.sbr" -o "$T/clip.model" "$T/s.sbr"
check "infer with CLIP prompts" 0 "$B/sbr-infer" -q --threads 1 -o "$T/clip.topk" \
    "$T/clip.model" "$T/s.sbr"
check "dmignn: sum over interests, beta 0, U 1" 0 bash -c "
    for o in '--interest-pool sum' '--dmi-beta 0' '--interests 1'; do
        '$B/sbr-train' -q -m dmignn -e 1 --max-steps 10 --threads 1 --no-test --graph '$T/g.sbr' \$o \
            -o '$T/abl.model' '$T/s.sbr' || exit 1
    done"
check "--interests is kept in the model" 0 "$B/sbr-inspect" "$T/abl.model"
check_out "interests = 1" "interests = 1"

# Resume: 2 epochs straight = 1 epoch, checkpoint, resume (the checkpoint
# carries the neighbour table), on a smaller dataset.
check "a smaller dataset and its graph" 0 bash -c "'$B/sbr-gen' -q --clicks 5000 --items 200 --seed 2 |
    '$B/sbr-prep' -q - -o '$T/r.sbr' && '$B/sbr-graph' -q --kind window -o '$T/rg.sbr' '$T/r.sbr'"
common=(-q -m dmignn --patience 0 --threads 1 --no-test --graph "$T/rg.sbr")
check "dmignn: 2 epochs with a checkpoint" 0 "$B/sbr-train" "${common[@]}" -e 2 \
    --checkpoint "$T/full.ckpt" -o "$T/a.model" "$T/r.sbr"
check "dmignn: 1 epoch with a checkpoint" 0 "$B/sbr-train" "${common[@]}" -e 1 \
    --checkpoint "$T/half.ckpt" -o "$T/h.model" "$T/r.sbr"
check "dmignn: resume for the 2nd" 0 "$B/sbr-train" "${common[@]}" -e 2 --resume "$T/half.ckpt" \
    --checkpoint "$T/half.ckpt" -o "$T/b.model" "$T/r.sbr"
check_true "resumed parameters are bit-identical" \
    "cmp -s <('$B/sbr-inspect' -t param.read.q.2 '$T/full.ckpt') <('$B/sbr-inspect' -t param.read.q.2 '$T/half.ckpt') &&
     cmp -s <('$B/sbr-inspect' -t param.items '$T/full.ckpt') <('$B/sbr-inspect' -t param.items '$T/half.ckpt')"

# Bad input.
check "gcegnn without --graph is misuse" 2 "$B/sbr-train" -q -m gcegnn -o "$T/x" "$T/s.sbr"
check_err "says what it needs" "needs its global graph"
check "--interests with gcegnn is misuse" 2 "$B/sbr-train" -q -m gcegnn --interests 3 \
    --graph "$T/g.sbr" -o "$T/x" "$T/s.sbr"
check "--graph with gru4rec is misuse" 2 "$B/sbr-train" -q --graph "$T/g.sbr" -o "$T/x" "$T/s.sbr"
check "an adjacent graph" 1 bash -c "'$B/sbr-graph' -q --kind adjacent -o '$T/adj.sbr' '$T/s.sbr' &&
    '$B/sbr-train' -q -m gcegnn --graph '$T/adj.sbr' -o '$T/x' '$T/s.sbr'"
check_err "asks for a window graph" "adj.sbr: a graph of kind adjacent: gcegnn needs sbr-graph --kind window"
check "another dataset's graph" 1 bash -c "'$B/sbr-gen' -q --clicks 8000 --items 300 --seed 9 |
    '$B/sbr-prep' -q - -o '$T/o.sbr' && '$B/sbr-graph' -q --kind window -o '$T/og.sbr' '$T/o.sbr' &&
    '$B/sbr-train' -q -m gcegnn --graph '$T/og.sbr' -o '$T/x' '$T/s.sbr'"
check_err "says so" "og.sbr: a graph of [0-9]+ items"
check "sessions given as the graph" 1 "$B/sbr-train" -q -m dmignn --graph "$T/s.sbr" -o "$T/x" "$T/s.sbr"
check_err "names the file and the kind" "s.sbr: .*sbr.sessions"
t_end
