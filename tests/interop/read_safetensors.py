#!/usr/bin/python3
"""Reads sbr tensor files with nothing but json + numpy (and the zstd CLI for
compressed ones) and checks the values tests/helpers/mksample.c wrote."""
import json
import struct
import subprocess
import sys

import numpy as np

DTYPES = {"BOOL": np.bool_, "U8": np.uint8, "I8": np.int8, "U16": np.uint16, "I16": np.int16,
          "F16": np.float16, "U32": np.uint32, "I32": np.int32, "F32": np.float32,
          "U64": np.uint64, "I64": np.int64, "F64": np.float64}


def load(path):
    raw = open(path, "rb").read()
    if raw[:4] == b"\x28\xb5\x2f\xfd":
        raw = subprocess.run(["zstd", "-dc", path], check=True, capture_output=True).stdout
    (hlen,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + hlen])
    meta = header.pop("__metadata__", {})
    data = raw[8 + hlen:]
    out = {}
    for name, t in header.items():
        a, b = t["data_offsets"]
        dt = np.dtype(DTYPES[t["dtype"]]).newbyteorder("<")
        out[name] = np.frombuffer(data[a:b], dtype=dt).reshape(t["shape"])
    return meta, out


def main():
    for path in sys.argv[1:]:
        meta, t = load(path)
        assert meta["kind"] == "sbr.test", meta
        assert json.loads(meta["sbr.args"])[0].endswith("mksample")
        assert t["offsets"].tolist() == [0, 3, 5, 9]
        assert t["items"].tolist() == [1, 2, 3, 2, 4, 5, 1, 5, 2]
        assert t["emb"].shape == (2, 3) and t["emb"].dtype == np.float32
        assert np.array_equal(t["emb"], np.array([[0.25, -1.5, 3.0], [1e-3, 42.0, -0.0]], np.float32))
        assert t["dbl"].tolist() == [3.141592653589793, -2.718281828459045, 1e300]
        assert t["flags"].tolist() == [True, False, True, True, False]
        assert t["small"].tolist() == [-32768, 32767]
    print("ok")


if __name__ == "__main__":
    main()
