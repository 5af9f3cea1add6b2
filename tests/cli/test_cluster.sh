#!/usr/bin/env bash
# sbr-cluster: conventions, the streaming pipeline, modularity recomputed
# independently (awk over the graph file), seeds, isolated items, bad graph
# files, and on the real training splits a comparison with a reference
# Leiden (tests/ref/leiden_ref.py; skipped when the data or python3-igraph
# are absent).
. "$(dirname "$0")/lib.sh"
P=$B/sbr-prep
GR=$B/sbr-graph
CL=$B/sbr-cluster
GEN=$B/sbr-gen
I=$B/sbr-inspect
PY=/usr/bin/python3

t() { "$I" -t "$1" "$2" | tr '\n' ' ' | sed 's/ $//'; }
m() { "$I" -m "$1" "$2"; }

# Modularity of a partition straight from the graph file's arrays (awk, in
# double precision): Q = sum_c L_c/2m - gamma (K_c/2m)^2, self-loops count 2w.
awk_modularity() { # GRAPH CLUSTERS GAMMA
    awk -v gamma="$3" '
        FNR == 1 { f++ }
        f == 1 { off[n_off++] = $1; next }
        f == 2 { nb[n_nb++] = $1; next }
        f == 3 { w[n_w++] = $1; next }
        f == 4 { cl[n_cl++] = $1; next }
        END {
            for (u = 0; u < n_off - 1; u++)
                for (p = off[u]; p < off[u + 1]; p++) {
                    v = nb[p]; x = (v == u) ? 2 * w[p] : w[p]
                    K[cl[u]] += x; m2 += x
                    if (cl[u] == cl[v]) L[cl[u]] += x
                }
            for (c in K) q += L[c] / m2 - gamma * (K[c] / m2) ^ 2
            printf "%.12f\n", q
        }' <("$I" -t offsets "$1") <("$I" -t neighbors "$1") <("$I" -t weights "$1") \
        <("$I" -t cluster "$2")
}
# |a - b| <= tol
near() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }'; }

# --- a generated log (synthetic, sbr-gen) -------------------------------------------
check_sh "pipeline: sbr-gen | sbr-prep - | sbr-graph - | sbr-cluster -" 0 \
    "$GEN -q -n 60000 --items 3000 --clusters 30 -s 3 | $P -q -o - - | $GR -q - -o - | $CL - -o $T/c.sbr"
check_err "summary: clusters, largest, singletons" 'clusters \(.*\), largest [0-9]+ items, [0-9]+ singletons'
check_err "summary: modularity and time" 'modularity 0\.[0-9]+ \(resolution 1\), best of 3 runs.* s, peak memory'
check_true "kind sbr.clusters" '[ "$(m kind $T/c.sbr)" = sbr.clusters ]'
check "graph from the same log" 0 bash -c "$GEN -q -n 60000 --items 3000 --clusters 30 -s 3 | $P -q -o $T/g.sess - && $GR -q -o $T/g.g $T/g.sess"
Q=$(m clusters.modularity "$T/c.sbr" 2>/dev/null)
QA=$(awk_modularity "$T/g.g" "$T/c.sbr" 1)
check_true "metadata modularity ($Q) = recomputed by awk ($QA)" 'near "$Q" "$QA" 1e-9'
check_true "cluster ids 1..n, 0 for padding, sizes add up" \
    '[ "$("$I" -t cluster $T/c.sbr | head -1)" = 0 ] && [ "$("$I" -t cluster $T/c.sbr | tail -n +2 | sort -n | head -1)" = 1 ] && [ "$("$I" -t sizes $T/c.sbr | awk "{s+=\$1} END {print s}")" = "$(m n_items $T/c.sbr)" ]'
check_true "clusters numbered by decreasing size" \
    '"$I" -t sizes $T/c.sbr | tail -n +2 | sort -c -n -r'
check_true "the planted structure is found (modularity > 0.5)" 'near "$Q" 0.75 0.25'

