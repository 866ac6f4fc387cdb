#!/usr/bin/env python3
"""Side-by-side forward-pass benchmark: Hugging Face transformers (eager attention, fp32) and
Circuitry's runtime (bench/forward_bench) on the same weights (SmolLM2-135M from its GGUF,
dequantized), the same token ids, batch and thread count. Also measures the machine's fp32
matmul rate and the forward's FLOPs, so every time can be read against the physical limit.
Appends a dated section to bench/RESULTS.md (unless --no-write). A measurement, never a test.

    .venv/bin/python bench/run_forward.py --threads 2 --runs 5
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_GGUF = ROOT / "models" / "smollm2-135m" / "SmolLM2-135M-Instruct.Q4_1.gguf"


def bench_tokens(batch: int, seq: int, vocab: int):
    """The same fixed ids as forward_bench.cpp's bench_tokens (no tokenizer on either side)."""
    import torch
    ids = [[(1 + 7919 * (b * seq + i) + 104729 * b) % vocab for i in range(seq)] for b in range(batch)]
    return torch.tensor(ids, dtype=torch.long)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def timed_median(fn, runs: int, warmup: int) -> tuple[float, list[float]]:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def matmul_rate(n: int, runs: int) -> float:
    """fp32 GFLOP/s of torch.mm on n x n matrices at the current thread count: the best of
    `runs`, the figure closest to what the cores can do when nothing else runs on them."""
    import torch
    a, b = torch.randn(n, n), torch.randn(n, n)
    _, times = timed_median(lambda: torch.mm(a, b), runs, 1)
    return 2.0 * n ** 3 / min(times) / 1e9


def forward_flops(cfg, params: int, batch: int, seq: int) -> dict:
    """2 x parameters x tokens for the weight matmuls (the tied embedding counted once, as the
    unembedding) plus attention's QK^T and AV over the full seq x seq square, as eager computes."""
    tokens = batch * seq
    d_head = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    weights = 2.0 * params * tokens
    attention = 4.0 * cfg.num_hidden_layers * cfg.num_attention_heads * d_head * seq * seq * batch
    return {"weights": weights, "attention": attention, "total": weights + attention}


def load_hf_from_gguf(gguf: Path):
    """Hugging Face's own GGUF loader (dequantization, q/k un-permutation), eager attention,
    fp32. from_pretrained(gguf_file=...) wants `accelerate`; without it the same loader is
    called on a model built from the GGUF's config."""
    import torch
    import transformers
    try:
        return transformers.AutoModelForCausalLM.from_pretrained(
            str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32,
            attn_implementation="eager").eval()
    except ValueError as e:
        if "accelerate" not in str(e):
            raise
    from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint
    config = transformers.AutoConfig.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = transformers.AutoModelForCausalLM.from_config(config, attn_implementation="eager").float().eval()
    tensors = load_gguf_checkpoint(str(gguf), return_tensors=True, model_to_load=model)["tensors"]
    missing, unexpected = model.load_state_dict(tensors, strict=False)
    if unexpected or not set(missing) <= {"lm_head.weight"}:
        raise SystemExit(f"{gguf}: unexpected tensors {unexpected}, missing {missing}")
    model.tie_weights()
    if model.config._attn_implementation != "eager":
        raise SystemExit(f"attention implementation is {model.config._attn_implementation}, not eager")
    return model


def run_hf(gguf: Path, batch: int, seq: int, runs: int, warmup: int):
    import torch

    t0 = time.perf_counter()
    model = load_hf_from_gguf(gguf)
    load_s = time.perf_counter() - t0
    rss_after_load = peak_rss_mib()
    params = sum(p.numel() for p in model.parameters())  # tied weights are one Parameter
    tokens = bench_tokens(batch, seq, model.config.vocab_size)
    with torch.inference_mode():
        def fwd():
            return model(input_ids=tokens, use_cache=False).logits
        med, times = timed_median(fwd, runs, warmup)
        probe = fwd()[0, -1, :8].tolist()
    return {
        "model": model, "params": params, "load_s": load_s, "median_s": med, "seconds": times,
        "token_sum": int(tokens.sum()), "peak_rss_after_load_mib": rss_after_load,
        "peak_rss_mib": peak_rss_mib(), "logits_probe": probe,
    }


