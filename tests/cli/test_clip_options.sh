#!/usr/bin/env bash
# CLIP-SBR's front options (sbr-train --prompt-norm, --gate-bias, --prompt-l2,
# --gate-l2): recorded in the model, followed by sbr-infer, refused without
# prompts or where the axis does not apply.
. "$(dirname "$0")/lib.sh"

check "a small dataset, its graph and clusters" 0 bash -c \
    "'$B/sbr-gen' -q --clicks 20000 --items 600 --clusters 15 --seed 5 | '$B/sbr-prep' -q - -o '$T/s.sbr' &&
     '$B/sbr-graph' -q -o - '$T/s.sbr' | '$B/sbr-cluster' -q - -o '$T/c.sbr'"
train() { "$B/sbr-train" -q -e 1 --threads 1 --no-test --max-steps 30 --clusters "$T/c.sbr" "$@" "$T/s.sbr"; }
param() { "$B/sbr-inspect" -t "param.$1" "$2"; }
# ranks_as_trained MODEL LOG DESC: sbr-infer's lists of the validation split
# have the HR@20 the training's own evaluation logged for them
ranks_as_trained() {
    check_sh "$3: infer and score the validation split" 0 \
        "'$B/sbr-infer' -q --threads 1 --split valid -o - '$1' '$T/s.sbr' | '$B/sbr-score' --json -"
    local a b
    a=$(grep -o '"valid_HR@20":[0-9.]*' "$2" | cut -d: -f2)
    b=$(grep -o '"HR@20":[0-9.]*' "$T/out" | head -1 | cut -d: -f2)
    check_true "$3: the HR@20 training logged ($a, $b)" \
        "awk -v a='$a' -v b='$b' 'BEGIN { d = a - b; exit !(a != \"\" && d < 1e-3 && d > -1e-3) }'"
}

check "the default: feature axis" 0 train -m gru4rec -o "$T/f.model"
check "--prompt-norm sequence on gru4rec" 0 train -m gru4rec --prompt-norm sequence -o "$T/q.model"
check "--prompt-norm none on gru4rec" 0 train -m gru4rec --prompt-norm none -o "$T/n.model"
check "the model records its axis" 0 "$B/sbr-inspect" "$T/q.model"
check_out "clip.prompt_norm = sequence" "clip.prompt_norm = sequence"
check "files record the feature axis too" 0 "$B/sbr-inspect" "$T/f.model"
check_out "clip.prompt_norm = feature" "clip.prompt_norm = feature"
check_true "each axis trains another model" \
    "! cmp -s <(param items '$T/f.model') <(param items '$T/q.model') &&
     ! cmp -s <(param items '$T/f.model') <(param items '$T/n.model')"
# sbr-infer follows the file's axis: its lists on the validation split are the
# ones the training's own evaluation ranked (the same HR@20).
check "train with the sequence axis, its validation metrics logged" 0 \
    train -m narm --prompt-norm sequence --log "$T/q.log" -o "$T/nq.model"
ranks_as_trained "$T/nq.model" "$T/q.log" "sbr-infer follows the sequence axis"

check "--gate-bias 3" 0 train -m srgnn --gate-bias 3 -o "$T/g.model"
check "records it" 0 "$B/sbr-inspect" "$T/g.model"
check_out "clip.gate_bias = 3" "clip.gate_bias = 3"
check "--gate-bias -3 at step 0: the prompt gate's bias is -3" 0 \
    train -m srgnn --gate-bias -3 --max-steps 1 --lr 0 -o "$T/g0.model"
check_true "every element -3" "[ \"\$(param clip.gate_p.b '$T/g0.model' | sort -u)\" = -3 ]"

check "--prompt-l2 equal to --l2" 0 train -m gru4rec --prompt-l2 1e-5 --gate-l2 1e-5 -o "$T/l.model"
check_true "is the default, bit for bit" "cmp -s <(param items '$T/f.model') <(param items '$T/l.model')"
check "--prompt-l2 0.5" 0 train -m gru4rec --prompt-l2 0.5 -o "$T/l5.model"
check_true "shrinks the prompts" \
    "awk 'NR == FNR { a += \$1 * \$1; next } { b += \$1 * \$1 } END { exit !(b < a) }' \
        <(param clip.prompts '$T/f.model' | tr ' ' '\n') <(param clip.prompts '$T/l5.model' | tr ' ' '\n')"
