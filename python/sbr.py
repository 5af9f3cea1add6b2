#!/usr/bin/python3
"""Read sbr files (sessions, graphs, clusters, models, top-K lists, metrics) into numpy.

Every sbr file is a safetensors file in a zstd frame (docs/FORMAT.md). This module needs
numpy, and to decompress either Debian's python3-zstandard or the zstd command.

    import sbr
    f = sbr.read("model.sbr")         # any kind: f.kind, f.meta, f.tensors, f["name"]
    s = sbr.Sessions("sessions.sbr")  # splits, samples, original ids
    t = sbr.TopK("test.topk")         # ranked lists: t.hr(20), t.mrr(20), t.ndcg(20), t.task
                                      # with sbr-infer --uncertainty also t.entropy,
                                      # t.top1_prob, t.ece(), t.deciles(20); a sampling
                                      # model's (npmisr) t.spread, t.deciles(20, by="spread")
    m = sbr.Model("run.model")        # m.params["items"], m.options["dim"]

From the shell (docs/TRAINING.md, "From Python"):

    python3 python/sbr.py info FILE...           kind, metadata and tensors of each file
    python3 python/sbr.py metrics TOPK [K...]    HR / MRR / NDCG / Cov at K (percent), and
                                                 the ECE when TOPK has its uncertainty
    python3 python/sbr.py tsv TOPK SESSIONS      the top-K lists with the original ids

Metrics are in percent, as everywhere in sbr (sbr-score's table and JSON, the .metrics
tensors, the training logs). As sbr-score, they follow the task the lists were ranked for
(t.task: under next-unseen the repeat samples are left out); next_unseen=True or False asks
for one.
"""
import json
import shutil
import struct
import subprocess
import sys

import numpy as np

__all__ = ["read", "File", "Sessions", "TopK", "Model", "write_topk_tsv"]

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
DTYPES = {"BOOL": np.bool_, "U8": np.uint8, "I8": np.int8, "U16": np.uint16, "I16": np.int16,
          "F16": np.float16, "U32": np.uint32, "I32": np.int32, "F32": np.float32,
          "U64": np.uint64, "I64": np.int64, "F64": np.float64}
MAX_HEADER = 100 << 20


class FormatError(ValueError):
    """A file that is not a valid sbr file; the message names the file."""


def _decompress(path, raw):
    try:
        import zstandard
        return zstandard.ZstdDecompressor().stream_reader(raw).read()
    except ImportError:
        pass
    if not shutil.which("zstd"):
        raise FormatError(f"{path}: zstd-compressed, and neither python3-zstandard nor the "
                          "zstd command is installed")
    run = subprocess.run(["zstd", "-dc"], input=raw, capture_output=True)
    if run.returncode:
        raise FormatError(f"{path}: bad zstd frame: {run.stderr.decode().strip()}")
    return run.stdout


def _tensor(path, name, t, data):
    if not isinstance(t, dict) or set(t) != {"dtype", "shape", "data_offsets"}:
        raise FormatError(f"{path}: tensor {name!r}: not dtype, shape and data_offsets")
    if t["dtype"] not in DTYPES:
        raise FormatError(f"{path}: tensor {name!r}: unknown dtype {t['dtype']!r}")
    begin, end = t["data_offsets"]
    dtype = np.dtype(DTYPES[t["dtype"]]).newbyteorder("<")
    count = int(np.prod(t["shape"], dtype=np.int64))
    if not 0 <= begin <= end <= len(data) or end - begin != count * dtype.itemsize:
        raise FormatError(f"{path}: tensor {name!r}: data_offsets {begin}..{end} do not hold "
                          f"{t['shape']} {t['dtype']} within {len(data)} data bytes")
    return np.frombuffer(data, dtype=dtype, count=count, offset=begin).reshape(t["shape"])