check "same seed again" 0 "$CL" -q -o "$T/c2.sbr" "$T/g.g"
check_true "same seed: identical partition" '[ "$(t cluster $T/c.sbr)" = "$(t cluster $T/c2.sbr)" ]'
for s in 1 7; do
    check "seed $s" 0 "$CL" -q --seed $s -R 1 -o "$T/c_$s.sbr" "$T/g.g"
    QS=$(m clusters.modularity "$T/c_$s.sbr" 2>/dev/null)
    check_true "seed $s: valid partition, modularity recomputed" \
        'near "$QS" "$(awk_modularity $T/g.g $T/c_$s.sbr 1)" 1e-9 && [ "$("$I" -t sizes $T/c_$s.sbr | awk "{s+=\$1} END {print s}")" = "$(m n_items $T/g.g)" ]'
done
check "resolution 2" 0 "$CL" -q -r 2 -o "$T/c_r2.sbr" "$T/g.g"
check_true "modularity at gamma 2 recomputed" \
    'near "$(m clusters.modularity $T/c_r2.sbr)" "$(awk_modularity $T/g.g $T/c_r2.sbr 2)" 1e-9 && [ "$(m n_clusters $T/c_r2.sbr)" -ge "$(m n_clusters $T/c.sbr)" ]'
check "-n 1: one iteration" 0 "$CL" -q -n 1 -R 1 -o "$T/c_n1.sbr" "$T/g.g"
check_true "-n 1 recorded, not stable" '[ "$(m clusters.iterations $T/c_n1.sbr)" = 1 ] && [ "$(m clusters.stable $T/c_n1.sbr)" = 0 ]'

# Transition graph: its undirected union is the adjacency graph, so the
# clusters are the same.
check "transition graph clusters" 0 bash -c "$GR -q --kind transition $T/g.sess -o - | $CL -o $T/c_t.sbr -"
check_err "says it symmetrises" 'not symmetric: clustering its undirected union'
check_true "same partition as the adjacency graph" '[ "$(t cluster $T/c_t.sbr)" = "$(t cluster $T/c.sbr)" ]'

# --- isolated items ------------------------------------------------------------------
# Sessions 1: a b, 2: c c (c has no edge once the self-loop is dropped).
printf 'SessionId\tItemId\tTime\n1\t10\t100\n1\t20\t101\n2\t30\t200\n2\t30\t201\n' >"$T/iso.tsv"
check "prepare a log with an isolated item" 0 "$P" --format sessionrec --min-support 1 \
    --min-len 2 --test-days 0 --valid-frac 0 --no-dedup -o "$T/iso.sess" "$T/iso.tsv"
check "graph with an isolated item" 0 "$GR" -q -o "$T/iso.g" "$T/iso.sess"
check "--isolated single (default)" 0 "$CL" -o "$T/iso1.sbr" "$T/iso.g"
check_true "isolated item gets its own cluster" '[ "$(t cluster $T/iso1.sbr)" = "0 1 1 2" ] && [ "$(m clusters.isolated_items $T/iso1.sbr)" = 1 ]'
check_err "isolated items counted in the summary" '1 isolated items -> single'
check "--isolated frequent" 0 "$CL" -q --isolated frequent -o "$T/iso2.sbr" "$T/iso.g"
check_true "isolated item joins the most frequent cluster" '[ "$(t cluster $T/iso2.sbr)" = "0 1 1 1" ]'

# --- conventions and bad input ----------------------------------------------------------
check "help exits 0" 0 "$CL" --help
check_out "help shows usage" '^Usage: sbr-cluster'
check "version exits 0" 0 "$CL" --version
check "no input is misuse" 2 "$CL"
check "bad --isolated is misuse" 2 "$CL" --isolated some "$T/g.g"
check "negative resolution is misuse" 2 "$CL" -r -1 "$T/g.g"
check_sh "refuses a terminal as output" 1 "script -qec '$CL $T/iso.g' /dev/null"
check "a sessions file where a graph is expected" 1 "$CL" -o "$T/x.sbr" "$T/g.sess"
check_err "wrong kind named" 'g\.sess: .*sbr\.sessions.*expected sbr\.graph'
check_true "no output left behind" '[ ! -e "$T/x.sbr" ]'

