"""End-to-end checks of model resolution (runtime/formats/model_source) through the CLI:
`circuit models` over a models folder, and the error for an unknown model name.
The binary comes from conftest.find_circuit_binary ($CIRCUIT_BIN, else build/); tests skip when the
binary lacks the commands (a build without libtorch has no `models`)."""
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]

from conftest import find_circuit_binary

BIN = find_circuit_binary()


def run(*args, models=None):
    env = dict(os.environ)
    if models is not None:
        env["CIRCUIT_MODELS"] = str(models)
    return subprocess.run([BIN, *args], capture_output=True, text=True, env=env, timeout=120)


def require_command(name):
    if BIN is None:
        pytest.skip("no circuit binary (set CIRCUIT_BIN)")
    if run(name, "--help").returncode != 0:
        pytest.skip(f"this circuit binary has no '{name}' command")


def write_toy(folder: Path):
    from safetensors.numpy import save_file
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({
        "model_type": "circuitry-attn-only", "n_layers": 1, "d_model": 8, "n_heads": 2,
        "d_head": 4, "d_vocab": 5, "n_ctx": 6, "bos_token_id": 0, "add_bos": True}))
    save_file({"embed.W_E": np.zeros((5, 8), np.float32)}, str(folder / "model.safetensors"))


def test_models_lists_a_folder_and_warns_about_broken_models(tmp_path):
    require_command("models")
    write_toy(tmp_path / "toy-1l")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text('{"model_type": "llama", "hidden_size": 8}')
    result = run("models", "--json", models=tmp_path)
    assert result.returncode == 0, result.stderr
    listed = {m["name"]: m for m in json.loads(result.stdout)}
    assert set(listed) == {"toy-1l"}
    assert listed["toy-1l"]["n_layers"] == 1 and listed["toy-1l"]["d_vocab"] == 5
    assert listed["toy-1l"]["format"] == "safetensors"
    text = run("models", models=tmp_path)
    assert text.returncode == 0, text.stderr
    assert "toy-1l" in text.stdout
    assert "missing field 'num_hidden_layers'" in text.stderr


def test_models_reads_the_real_smollm2_gguf():
    require_command("models")
    if not (REPO / "models" / "smollm2-135m").is_dir():
        pytest.skip("models/smollm2-135m is not present")
    result = run("models", "--json", models=REPO / "models")
    assert result.returncode == 0, result.stderr
    smol = {m["name"]: m for m in json.loads(result.stdout)}["smollm2-135m"]
    assert smol["format"] == "gguf"
    assert (smol["n_layers"], smol["n_heads"], smol["d_model"], smol["d_vocab"]) == (30, 9, 576, 49152)


def test_unknown_model_suggests_the_nearest_name(tmp_path):
    require_command("inspect")
    write_toy(tmp_path / "smollm2-135m")
    result = run("inspect", "smollm-135m", models=tmp_path)
    assert result.returncode == 1
    assert "unknown model 'smollm-135m'" in result.stderr
    assert "did you mean 'smollm2-135m'?" in result.stderr
