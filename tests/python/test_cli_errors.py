"""Acceptance tests of the `circuit` command on bad input, as a user meets it: every case must
end with ONE line on stderr that names the file (or the model, hook or option) and the reason,
a non-zero exit status, and no crash (no signal, no `terminate called`, no libtorch
`Exception raised from ...` dump, no backtrace).

The bad files are made here, in temporary folders, from the real models (models/ is never
written): a truncated copy of the SmolLM2 GGUF, a copy with a tensor's type or offset patched,
a safetensors with an offset past its end, a config.json missing a field, and so on.
The binary comes from conftest.find_circuit_binary ($CIRCUIT_BIN, else build/); tests skip when it, a
model or a command is missing."""
import json
import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "models"
SMOLLM = MODELS / "smollm2-135m" / "SmolLM2-135M-Instruct.Q4_1.gguf"
TOY = MODELS / "induction-2l"

from conftest import find_circuit_binary

BIN = find_circuit_binary()
_commands = {}


def run(*args, env=None, timeout=120):
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, env=full_env,
                          timeout=timeout)


def require(*commands):
    """Skips unless the binary has these subcommands (listed by `circuit --help`)."""
    if BIN is None:
        pytest.skip("no circuit binary (set CIRCUIT_BIN)")
    if not _commands:
        listing = run("--help").stdout.split("Subcommands:")[-1]
        _commands.update({line.split()[0]: True for line in listing.splitlines() if line.strip()})
    for name in commands:
        if not _commands.get(name):
            pytest.skip(f"this circuit binary has no '{name}' command")


def require_file(path):
    if not Path(path).exists():
        pytest.skip(f"{path} is not present")


CRASH_MARKS = ("terminate called", "Exception raised from", "Aborted", "Segmentation fault",
               "core dumped", "frame #", "what():", "Traceback")


def fails_cleanly(proc, *expected):
    """Asserts a clean failure and returns its one stderr line; `expected` are substrings the
    line must hold (the file or name, and words of the reason)."""
    shown = f"exit {proc.returncode}\nstdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-2000:]}"
    assert proc.returncode > 0, f"expected a non-zero exit, not a signal or success\n{shown}"
    assert proc.returncode < 128, f"exit status looks like a signal\n{shown}"
    for mark in CRASH_MARKS:
        assert mark not in proc.stderr and mark not in proc.stdout, f"crash output '{mark}'\n{shown}"
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, f"expected exactly one line on stderr, got {len(lines)}\n{shown}"
    line = lines[0]
    assert line.startswith("circuit: error: "), f"not a 'circuit: error:' line\n{shown}"
    for text in expected:
        assert str(text).lower() in line.lower(), f"'{text}' is missing from the error line\n{shown}"
    return line


# --------------------------------------------------------------------------------------------
# Bad model files, made in tmp from the real ones.

def gguf_tensor_fields(path):
    """{tensor name: (byte offset of its type field, byte offset of its offset field, type)},
    read straight from a GGUF header (skipping the metadata)."""
    scalar = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
    with open(path, "rb") as f:
        data = f.read(8 << 20)  # the header and metadata of the SmolLM2 file fit in 8 MiB
    pos = 8
    n_tensors, n_kv = struct.unpack_from("<QQ", data, pos)
    pos += 16

    def string(p):
        (n,) = struct.unpack_from("<Q", data, p)
        return data[p + 8:p + 8 + n].decode("utf-8", "replace"), p + 8 + n

    def skip_value(t, p):
        if t in scalar:
            return p + scalar[t]
        if t == 8:
            return string(p)[1]
        assert t == 9, f"unexpected GGUF value type {t}"
        item, count = struct.unpack_from("<IQ", data, p)
        p += 12
        if item in scalar:
            return p + count * scalar[item]
        for _ in range(count):
            p = skip_value(item, p)
        return p

    for _ in range(n_kv):
        _, pos = string(pos)
        (t,) = struct.unpack_from("<I", data, pos)
        pos = skip_value(t, pos + 4)
    fields = {}
    for _ in range(n_tensors):
        name, pos = string(pos)
        (n_dims,) = struct.unpack_from("<I", data, pos)
        pos += 4 + 8 * n_dims
        (t,) = struct.unpack_from("<I", data, pos)
        fields[name] = (pos, pos + 4, t)
        pos += 12
    return fields


