#!/usr/bin/env python3
"""Writes the dequantization test vectors of tests/cpp/formats/dequantize_test.cpp.

For each ggml type: data/<type>.bin (the quantized bytes) and data/<type>.f32 (what the gguf
package's gguf.quants.dequantize makes of them, little-endian float32). Types the package can
quantize are made from random floats; K-quants are random blocks with sane fp16 scales.
Run: .venv/bin/python tests/cpp/formats/make_dequant_vectors.py
"""
from pathlib import Path

import numpy as np
from gguf import GGML_QUANT_SIZES, GGMLQuantizationType as T
from gguf import quants

OUT = Path(__file__).resolve().parent / "data"
N = 512  # elements per type: 16 blocks of 32, 2 super-blocks of 256


def random_floats(rng):
    x = rng.standard_normal(N).astype(np.float32) * 0.05
    x[:8] = [0.0, -0.0, 1.0, -1.0, 1e-8, 3.0, -2.5, 0.125]
    return x


def random_fp16(rng, n, lo, hi):
    return rng.uniform(lo, hi, n).astype(np.float16).view(np.uint8).reshape(n, 2)


def k_quant_blocks(rng, qtype):
    """Random super-blocks laid out as ggml's block_q4_K / block_q5_K / block_q6_K."""
    n_blocks = N // 256
    block_bytes = GGML_QUANT_SIZES[qtype][1]
    raw = rng.integers(0, 256, (n_blocks, block_bytes), dtype=np.uint8)
    if qtype in (T.Q4_K, T.Q5_K):  # d, dmin first
        raw[:, 0:2] = random_fp16(rng, n_blocks, 1e-4, 2e-2)
        raw[:, 2:4] = random_fp16(rng, n_blocks, 1e-4, 2e-2)
    else:  # Q6_K: d last
        raw[:, -2:] = random_fp16(rng, n_blocks, 1e-4, 2e-2)
    return raw.reshape(-1)


def half_specials(rng):
    bits = rng.integers(0, 65536, N, dtype=np.uint16)
    bits[:8] = [0x0000, 0x8000, 0x0001, 0x03FF, 0x7BFF, 0x7C00, 0xFC00, 0x3C00]  # 0, -0, subnormals, max, inf
    # keep NaNs out: the test compares bits, and NaN payloads are not what we test
    bits[(bits & 0x7C00) == 0x7C00] &= 0xFBFF
    bits[5], bits[6] = 0x7C00, 0xFC00
    return bits.view(np.uint8)


def bf16_specials(rng):
    bits = rng.integers(0, 65536, N, dtype=np.uint16)
    bits[(bits & 0x7F80) == 0x7F80] &= 0xFF7F
    bits[:4] = [0x0000, 0x8000, 0x3F80, 0x7F80]
    return bits.view(np.uint8)


def main():
    rng = np.random.default_rng(20261125)
    OUT.mkdir(exist_ok=True)
    cases = {}
    for qtype in (T.Q8_0, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1):
        cases[qtype] = quants.quantize(random_floats(rng), qtype).reshape(-1)
    cases[T.F32] = random_floats(rng).view(np.uint8)
    cases[T.F16] = half_specials(rng)
    cases[T.BF16] = bf16_specials(rng)
    for qtype in (T.Q4_K, T.Q5_K, T.Q6_K):
        cases[qtype] = k_quant_blocks(rng, qtype)
    for qtype, raw in cases.items():
        raw = np.ascontiguousarray(raw, dtype=np.uint8)
        values = quants.dequantize(raw, qtype).astype(np.float32).reshape(-1)
        assert values.size == N, (qtype.name, values.size)
        (OUT / f"{qtype.name.lower()}.bin").write_bytes(raw.tobytes())
        (OUT / f"{qtype.name.lower()}.f32").write_bytes(values.astype("<f4").tobytes())
        print(f"{qtype.name}: {raw.size} bytes -> {values.size} floats")


if __name__ == "__main__":
    main()
