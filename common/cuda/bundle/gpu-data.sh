#!/usr/bin/env bash
# Here, before a device run (docs/GPU.md): makes .gpu-data/ for
# device-train.sh from the real data beside the checkout (which does not
# travel to the GPU machine): for each dataset and protocol, SET.sess
# (sbr-prep: paper = --valid-frac 0, valid = 0.1), SET.win (the window graph
# GCE-GNN and DMI-GNN read) and SET.clusters (Leiden clusters of the
# adjacent graph, for CLIP-SBR), exactly as `make pipeline` makes them, and
# lists .gpu-data/ in .git/info/exclude. About 18 MB for retailrocket and
# diginetica.   usage: gpu-data.sh [DATASET...]   (DATA_DIR, default ../shared/data)
set -eu
cd "$(dirname "$0")/../../.."
B=${BUILD:-build}
DATA_DIR=${DATA_DIR:-../shared/data}
mkdir -p .gpu-data
grep -qx '/.gpu-data/' .git/info/exclude 2>/dev/null || echo '/.gpu-data/' >> .git/info/exclude
for ds in ${*:-retailrocket diginetica}; do
    for proto in paper valid; do
        frac=0; [ $proto = valid ] && frac=0.1
        set_=.gpu-data/$ds-$proto
        "$B/sbr-prep" -q --format srgnn --valid-frac $frac -o "$set_.sess" "$DATA_DIR/$ds"
        "$B/sbr-graph" -q --kind window --window 3 --topk 12 -o "$set_.win" "$set_.sess"
        "$B/sbr-graph" -q --kind adjacent -o "$set_.adj" "$set_.sess"
        "$B/sbr-cluster" -q --resolution 1 --seed 1 -o "$set_.clusters" "$set_.adj"
        rm -f "$set_.adj"
    done
done
du -sh .gpu-data
