"""`circuit tokenize`: output formats, model resolution and error messages."""
import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import find_circuit_binary

ROOT = Path(__file__).resolve().parents[2]
SMOLLM_GGUF = ROOT / "models" / "smollm2-135m" / "SmolLM2-135M-Instruct.Q4_1.gguf"


def circuit_bin():
    found = find_circuit_binary()
    if found is None:
        pytest.skip("the circuit binary is not built (set CIRCUIT_BIN)")
    return found


def run(*args):
    return subprocess.run([circuit_bin(), "tokenize", *args], capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(not SMOLLM_GGUF.is_file(), reason="SmolLM2 GGUF not present")
def test_smollm2_by_name_and_path():
    by_name = run("smollm2-135m", "--text", " Mary and<|im_start|>", "--json")
    assert by_name.returncode == 0, by_name.stderr
    out = json.loads(by_name.stdout)
    assert out["pieces"] == [" Mary", " and", "<|im_start|>"]
    assert out["ids"][-1] == 1
    by_path = run(str(SMOLLM_GGUF), "--text", " Mary and<|im_start|>", "--json")
    assert json.loads(by_path.stdout) == out
    table = run(str(SMOLLM_GGUF), "--text", "a 12")
    assert table.returncode == 0
    assert table.stdout.splitlines()[0] == "4 tokens"
    assert '"1"' in table.stdout and '" "' in table.stdout


def test_file_mode_and_errors(tmp_path):
    doc = {"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]},
           "pre_tokenizer": None, "decoder": None, "added_tokens": []}
    tok = tmp_path / "tokenizer.json"
    tok.write_text(json.dumps(doc))
    lines = tmp_path / "in.jsonl"
    lines.write_text('"ab"\n"aab"\n""\n')
    out = run(str(tok), "--file", str(lines))
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["[2]", "[0,2]", "[]"]
    lines.write_text('"ab"\n42\n')
    bad_line = run(str(tok), "--file", str(lines))
    assert bad_line.returncode == 1
    assert f"{lines}:2: not a JSON string" in bad_line.stderr
    tok.write_text('{"model": ')
    bad = run(str(tok), "--text", "x")
    assert bad.returncode == 1
    assert bad.stderr.strip() == f"circuit: error: {tok}: not valid JSON"
    doc["model"]["merges"] = ["a c"]
    tok.write_text(json.dumps(doc))
    bad_merge = run(str(tok), "--text", "x")
    assert bad_merge.returncode == 1 and "'c', which is not in the vocabulary" in bad_merge.stderr
    assert run(str(tok)).returncode != 0  # neither --text nor --file
