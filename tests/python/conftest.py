"""Shared pytest fixtures: the `circuit` binary (from $CIRCUIT_BIN, else build/, else the newest build-*/),
a runner for it, and a factory of tiny random Hugging Face models saved with save_pretrained
into a temporary folder (for the runtime's parity tests)."""
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def find_circuit_binary():
    """$CIRCUIT_BIN, else build/circuit, else the newest binary of a developer's build-*/ folder;
    None when nothing is built. Test modules import this one finder."""
    env = os.environ.get("CIRCUIT_BIN")
    if env:
        return env if Path(env).is_file() and os.access(env, os.X_OK) else None
    found = [p for d in [REPO / "build", *sorted(REPO.glob("build-*"))]
             for p in (d / "circuit", d / "cli" / "circuit") if p.is_file() and os.access(p, os.X_OK)]
    if (REPO / "build" / "circuit") in found:
        return str(REPO / "build" / "circuit")
    return str(max(found, key=lambda p: p.stat().st_mtime)) if found else None


def circuit_binary_with(command):
    """The finder's binary, or a skip when nothing is built or the binary lacks `command`
    (`run` and `serve` need libtorch and the compiler, `view` the embedded web app)."""
    path = find_circuit_binary()
    if path is None:
        pytest.skip("the circuit binary is not built (set CIRCUIT_BIN)")
    if subprocess.run([path, command, "--help"], capture_output=True).returncode != 0:
        pytest.skip(f"{path} has no `{command}` command")
    return path


@pytest.fixture(scope="session")
def circuit_bin():
    path = find_circuit_binary()
    if path is None:
        pytest.skip("the circuit binary is not built (set CIRCUIT_BIN)")
    return path


@pytest.fixture(scope="session")
def run_circuit(circuit_bin):
    """run_circuit(*args, check=True) -> CompletedProcess (text)."""

    def run(*args, check=True, env=None, timeout=300):
        full_env = dict(os.environ)
        full_env.update(env or {})
        proc = subprocess.run([circuit_bin, *map(str, args)], capture_output=True, text=True,
                              env=full_env, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"circuit {' '.join(map(str, args))} failed ({proc.returncode}):\n"
                                 f"{proc.stdout}\n{proc.stderr}")
        return proc

    return run


