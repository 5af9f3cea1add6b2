#!/usr/bin/python3
"""Independent check of sbr-prep on raw logs: implements each recipe as
docs/PREP.md (and ../shared/data/README.md for diginetica, after SR-GNN's
preprocess.py) states it, with plain Python dicts and lists, then compares
with the train/test sessions of a plain (level 0) sessions file written with
--valid-frac 0.

  prep_recipe.py diginetica|kaggle|yoochoose|sessionrec RAW_FILE SESSIONS_FILE [FRACTION]

FRACTION (e.g. 1/64, for a file written with --train-recent FRACTION) applies
SR-GNN's yoochoose cut as its preprocess.py writes it: the training sequences
expanded by process_seqs, split64 = int(len(tr_seqs) * FRACTION), all_train_seq
= tra_seqs[tr_ids[-split64]:]; the test set stays filtered against the item
dictionary of all the training sessions, and the items of the kept sessions
are numbered first (test-only items after them, by first appearance).

Prints "recipe ok: ..." and exits 0 when train and test agree session for
session, item for item, and so does the numbering; otherwise prints the first
difference and exits 1. Standard library only."""
import array
import csv
import datetime
import fractions
import json
import struct
import sys


def read_sessions(path):
    """train/test sessions of an sbr.sessions file, as original item ids."""
    with open(path, "rb") as f:
        raw = f.read()
    (hlen,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + hlen])
    meta = header.pop("__metadata__", {})
    assert meta.get("sbr.kind", meta.get("kind")) in (None, "sbr.sessions") or True
    base = 8 + hlen

    def tensor(name):
        h = header[name]
        a, b = h["data_offsets"]
        code = {"I64": "q", "I32": "i"}[h["dtype"]]
        arr = array.array(code)
        arr.frombytes(raw[base + a:base + b])
        return arr

    orig = tensor("items.original")
    out = {"original": list(orig)}
    for split in ("train", "test"):
        off, items = tensor(split + ".offsets"), tensor(split + ".items")
        out[split] = [[orig[items[j]] for j in range(off[i], off[i + 1])]
                      for i in range(len(off) - 1)]
    return out, meta


def day(s):
    d = datetime.date.fromisoformat(s)
    return (d - datetime.date(1970, 1, 1)).days * 86400


def iso_ms(s):
    s = s.rstrip("Z")
    dt = datetime.datetime.fromisoformat(s).replace(tzinfo=datetime.timezone.utc)
    return round(dt.timestamp() * 1000)


def load(kind, path):
    """sessions as {key: [(time, item), ...]} in file order, dates, users."""
    clicks, dates = {}, {}
    if kind == "diginetica":
        with open(path, newline="") as f:
            for r in csv.DictReader(f, delimiter=";"):
                sid = r["session_id"]
                clicks.setdefault(sid, []).append((int(r["timeframe"]), int(r["item_id"])))
                dates[sid] = day(r["eventdate"])  # the last row in file order wins
    elif kind == "yoochoose":
        with open(path) as f:
            for line in f:
                sid, ts, item, _cat = line.rstrip("\n").split(",")
                clicks.setdefault(sid, []).append((iso_ms(ts), int(item)))
    elif kind == "sessionrec":
        with open(path) as f:
            hdr = f.readline().rstrip("\n").split("\t")
            cs, ci, ct = hdr.index("SessionId"), hdr.index("ItemId"), hdr.index("Time")
            for line in f:
                r = line.rstrip("\n").split("\t")
                whole, _, frac = r[ct].partition(".")
                t = int(whole) * 1000 + int((frac + "000")[:3])
                clicks.setdefault(r[cs], []).append((t, int(r[ci])))
    elif kind == "kaggle":
        per_user = {}
        with open(path) as f:
            f.readline()
            for line in f:
                ts, vis, ev, item, _txn = line.rstrip("\n").split(",")
                if ev == "view":
                    per_user.setdefault(vis, []).append((int(ts), int(item)))
        for vis, cl in per_user.items():
            cl = sorted(cl, key=lambda c: c[0])  # stable: ties keep file order
            # duplicates: same item and time as an earlier click of the same time
            kept = []
            for c in cl:
                if any(p == c for p in kept[-50:] if p[0] == c[0]):
                    continue
                kept.append(c)
            sess = [kept[0]]
            n = 0
            for c in kept[1:]:
                if c[0] - sess[-1][0] > 30 * 60 * 1000:
                    clicks[(vis, n)] = sess
                    n += 1
                    sess = []
                sess.append(c)
            clicks[(vis, n)] = sess
        return clicks, {}
    else:
        raise SystemExit("unknown kind " + kind)
    for k in clicks:
        clicks[k] = sorted(clicks[k], key=lambda c: c[0])
    return clicks, dates


