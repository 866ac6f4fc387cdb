"""Acceptance tests of the runtime's commands as a user runs them: `circuit models`, `inspect`,
`tokenize`, `predict`, `generate` and `cache` on the embedded model (induction-2l) and the real
one (smollm2-135m), by short name, folder and .gguf path, in text and --json.
(test_cli_hf_parity.py compares `predict` and `generate` on SmolLM2 with Hugging Face.)

The binary comes from conftest.find_circuit_binary ($CIRCUIT_BIN, else build/); tests skip when it, a
model or a command is missing."""
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "models"
SMOLLM = MODELS / "smollm2-135m" / "SmolLM2-135M-Instruct.Q4_1.gguf"
TOY = MODELS / "induction-2l"

from conftest import find_circuit_binary

BIN = find_circuit_binary()
_commands = {}


def run(*args, env=None, timeout=120):
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, env=full_env,
                          timeout=timeout)


def ok(*args, env=None):
    proc = run(*args, env=env)
    assert proc.returncode == 0, f"circuit {' '.join(map(str, args))} -> {proc.returncode}\n{proc.stderr}"
    assert "Exception raised from" not in proc.stderr
    return proc


def ok_json(*args, env=None):
    proc = ok(*args, "--json", env=env)
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError as e:
        raise AssertionError(f"--json output is not JSON ({e}):\n{proc.stdout[:2000]}")


def require(*commands):
    """Skips unless the binary has these subcommands (listed by `circuit --help`)."""
    if BIN is None:
        pytest.skip("no circuit binary (set CIRCUIT_BIN)")
    if not _commands:
        listing = run("--help").stdout.split("Subcommands:")[-1]
        _commands.update({line.split()[0]: True for line in listing.splitlines() if line.strip()})
    for name in commands:
        if not _commands.get(name):
            pytest.skip(f"this circuit binary has no '{name}' command")


def require_toy():
    if not (TOY / "model.safetensors").is_file():
        pytest.skip("the embedded model models/induction-2l is not present")


def require_smollm():
    if not SMOLLM.is_file():
        pytest.skip("the SmolLM2 GGUF is not present (scripts/setup.sh)")


# --------------------------------------------------------------------------------------------
# circuit models

def test_models_lists_the_models_folder():
    require("models")
    require_toy()
    listed = {m["name"]: m for m in ok_json("models")}
    assert listed["induction-2l"]["format"] == "safetensors"
    assert (listed["induction-2l"]["n_layers"], listed["induction-2l"]["n_heads"],
            listed["induction-2l"]["d_model"], listed["induction-2l"]["d_vocab"]) == (2, 4, 64, 128)
    if SMOLLM.is_file():
        s = listed["smollm2-135m"]
        assert (s["format"], s["family"]) == ("gguf", "llama")
        assert (s["n_layers"], s["n_heads"], s["d_model"], s["d_vocab"]) == (30, 9, 576, 49152)
    table = ok("models").stdout.splitlines()
    assert table[0].split()[:2] == ["NAME", "FORMAT"]
    assert any(line.split()[0] == "induction-2l" for line in table[1:])


def test_models_folder_from_the_environment(tmp_path):
    require("models")
    assert ok_json("models", env={"CIRCUIT_MODELS": str(tmp_path)}) == []


# --------------------------------------------------------------------------------------------
# circuit inspect

def safetensors_shapes(path):
    with open(path, "rb") as f:
        header = json.loads(f.read(int.from_bytes(f.read(8), "little")))
    return {k: v["shape"] for k, v in header.items() if k != "__metadata__"}


TOY_HOOKS = {  # name -> concrete sizes, for the attention-only model (no norm, no MLP)
    "hook_embed": "[batch, pos, 64]",
    "hook_pos_embed": "[batch, pos, 64]",
    "blocks.{l}.hook_resid_pre": "[batch, pos, 64]",
    "blocks.{l}.attn.hook_q": "[batch, pos, 4, 16]",
    "blocks.{l}.attn.hook_k": "[batch, pos, 4, 16]",
    "blocks.{l}.attn.hook_v": "[batch, pos, 4, 16]",
    "blocks.{l}.attn.hook_attn_scores": "[batch, 4, q_pos, k_pos]",
    "blocks.{l}.attn.hook_pattern": "[batch, 4, q_pos, k_pos]",
    "blocks.{l}.attn.hook_z": "[batch, pos, 4, 16]",
    "blocks.{l}.hook_attn_out": "[batch, pos, 64]",
    "blocks.{l}.hook_resid_post": "[batch, pos, 64]",
    "hook_logits": "[batch, pos, 128]",
}


OPT_IN = ["blocks.{l}.attn.hook_q_input", "blocks.{l}.attn.hook_k_input",
          "blocks.{l}.attn.hook_v_input", "blocks.{l}.attn.hook_result"]


