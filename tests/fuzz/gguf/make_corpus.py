#!/usr/bin/env python3
"""Writes the seed corpus of the GGUF fuzz target: small valid files made with the gguf package
(every metadata type, a tiny llama with tensors of each decodable ggml type) and broken ones.
Run: .venv/bin/python tests/fuzz/gguf/make_corpus.py
"""
import struct
import tempfile
from pathlib import Path

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T

OUT = Path(__file__).resolve().parent / "corpus"


def build(path, version_tensors):
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_block_count(1)
    w.add_embedding_length(32)
    w.add_head_count(2)
    w.add_head_count_kv(1)
    w.add_feed_forward_length(64)
    w.add_context_length(16)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_tokenizer_model("gpt2")
    w.add_token_list(["<s>", "a", "b", "c"])
    w.add_token_types([3, 1, 1, 1])
    w.add_token_scores([0.0, -1.0, -2.0, -3.0])
    w.add_bos_token_id(0)
    w.add_add_bos_token(True)
    w.add_uint8("x.u8", 7)
    w.add_int16("x.i16", -5)
    w.add_uint64("x.u64", 1 << 40)
    w.add_float64("x.f64", 0.25)
    w.add_array("x.nested", [[1, 2], [3]])
    for name, tensor, raw_dtype in version_tensors:
        if raw_dtype is None:
            w.add_tensor(name, tensor)
        else:
            w.add_tensor(name, tensor, raw_dtype=raw_dtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path.read_bytes()


def main():
    rng = np.random.default_rng(7)
    OUT.mkdir(exist_ok=True)
    rows = rng.standard_normal((4, 32)).astype(np.float32)
    tensors = [("token_embd.weight", rows, None),
               ("output_norm.weight", rng.standard_normal(32).astype(np.float16), None)]
    for qtype in (T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0, T.BF16):
        tensors.append((f"blk.0.{qtype.name.lower()}.weight", gguf.quants.quantize(rows[:2], qtype), qtype))
    for qtype in (T.Q4_K, T.Q5_K, T.Q6_K):
        raw = rng.integers(0, 256, (1, gguf.GGML_QUANT_SIZES[qtype][1]), dtype=np.uint8)
        tensors.append((f"blk.0.{qtype.name.lower()}.weight", raw, qtype))
    with tempfile.TemporaryDirectory() as tmp:
        valid = build(Path(tmp) / "m.gguf", tensors)
        small = build(Path(tmp) / "s.gguf", tensors[:1])
    files = {
        "valid_llama.gguf": valid,
        "valid_one_tensor.gguf": small,
        "v2_header_only.gguf": b"GGUF" + struct.pack("<IQQ", 2, 0, 0),
        "truncated_metadata.gguf": valid[:200],
        "truncated_data.gguf": valid[:-100],
        "bad_magic.gguf": b"GGUX" + valid[4:300],
        "bad_version.gguf": valid[:4] + struct.pack("<I", 9) + valid[8:300],
        "huge_counts.gguf": b"GGUF" + struct.pack("<IQQ", 3, 1 << 62, 1 << 62),
        "huge_string.gguf": b"GGUF" + struct.pack("<IQQQ", 3, 0, 1, 1 << 40) + b"key",
    }
    for name, data in files.items():
        (OUT / name).write_bytes(data)
        print(name, len(data))


if __name__ == "__main__":
    main()