class File:
    """One sbr file: kind, metadata (str -> str) and tensors (name -> read-only array)."""

    def __init__(self, path):
        self.path = str(path)
        with open(path, "rb") as fh:
            raw = fh.read()
        if raw[:4] == ZSTD_MAGIC:
            raw = _decompress(self.path, raw)
        if len(raw) < 8:
            raise FormatError(f"{self.path}: too short for a safetensors header")
        (hlen,) = struct.unpack("<Q", raw[:8])
        if hlen > MAX_HEADER or 8 + hlen > len(raw):
            raise FormatError(f"{self.path}: header length {hlen} is beyond the file "
                              f"({len(raw)} bytes): not an sbr file? (text logs go through sbr-prep)")
        try:
            header = json.loads(raw[8:8 + hlen])
        except ValueError as err:
            raise FormatError(f"{self.path}: header is not JSON: {err}") from None
        self.meta = header.pop("__metadata__", {}) or {}
        data = memoryview(raw)[8 + hlen:]
        self.tensors = {n: _tensor(self.path, n, t, data) for n, t in header.items()}
        self.kind = self.meta.get("kind", "")

    def __getitem__(self, name):
        return self.tensors[name]

    def __contains__(self, name):
        return name in self.tensors

    def meta_json(self, key, default=None):
        """A metadata value that holds JSON (sbr.args, sbr.inputs, metrics), parsed."""
        return json.loads(self.meta[key]) if key in self.meta else default

    def expect(self, kind):
        if self.kind != kind:
            raise FormatError(f"{self.path}: a {self.kind or 'kindless'} file, not {kind}")
        return self


def read(path):
    """Any sbr file."""
    return File(path)


class Sessions:
    """A sessions file (sbr-prep): splits as CSR arrays, their samples, original ids."""

    def __init__(self, path):
        self.file = File(path).expect("sbr.sessions")
        self.meta = self.file.meta
        self.n_items = int(self.meta["n_items"])
        self.min_prefix = int(self.meta.get("min_prefix", 1))
        self.original = self.file["items.original"]

    def split(self, name):
        """The split's sessions: a list of int32 arrays of internal item ids."""
        off = self.file[f"{name}.offsets"]
        items = self.file[f"{name}.items"]
        return [items[off[i]:off[i + 1]] for i in range(len(off) - 1)]

    def samples(self, name):
        """The split's samples in sbr's order (session by session, longest prefix
        first; only the last for last_only splits): (session index, prefix, target)."""
        last_only = self.meta.get(f"{name}.last_only", "0") == "1"
        for s, sess in enumerate(self.split(name)):
            for i in range(1, 2 if last_only else len(sess)):
                if len(sess) - i < self.min_prefix:
                    break
                yield s, sess[:len(sess) - i], int(sess[len(sess) - i])

    def to_original(self, ids):
        """Internal ids (any shape) to the ids of the source data; 0 (padding) gives -1."""
        return self.original[np.asarray(ids)]