def test_inspect_embedded_model():
    require("inspect")
    require_toy()
    info = ok_json("inspect", "induction-2l")
    assert info["family"] == "attn-only" or "attn" in info["family"]
    assert (info["n_layers"], info["n_heads"], info["d_model"], info["d_head"], info["d_vocab"],
            info["n_ctx"]) == (2, 4, 64, 16, 128, 64)
    tensors = safetensors_shapes(TOY / "model.safetensors")
    assert info["parameters"] == sum(int(np.prod(shape)) for shape in tensors.values())
    assert {k.upper(): n for k, n in info["stored_types"].items()} == {"F32": len(tensors)}
    hooks = {h["name"]: h for h in info["hook_points"]}
    assert set(hooks) == set(TOY_HOOKS) | set(OPT_IN), sorted(hooks)
    assert {n for n, h in hooks.items() if h["opt_in"]} == set(OPT_IN)
    for name, sizes in TOY_HOOKS.items():
        assert name in hooks, f"inspect lacks {name}; has {sorted(hooks)}"
        assert hooks[name]["sizes"] == sizes, (name, hooks[name])
    # An attention-only model without norms or MLPs has none of their hook points.
    assert not any("mlp" in n or "ln" in n for n in hooks), sorted(hooks)
    text = ok("inspect", "induction-2l").stdout
    for name in TOY_HOOKS:
        assert name in text
    assert str(info["parameters"]) in text


def test_inspect_smollm2_by_name_and_path():
    require("inspect")
    require_smollm()
    info = ok_json("inspect", "smollm2-135m")
    assert ok_json("inspect", SMOLLM)["hook_points"] == info["hook_points"]
    assert (info["family"], info["format"]) == ("llama", "gguf")
    assert (info["n_layers"], info["n_heads"], info["n_kv_heads"], info["d_model"], info["d_head"],
            info["d_mlp"], info["d_vocab"]) == (30, 9, 3, 576, 64, 1536, 49152)
    assert info["tied_embeddings"] is True
    # 134.5M parameters in SmolLM2-135M (tied embeddings: token_embd counted once).
    assert 134_000_000 <= info["parameters"] <= 135_000_000, info["parameters"]
    assert {k.upper(): n for k, n in info["stored_types"].items()} == {"Q4_1": 210, "F32": 61, "Q8_0": 1}
    hooks = {h["name"]: h for h in info["hook_points"]}
    per_layer = ["hook_resid_pre", "ln1.hook_scale", "ln1.hook_normalized", "attn.hook_q", "attn.hook_k",
                 "attn.hook_v", "attn.hook_rot_q", "attn.hook_rot_k", "attn.hook_attn_scores",
                 "attn.hook_pattern", "attn.hook_z", "hook_attn_out", "hook_resid_mid", "ln2.hook_scale",
                 "ln2.hook_normalized", "hook_mlp_in", "mlp.hook_pre", "mlp.hook_pre_linear",
                 "mlp.hook_post", "hook_mlp_out", "hook_resid_post"]
    names = {"hook_embed", "ln_final.hook_scale", "ln_final.hook_normalized", "hook_logits"}
    names |= {"blocks.{l}." + n for n in per_layer} | set(OPT_IN)
    assert set(hooks) == names, sorted(set(hooks) ^ names)
    assert {n for n, h in hooks.items() if h["opt_in"]} == set(OPT_IN)
    expected = {
        "blocks.{l}.hook_resid_pre": "[batch, pos, 576]",
        "blocks.{l}.attn.hook_q": "[batch, pos, 9, 64]",
        "blocks.{l}.attn.hook_k": "[batch, pos, 3, 64]",
        "blocks.{l}.attn.hook_pattern": "[batch, 9, q_pos, k_pos]",
        "blocks.{l}.attn.hook_z": "[batch, pos, 9, 64]",
        "blocks.{l}.mlp.hook_post": "[batch, pos, 1536]",
        "blocks.{l}.hook_resid_post": "[batch, pos, 576]",
        "hook_logits": "[batch, pos, 49152]",
    }
    for name, sizes in expected.items():
        assert hooks[name]["sizes"] == sizes, (name, hooks[name])
    assert "hook_pos_embed" not in hooks  # rotary, not learned positions


# --------------------------------------------------------------------------------------------
# circuit tokenize

def test_tokenize_embedded_model():
    require("tokenize")
    require_toy()
    out = ok_json("tokenize", "induction-2l", "--text", "Hi!")
    assert out["ids"] == [0, ord("H"), ord("i"), ord("!")]
    assert out["pieces"][1:] == ["H", "i", "!"]


def test_tokenize_smollm2():
    require("tokenize")
    require_smollm()
    out = ok_json("tokenize", "smollm2-135m", "--text", "The capital of France is")
    assert out["pieces"] == ["The", " capital", " of", " France", " is"]


# --------------------------------------------------------------------------------------------
# circuit predict / generate / cache on the embedded model

