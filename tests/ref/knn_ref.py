#!/usr/bin/python3
"""Reference SKNN, V-SKNN and STAN, written from the papers' definitions
(Jannach & Ludewig 2017 / Ludewig & Jannach 2018 for SKNN and V-SKNN, Garg et
al. 2019 for STAN) with session-rec's defaults, independently of sbr's C code
(common/knn). Checks that sbr-infer's top-20 lists are the reference's.

Usage: knn_ref.py METHOD SESSIONS TOPK [--k K] [--sample N] [--max-samples M]

Definitions (docs/MODELS.md, "Session-kNN and rule baselines"):
  candidates: training sessions sharing an item with the prefix, the
    `sample` most recent (last click time, then later in the file);
  sknn:  sim = jaccard of item sets; score(i) = sum of sim over the k most
    similar sessions that contain i;
  vsknn: prefix position p of n weighs p / n (latest occurrence); sim = sum
    of the shared items' weights / distinct prefix items; a neighbour's
    items score sim / step, step = 1 + clicks since the latest prefix click
    it shares;
  stan:  w(p) = exp((p - n) / 1.02); sim = sum of shared w / (||w|| *
    sqrt(|neighbour set|)) * exp(-(t - t_s) / (5 days)); item i of a
    neighbour scores sim * exp(-|pos(i) - pos*| / 2.05), positions over the
    neighbour's clicks (latest occurrence), pos* its latest click shared
    with the prefix.
  Ranking: higher score first, then the smaller item id; items no
  neighbour reaches score 0. Neighbours: higher sim, then more recent.
  Sums over shared items run in ascending item id, ||w|| over the prefix's
  items in order of first click, an item's score over the neighbours best
  first: sbr's order, so that near-equal similarities tie the same way.
Exit 0 when every list matches (up to ties within 1e-9), 1 otherwise,
77 when numpy is missing.
"""
import json
import math
import struct
import subprocess
import sys

try:
    import numpy as np
except ImportError:
    print("knn_ref.py: numpy is not installed (python3-numpy)", file=sys.stderr)
    sys.exit(77)

DTYPES = {"I32": np.int32, "I64": np.int64, "F32": np.float32, "F64": np.float64, "U8": np.uint8}


def load(path):
    raw = open(path, "rb").read()
    if raw[:4] == b"\x28\xb5\x2f\xfd":
        raw = subprocess.run(["zstd", "-dc", path], check=True, capture_output=True).stdout
    n = struct.unpack("<Q", raw[:8])[0]
    head = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    meta = head.pop("__metadata__", {})
    out = {}
    for name, t in head.items():
        a, b = t["data_offsets"]
        out[name] = np.frombuffer(data[a:b], dtype=DTYPES[t["dtype"]]).reshape(t["shape"])
    return meta, out


def sessions_of(t, split):
    off, items = t[split + ".offsets"], t[split + ".items"]
    times = t.get(split + ".times")
    return [(list(items[off[s]:off[s + 1]]),
             int(times[off[s + 1] - 1]) if times is not None else None,
             [int(x) for x in times[off[s]:off[s + 1]]] if times is not None else None)
            for s in range(len(off) - 1)]


class Index:
    def __init__(self, train, n_items):
        self.n = n_items
        # recency: last click time, then later in the file
        order = sorted(range(len(train)), key=lambda s: (train[s][1] or 0, s), reverse=True)
        self.rank = {s: r for r, s in enumerate(order)}
        self.clicks = [train[s][0] for s in range(len(train))]
        self.time = [train[s][1] for s in range(len(train))]
        self.sets = [set(c) for c in self.clicks]
        self.by_item = {}
        for s, st in enumerate(self.sets):
            for i in st:
                self.by_item.setdefault(i, []).append(s)
        self.t_end = max((t for t in self.time if t is not None), default=0)

    def candidates(self, prefix, sample):
        union = set()
        for i in set(prefix):
            union.update(self.by_item.get(i, ()))
        ranked = sorted(union, key=lambda s: self.rank[s])
        return ranked[:sample] if sample else ranked


def neighbours(ix, prefix, sim_of, k, sample):
    sims = [(sim_of(s), ix.rank[s], s) for s in ix.candidates(prefix, sample)]
    sims = [x for x in sims if x[0] > 0]
    sims.sort(key=lambda x: (-x[0], x[1]))
    return sims[:k]