@pytest.fixture(scope="module")
def smollm_fields():
    require_file(SMOLLM)
    return gguf_tensor_fields(SMOLLM)


def patched_copy(src, dst, patches=(), size=None):
    """Copies src to dst, optionally cut to `size` bytes, then writes each (offset, bytes)."""
    if size is None:
        shutil.copyfile(src, dst)
    else:
        with open(src, "rb") as f_in, open(dst, "wb") as f_out:
            f_out.write(f_in.read(size))
    with open(dst, "r+b") as f:
        for offset, raw in patches:
            f.seek(offset)
            f.write(raw)
    return dst


def toy_copy(tmp_path, name="toy"):
    require_file(TOY / "model.safetensors")
    dst = tmp_path / name
    shutil.copytree(TOY, dst)
    return dst


def read_safetensors(path):
    raw = Path(path).read_bytes()
    (n,) = struct.unpack_from("<Q", raw, 0)
    return json.loads(raw[8:8 + n]), raw[8 + n:]


def write_safetensors(path, header, body):
    text = json.dumps(header).encode()
    Path(path).write_bytes(struct.pack("<Q", len(text)) + text + body)


# --------------------------------------------------------------------------------------------
# GGUF

@pytest.mark.parametrize("size, reason", [
    (3, "too short"),
    (40, "truncated"),          # inside the first metadata entry
    (1_000_000, "truncated"),   # inside the tokenizer's vocabulary array
])
def test_truncated_gguf_header(tmp_path, size, reason):
    require("inspect")
    require_file(SMOLLM)
    bad = patched_copy(SMOLLM, tmp_path / "cut.gguf", size=size)
    fails_cleanly(run("inspect", bad), str(bad), reason)
    if "tokenize" in _commands:
        fails_cleanly(run("tokenize", bad, "--text", "Hi"), str(bad), reason)


@pytest.mark.parametrize("offset, raw, reason", [
    (4, struct.pack("<I", 1), "unsupported GGUF version 1"),
    (8, struct.pack("<Q", 1 << 60), "tensors but the file has"),
    (16, struct.pack("<Q", 1 << 60), "metadata entries but the file has"),
])
def test_corrupt_gguf_header(tmp_path, offset, raw, reason):
    require("inspect")
    require_file(SMOLLM)
    bad = patched_copy(SMOLLM, tmp_path / "bad.gguf", [(offset, raw)], size=4 << 20)
    fails_cleanly(run("inspect", bad), str(bad), reason)


def test_truncated_gguf_data_is_refused_by_every_model_command(tmp_path):
    require("inspect", "predict")
    require_file(SMOLLM)
    bad = patched_copy(SMOLLM, tmp_path / "cut.gguf", size=SMOLLM.stat().st_size - 1000)
    for args in (["inspect", bad], ["predict", bad, "--prompt", "Hi"]):
        fails_cleanly(run(*args), str(bad), "output_norm.weight", "but the file has")


def test_gguf_tensor_offset_past_the_end(tmp_path, smollm_fields):
    require("predict")
    _, offset_at, _ = smollm_fields["blk.3.attn_q.weight"]
    bad = patched_copy(SMOLLM, tmp_path / "far.gguf", [(offset_at, struct.pack("<Q", 1 << 40))])
    fails_cleanly(run("predict", bad, "--prompt", "Hi"), str(bad), "blk.3.attn_q.weight",
                  "but the file has")