if [ -x "$PY" ]; then
    # Rewrites one value of a plain graph file: TENSOR INDEX VALUE [metadata KEY=VAL].
    patch_graph() { # IN OUT TENSOR INDEX VALUE
        "$PY" - "$@" <<'EOF'
import json, struct, sys
src, dst, name, idx, val = sys.argv[1:6]
raw = bytearray(open(src, "rb").read())
(n,) = struct.unpack("<Q", raw[:8])
h = json.loads(raw[8:8 + n])
t = h[name]
fmt = {"I32": "<i", "I64": "<q", "F32": "<f"}[t["dtype"]]
off = 8 + n + t["data_offsets"][0] + int(idx) * struct.calcsize(fmt)
struct.pack_into(fmt, raw, off, float(val) if fmt == "<f" else int(val))
open(dst, "wb").write(raw)
EOF
    }
    check "plain graph to corrupt" 0 "$GR" -q -l 0 -o "$T/plain.g" "$T/iso.sess"
    patch_graph "$T/plain.g" "$T/bad_nb.g" neighbors 0 99
    check "out-of-range neighbour fails" 1 "$CL" -o "$T/x.sbr" "$T/bad_nb.g"
    check_err "names the file and the neighbour" 'bad_nb\.g: neighbour 99 of node 1 out of range 1\.\.3'
    patch_graph "$T/plain.g" "$T/bad_w.g" weights 1 -2
    check "negative weight fails" 1 "$CL" -o "$T/x.sbr" "$T/bad_w.g"
    check_err "names the file and the weight" 'bad_w\.g: weight of edge 2-1 is -2, expected a positive number'
    patch_graph "$T/plain.g" "$T/bad_off.g" offsets 4 7
    check "offsets beyond the arrays fail" 1 "$CL" -o "$T/x.sbr" "$T/bad_off.g"
    check_err "names the offsets" 'bad_off\.g: offsets'
    # An empty graph: every offset 0, no entries (a well-formed file).
    "$PY" - "$T/empty.g" <<'EOF'
import json, struct, sys
meta = {"kind": "sbr.graph", "graph.kind": "adjacent", "graph.directed": "0",
        "graph.symmetric": "1", "graph.self_loops": "0", "graph.window": "1",
        "graph.topk": "0", "graph.splits": "train", "n_items": "3", "n_nodes": "4",
        "nnz": "0", "n_edges": "0"}
h = {"__metadata__": meta,
     "offsets": {"dtype": "I64", "shape": [5], "data_offsets": [0, 40]},
     "neighbors": {"dtype": "I32", "shape": [0], "data_offsets": [40, 40]},
     "weights": {"dtype": "F32", "shape": [0], "data_offsets": [40, 40]}}
b = json.dumps(h).encode()
b += b" " * (-len(b) % 8)
open(sys.argv[1], "wb").write(struct.pack("<Q", len(b)) + b + bytes(40))
EOF
    check "empty graph fails" 1 "$CL" -o "$T/x.sbr" "$T/empty.g"
    check_err "empty graph explained" 'empty\.g: empty graph: no edges to cluster'
else
    skip "corrupted graph files" "no /usr/bin/python3 to write them"
fi

# --- real training splits against the reference Leiden ---------------------------------
if [ ! -d "$DATA/retailrocket" ]; then
    skip "real data vs reference Leiden" "no $DATA (shared data absent)"
elif ! "$PY" -c 'import igraph' 2>/dev/null; then
    skip "real data vs reference Leiden" "python3-igraph is not installed"
else
    for d in retailrocket diginetica; do
        check_sh "$d: prep | graph | cluster" 0 \
            "$P -q -o - $DATA/$d | $GR -q - -o $T/$d.g && $CL -q -o $T/$d.c $T/$d.g"
        REF=$("$PY" tests/ref/leiden_ref.py "$T/$d.g" --seeds 2)
        ours=$(m clusters.modularity "$T/$d.c")
        which=$(echo "$REF" | "$PY" -c 'import json,sys; r=json.load(sys.stdin)["runs"]; print("leidenalg" if "leidenalg" in r else "python-igraph")')
        ref=$(echo "$REF" | "$PY" -c "import json,sys; print(json.load(sys.stdin)['runs']['$which']['mean'])")
        echo "  $d: sbr-cluster modularity $ours, $which mean $ref"
        check_true "$d: modularity $ours recomputed by awk" 'near "$ours" "$(awk_modularity $T/$d.g $T/$d.c 1)" 1e-9'
        # Leiden is randomised: the reference's mean over seeds, within 1e-4.
        check_true "$d: modularity $ours >= $which mean $ref (- 1e-4)" \
            'awk -v a="$ours" -v b="$ref" "BEGIN { exit !(a >= b - 1e-4) }"'
    done
fi

t_end