def sknn(ix, prefix, t_now, k, sample):
    cur = set(prefix)
    sim = lambda s: len(cur & ix.sets[s]) / len(cur | ix.sets[s])
    scores = {}
    for sim_s, _, s in neighbours(ix, prefix, sim, k, sample):
        for i in ix.sets[s]:
            scores[i] = scores.get(i, 0.0) + sim_s
    return scores


def vsknn(ix, prefix, t_now, k, sample):
    n = len(prefix)
    w = {}
    for p, i in enumerate(prefix, 1):
        w[i] = p / n
    last_pos = {i: p for p, i in enumerate(prefix, 1)}
    sim = lambda s: sum(w[i] for i in sorted(set(prefix) & ix.sets[s])) / len(w)
    scores = {}
    for sim_s, _, s in neighbours(ix, prefix, sim, k, sample):
        step = n - max(last_pos[i] for i in set(prefix) & ix.sets[s]) + 1
        for i in ix.sets[s]:
            scores[i] = scores.get(i, 0.0) + sim_s * (1.0 / step)
    return scores


def stan(ix, prefix, t_now, k, sample, l1=1.02, l2=5 * 24 * 3600, l3=2.05):
    n = len(prefix)
    w = {}
    for p, i in enumerate(prefix, 1):
        w[i] = math.exp((p - n) / l1)
    norm = math.sqrt(sum(v * v for v in w.values()))

    def sim(s):
        shared = sum(w[i] for i in sorted(w) if i in ix.sets[s])
        v = shared / (norm * math.sqrt(len(ix.sets[s])))
        if ix.time[s] is not None:
            v *= math.exp(-(t_now - ix.time[s]) / l2)
        return v

    scores = {}
    for sim_s, _, s in neighbours(ix, prefix, sim, k, sample):
        clicks = ix.clicks[s]
        star = max(p for p, i in enumerate(clicks, 1) if i in w)
        pos = {i: p for p, i in enumerate(clicks, 1)}
        for i, p in pos.items():
            scores[i] = scores.get(i, 0.0) + sim_s * math.exp(-abs(p - star) / l3)
    return scores


def top20(scores, n_items):
    v = np.zeros(n_items + 1)
    for i, s in scores.items():
        v[i] = s
    ids = np.arange(1, n_items + 1)
    order = np.lexsort((ids, -v[1:]))[:20]
    return [int(ids[j]) for j in order], v


def main(argv):
    method, sess_path, topk_path = argv[1:4]
    opts = dict(zip(argv[4::2], argv[5::2]))
    k, sample = int(opts.get("--k", 100)), int(opts.get("--sample", 500 if method != "stan" else 5000))
    limit = int(opts.get("--max-samples", 0))
    meta, t = load(sess_path)
    n_items, min_prefix = int(meta["n_items"]), int(meta["min_prefix"])
    ix = Index(sessions_of(t, "train"), n_items)
    _, tk = load(topk_path)
    got = tk["items"]
    fn = {"sknn": sknn, "vsknn": vsknn, "stan": stan}[method]
    row = exact = bad = 0
    for items, _, times in sessions_of(t, "test"):
        for i in range(1, len(items)):
            plen = len(items) - i
            if plen < min_prefix:
                break
            if limit and row >= limit:
                break
            prefix = [int(x) for x in items[:plen] if 1 <= x <= n_items]
            t_now = times[plen - 1] if times is not None else ix.t_end
            ref, v = top20(fn(ix, prefix, t_now, k, sample) if prefix else {}, n_items)
            mine = [int(x) for x in got[row][:20]]
            if mine == ref:
                exact += 1
            elif not np.allclose(v[mine], v[ref], rtol=1e-9, atol=1e-12):
                bad += 1
                if bad <= 3:
                    print(f"knn_ref.py: sample {row}: sbr {mine[:8]}... reference {ref[:8]}...",
                          file=sys.stderr)
            row += 1
    print(f"{method}: {row} samples, {exact} identical top-20 lists, "
          f"{row - exact - bad} equal up to ties within 1e-9, {bad} different")
    return 0 if bad == 0 and row > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
