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

GGUF = Path(__file__).resolve().parents[2] / "models" / "smollm2-135m" / "SmolLM2-135M-Instruct.Q4_1.gguf"


def hf_model_from_gguf():
    """HF's own GGUF loading (dequantization and q/k un-permutation). from_pretrained needs
    `accelerate` for GGUF files; without it, the same HF loader is called directly."""
    try:
        return transformers.AutoModelForCausalLM.from_pretrained(
            str(GGUF.parent), gguf_file=GGUF.name, dtype=torch.float32).eval()
    except ValueError as e:
        if "accelerate" not in str(e):
            raise
    from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint
    config = transformers.AutoConfig.from_pretrained(str(GGUF.parent), gguf_file=GGUF.name)
    model = transformers.AutoModelForCausalLM.from_config(config).float().eval()
    tensors = load_gguf_checkpoint(str(GGUF), return_tensors=True, model_to_load=model)["tensors"]
    missing, unexpected = model.load_state_dict(tensors, strict=False)
    assert not unexpected and set(missing) <= {"lm_head.weight"}, (missing, unexpected)
    model.tie_weights()
    return model


@pytest.mark.skipif(not GGUF.is_file(), reason="SmolLM2 GGUF not downloaded (scripts/setup.sh)")
def test_smollm2_gguf_logits_match_hf(tmp_path, run_circuit):
    out = tmp_path / "cache.safetensors"
    run_circuit("cache", GGUF, "--prompt", "The capital of France is", "--hooks", "blocks.29.hook_resid_post",
                "--out", out)
    ours = load_file(str(out))
    ids = ours["tokens"][0].tolist()
    model = hf_model_from_gguf()
    with torch.no_grad():
        hf = model(torch.tensor([ids])).logits[0].numpy()
    got = ours["logits"][0]
    assert np.abs(got - hf).max() <= 1e-4
    assert list(np.argsort(-got[-1])[:5]) == list(np.argsort(-hf[-1])[:5])
