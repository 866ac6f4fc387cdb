"""Every example's claims hold (`circuit test` on ablation and induction; the IOI example on
SmolLM2-135M through `circuit run`, whose results say each claim passed), IOI names its top
heads, and its results are a valid interchange document and match schema/results.schema.json.
This is the slowest test (about 2 minutes on 2 cores at ~200 GFLOP/s of fp32 matmul, 8 or more
at ~50, which is why each command may take 30 minutes): the IOI example runs a patching sweep
over 270 heads, path patching, EAP-IG over 70,651 edges, faithfulness and a CPR curve."""
import json
import subprocess
from pathlib import Path

import pytest

from conftest import circuit_binary_with
from test_results_schema import assert_valid_results

REPO = Path(__file__).resolve().parents[2]
SMOLLM2 = REPO / "models" / "smollm2-135m" / "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture(scope="module")
def binary():
    path = circuit_binary_with("run")
    if not SMOLLM2.is_file():
        pytest.skip("SmolLM2-135M is not downloaded (scripts/setup.sh fetches it)")
    return path


def test_every_example_passes_its_claims_and_ioi_names_its_heads(binary, tmp_path):
    # `circuit test` writes no results; the IOI example, the slow one, is run once, by `circuit
    # run` (its claims are checked in the results it writes, below), not a second time here.
    # From the repository root, so that files are named as a user types them ("examples/...").
    proc = subprocess.run([binary, "test", "examples/ablation.circuit", "examples/induction.circuit"],
                          capture_output=True, text=True, timeout=1800, cwd=REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in ("ablation", "induction"):
        assert f"ok   examples/{name}.circuit" in proc.stdout, proc.stdout
    assert "0 failed" in proc.stdout, proc.stdout

    out = tmp_path / "ioi"
    run = subprocess.run([binary, "run", REPO / "examples" / "ioi.circuit", "--out", out],
                         capture_output=True, text=True, timeout=1800)
    assert run.returncode == 0, run.stdout + run.stderr
    results = json.loads((out / "results.json").read_text())
    assert_valid_results(results)  # schema/results.schema.json: the contract the web app reads
    effects = results["scores"]["head_effects"]
    assert len(effects) == 270
    top = sorted(effects, key=lambda node: -abs(effects[node]))[:10]
    # The top heads are late-layer heads (name movers and their kin), not the embedding's neighbours.
    assert all(int(node[1:].split(".")[0]) >= 10 for node in top), top
    assert "head_effects" in run.stdout, run.stdout
    assert len(results["circuits"]["eap_circuit"]) == 3500
    assert results["passed"] is True
    claims = results["claims"]
    assert len(claims) == 3 and all(claim["passed"] is True for claim in claims), claims
    assert run.stdout.count("PASS") == 3 and "FAIL" not in run.stdout, run.stdout
    check = subprocess.run([binary, "validate-doc", out / "circuit.json"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
