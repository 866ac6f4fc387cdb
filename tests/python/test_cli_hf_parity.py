"""The runtime issue's acceptance check against Hugging Face:
`circuit predict smollm2-135m --prompt "The capital of France is" --top 5` prints the same top
tokens and probabilities (within 1e-4) as transformers loading the same GGUF (dequantized by
HF's own GGUF loader, fp32), and greedy `circuit generate` continues the prompt with the same
tokens. HF's model is loaded once for the module (the slow part: ~10 s of CPU).

The binary comes from conftest.find_circuit_binary ($CIRCUIT_BIN, else build/); tests skip when it, the
GGUF, a command or transformers/gguf is missing."""
import json
import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
SMOLLM = REPO / "models" / "smollm2-135m" / "SmolLM2-135M-Instruct.Q4_1.gguf"
FRANCE = "The capital of France is"
# What HF's AutoTokenizer.from_pretrained(gguf_file=...) gives for FRANCE (no BOS for this BPE
# vocabulary). Loading that tokenizer takes ~10 s, so its answer is written down here.
FRANCE_IDS = [504, 3575, 282, 4649, 314]

from conftest import find_circuit_binary

BIN = find_circuit_binary()


def run(*args):
    return subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, timeout=300)


def ok(*args):
    proc = run(*args)
    assert proc.returncode == 0, f"circuit {' '.join(map(str, args))} -> {proc.returncode}\n{proc.stderr}"
    return proc.stdout


def require(command):
    if BIN is None:
        pytest.skip("no circuit binary (set CIRCUIT_BIN)")
    listing = run("--help").stdout.split("Subcommands:")[-1]
    if command not in {line.split()[0] for line in listing.splitlines() if line.strip()}:
        pytest.skip(f"this circuit binary has no '{command}' command")


@pytest.fixture(scope="module")
def hf_smollm():
    """HF's GGUF loader on the same file: config, dequantization and q/k un-permutation are all
    transformers' own. (from_pretrained(gguf_file=) needs `accelerate`, which we do not
    install, for what its loader does; so the loader is called directly, on a model built
    without the random initialisation that it would overwrite anyway.)"""
    if not SMOLLM.is_file():
        pytest.skip("the SmolLM2 GGUF is not present (scripts/setup.sh)")
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    pytest.importorskip("gguf")
    from transformers.initialization import no_init_weights
    from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint

    config = transformers.AutoConfig.from_pretrained(str(SMOLLM.parent), gguf_file=SMOLLM.name)
    with no_init_weights():
        model = transformers.AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    tensors = load_gguf_checkpoint(str(SMOLLM), return_tensors=True, model_to_load=model)["tensors"]
    missing, unexpected = model.load_state_dict(tensors, strict=False)
    assert not unexpected and set(missing) <= {"lm_head.weight"}, (missing, unexpected)
    model.tie_weights()
    assert torch.equal(model.lm_head.weight, model.model.embed_tokens.weight)
    return model.float().eval()


def test_predict_france_matches_hugging_face(hf_smollm):
    import torch

    require("predict")
    ours = json.loads(ok("predict", "smollm2-135m", "--prompt", FRANCE, "--top", "5", "--json"))
    assert ours["tokens"] == FRANCE_IDS
    with torch.no_grad():
        logits = hf_smollm(torch.tensor([FRANCE_IDS])).logits[0, -1].double()
    probs = torch.softmax(logits, -1).numpy()
    hf_top = np.argsort(-probs)[:5].tolist()
    assert [t["id"] for t in ours["top"]] == hf_top
    for t in ours["top"]:
        assert abs(t["prob"] - probs[t["id"]]) <= 1e-4, (t, float(probs[t["id"]]))
        assert abs(t["logit"] - float(logits[t["id"]])) <= 1e-3, (t, float(logits[t["id"]]))
    assert ours["top"][0]["token"] == " Paris"
    # The text output shows the same five tokens and probabilities (4 decimals).
    text = ok("predict", "smollm2-135m", "--prompt", FRANCE, "--top", "5").splitlines()
    rows = [line for line in text if re.match(r"\s*\d+\s", line)]
    assert len(rows) == 5, text
    for row, t in zip(rows, ours["top"]):
        assert json.dumps(t["token"]) in row and f"{t['prob']:.4f}" in row, (row, t)


def test_generate_greedy_matches_hugging_face(hf_smollm):
    import torch

    require("generate")
    ours = json.loads(ok("generate", "smollm2-135m", "--prompt", FRANCE, "--max-tokens", "6", "--json"))
    assert ours["prompt_tokens"] == FRANCE_IDS
    with torch.no_grad():
        hf = hf_smollm.generate(torch.tensor([FRANCE_IDS]), max_new_tokens=6, do_sample=False,
                                attention_mask=torch.ones(1, len(FRANCE_IDS), dtype=torch.long),
                                pad_token_id=hf_smollm.config.eos_token_id)
    assert ours["generated_tokens"] == hf[0, len(FRANCE_IDS):].tolist()
    assert ours["text"].startswith(" Paris")