def test_gguf_unknown_ggml_type(tmp_path, smollm_fields):
    require("inspect", "predict")
    type_at, _, _ = smollm_fields["blk.0.ffn_down.weight"]
    bad = patched_copy(SMOLLM, tmp_path / "type99.gguf", [(type_at, struct.pack("<I", 99))])
    for args in (["inspect", bad], ["predict", bad, "--prompt", "Hi"]):
        fails_cleanly(run(*args), str(bad), "blk.0.ffn_down.weight", "unknown ggml type 99")


def test_gguf_quantization_we_cannot_dequantize(tmp_path, smollm_fields):
    """IQ2_XXS (16) is a real ggml type that the runtime does not decode: loading must refuse
    it with its name, not crash or produce garbage."""
    require("predict")
    type_at, _, original = smollm_fields["blk.0.ffn_down.weight"]
    assert original == 3, "expected blk.0.ffn_down.weight to be Q4_1 in the SmolLM2 file"
    bad = patched_copy(SMOLLM, tmp_path / "iq2.gguf", [(type_at, struct.pack("<I", 16))])
    fails_cleanly(run("predict", bad, "--prompt", "Hi"), "blk.0.ffn_down.weight", "IQ2_XXS")


def test_not_a_gguf(tmp_path):
    require("inspect")
    bad = tmp_path / "notes.gguf"
    bad.write_text("just some text, not a model\n")
    fails_cleanly(run("inspect", bad), str(bad), "bad magic")


# --------------------------------------------------------------------------------------------
# safetensors and config.json (on a copy of the embedded model)

def test_safetensors_offset_past_the_end(tmp_path):
    require("predict")
    folder = toy_copy(tmp_path)
    header, body = read_safetensors(folder / "model.safetensors")
    name = max((k for k in header if k != "__metadata__"), key=lambda k: header[k]["data_offsets"][1])
    begin, end = header[name]["data_offsets"]
    header[name]["data_offsets"] = [begin + len(body), end + len(body)]
    write_safetensors(folder / "model.safetensors", header, body)
    fails_cleanly(run("predict", folder, "--prompt", "abc"), "model.safetensors", name)


def test_truncated_safetensors(tmp_path):
    require("predict", "inspect")
    folder = toy_copy(tmp_path)
    st = folder / "model.safetensors"
    raw = st.read_bytes()
    st.write_bytes(raw[:len(raw) - 4096])
    for command in ("predict", "inspect"):
        args = [command, folder] + (["--prompt", "abc"] if command == "predict" else [])
        fails_cleanly(run(*args), str(st))


def test_safetensors_header_longer_than_the_file(tmp_path):
    require("inspect")
    folder = toy_copy(tmp_path)
    st = folder / "model.safetensors"
    st.write_bytes(struct.pack("<Q", 1 << 40) + b"{}")
    fails_cleanly(run("inspect", folder), str(st), "header")


def test_safetensors_unknown_dtype(tmp_path):
    require("predict")
    folder = toy_copy(tmp_path)
    header, body = read_safetensors(folder / "model.safetensors")
    header["embed.W_E"]["dtype"] = "F8_E9M9"
    write_safetensors(folder / "model.safetensors", header, body)
    fails_cleanly(run("predict", folder, "--prompt", "abc"), "model.safetensors", "F8_E9M9")


def test_safetensors_missing_tensor(tmp_path):
    require("predict")
    folder = toy_copy(tmp_path)
    header, body = read_safetensors(folder / "model.safetensors")
    del header["blocks.1.attn.W_Q"]
    write_safetensors(folder / "model.safetensors", header, body)
    fails_cleanly(run("predict", folder, "--prompt", "abc"), "model.safetensors",
                  "blocks.1.attn.W_Q", "missing")


