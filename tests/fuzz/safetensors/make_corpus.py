#!/usr/bin/env python3
"""Writes the seed corpus of the safetensors fuzz target: small valid files made with the
safetensors package (every supported dtype, metadata), an index JSON, and broken files.
Run: .venv/bin/python tests/fuzz/safetensors/make_corpus.py
"""
import json
import struct
from pathlib import Path

import numpy as np
from safetensors.numpy import save

OUT = Path(__file__).resolve().parent / "corpus"


def raw(header, data=b""):
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


def main():
    rng = np.random.default_rng(3)
    OUT.mkdir(exist_ok=True)
    tensors = {
        "embed.W_E": rng.standard_normal((4, 3)).astype(np.float32),
        "f16": rng.standard_normal(5).astype(np.float16),
        "f64": rng.standard_normal(2),
        "i64": np.arange(3, dtype=np.int64),
        "i32": np.arange(3, dtype=np.int32),
        "i8": np.arange(3, dtype=np.int8),
        "u8": np.arange(3, dtype=np.uint8),
        "mask": np.array([True, False]),
        "empty": np.zeros((0, 4), dtype=np.float32),
    }
    valid = save(tensors, metadata={"format": "pt"})
    bf16 = raw({"w": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}, b"\x80\x3f\x00\x40")
    index = json.dumps({"metadata": {"total_size": 64},
                        "weight_map": {"a": "model-00001-of-00002.safetensors",
                                       "b": "model-00002-of-00002.safetensors"}}).encode()
    files = {
        "valid_all_dtypes.safetensors": valid,
        "valid_bf16.safetensors": bf16,
        "index.json": index,
        "index_bad_path.json": b'{"weight_map": {"a": "../etc/passwd"}}',
        "truncated.safetensors": valid[:-7],
        "header_past_end.safetensors": struct.pack("<Q", 1 << 40) + b"{}",
        "offsets_past_end.safetensors": raw({"t": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, b"\0" * 8),
        "misordered.safetensors": raw({"t": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}}, b"\0" * 8),
        "wrong_size.safetensors": raw({"t": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, b"\0" * 8),
        "unknown_dtype.safetensors": raw({"t": {"dtype": "F8_E5M2", "shape": [1], "data_offsets": [0, 1]}}, b"\0"),
        "overlap.safetensors": raw({"a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},
                                    "b": {"dtype": "U8", "shape": [4], "data_offsets": [2, 6]}}, b"\0" * 8),
        "not_json.safetensors": struct.pack("<Q", 4) + b"{{{{",
    }
    for name, data in files.items():
        (OUT / name).write_bytes(data)
        print(name, len(data))


if __name__ == "__main__":
    main()
