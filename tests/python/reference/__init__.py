"""Reference implementations of Circuitry's node analyses (logit lens, direct logit attribution,
head patching, path patching into the logits, attribution patching, head detectors), written
independently of the runtime with PyTorch forward hooks on Hugging Face transformers models, for
tests/python/test_analysis_parity.py."""
from .hf_parts import ModelParts, load_gguf_model  # noqa: F401
from .analyses import (  # noqa: F401
    attribution_patching,
    direct_logit_attribution,
    duplicate_token_score,
    head_patching_sweep,
    induction_score,
    logit_lens,
    logit_lens_top_tokens,
    path_patching_to_logits,
    previous_token_score,
)
