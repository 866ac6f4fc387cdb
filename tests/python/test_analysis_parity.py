"""Parity of the node analyses (logit lens, per layer and per position, direct logit attribution, head patching sweep, path
patching into the logits, attribution patching, head detectors) with reference implementations
written with PyTorch hooks on Hugging Face transformers (tests/python/reference), within 1e-4:
on a tiny random GPT-2 (saved with save_pretrained, sharing induction-2l's byte-level tokenizer)
and on SmolLM2-135M (the GGUF, which HF dequantizes itself).

Our side is `circuit run FILE --model M --out DIR` (tensors "<experiment>/<key>" in
DIR/tensors.safetensors); the token ids and answer ids both sides use come from the hook plan
(`circuit compile --emit plan`). The tests skip while the binary has no `run` command."""
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
from safetensors.numpy import load_file  # noqa: E402

from reference import ModelParts, load_gguf_model  # noqa: E402
import reference as ref  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"
GGUF = REPO / "models" / "smollm2-135m" / "SmolLM2-135M-Instruct.Q4_1.gguf"
TOL = 1e-4


@pytest.fixture(scope="module")
def circuit_with_run(circuit_bin):
    helped = subprocess.run([circuit_bin, "--help"], capture_output=True, text=True).stdout
    if not any(line.split()[:1] == ["run"] for line in helped.splitlines()):
        pytest.skip("`circuit run` is not in this build yet")
    return circuit_bin


def run_ours(run_circuit, source, model, out):
    """(plan, tensors, results): the compiled hook plan and what `circuit run` wrote."""
    plan_file = out / "plan.json"
    run_circuit("compile", source, "--model", model, "--emit", "plan", "-o", plan_file)
    run_circuit("run", source, "--model", model, "--out", out / "run", timeout=600)
    return (json.loads(plan_file.read_text()), load_file(str(out / "run" / "tensors.safetensors")),
            json.loads((out / "run" / "results.json").read_text()))


def analysis_entry(results, name):
    """results.json's entry of the analysis NAME."""
    for experiment in results["experiments"]:
        for analysis in experiment.get("analyses", []):
            if analysis["name"] == name:
                return analysis
    raise AssertionError(f"results.json has no analysis {name}")


def check_top_tokens(parts, tokens, ours, lens_entry):
    """The per-position logit lens: the argmax token and its probability at every layer and
    position (the prompts are of equal lengths: no padding), and the text of every id."""
    ids, probs, gaps = ref.logit_lens_top_tokens(parts, tokens)
    got = ours["lens/top_tokens"]
    assert got.shape == tuple(ids.shape), f"lens/top_tokens: shape {got.shape}, reference {tuple(ids.shape)}"
    # Where the top two logits tie to float rounding either may win.
    ties = gaps.numpy() < 1e-4
    differ = (got.astype(np.int64) != ids.numpy()) & ~ties
    assert not differ.any(), f"lens/top_tokens: {int(differ.sum())} of {got.size} cells differ"
    assert ties.mean() < 0.05, "too many ties for the argmax check to mean anything"
    close("lens/top_probs", ours["lens/top_probs"], probs)
    text = lens_entry["token_text"]
    assert sorted(int(k) for k in text) == sorted({int(i) for i in got.flatten()})
    return text