def test_safetensors_tensor_of_the_wrong_shape(tmp_path):
    require("predict")
    folder = toy_copy(tmp_path)
    header, body = read_safetensors(folder / "model.safetensors")
    header["embed.W_E"]["shape"] = [64, 128]  # same bytes, transposed shape
    write_safetensors(folder / "model.safetensors", header, body)
    fails_cleanly(run("predict", folder, "--prompt", "abc"), "embed", "[64, 128]", "[128, 64]")


def test_corrupt_tokenizer_json(tmp_path):
    require("predict")
    folder = toy_copy(tmp_path)
    (folder / "tokenizer.json").write_text('{"model": ')
    fails_cleanly(run("predict", folder, "--prompt", "abc"), str(folder / "tokenizer.json"), "JSON")


def test_config_missing_a_field_attn_only(tmp_path):
    require("inspect", "predict")
    folder = toy_copy(tmp_path)
    config = json.loads((folder / "config.json").read_text())
    del config["n_heads"]
    (folder / "config.json").write_text(json.dumps(config))
    for args in (["inspect", folder], ["predict", folder, "--prompt", "abc"]):
        fails_cleanly(run(*args), "config.json", "n_heads")


def test_config_missing_num_attention_heads_llama(tmp_path):
    require("inspect")
    folder = tmp_path / "tiny-llama"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({
        "model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 64,
        "intermediate_size": 128, "num_hidden_layers": 2, "num_key_value_heads": 2,
        "vocab_size": 100, "max_position_embeddings": 128, "rms_norm_eps": 1e-5}))
    write_safetensors(folder / "model.safetensors", {}, b"")
    fails_cleanly(run("inspect", folder), "config.json", "num_attention_heads")


def test_config_not_json(tmp_path):
    require("inspect")
    folder = toy_copy(tmp_path)
    (folder / "config.json").write_text('{"model_type": "circuitry-attn-only", ')
    fails_cleanly(run("inspect", folder), "config.json")


# --------------------------------------------------------------------------------------------
# Names, ranges and options

def test_unknown_model_name_suggests_the_nearest():
    require("predict", "inspect")
    require_file(TOY / "config.json")
    for args in (["predict", "inductoin-2l", "--prompt", "ab"], ["inspect", "inductoin-2l"]):
        line = fails_cleanly(run(*args), "inductoin-2l", "unknown model")
        assert "did you mean 'induction-2l'" in line
    if SMOLLM.is_file():
        for typo in ("smolm2-135m", "smollm2"):
            line = fails_cleanly(run("inspect", typo), typo, "unknown model")
            assert "did you mean 'smollm2-135m'" in line


def test_missing_file():
    require("inspect", "predict")
    missing = "/nonexistent/dir/model.gguf"
    for args in (["inspect", missing], ["predict", missing, "--prompt", "x"]):
        fails_cleanly(run(*args), missing, "no such file")


def test_unknown_hook_name_suggests_the_nearest(tmp_path):
    require("cache")
    require_file(TOY / "config.json")
    proc = run("cache", "induction-2l", "--prompt", "abcabc", "--hooks", "blocks.0.attn.hook_patern",
               "--out", tmp_path / "c.safetensors")
    line = fails_cleanly(proc, "blocks.0.attn.hook_patern")
    assert "did you mean 'blocks.0.attn.hook_pattern'" in line


def test_layer_out_of_range(tmp_path):
    require("cache")
    require_file(TOY / "config.json")
    proc = run("cache", "induction-2l", "--prompt", "abcabc", "--hooks", "blocks.7.hook_resid_pre",
               "--out", tmp_path / "c.safetensors")
    fails_cleanly(proc, "7", "out of range", "0..1")