def find_bench_binary(arg: str | None) -> Path | None:
    candidates = [arg] if arg else [
        os.environ.get("CIRCUIT_FORWARD_BENCH"), ROOT / "build" / "bench" / "forward_bench",
        ROOT / "build-bench" / "bench" / "forward_bench"]
    for c in candidates:
        if c and Path(c).is_file():
            return Path(c)
    return None


def run_circuitry(binary: Path, gguf: Path, threads: int, batch: int, seq: int, runs: int,
                  warmup: int) -> dict:
    cmd = [str(binary), "--model", str(gguf), "--threads", str(threads), "--batch", str(batch),
           "--seq", str(seq), "--runs", str(runs), "--warmup", str(warmup), "--json"]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{binary}: exit {out.returncode}: {out.stderr.strip()}")
    return json.loads(out.stdout)


def fmt_ms(s: float) -> str:
    return f"{s * 1000:,.0f} ms"


def report(args, machine: dict, rate: float, flops: dict, hf: dict, cc: dict | None) -> str:
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    param_mib = hf["params"] * 4 / 2 ** 20
    limit_s = flops["total"] / (rate * 1e9)
    lines = [
        f"## {now}: SmolLM2-135M forward, batch {args.batch} x {args.seq} tokens, fp32, "
        f"{args.threads} threads",
        "",
        f"- Machine: {machine['cpu']}, {machine['cores']} logical cores, load average "
        f"{machine['load']} at the start, {machine['load_end']} at the end"
        f"{' (shared with other jobs: figures are noisy)' if args.shared else ''}.",
        f"- Software: torch {machine['torch']}, transformers {machine['transformers']}; "
        f"median of {args.runs} runs after {args.warmup} warm-up.",
        f"- Weights: `{args.gguf.relative_to(ROOT) if args.gguf.is_relative_to(ROOT) else args.gguf}` "
        f"dequantized to fp32, {hf['params']:,} parameters ({param_mib:,.0f} MiB in fp32).",
        f"- Matmul rate (torch.mm {args.matmul_n}x{args.matmul_n} fp32, best of 5 at the start and "
        f"5 at the end): {rate:,.1f} GFLOP/s.",
        f"- Forward FLOPs: {flops['total'] / 1e9:,.1f} GFLOP ({flops['weights'] / 1e9:,.1f} weights, "
        f"{flops['attention'] / 1e9:,.1f} attention) -> physical limit {fmt_ms(limit_s)} per forward.",
        "",
        "| run | median | vs HF | vs limit | peak RSS |",
        "|---|---|---|---|---|",
        f"| Hugging Face eager | {fmt_ms(hf['median_s'])} | 1.00 | {hf['median_s'] / limit_s:.2f}x "
        f"| {hf['peak_rss_mib']:,.0f} MiB (process) |",
    ]
    if cc:
        for mode, label in [("plain", "Circuitry, no hooks"), ("hooks_none", "Circuitry, empty HookSet"),
                            ("one_add", "Circuitry, one add-hook"), ("cache_all", "Circuitry, cache every point")]:
            m = cc["modes"][mode]
            lines.append(f"| {label} | {fmt_ms(m['median_s'])} | {m['median_s'] / hf['median_s']:.2f} "
                         f"| {m['median_s'] / limit_s:.2f}x | {m['peak_rss_after_mib']:,.0f} MiB |")
        plain = cc["modes"]["plain"]["median_s"]
        ca = cc["modes"]["cache_all"]
        lines += [
            "",
            f"- Ratios: Circuitry/HF {plain / hf['median_s']:.2f}; cache-all/plain "
            f"{ca['median_s'] / plain:.2f} ({ca.get('cached_points', 0)} points, "
            f"{ca.get('cached_mib', 0):,.0f} MiB cached); hooks-none/plain "
            f"{cc['modes']['hooks_none']['median_s'] / plain:.2f}; one-add/plain "
            f"{cc['modes']['one_add']['median_s'] / plain:.2f}.",
            f"- Circuitry memory: peak RSS {cc['peak_rss_after_load_mib']:,.0f} MiB after loading, "
            f"{cc['peak_rss_mib']:,.0f} MiB at the end = {cc['peak_rss_mib'] / param_mib:.2f}x the "
            f"fp32 parameter bytes; load {cc['load_seconds']:.1f} s (HF: {hf['load_s']:.1f} s, "
            f"peak {hf['peak_rss_after_load_mib']:,.0f} MiB after loading).",
        ]
        if cc.get("logits_probe"):
            diff = max(abs(a - b) for a, b in zip(hf["logits_probe"], cc["logits_probe"]))
            lines.append(f"- Same numbers: max |logit difference| on 8 probe logits = {diff:.2e}.")
        if cc["token_sum"] != hf["token_sum"]:
            lines.append("- WARNING: the two runs fed different token ids (token sums differ).")
    else:
        lines += ["", "- Circuitry: not run (no forward_bench binary found; build the `forward_bench` target)."]
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gguf", type=Path, default=DEFAULT_GGUF)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--matmul-n", type=int, default=2048)
    ap.add_argument("--bench-bin", help="forward_bench binary (default: build/ or build-bench/)")
    ap.add_argument("--skip-circuitry", action="store_true")
    ap.add_argument("--shared", action="store_true", help="note in RESULTS.md that the machine was shared")
    ap.add_argument("--results", type=Path, default=ROOT / "bench" / "RESULTS.md")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    args.gguf = args.gguf.resolve()
    if not args.gguf.is_file():
        raise SystemExit(f"{args.gguf}: no such GGUF file")

    import torch
    import transformers
    torch.set_num_threads(args.threads)
    machine = {"cpu": cpu_model(), "cores": os.cpu_count(), "load": " ".join(f"{x:.1f}" for x in os.getloadavg()),
               "torch": torch.__version__, "transformers": transformers.__version__}

    rate_start = matmul_rate(args.matmul_n, 5)
    print(f"matmul: {rate_start:.1f} GFLOP/s", file=sys.stderr)
    hf = run_hf(args.gguf, args.batch, args.seq, args.runs, args.warmup)
    flops = forward_flops(hf["model"].config, hf["params"], args.batch, args.seq)
    del hf["model"]
    print(f"HF eager: {hf['median_s'] * 1000:.0f} ms", file=sys.stderr)

    cc = None
    if not args.skip_circuitry:
        binary = find_bench_binary(args.bench_bin)
        if binary:
            cc = run_circuitry(binary, args.gguf, args.threads, args.batch, args.seq, args.runs, args.warmup)
            print(f"Circuitry: {cc['modes']['plain']['median_s'] * 1000:.0f} ms plain", file=sys.stderr)
        else:
            print("forward_bench not found: Circuitry side skipped", file=sys.stderr)

    # Measured again at the end: on a shared machine the better of the two is the fairer limit.
    rate = max(rate_start, matmul_rate(args.matmul_n, 5))
    machine["load_end"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    section = report(args, machine, rate, flops, hf, cc)
    print(section)
    if not args.no_write:
        if not args.results.exists():
            args.results.write_text("# Benchmark results\n\nAppended by `bench/run_forward.py`; see bench/README.md "
                                    "for what each figure means.\n\n")
        with args.results.open("a") as f:
            f.write(section + "\n")


if __name__ == "__main__":
    main()
