#!/usr/bin/python3
"""Writes SESSIONS with its training split emptied (plain safetensors): an
input sbr-prep never makes, for sbr-train's "empty training split" error.
Usage: empty_train.py IN OUT (standard library only)."""
import json, struct, subprocess, sys

raw = subprocess.run(["zstd", "-dc", sys.argv[1]], check=True, capture_output=True).stdout
n = struct.unpack("<Q", raw[:8])[0]
head, data = json.loads(raw[8:8 + n]), raw[8 + n:]
out, blobs, at = {"__metadata__": head.pop("__metadata__")}, [], 0
for name, t in sorted(head.items(), key=lambda kv: kv[1]["data_offsets"][0]):
    a, b = t["data_offsets"]
    blob = data[a:b]
    if name == "train.offsets":
        blob, t["shape"] = struct.pack("<q", 0), [1]
    elif name.startswith("train."):
        blob, t["shape"] = b"", [0]
    out[name] = {"dtype": t["dtype"], "shape": t["shape"], "data_offsets": [at, at + len(blob)]}
    blobs.append(blob)
    at += len(blob)
for k, v in list(out["__metadata__"].items()):
    if k.startswith("train.") or k in ("n_train_sessions",):
        out["__metadata__"][k] = "0"
h = json.dumps(out).encode()
h += b" " * (-len(h) % 8)
open(sys.argv[2], "wb").write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