@pytest.mark.parametrize("component, column, reason, hint", [
    ("head 0.9", 10, "head 0.9 is out of range", "4 heads per layer (0..3)"),
    ("head 5.1", 8, "layer 5 is out of range", "2 layers (0..1)"),
])
def test_head_or_layer_out_of_range_in_a_circuit(tmp_path, component, column, reason, hint):
    """`circuit check` against the embedded model (2 layers of 4 heads): the compiler's
    diagnostic gives file:line:col, the reason and the valid range."""
    require("check")
    require_file(TOY / "config.json")
    src = tmp_path / "bad.circuit"
    src.write_text(f'model "induction-2l"\ncircuit bad {{\n  {component} -> logits\n}}\n')
    proc = run("check", src)
    assert 0 < proc.returncode < 128, proc.stderr
    for mark in CRASH_MARKS:
        assert mark not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "error" in line and str(src) in line]
    assert len(errors) == 1, proc.stderr
    assert errors[0].startswith(f"{src}:3:{column}: ") and reason in errors[0], proc.stderr
    assert hint in proc.stderr, proc.stderr


def test_prompt_longer_than_the_context(tmp_path):
    require("predict", "cache")
    require_file(TOY / "config.json")
    prompt = "abcdefgh" * 10  # 80 tokens + BOS > n_ctx 64
    fails_cleanly(run("predict", "induction-2l", "--prompt", prompt), "81", "64")
    proc = run("cache", "induction-2l", "--prompt", prompt, "--out", tmp_path / "c.safetensors")
    fails_cleanly(proc, "81", "64")


def test_generate_refuses_a_prompt_longer_than_the_context():
    """Not print the prompt back and exit 0."""
    require("generate")
    require_file(TOY / "config.json")
    prompt = "abcdefgh" * 10
    fails_cleanly(run("generate", "induction-2l", "--prompt", prompt, "--max-tokens", "3"), "81", "64")


def test_prompt_longer_than_the_context_of_smollm2():
    """SmolLM2's context is 8192 tokens: the check must come before any computation."""
    require("predict")
    require_file(SMOLLM)
    fails_cleanly(run("predict", "smollm2-135m", "--prompt", " hello" * 8300, timeout=60), "8300", "8192")


def test_malformed_option_value_is_one_line():
    """CLI11's own parse errors follow the same rule as ours: one line, non-zero exit."""
    require("predict")
    require_file(TOY / "config.json")
    fails_cleanly(run("predict", "induction-2l", "--prompt", "ab", "--top", "x"), "--top", "x")


def cuda_visible():
    try:
        import torch
        return torch.cuda.is_available()
    except ImportError:
        return shutil.which("nvidia-smi") is not None


# The commands that run a model (`tokenize` runs none: it has no --device or --dtype).
MODEL_COMMANDS = {
    "inspect": ["inspect", "induction-2l"],
    "predict": ["predict", "induction-2l", "--prompt", "abcab"],
    "generate": ["generate", "induction-2l", "--prompt", "abcab", "--max-tokens", "2"],
    "cache": ["cache", "induction-2l", "--prompt", "abcab", "--hooks", "hook_embed"],
}


def model_command(name, tmp_path):
    args = list(MODEL_COMMANDS[name])
    if name == "cache":
        args += ["--out", tmp_path / "c.safetensors"]
    return args


@pytest.mark.parametrize("command", sorted(MODEL_COMMANDS))
def test_cuda_without_cuda(command, tmp_path):
    if cuda_visible():
        pytest.skip("this machine has CUDA")
    require(command)
    require_file(TOY / "config.json")
    fails_cleanly(run(*model_command(command, tmp_path), "--device", "cuda"), "cuda", "not available")


@pytest.mark.parametrize("command", sorted(MODEL_COMMANDS))
def test_bad_dtype(command, tmp_path):
    require(command)
    require_file(TOY / "config.json")
    fails_cleanly(run(*model_command(command, tmp_path), "--dtype", "float64"), "float64", "dtype")


def test_bad_device_name(tmp_path):
    require("predict")
    require_file(TOY / "config.json")
    fails_cleanly(run(*model_command("predict", tmp_path), "--device", "tpu"), "tpu", "device")