def close(name, got, expected, tol=TOL):
    """Compares where both are numbers; NaN marks what was not scored and must agree."""
    got = np.asarray(got, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert got.shape == expected.shape, f"{name}: shape {got.shape}, reference {expected.shape}"
    assert np.array_equal(np.isnan(got), np.isnan(expected)), f"{name}: scored different heads"
    both = ~np.isnan(got)
    assert both.any(), f"{name}: nothing scored"
    diff = float(np.abs(got[both] - expected[both]).max())
    assert diff <= tol, f"{name}: max abs difference {diff:.3g} (largest value {np.abs(expected[both]).max():.3g})"


def sweep_rows(scores, layers, n_layers):
    """A sweep's [n_layers, n_heads] scores, or only the swept layers' rows."""
    return scores[layers] if scores.shape[0] == n_layers else scores


def check_analyses(plan, ours, results, model, sweep_layers):
    parts = ModelParts(model)
    batches = {b["name"]: torch.tensor(b["rows"]) for b in plan["batches"]}
    analyses = {a["name"]: a for a in plan["analyses"]}
    metric = analyses["direct"]["metric"]
    answers, wrong = torch.tensor(metric["answers"]), torch.tensor(metric["wrong_answers"])
    clean = batches[analyses["paths"]["batch"]]
    corrupt = batches[analyses["paths"]["corrupt_batch"]]

    close("lens/metric", ours["lens/metric"], ref.logit_lens(parts, clean, answers, wrong))
    token_text = check_top_tokens(parts, clean, ours, analysis_entry(results, "lens"))
    dla = ref.direct_logit_attribution(parts, clean, answers, wrong)
    close("direct/heads", ours["direct/heads"], dla["heads"])
    close("direct/mlps", ours["direct/mlps"], dla["mlps"])
    # The identity: contributions and bias terms add up to the clean logit difference.
    total = float(dla["heads"].sum() + dla["mlps"].sum()) + dla["input"] + dla["bias"]
    assert abs(total - dla["logit"]) <= TOL

    senders = [tuple(int(x) for x in node[1:].split(".h")) for node in analyses["paths"]["nodes"]]
    paths = ref.path_patching_to_logits(parts, clean, corrupt, answers, wrong,
                                        normalize="normalize" in analyses["paths"]["metric"], heads=senders)
    close("paths/scores", ours["paths/scores"], paths)
    close("atp/scores", ours["atp/scores"], ref.attribution_patching(parts, clean, corrupt, answers, wrong))
    close("prev/scores", ours["prev/scores"], ref.previous_token_score(parts, clean))
    if "dup" in analyses:
        close("dup/scores", ours["dup/scores"], ref.duplicate_token_score(parts, clean))
    if "ind" in analyses:
        close("ind/scores", ours["ind/scores"], ref.induction_score(parts, clean))

    swept = [(l, h) for l in sweep_layers for h in range(parts.n_heads)]
    sweep = ref.head_patching_sweep(parts, clean, corrupt, answers, wrong, position=-1, normalize=True, heads=swept)
    close("sweep/scores", sweep_rows(ours["sweep/scores"], sweep_layers, parts.n_layers), sweep[sweep_layers])
    return token_text


def test_tiny_gpt2(tiny_model, run_circuit, circuit_with_run, tmp_path):
    # Weights ten times larger than GPT-2's initialization, so that every analysis moves.
    config = transformers.GPT2Config(vocab_size=128, n_positions=64, n_embd=48, n_layer=2, n_head=4,
                                     activation_function="gelu_new", layer_norm_epsilon=1e-5,
                                     initializer_range=0.3, bos_token_id=0, eos_token_id=0)
    model, folder = tiny_model(config)
    shutil.copy(REPO / "models" / "induction-2l" / "tokenizer.json", folder / "tokenizer.json")
    plan, ours, results = run_ours(run_circuit, DATA / "analysis_parity_tiny.circuit", folder, tmp_path)
    model.set_attn_implementation("eager")
    token_text = check_analyses(plan, ours, results, model, sweep_layers=[0, 1])
    # induction-2l's byte-level tokenizer: id i is the character i (0 is BOS).
    assert all(text == (chr(int(i)) if int(i) else "<|bos|>") for i, text in token_text.items()), token_text


@pytest.mark.skipif(not GGUF.is_file(), reason="SmolLM2 GGUF not downloaded (scripts/setup.sh)")
def test_smollm2(run_circuit, circuit_with_run, tmp_path):
    plan, ours, results = run_ours(run_circuit, DATA / "analysis_parity_smollm2.circuit", GGUF, tmp_path)
    model = load_gguf_model(GGUF)
    model.set_attn_implementation("eager")
    check_analyses(plan, ours, results, model, sweep_layers=[29])