check "--gate-l2 0" 0 train -m gru4rec --gate-l2 0 -o "$T/l0.model"
check_true "trains another model" "! cmp -s <(param items '$T/f.model') <(param items '$T/l0.model')"

check "--prompt-norm without --clusters" 2 "$B/sbr-train" -q --prompt-norm none -o "$T/x" "$T/s.sbr"
check_err "says it needs prompts" "is for CLIP-SBR's prompts: give --clusters"
check "--gate-l2 without --clusters" 2 "$B/sbr-train" -q --gate-l2 0 -o "$T/x" "$T/s.sbr"
check "--prompt-norm sequence on srgnn" 2 train -m srgnn --prompt-norm sequence -o "$T/x"
check_err "says why" "srgnn does not embed them as sessions"
check "--prompt-norm bogus" 2 train --prompt-norm rows -o "$T/x"
check "--gate-bias out of range" 2 train --gate-bias 99 -o "$T/x"
check_true "no output left by misuse" "[ ! -e '$T/x' ]"

# User prompts (--prompts u, c,u): sbr-gen's sessions carry user ids.
check "--prompts u (no clusters)" 0 "$B/sbr-train" -q -e 1 --threads 1 --no-test --max-steps 30 \
    --prompts u --log "$T/u.log" -o "$T/u.model" "$T/s.sbr"
ranks_as_trained "$T/u.model" "$T/u.log" "sbr-infer adds the users' prompts"
check "records them" 0 "$B/sbr-inspect" "$T/u.model"
check_out "clip.user_prompts = 1" "clip.user_prompts = 1"
check_out "a prompt per known user and the anonymous row" "param.clip.user_prompts +F32 +\[[0-9]+, 100\]"
check_sh "sbr-infer ranks with them" 0 "'$B/sbr-infer' -q --threads 1 -o - '$T/u.model' '$T/s.sbr' | '$B/sbr-score' -"
check "--prompts c,u" 0 train -m narm --prompts c,u --prompt-norm sequence -o "$T/cu.model"
check "--prompts u on srgnn" 2 "$B/sbr-train" -q -m srgnn --prompts u -o "$T/x" "$T/s.sbr"
check_err "says why" "srgnn does not embed the clicks as sessions"
check "--prompts s" 2 train --prompts s -o "$T/x"
check_err "says why not" "no test session is in training"
check "--prompts c without --clusters" 2 "$B/sbr-train" -q --prompts c -o "$T/x" "$T/s.sbr"
check "--prompts u with --clusters" 2 train --prompts u -o "$T/x"
check_err "says to drop them" "drop --clusters"
check "sessions without user ids" 0 bash -c \
    "'$B/sbr-gen' -q --clicks 5000 --seed 5 | cut -f1-3 | '$B/sbr-prep' -q - -o '$T/nou.sbr'"
check "--prompts u there" 2 "$B/sbr-train" -q --prompts u -o "$T/x" "$T/nou.sbr"
check_err "says they carry no user ids" "carry no user ids"
check_true "no output left" "[ ! -e '$T/x' ]"

# The positive control's script, on a tiny log: data, both arms, the table.
check_sh "pipelines/clip-control.sh end to end (tiny)" 0 \
    "CLICKS=6000 ITEMS=1000 CLUSTERS=10 BUILD='$B' bash pipelines/clip-control.sh '$T/cc' 1 1 -- --threads 1"
check_out "a paired row for the prompts" "^\| clip \| 1 \| [-+]"
check_true "a log per arm, no model left" "[ -s '$T/cc/plain-s1.log' ] && [ -s '$T/cc/clip-s1.log' ] && [ ! -e '$T/cc/clip-s1.model' ]"
check_sh "an arm of its own beside the plain logs" 0 \
    "ARMS=clip CLIP_NAME=seq CLIP_ARGS='--prompt-norm sequence' RESOLUTION=2 CLICKS=6000 ITEMS=1000 CLUSTERS=10 BUILD='$B' bash pipelines/clip-control.sh '$T/cc' 1 1 -- --threads 1"
check_out "its paired row" "^\| seq \| 1 \| [-+]"
check_true "its clusters and log" "[ -s '$T/cc/control-r2.clusters' ] && [ -s '$T/cc/seq-s1.log' ]"
t_end
