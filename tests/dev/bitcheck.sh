#!/usr/bin/env bash
# Bit-identity of CPU training across two builds: trains every model (with
# and without CLIP-SBR prompts) one epoch on a small synthetic dataset, and
# SR-GNN, GCE-GNN and DMI-GNN (1 and 3 interests) 300 steps on diginetica
# (when ../shared/data has it), with each build's tools, and compares the
# SHA-256 of every param.* tensor of the two model files. For refactors that
# must not change a bit (docs/CONTRIBUTING.md).
#
#   bash tests/dev/bitcheck.sh OLD_BUILD NEW_BUILD [quick]
#
# OLD_BUILD / NEW_BUILD: folders holding sbr-gen, sbr-prep, sbr-graph,
# sbr-cluster, sbr-train (e.g. a worktree's build/ at the old commit).
# "quick": the synthetic runs only. Prints one line per run, exit 1 on any
# difference.
set -u
old=$1 new=$2 quick=${3:-}
data=${SBR_DATA_DIR:-$(cd "$(dirname "$0")/../.." && pwd)/../shared/data}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
py=/usr/bin/python3
fail=0

digest() { # FILE: one line per param.* tensor: name sha256
    "$py" - "$1" <<'PY'
import hashlib, json, struct, subprocess, sys
raw = open(sys.argv[1], "rb").read()
if raw[:4] == b"\x28\xb5\x2f\xfd":
    raw = subprocess.run(["zstd", "-dc", sys.argv[1]], check=True, capture_output=True).stdout
(n,) = struct.unpack("<Q", raw[:8])
hdr = json.loads(raw[8:8 + n]); hdr.pop("__metadata__", None)
body = raw[8 + n:]
for name in sorted(hdr):
    if name.startswith("param."):
        a, b = hdr[name]["data_offsets"]
        print(name, hashlib.sha256(body[a:b]).hexdigest())
PY
}

# run LABEL ARGS...: trains with both builds and compares
run() {
    local label=$1
    shift
    for b in old new; do
        local dir=$old
        [ $b = new ] && dir=$new
        if ! "$dir/sbr-train" -q --threads 2 "$@" -o "$T/$b.model" 2>"$T/$b.err"; then
            echo "FAIL $label: $b build: $(tail -1 "$T/$b.err")"
            fail=1
            return
        fi
        digest "$T/$b.model" >"$T/$b.dig"
    done
    if [ ! -s "$T/old.dig" ] || ! cmp -s "$T/old.dig" "$T/new.dig"; then
        echo "FAIL $label: param tensors differ: $(diff "$T/old.dig" "$T/new.dig" | grep -c '^>') of $(wc -l <"$T/old.dig")"
        fail=1
    else
        echo "ok   $label: $(wc -l <"$T/new.dig") param tensors bit-identical"
    fi
}

"$old/sbr-gen" -q --clicks 20000 --items 500 --clusters 10 --seed 11 | "$old/sbr-prep" -q - -o "$T/s.sbr"
"$old/sbr-graph" -q --kind window --window 3 --topk 12 -o "$T/w.sbr" "$T/s.sbr"
"$old/sbr-graph" -q --kind adjacent -o "$T/a.sbr" "$T/s.sbr"
"$old/sbr-cluster" -q --seed 1 -o "$T/c.sbr" "$T/a.sbr"
for m in gru4rec narm stamp srgnn gcegnn dmignn; do
    g=()
    case $m in gcegnn|dmignn) g=(--graph "$T/w.sbr") ;; esac
    for clip in 0 1; do
        c=()
        [ $clip = 1 ] && c=(--clusters "$T/c.sbr")
        run "$m$([ $clip = 1 ] && echo +clip), 1 epoch synthetic" -m $m -e 1 --seed 3 "${g[@]}" "${c[@]}" "$T/s.sbr"
    done
done
run "srgnn --layers 2 --dropout 0.2, 1 epoch synthetic" -m srgnn --layers 2 --dropout 0.2 -e 1 --seed 3 "$T/s.sbr"
run "gcegnn --dropout-gcn 0.3 --dropout 0.2, 1 epoch synthetic" -m gcegnn --dropout-gcn 0.3 --dropout 0.2 -e 1 --seed 3 --graph "$T/w.sbr" "$T/s.sbr"
run "narm --hidden 60 --dim 40, 1 epoch synthetic" -m narm --hidden 60 --dim 40 -e 1 --seed 3 "$T/s.sbr"
if [ "$quick" != quick ]; then
    if [ -d "$data/diginetica" ]; then
        "$old/sbr-prep" -q --format srgnn --valid-frac 0.005 -o "$T/d.sbr" "$data/diginetica"
        "$old/sbr-graph" -q --kind window --window 3 --topk 12 -o "$T/dw.sbr" "$T/d.sbr"
        st=(-e 1 --max-steps 300 --no-test --seed 5)
        run "srgnn, 300 diginetica steps" -m srgnn "${st[@]}" "$T/d.sbr"
        run "gcegnn, 300 diginetica steps" -m gcegnn --dropout-gcn 0.2 --graph "$T/dw.sbr" "${st[@]}" "$T/d.sbr"
        run "dmignn, 300 diginetica steps" -m dmignn --graph "$T/dw.sbr" "${st[@]}" "$T/d.sbr"
        run "dmignn --interests 1, 300 diginetica steps" -m dmignn --interests 1 --graph "$T/dw.sbr" "${st[@]}" "$T/d.sbr"
    else
        echo "skip diginetica runs: $data/diginetica is absent"
    fi
fi
exit $fail