@pytest.fixture
def tiny_model(tmp_path):
    """tiny_model(config, name) -> (hf_model in eval mode, folder): a random model of the
    config's family, saved with save_pretrained (safetensors + config.json)."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")

    def make(config, name="tiny", seed=0):
        torch.manual_seed(seed)
        model = transformers.AutoModelForCausalLM.from_config(config, attn_implementation="eager")
        model = model.to(torch.float32).eval()
        # Random, not near-zero, norm weights and biases so that every parameter matters.
        with torch.no_grad():
            for pname, p in model.named_parameters():
                if "norm" in pname or "ln" in pname or pname.endswith("bias"):
                    p.add_(torch.randn_like(p) * 0.1)
        folder = tmp_path / name
        model.save_pretrained(folder, safe_serialization=True)
        return model, folder

    return make


# ---------------------------------------------------------------------------------------------
# Hugging Face reference activations under our hook point names, for the parity tests.
#
# Each family lists where a hook point's counterpart lives in the HF module tree: the output
# (or first output, or the input) of a submodule; q/k/v come from the projections' outputs.

def _family_taps(family):
    if family == "llama":
        return {
            "ln1.hook_normalized": ("model.layers.{l}.input_layernorm", "out"),
            "ln2.hook_normalized": ("model.layers.{l}.post_attention_layernorm", "out"),
            "hook_attn_out": ("model.layers.{l}.self_attn", "out0"),
            "hook_mlp_out": ("model.layers.{l}.mlp", "out"),
            "mlp.hook_post": ("model.layers.{l}.mlp.down_proj", "in0"),
            "mlp.hook_pre": ("model.layers.{l}.mlp.gate_proj", "out"),
            "mlp.hook_pre_linear": ("model.layers.{l}.mlp.up_proj", "out"),
            "attn.hook_q": ("model.layers.{l}.self_attn.q_proj", "heads"),
            "attn.hook_k": ("model.layers.{l}.self_attn.k_proj", "heads"),
            "attn.hook_v": ("model.layers.{l}.self_attn.v_proj", "heads"),
            "attn.hook_z": ("model.layers.{l}.self_attn.o_proj", "in0_heads"),
        }
    if family == "gpt2":
        return {
            "ln1.hook_normalized": ("transformer.h.{l}.ln_1", "out"),
            "ln2.hook_normalized": ("transformer.h.{l}.ln_2", "out"),
            "hook_attn_out": ("transformer.h.{l}.attn", "out0"),
            "hook_mlp_out": ("transformer.h.{l}.mlp", "out"),
            "mlp.hook_post": ("transformer.h.{l}.mlp.c_proj", "in0"),
            "mlp.hook_pre": ("transformer.h.{l}.mlp.c_fc", "out"),
            "attn.hook_q": ("transformer.h.{l}.attn.c_attn", "split3_0"),
            "attn.hook_k": ("transformer.h.{l}.attn.c_attn", "split3_1"),
            "attn.hook_v": ("transformer.h.{l}.attn.c_attn", "split3_2"),
            "attn.hook_z": ("transformer.h.{l}.attn.c_proj", "in0_heads"),
        }
    if family == "gpt-neox":
        return {
            "ln1.hook_normalized": ("gpt_neox.layers.{l}.input_layernorm", "out"),
            "ln2.hook_normalized": ("gpt_neox.layers.{l}.post_attention_layernorm", "out"),
            "hook_attn_out": ("gpt_neox.layers.{l}.attention", "out0"),
            "hook_mlp_out": ("gpt_neox.layers.{l}.mlp", "out"),
            "mlp.hook_post": ("gpt_neox.layers.{l}.mlp.dense_4h_to_h", "in0"),
            "mlp.hook_pre": ("gpt_neox.layers.{l}.mlp.dense_h_to_4h", "out"),
            "attn.hook_q": ("gpt_neox.layers.{l}.attention.query_key_value", "neox_0"),
            "attn.hook_k": ("gpt_neox.layers.{l}.attention.query_key_value", "neox_1"),
            "attn.hook_v": ("gpt_neox.layers.{l}.attention.query_key_value", "neox_2"),
            "attn.hook_z": ("gpt_neox.layers.{l}.attention.dense", "in0_heads"),
        }
    raise ValueError(family)


def hf_reference(model, ids, family):
    """Our hook point name -> numpy array [pos, ...] for one unpadded prompt."""
    import torch

    cfg = model.config
    n_heads = cfg.num_attention_heads
    n_kv = getattr(cfg, "num_key_value_heads", None) or n_heads
    d_head = cfg.hidden_size // n_heads
    captured = {}
    handles = []
    modules = dict(model.named_modules())
    n_layers = cfg.num_hidden_layers
    for l in range(n_layers):
        for ours, (path, how) in _family_taps(family).items():
            module = modules.get(path.format(l=l))
            if module is None:
                continue
            name = f"blocks.{l}.{ours}"

            def hook(mod, args, out, name=name, how=how):
                x = args[0] if how.startswith("in0") else (out[0] if how == "out0" else out)
                x = x[0].detach()
                if how in ("heads", "in0_heads"):
                    x = x.reshape(x.shape[0], -1, d_head)
                elif how.startswith("split3_"):
                    x = x.chunk(3, -1)[int(how[-1])].reshape(x.shape[0], n_heads, d_head)
                elif how.startswith("neox_"):
                    part = int(how[-1])
                    x = x.reshape(x.shape[0], n_heads, 3 * d_head)[..., part * d_head:(part + 1) * d_head]
                captured[name] = x.numpy()

            handles.append(module.register_forward_hook(hook))
    try:
        with torch.no_grad():
            out = model(torch.tensor([ids]), output_hidden_states=True, output_attentions=True)
    finally:
        for h in handles:
            h.remove()
    ref = dict(captured)
    ref["logits"] = out.logits[0].numpy()
    hs = out.hidden_states
    for l in range(n_layers):
        ref[f"blocks.{l}.hook_resid_pre"] = hs[l][0].numpy()
        if l + 1 < n_layers:
            ref[f"blocks.{l}.hook_resid_post"] = hs[l + 1][0].numpy()
        ref[f"blocks.{l}.attn.hook_pattern"] = out.attentions[l][0].numpy()
    ref["ln_final.hook_normalized"] = hs[n_layers][0].numpy()
    # Derived points: the norm's divisor from its input, and the residual between attention
    # and MLP (sequential families).
    eps = getattr(cfg, "rms_norm_eps", None) or getattr(cfg, "layer_norm_epsilon", None) \
        or getattr(cfg, "layer_norm_eps", None)
    for l in range(n_layers):
        x = hs[l][0].double()
        if family == "llama":
            scale = (x.pow(2).mean(-1, keepdim=True) + eps).sqrt()
        else:
            scale = ((x - x.mean(-1, keepdim=True)).pow(2).mean(-1, keepdim=True) + eps).sqrt()
        ref[f"blocks.{l}.ln1.hook_scale"] = scale.numpy()
        if family != "gpt-neox":
            ref[f"blocks.{l}.hook_resid_mid"] = (hs[l][0] + torch.from_numpy(captured[f"blocks.{l}.hook_attn_out"])).numpy()
    return ref


def our_slice(name, array, row, length):
    """Prompt `row`'s real positions (left padding) of a cached batch activation."""
    a = array[row]
    if name.endswith("hook_pattern") or name.endswith("hook_attn_scores"):
        return a[:, -length:, -length:]
    return a[-length:]


@pytest.fixture
def check_parity(run_circuit, tmp_path):
    """check_parity(hf_model, folder, family, prompts, dtype="float32", tol=1e-4): runs
    `circuit cache` on the prompts as one left-padded batch and compares every hook point that
    has a Hugging Face counterpart, prompt by prompt, with HF run on that prompt alone.
    Returns the number of arrays compared."""
    from safetensors.numpy import load_file
    import numpy as np

    def check(model, folder, family, prompts, tol=1e-4):
        out = tmp_path / "cache.safetensors"
        args = ["cache", folder, "--out", out, "--threads", "1"]
        for p in prompts:
            args += ["--tokens", ",".join(map(str, p))]
        run_circuit(*args)
        ours = load_file(str(out))
        compared = 0
        worst = (0.0, "")
        for row, ids in enumerate(prompts):
            ref = hf_reference(model, ids, family)
            for name, expected in ref.items():
                assert name in ours, f"our cache lacks '{name}'"
                got = our_slice(name, ours[name], row, len(ids))
                assert got.shape == expected.shape, f"{name}: shape {got.shape} vs HF {expected.shape}"
                diff = float(np.abs(got.astype(np.float64) - expected).max())
                worst = max(worst, (diff, f"{name} (prompt {row})"))
                compared += 1
        assert worst[0] <= tol, f"max abs difference {worst[0]:.3g} at {worst[1]}"
        return compared

    return check
