"""Parity of the libtorch runtime with Hugging Face transformers on tiny random models of each
family (saved with save_pretrained): the logits and every hook point with an HF counterpart
agree within 1e-4 (fp32), through one left-padded batch of prompts of different lengths."""
import pytest

transformers = pytest.importorskip("transformers")

PROMPTS = [[5, 17, 99, 3, 42, 8, 61, 20, 7, 11, 90, 2], [33, 1, 64, 12, 9], [70, 71, 72, 73, 74, 75, 76, 77]]


def test_gpt2(tiny_model, check_parity):
    config = transformers.GPT2Config(vocab_size=128, n_positions=32, n_embd=48, n_layer=2, n_head=4,
                                     activation_function="gelu_new", layer_norm_epsilon=1e-5)
    model, folder = tiny_model(config)
    assert check_parity(model, folder, "gpt2", PROMPTS) > 0


def llama_config(**extra):
    base = dict(vocab_size=128, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                rms_norm_eps=1e-5)
    base.update(extra)
    return transformers.LlamaConfig(**base)


def test_llama_gqa_untied(tiny_model, check_parity):
    model, folder = tiny_model(llama_config(tie_word_embeddings=False))
    assert check_parity(model, folder, "llama", PROMPTS) > 0


def test_llama_tied(tiny_model, check_parity):
    model, folder = tiny_model(llama_config(tie_word_embeddings=True, num_key_value_heads=4))
    assert check_parity(model, folder, "llama", PROMPTS) > 0


def test_llama3_rope_scaling(tiny_model, check_parity):
    rope = {"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0,
            "high_freq_factor": 4.0, "original_max_position_embeddings": 8}
    try:
        config = llama_config(rope_parameters=rope)
    except TypeError:
        config = llama_config(rope_scaling=rope, rope_theta=500000.0)
    model, folder = tiny_model(config)
    assert check_parity(model, folder, "llama", PROMPTS) > 0


def test_qwen2_qkv_bias(tiny_model, check_parity):
    config = transformers.Qwen2Config(vocab_size=128, hidden_size=64, intermediate_size=96,
                                      num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                                      max_position_embeddings=64, tie_word_embeddings=False)
    model, folder = tiny_model(config)
    assert check_parity(model, folder, "llama", PROMPTS) > 0


def test_gpt_neox_partial_rotary_parallel_residual(tiny_model, check_parity):
    config = transformers.GPTNeoXConfig(vocab_size=128, hidden_size=64, intermediate_size=128,
                                        num_hidden_layers=2, num_attention_heads=4, rotary_pct=0.25,
                                        use_parallel_residual=True, max_position_embeddings=64,
                                        hidden_act="gelu", tie_word_embeddings=False)
    model, folder = tiny_model(config)
    assert check_parity(model, folder, "gpt-neox", PROMPTS) > 0