class TopK:
    """A top-K file (sbr-infer): ranked items and scores per sample, targets."""

    def __init__(self, path):
        self.file = File(path).expect("sbr.topk")
        self.meta = self.file.meta
        self.items, self.scores = self.file["items"], self.file["scores"]
        self.targets, self.prefix_len = self.file["targets"], self.file["prefix_len"]
        self.repeat = self.file["repeat"]
        # sbr-infer --uncertainty (None in files without): the softmax each list ranks from
        self.entropy = self.file.tensors.get("entropy")      # nats
        self.top1_prob = self.file.tensors.get("top1_prob")  # its largest probability
        # a sampling model's (NP-MiSR; None otherwise): the RMS distance of its K sampled
        # session vectors from their mean
        self.spread = self.file.tensors.get("spread")
        self.n_items = int(self.meta["n_items"])
        self.k = self.items.shape[1]
        # common/task.h: files from before "task" are next-unseen when they exclude seen items
        self.task = self.meta.get("task") or (
            "next-unseen" if self.meta.get("exclude_seen") == "1" else "standard")

    def _ranks(self, next_unseen):
        if next_unseen is None:  # the lists' own task, as sbr-score
            next_unseen = self.task == "next-unseen"
        keep = ~self.repeat.astype(bool) if next_unseen else np.ones(len(self.targets), bool)
        hit = self.items[keep] == self.targets[keep, None]
        rank = np.where(hit.any(axis=1), hit.argmax(axis=1) + 1, 0)
        return rank, keep

    def _need(self, k):
        if not 1 <= k <= self.k:
            raise ValueError(f"{self.file.path}: cutoff {k} outside 1..{self.k}")

    def hr(self, k, next_unseen=None):
        self._need(k)
        rank, _ = self._ranks(next_unseen)
        return 100 * float(np.mean((rank > 0) & (rank <= k))) if len(rank) else 0.0

    def mrr(self, k, next_unseen=None):
        self._need(k)
        rank, _ = self._ranks(next_unseen)
        rr = np.where((rank > 0) & (rank <= k), 1.0 / np.maximum(rank, 1), 0.0)
        return 100 * float(rr.mean()) if len(rank) else 0.0

    def ndcg(self, k, next_unseen=None):
        self._need(k)
        rank, _ = self._ranks(next_unseen)
        g = np.where((rank > 0) & (rank <= k), 1.0 / np.log2(np.maximum(rank, 1) + 1.0), 0.0)
        return 100 * float(g.mean()) if len(rank) else 0.0

    def _unc(self, next_unseen):
        if self.entropy is None:
            raise ValueError(f"{self.file.path}: no uncertainty "
                             "(rank with sbr-infer --uncertainty)")
        rank, keep = self._ranks(next_unseen)
        return rank, self.entropy[keep], self.top1_prob[keep].astype(np.float64)

    def ece(self, next_unseen=None):
        """Expected calibration error of the top-1 probability (percent), as sbr-score:
        10 equal-width bins [0, 0.1), ..., [0.9, 1], sum of |bin| / n |accuracy - confidence|."""
        rank, _, p = self._unc(next_unseen)
        hit = (rank == 1).astype(np.float64)
        b = np.minimum((p * 10).astype(int), 9)
        err = sum(abs(hit[b == g].sum() - p[b == g].sum()) for g in range(10))
        return 100 * float(err) / len(p) if len(p) else 0.0

    def deciles(self, k, next_unseen=None, by="entropy"):
        """HR@k and MRR@k (percent) by decile of the entropy (by="entropy") or of a sampling
        model's spread (by="spread"), lowest first, as sbr-score: the samples sorted by it
        (ties by row), group g the ranks [g n / 10, (g + 1) n / 10).
        A list of (samples, min key, max key, HR@k, MRR@k)."""
        self._need(k)
        rank, h, _ = self._unc(next_unseen)
        if by == "spread":
            if self.spread is None:
                raise ValueError(f"{self.file.path}: no spread (a model that samples its "
                                 "session vector, ranked with sbr-infer --uncertainty)")
            _, keep = self._ranks(next_unseen)
            h = self.spread[keep]
        elif by != "entropy":
            raise ValueError(f"deciles by {by!r}: entropy or spread")
        order, n, out = np.argsort(h, kind="stable"), len(h), []
        for g in range(10):
            rows = order[n * g // 10:n * (g + 1) // 10]
            if not len(rows):  # fewer samples than deciles
                out.append((0, 0.0, 0.0, 0.0, 0.0))
                continue
            r, e = rank[rows], h[rows]
            hit = (r > 0) & (r <= k)
            mrr = np.where(hit, 1.0 / np.maximum(r, 1), 0.0)
            out.append((len(r), float(e.min()), float(e.max()), 100 * float(hit.mean()),
                        100 * float(mrr.mean())))
        return out

    def coverage(self, k, next_unseen=None):
        """Distinct items in any top-k list over the catalogue size (percent)."""
        self._need(k)
        _, keep = self._ranks(next_unseen)
        top = self.items[keep, :k]
        return 100 * len(np.unique(top[top > 0])) / self.n_items if self.n_items else 0.0


class Model:
    """A model file (sbr-train): parameters by name (param.NAME without the prefix), and
    its metadata without provenance: the model's options and its training record."""

    def __init__(self, path):
        self.file = File(path).expect("sbr.model")
        self.meta = self.file.meta
        self.name = self.meta.get("model", "")
        self.params = {n[len("param."):]: a for n, a in self.file.tensors.items()
                       if n.startswith("param.")}
        self.options = {k: v for k, v in self.meta.items()
                        if not k.startswith("sbr.") and k != "kind"}

    def item_embeddings(self):
        """The item table [n_items + 1, d] (row 0 is padding)."""
        return self.params["items"]


def write_topk_tsv(topk, sessions, out, split=None):
    """The top-K lists as TSV with the source's ids: sample, session, prefix (space-
    separated), target, then rank-1..K items and scores. The samples are rebuilt from
    the sessions file and must match the top-K file's targets and prefix lengths."""
    split = split or topk.meta.get("split", "test")
    samples = list(sessions.samples(split))
    if len(samples) != len(topk.targets):
        raise FormatError(f"{topk.file.path}: {len(topk.targets)} samples, but the {split} "
                          f"split of {sessions.file.path} gives {len(samples)}")
    orig = sessions.original
    k = topk.k
    head = ["sample", "session", "prefix", "target"]
    head += [f"item{r}" for r in range(1, k + 1)] + [f"score{r}" for r in range(1, k + 1)]
    out.write("\t".join(head) + "\n")
    for i, (s, prefix, target) in enumerate(samples):
        if target != topk.targets[i] or len(prefix) != topk.prefix_len[i]:
            raise FormatError(f"{topk.file.path}: sample {i} does not match the {split} split of "
                              f"{sessions.file.path}: another sessions file?")
        row = [str(i), str(s), " ".join(str(x) for x in orig[prefix]), str(orig[target])]
        row += [str(orig[x]) if x > 0 else "" for x in topk.items[i]]
        row += [f"{x:.6g}" for x in topk.scores[i]]
        out.write("\t".join(row) + "\n")


def _info(paths):
    for p in paths:
        f = read(p)
        print(f"{p}: {f.kind}")
        for k, v in f.meta.items():
            print(f"  {k} = {v}")
        for n, a in f.tensors.items():
            print(f"  {n} {a.dtype} {list(a.shape)}")


def _metrics(path, cutoffs):
    t = TopK(path)
    ks = [int(c) for c in cutoffs] or [k for k in (5, 10, 20) if k <= t.k]
    for k in ks:
        print(f"HR@{k} {t.hr(k):.6f} MRR@{k} {t.mrr(k):.6f} "
              f"NDCG@{k} {t.ndcg(k):.6f} Cov@{k} {t.coverage(k):.6f}")
    if t.entropy is not None:
        print(f"ECE {t.ece():.6f}")


def main(argv):
    usage = "usage: sbr.py info FILE... | metrics TOPK [K...] | tsv TOPK SESSIONS"
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__ if len(argv) > 1 else usage, file=sys.stdout if len(argv) > 1 else sys.stderr)
        return 0 if len(argv) > 1 else 2
    cmd, args = argv[1], argv[2:]
    try:
        if cmd == "info" and args:
            _info(args)
        elif cmd == "metrics" and args:
            _metrics(args[0], args[1:])
        elif cmd == "tsv" and len(args) == 2:
            write_topk_tsv(TopK(args[0]), Sessions(args[1]), sys.stdout)
        else:
            print(usage, file=sys.stderr)
            return 2
    except BrokenPipeError:  # a reader that stopped early (head)
        sys.stderr.close()
        return 0
    except (OSError, FormatError, KeyError, ValueError) as err:
        print(f"sbr.py: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