def recipe(kind, path):
    clicks, given_dates = load(kind, path)
    min_len, test_days, min_prefix = 2, 7, 1
    if kind == "kaggle":
        min_len, min_prefix = 3, 2
    if kind in ("yoochoose", "sessionrec"):
        test_days = 1
    # session date: the file's date, else the last click (seconds)
    date = {k: given_dates[k] if k in given_dates else c[-1][0] // 1000 for k, c in clicks.items()}
    seqs = {k: [i for _, i in c] for k, c in clicks.items()}
    seqs = {k: s for k, s in seqs.items() if len(s) >= 2}  # length-1 sessions
    counts = {}
    for s in seqs.values():
        for i in s:
            counts[i] = counts.get(i, 0) + 1
    seqs = {k: [i for i in s if counts[i] >= 5] for k, s in seqs.items()}
    seqs = {k: s for k, s in seqs.items() if len(s) >= min_len}
    maxdate = max(date[k] for k in seqs)
    split = maxdate - 86400 * test_days
    order = list(seqs)  # dict order = first appearance
    train = sorted([k for k in order if date[k] < split], key=lambda k: date[k])
    test = sorted([k for k in order if date[k] > split], key=lambda k: date[k])
    seen = set()
    for k in train:
        seen.update(seqs[k])
    tr = [seqs[k] for k in train]
    te = []
    for k in test:
        s = [i for i in seqs[k] if i in seen]
        if len(s) >= min_prefix + 1:
            te.append(s)
    return tr, te


def most_recent(tra_seqs, fraction):
    """SR-GNN preprocess.py, yoochoose branch (split64 and seq64)."""
    tr_ids = []  # process_seqs: one id per sample, samples of a session in a row
    for sid, seq in enumerate(tra_seqs):
        for _i in range(1, len(seq)):
            tr_ids += [sid]
    split = int(len(tr_ids) * fraction)
    return tra_seqs[tr_ids[-split]:]


def main():
    kind, raw, sess = sys.argv[1:4]
    want_tr, want_te = recipe(kind, raw)
    full_tr = len(want_tr)
    if len(sys.argv) > 4:
        want_tr = most_recent(want_tr, fractions.Fraction(sys.argv[4]))
    got, _meta = read_sessions(sess)
    ok = True
    for name, want, have in (("train", want_tr, got["train"]), ("test", want_te, got["test"])):
        if want != have:
            ok = False
            print(f"{name}: recipe gives {len(want)} sessions, sbr-prep {len(have)}")
            for i, (a, b) in enumerate(zip(want, have)):
                if a != b:
                    print(f"  first difference at session {i}: recipe {a} vs sbr-prep {b}")
                    break
    first, seen = [], set()
    for s in want_tr:
        for i in s:
            if i not in seen:
                seen.add(i)
                first.append(i)
    if got["original"][1:len(first) + 1] != first or int(_meta["n_items"]) != len(first):
        ok = False
        print("items are not numbered 1..N by first appearance over the training sessions")
    for s in want_te:  # test-only ids (kept after a cut) follow, by first appearance
        for i in s:
            if i not in seen:
                seen.add(i)
                first.append(i)
    if got["original"][1:] != first or int(_meta["n_ids"]) != len(first):
        ok = False
        print(f"ids: recipe {len(first)}, sbr-prep {_meta['n_ids']}, or numbered otherwise")
    if not ok:
        sys.exit(1)
    print(f"recipe ok: {kind}: train {len(want_tr)} of {full_tr} sessions, "
          f"{sum(map(len, want_tr))} clicks; test {len(want_te)} sessions; "
          f"{_meta['n_items']} items, {_meta['n_ids']} ids")


if __name__ == "__main__":
    main()
