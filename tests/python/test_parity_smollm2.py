"""Parity of the runtime with Hugging Face on the real SmolLM2-135M-Instruct GGUF (Q4_1,
dequantized by both): logits within 1e-4 and the same top-5 next tokens for "The capital of
France is". Skips when the GGUF is absent."""
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("gguf")
from safetensors.numpy import load_file  # noqa: E402

from reference import load_gguf_model  # noqa: E402

GGUF = Path(__file__).resolve().parents[2] / "models" / "smollm2-135m" / "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.mark.skipif(not GGUF.is_file(), reason="SmolLM2 GGUF not downloaded (scripts/setup.sh)")
def test_smollm2_gguf_logits_match_hf(tmp_path, run_circuit):
    out = tmp_path / "cache.safetensors"
    run_circuit("cache", GGUF, "--prompt", "The capital of France is", "--hooks", "blocks.29.hook_resid_post",
                "--out", out)
    ours = load_file(str(out))
    ids = ours["tokens"][0].tolist()
    model = load_gguf_model(GGUF)
    with torch.no_grad():
        hf = model(torch.tensor([ids])).logits[0].numpy()
    got = ours["logits"][0]
    assert np.abs(got - hf).max() <= 1e-4
    assert list(np.argsort(-got[-1])[:5]) == list(np.argsort(-hf[-1])[:5])
