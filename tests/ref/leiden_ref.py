#!/usr/bin/python3
"""Reference Leiden on an sbr.graph file, for comparing with sbr-cluster.

Usage: leiden_ref.py GRAPH [--seeds N] [--resolution R]

Reads the graph file itself (a safetensors file, possibly inside a zstd frame:
decompressed with the zstd command), builds the undirected weighted graph
(symmetric files: each pair once from the upper triangle) and runs, for seeds
0..N-1:
  - leidenalg (Traag's own implementation; Debian python3-leidenalg), the
    ModularityVertexPartition (RBConfiguration when R != 1), until stable;
  - python-igraph's Graph.community_leiden(objective_function="modularity").
Prints one JSON object: per implementation the modularity (igraph's
Graph.modularity at resolution R) of each seed, their mean and max, and the
cluster counts. Exit 2 when python3-igraph is missing (tests skip then).
"""
import json
import random
import struct
import subprocess
import sys

try:
    import igraph as ig
    import numpy as np
except ImportError as exc:  # the caller skips
    print(f"leiden_ref.py: {exc}", file=sys.stderr)
    sys.exit(2)
try:
    import leidenalg
except ImportError:
    leidenalg = None


def read_tensor_file(path):
    raw = open(path, "rb").read()
    if raw[:4] == b"\x28\xb5\x2f\xfd":  # zstd frame magic
        raw = subprocess.run(["zstd", "-dcq"], input=raw, stdout=subprocess.PIPE,
                             check=True).stdout
    (hlen,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + hlen])
    meta = header.pop("__metadata__", {})
    base = 8 + hlen
    dtypes = {"I64": np.int64, "I32": np.int32, "F32": np.float32}
    tensors = {}
    for name, t in header.items():
        a, b = t["data_offsets"]
        tensors[name] = np.frombuffer(raw[base + a:base + b], dtype=dtypes[t["dtype"]])
    return meta, tensors


def main():
    args = sys.argv[1:]
    if not args or args[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    path, seeds, res = args[0], 3, 1.0
    if "--seeds" in args:
        seeds = int(args[args.index("--seeds") + 1])
    if "--resolution" in args:
        res = float(args[args.index("--resolution") + 1])
    meta, t = read_tensor_file(path)
    if meta.get("kind") != "sbr.graph":
        print(f"leiden_ref.py: {path}: not an sbr.graph file", file=sys.stderr)
        return 1
    off, nbr, w = t["offsets"], t["neighbors"], t["weights"].astype(np.float64)
    n = len(off) - 1
    src = np.repeat(np.arange(n), np.diff(off))
    if meta.get("graph.symmetric") == "1":
        keep = nbr >= src
        edges, weights = np.stack([src[keep], nbr[keep]], 1), w[keep]
    else:  # union of both directions: sum (directed) or max (top-k rows)
        lo, hi = np.minimum(src, nbr), np.maximum(src, nbr)
        pairs = {}
        directed = meta.get("graph.directed") == "1"
        for a, b, x in zip(lo.tolist(), hi.tolist(), w.tolist()):
            pairs[(a, b)] = pairs.get((a, b), 0) + x if directed else max(pairs.get((a, b), 0), x)
        edges = np.array(list(pairs.keys()))
        weights = np.array(list(pairs.values()))
    # Only nodes with an edge, as sbr-cluster does (isolated nodes add nothing).
    used = np.unique(edges)
    remap = -np.ones(n, dtype=np.int64)
    remap[used] = np.arange(len(used))
    g = ig.Graph(n=len(used), edges=remap[edges].tolist(), directed=False)
    g.es["weight"] = weights.tolist()
    out = {"graph": path, "nodes": g.vcount(), "edges": g.ecount(), "resolution": res}
    runs = {}
    if leidenalg is not None:
        q, k = [], []
        for s in range(seeds):
            if res == 1.0:
                p = leidenalg.find_partition(g, leidenalg.ModularityVertexPartition,
                                             weights="weight", n_iterations=-1, seed=s)
            else:
                p = leidenalg.find_partition(g, leidenalg.RBConfigurationVertexPartition,
                                             weights="weight", n_iterations=-1, seed=s,
                                             resolution_parameter=res)
            q.append(g.modularity(p.membership, weights="weight", resolution=res))
            k.append(len(set(p.membership)))
        runs["leidenalg"] = {"modularity": q, "clusters": k}
    q, k = [], []
    for s in range(seeds):
        random.seed(s)
        ig.set_random_number_generator(random)
        c = g.community_leiden(objective_function="modularity", weights="weight",
                               resolution_parameter=res, beta=0.01, n_iterations=-1)
        q.append(g.modularity(c.membership, weights="weight", resolution=res))
        k.append(len(c))
    runs["python-igraph"] = {"modularity": q, "clusters": k}
    for r in runs.values():
        r["mean"] = sum(r["modularity"]) / len(r["modularity"])
        r["max"] = max(r["modularity"])
    out["runs"] = runs
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
