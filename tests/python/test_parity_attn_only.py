"""Parity of the runtime's attention-only family (our toy models: TransformerLens tensor names,
no norm, no MLP, learned positions added to queries and keys only) with a direct PyTorch
reference, including the opt-in hook_result / hook_q_input paths and a padded batch."""
import json
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from safetensors.numpy import load_file  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

L, H, D, DH, V, CTX = 2, 4, 32, 8, 40, 24


def make_model(folder):
    g = torch.Generator().manual_seed(1)
    r = lambda *s: torch.randn(*s, generator=g) * 0.3  # noqa: E731
    w = {"embed.W_E": r(V, D), "pos_embed.W_pos": r(CTX, D), "unembed.W_U": r(D, V), "unembed.b_U": r(V)}
    for l in range(L):
        for n in "QKV":
            w[f"blocks.{l}.attn.W_{n}"] = r(H, D, DH)
            w[f"blocks.{l}.attn.b_{n}"] = r(H, DH)
        w[f"blocks.{l}.attn.W_O"] = r(H, DH, D)
        w[f"blocks.{l}.attn.b_O"] = r(D)
    folder.mkdir()
    save_file(w, str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps({
        "model_type": "circuitry-attn-only", "n_layers": L, "d_model": D, "n_heads": H, "d_head": DH,
        "d_vocab": V, "n_ctx": CTX, "bos_token_id": 0}))
    return w


def reference(w, ids):
    tok = torch.tensor(ids)
    p = len(ids)
    resid = w["embed.W_E"][tok]
    pos = w["pos_embed.W_pos"][:p]
    out = {}
    mask = torch.ones(p, p, dtype=torch.bool).tril()
    for l in range(L):
        a = lambda n: w[f"blocks.{l}.attn.{n}"]  # noqa: E731
        out[f"blocks.{l}.hook_resid_pre"] = resid
        q = torch.einsum("pd,hde->phe", resid + pos, a("W_Q")) + a("b_Q")
        k = torch.einsum("pd,hde->phe", resid + pos, a("W_K")) + a("b_K")
        v = torch.einsum("pd,hde->phe", resid, a("W_V")) + a("b_V")
        scores = torch.einsum("qhe,khe->hqk", q, k) / math.sqrt(DH)
        pattern = scores.masked_fill(~mask, float("-inf")).softmax(-1)
        z = torch.einsum("hqk,khe->qhe", pattern, v)
        result = torch.einsum("qhe,hem->qhm", z, a("W_O"))
        attn_out = result.sum(1) + a("b_O")
        out.update({f"blocks.{l}.attn.hook_q": q, f"blocks.{l}.attn.hook_k": k, f"blocks.{l}.attn.hook_v": v,
                    f"blocks.{l}.attn.hook_pattern": pattern, f"blocks.{l}.attn.hook_z": z,
                    f"blocks.{l}.attn.hook_result": result, f"blocks.{l}.hook_attn_out": attn_out})
        resid = resid + attn_out
        out[f"blocks.{l}.hook_resid_post"] = resid
    out["logits"] = resid @ w["unembed.W_U"] + w["unembed.b_U"]
    return {k: v.numpy() for k, v in out.items()}


PROMPTS = [[0, 5, 9, 13, 5, 9, 13, 2, 30], [0, 7, 7, 1], [0, 39, 38, 37, 36, 35]]


@pytest.mark.parametrize("extra_hooks", [[], ["blocks.*.attn.hook_result", "blocks.1.attn.hook_q_input"]])
def test_attn_only_matches_reference(tmp_path, run_circuit, extra_hooks):
    w = make_model(tmp_path / "toy")
    out = tmp_path / "cache.safetensors"
    args = ["cache", tmp_path / "toy", "--out", out]
    for p in PROMPTS:
        args += ["--tokens", ",".join(map(str, p))]
    hooks = ["blocks.*", "*logits"] + extra_hooks
    for h in hooks:
        args += ["--hooks", h]
    run_circuit(*args)
    ours = load_file(str(out))
    if extra_hooks:
        assert "blocks.1.attn.hook_result" in ours and "blocks.1.attn.hook_q_input" in ours
    for row, ids in enumerate(PROMPTS):
        n = len(ids)
        for name, expected in reference(w, ids).items():
            if name not in ours:
                continue
            got = ours[name][row]
            got = got[:, -n:, -n:] if name.endswith("hook_pattern") else got[-n:]
            np.testing.assert_allclose(got, expected, atol=1e-4, rtol=0, err_msg=f"{name} prompt {row}")


def test_prompt_longer_than_context_is_a_clear_error(tmp_path, run_circuit):
    make_model(tmp_path / "toy")
    proc = run_circuit("cache", tmp_path / "toy", "--out", tmp_path / "x.safetensors",
                       "--tokens", ",".join(["1"] * (CTX + 1)), check=False)
    assert proc.returncode == 1
    assert "context of 24" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_unknown_hook_names_the_nearest(tmp_path, run_circuit):
    make_model(tmp_path / "toy")
    proc = run_circuit("cache", tmp_path / "toy", "--out", tmp_path / "x.safetensors", "--tokens", "1,2",
                       "--hooks", "blocks.0.attn.hook_patern", check=False)
    assert proc.returncode == 1
    assert "did you mean 'blocks.0.attn.hook_pattern'" in proc.stderr
    proc = run_circuit("cache", tmp_path / "toy", "--out", tmp_path / "x.safetensors", "--tokens", "1,2",
                       "--hooks", "blocks.5.attn.hook_z", check=False)
    assert "layers are 0..1" in proc.stderr
