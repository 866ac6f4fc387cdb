"""Checks the known-circuit models models/known-*/ (written by scripts/make_known_models.py):
the committed files match SHA256SUMS, re-running the script reproduces them bit for bit, each
model does its task, every edge's EAP / EAP-IG / patching score separates the true edges
(circuit.json) from the rest, and the runtime (`circuit predict`, `circuit validate-doc`) agrees.
CPU, a few seconds."""
from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "make_known_models.py"
sys.path.insert(0, str(ROOT / "scripts"))

import make_known_models as km  # noqa: E402
from conftest import find_circuit_binary  # noqa: E402

MODELS = {m.name: m for m in km.known_models()}
FILES = ["SHA256SUMS", "circuit.json", "config.json", "model.safetensors", "tokenizer.json"]


def read_sums(folder: Path) -> dict[str, str]:
    sums = {}
    for line in (folder / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split("  ", 1)
        sums[name] = digest
    return sums


@pytest.mark.parametrize("name", sorted(MODELS))
def test_committed_files_match_sha256sums(name):
    folder = ROOT / "models" / name
    sums = read_sums(folder)
    assert sorted(sums) == sorted(f for f in FILES if f != "SHA256SUMS")
    for file, digest in sums.items():
        assert hashlib.sha256((folder / file).read_bytes()).hexdigest() == digest, file


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    out = tmp_path_factory.mktemp("known")
    subprocess.run([sys.executable, str(SCRIPT), "--out", str(out)], check=True,
                   capture_output=True, text=True, timeout=120)
    return out


@pytest.mark.parametrize("name", sorted(MODELS))
def test_script_reproduces_the_committed_files(regenerated, name):
    for file in FILES:
        fresh = (regenerated / name / file).read_bytes()
        committed = (ROOT / "models" / name / file).read_bytes()
        assert fresh == committed, f"{name}/{file} differs from a fresh run of the script"


@pytest.mark.parametrize("name", sorted(MODELS))
def test_circuit_document_names_the_true_edges(name):
    doc = json.loads((ROOT / "models" / name / "circuit.json").read_text())
    edges = [e["id"] for e in doc["edges"] if e["in_circuit"]]
    assert edges == MODELS[name].true_edges
    assert set(edges) <= set(km.all_edges())
    weights = (ROOT / "models" / name / "model.safetensors").read_bytes()
    assert doc["model"]["weights_sha256"] == hashlib.sha256(weights).hexdigest()
    assert len(doc["task"]["pairs"]) == len(doc["task"]["answers"]) == len(doc["task"]["wrong_answers"])


@pytest.mark.parametrize("name", sorted(MODELS))
def test_edge_scores_separate_true_from_false_edges(name):
    figures = km.verify(MODELS[name], ROOT / "models" / name)
    # The task is done on every prompt pair, and the corrupt prompts flip the logit difference.
    assert figures["accuracy"] == 1.0
    assert figures["metric_clean"] > 5.0 and figures["metric_corrupt"] < -5.0
    for method in ("eap", "eap_ig", "edge_patching"):
        f = figures[method]
        assert f["auc"] >= 0.95, (method, f)
        # By construction a false edge carries nothing: the sender is unchanged by the corrupt
        # prompt, or the receiver ignores its subspace, or the receiver is off the metric's path.
        assert f["max_false"] < 1e-6 < 0.1 < f["min_true"], (method, f)


def test_edge_graph_size():
    # input -> 8 heads x qkv (24), layer 0 -> layer 1 heads x qkv (48), 9 senders -> logits.
    edges = km.all_edges()
    assert len(edges) == len(set(edges)) == 24 + 48 + 9


@pytest.mark.parametrize("name,prompt,expected", [
    ("known-prev-token", "pnmlkjih", "i"),
    ("known-induction", "bdkfanpcbdk", "f"),
])
def test_runtime_predicts_the_task_answer(name, prompt, expected):
    binary = find_circuit_binary()
    if binary is None:
        pytest.skip("the circuit binary is not built (set CIRCUIT_BIN)")
    out = subprocess.run([binary, "predict", str(ROOT / "models" / name), "--prompt", prompt],
                         check=True, capture_output=True, text=True, timeout=60).stdout
    first = next(line for line in out.splitlines() if line.strip().startswith("1 "))
    assert f'"{expected}"' in first, out
    doc = subprocess.run([binary, "validate-doc", str(ROOT / "models" / name / "circuit.json")],
                         capture_output=True, text=True, timeout=60)
    assert doc.returncode == 0, doc.stderr


def circuit_task_lists(path: Path) -> dict[str, list[str]]:
    """The string lists of the task block of a .circuit file, by property name."""
    text = path.read_text()
    block = text[text.index("task "):]
    block = block[:block.index("}")]
    out = {}
    for prop in ("prompts", "corrupt", "answers", "wrong"):
        m = re.search(prop + r":\s*\[(.*?)\]", block, re.S)
        assert m, f"{path}: task has no {prop}"
        out[prop] = re.findall(r'"([^"]*)"', m.group(1))
    return out


@pytest.mark.parametrize("name", sorted(MODELS))
def test_circuit_programs_use_the_models_task(name):
    program = ROOT / "tests" / "circuits" / (name.replace("-", "_") + ".circuit")
    lists = circuit_task_lists(program)
    t = MODELS[name].task
    assert lists == {"prompts": t.clean, "corrupt": t.corrupt, "answers": t.answers, "wrong": t.wrong}
    assert f'model "{name}"' in program.read_text()