def test_predict_induction_completes_a_repeat():
    """The induction model continues a repeated random sequence: after '...XQJWVZKP XQJW'
    the next token is 'V'."""
    require("predict")
    require_toy()
    out = ok_json("predict", "induction-2l", "--prompt", "XQJWVZKPXQJW", "--top", "3")
    assert out["tokens"] == [0] + [ord(c) for c in "XQJWVZKPXQJW"]
    assert [t["rank"] for t in out["top"]] == [1, 2, 3]
    assert out["top"][0]["token"] == "V", out["top"]
    probs = [t["prob"] for t in out["top"]]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-6
    text = ok("predict", "induction-2l", "--prompt", "XQJWVZKPXQJW", "--top", "3").stdout
    assert '"V"' in text.splitlines()[1]


def test_model_argument_forms(tmp_path):
    """MODEL is a short name, a folder, a config.json, or (through $CIRCUIT_MODELS) a name in
    another models folder: all give the same prediction."""
    require("predict")
    require_toy()
    args = ["--prompt", "XQJWVZKPXQJW", "--top", "3"]
    by_name = ok_json("predict", "induction-2l", *args)["top"]
    assert ok_json("predict", TOY, *args)["top"] == by_name
    assert ok_json("predict", TOY / "config.json", *args)["top"] == by_name
    (tmp_path / "my-toy").symlink_to(TOY)
    assert ok_json("predict", "my-toy", *args, env={"CIRCUIT_MODELS": str(tmp_path)})["top"] == by_name


def test_generate_greedy_and_sampled():
    require("generate")
    require_toy()
    greedy = ok_json("generate", "induction-2l", "--prompt", "XQJWVZKPXQJ", "--max-tokens", "4")
    assert len(greedy["generated_tokens"]) == 4
    assert greedy["text"].startswith("WVZ"), greedy
    again = ok_json("generate", "induction-2l", "--prompt", "XQJWVZKPXQJ", "--max-tokens", "4")
    assert again == greedy
    sample = ["generate", "induction-2l", "--prompt", "abc", "--max-tokens", "12",
              "--temperature", "1.5", "--top-p", "0.95"]
    a = ok_json(*sample, "--seed", "1")
    b = ok_json(*sample, "--seed", "1")
    c = ok_json(*sample, "--seed", "2")
    assert a == b, "the same seed must give the same sample"
    assert a["generated_tokens"] != c["generated_tokens"], "different seeds gave the same 12 tokens"
    text = ok("generate", "induction-2l", "--prompt", "XQJWVZKPXQJ", "--max-tokens", "4").stdout
    assert text.strip() == "XQJWVZKPXQJ" + greedy["text"]


def test_generate_stops_at_the_context():
    require("generate")
    require_toy()
    out = ok_json("generate", "induction-2l", "--prompt", "ab" * 30, "--max-tokens", "50")
    assert len(out["prompt_tokens"]) + len(out["generated_tokens"]) == 64


def test_cache_writes_the_hook_points(tmp_path):
    require("cache")
    require_toy()
    from safetensors.numpy import load_file
    out = tmp_path / "c.safetensors"
    summary = ok_json("cache", "induction-2l", "--prompt", "abcabc", "--prompt", "xyz",
                      "--hooks", "blocks.*.attn.hook_pattern", "--out", out)
    assert (summary["batch"], summary["seq"], summary["hook_points"]) == (2, 7, 2)
    saved = load_file(str(out))
    assert saved["blocks.1.attn.hook_pattern"].shape == (2, 4, 7, 7)
    assert saved["logits"].shape == (2, 7, 128)
    rows = saved["blocks.0.attn.hook_pattern"][0].sum(-1)
    assert np.allclose(rows, 1, atol=1e-5)


# `tokenize` runs no model, so it has no device or dtype (it takes --json, tested above).
@pytest.mark.parametrize("command", ["models", "inspect", "predict", "generate", "cache"])
def test_every_command_takes_device_dtype_and_json(command, tmp_path):
    """The runtime issue: each command that runs a model takes --device, --dtype and --json."""
    require(command)
    require_toy()
    args = {
        "models": ["models"],
        "inspect": ["inspect", "induction-2l"],
        "tokenize": ["tokenize", "induction-2l", "--text", "ab"],
        "predict": ["predict", "induction-2l", "--prompt", "ab"],
        "generate": ["generate", "induction-2l", "--prompt", "ab", "--max-tokens", "1"],
        "cache": ["cache", "induction-2l", "--prompt", "ab", "--hooks", "hook_embed",
                  "--out", tmp_path / "c.safetensors"],
    }[command]
    json.loads(ok(*args, "--device", "cpu", "--dtype", "float32", "--json").stdout)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_predict_in_half_precision_agrees(dtype):
    require("predict")
    require_toy()
    prompt = "XQJWVZKPXQJW"
    full = ok_json("predict", "induction-2l", "--prompt", prompt, "--top", "1")["top"][0]
    half = ok_json("predict", "induction-2l", "--prompt", prompt, "--top", "1", "--dtype", dtype)["top"][0]
    assert half["id"] == full["id"]
    assert abs(half["prob"] - full["prob"]) < 0.05
