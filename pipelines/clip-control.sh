#!/usr/bin/env bash
# CLIP-SBR's positive control (docs/CLIP-SBR.md): synthetic sessions where
# cluster prompts must help, many rare items whose cluster the item graph
# knows; each arm trained with and without prompts over several seeds.
#
#   pipelines/clip-control.sh OUT [SEEDS] [EPOCHS] [-- TRAIN_ARGS...]
#
# OUT gets the data (control.sess, .graph, .clusters) and one training log
# per run, OUT/plain-sSEED.log and OUT/clip-sSEED.log; then
# pipelines/seeds-table.sh --std --paired plain OUT plain clip gives the
# table. SEEDS default "1 2 3", EPOCHS 5. CLICKS, ITEMS, CLUSTERS (the
# generator's) and MODEL (gru4rec) may be set in the environment. An arm of
# the study (docs/CLIP-SBR.md) is the clip arm with its own settings and name:
# CLIP_NAME (clip) names its logs, CLIP_ARGS its extra sbr-train options,
# RESOLUTION (1) its clusters' (control-rR.clusters when not 1), ARMS
# ("plain clip") which arms run, e.g. ARMS=clip CLIP_NAME=seq
# CLIP_ARGS='--prompt-norm sequence' beside the plain logs of an earlier run.
set -eu
cd "$(dirname "$0")/.."
[ $# -ge 1 ] && [ "$1" != -h ] && [ "$1" != --help ] || { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
out=$1
seeds=${2:-1 2 3}
epochs=${3:-5}
shift $(($# < 3 ? $# : 3))
[ "${1:-}" = -- ] && shift
B=${BUILD:-build}
mkdir -p "$out"
# 120,000 clicks over 40,000 items in 200 clusters; a click mostly moves to a
# popular item of its cluster (0.7) or follows a fixed successor (0.2); every
# item clicked at least once kept (--min-support 1): half the catalogue is
# seen fewer than five times in training
"$B/sbr-gen" -q -n "${CLICKS:-120000}" --items "${ITEMS:-40000}" --clusters "${CLUSTERS:-200}" \
    --p-follow 0.2 --p-cluster 0.7 -s 11 |
    "$B/sbr-prep" -q --min-support 1 - -o "$out/control.sess"
"$B/sbr-graph" -q --kind adjacent -o "$out/control.graph" "$out/control.sess"
res=${RESOLUTION:-1} name=${CLIP_NAME:-clip}
clusters=$out/control.clusters
[ "$res" = 1 ] || clusters=$out/control-r$res.clusters
"$B/sbr-cluster" -q --resolution "$res" --seed 1 -o "$clusters" "$out/control.graph"
read -r -a clip_args <<<"${CLIP_ARGS:-}"
for s in $seeds; do
    for arm in ${ARMS:-plain clip}; do
        extra=() log=$arm
        [ $arm = clip ] && extra=(--clusters "$clusters" "${clip_args[@]}") log=$name
        "$B/sbr-train" -q -m "${MODEL:-gru4rec}" -e "$epochs" --seed "$s" "${extra[@]}" "$@" \
            --log "$out/$log-s$s.log" -o "$out/$log-s$s.model" "$out/control.sess"
        rm -f "$out/$log-s$s.model"
    done
done
bash pipelines/seeds-table.sh --std --paired plain "$out" plain "$name"
