#!/usr/bin/env python3
"""All-heads activation patching on SmolLM2-135M, written the way researchers write it in
Hugging Face transformers (the reference side of the patching benchmark), with an optional
command line of ours timed the same way and compared.

The sweep: IOI-style prompt pairs (clean "When A and B went to the P, B gave a O to" -> A;
corrupt: the second B replaced by a third name C). One clean forward, one corrupt forward that
keeps every layer's z (the input of self_attn.o_proj), then for every (layer, head) one
forward over all clean prompts in which a forward pre-hook on that layer's o_proj replaces the
head's slice of z at the last position with the corrupt run's. Score: the mean over prompts of
logit(A) - logit(B) at the last position, patched minus clean. fp32, eager attention,
torch.set_num_threads(--threads), inference_mode, use_cache=False.

Prints JSON: the reference's median wall time of --runs sweeps (model load excluded, reported
apart), its peak RSS, and with --ours "CMD" the command's median wall time and peak RSS (via
/usr/bin/time), the ratios, and with --ours-scores the largest difference between the scores.
A measurement, never a test: keep --runs small on a shared machine (a full sweep is 272
forwards of batch --pairs); --layers / --pairs shrink it for a smoke run.

    .venv/bin/python bench/run_patching.py --threads 2 --runs 3 \\
        --ours "build/circuit run examples/ioi_patching.circ --out /tmp/p" --ours-scores /tmp/p/tensors.safetensors
"""
from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_forward import DEFAULT_GGUF, cpu_model, load_hf_from_gguf  # noqa: E402

NAMES = [" Mary", " John", " Tom", " James", " Anna", " David", " Sarah", " Paul", " Emma", " Mark",
         " Lisa", " Peter", " Kate", " Jack", " Alice", " Bob", " Laura", " Mike", " Jane", " Steve"]
PLACES = [" store", " park", " school", " beach", " office", " market", " station", " garden"]
OBJECTS = [" drink", " book", " gift", " ball", " letter", " flower", " key", " bag"]
TEMPLATE = "When{a} and{b} went to the{place},{s} gave a{obj} to"


def single_tokens(tokenizer, words: list[str]) -> list[str]:
    return [w for w in words if len(tokenizer(w, add_special_tokens=False)["input_ids"]) == 1]


def ioi_pairs(tokenizer, count: int, seed: int = 0):
    """`count` (clean ids, corrupt ids, answer id, subject id) of one token length, from a fixed
    seed: names, places and objects that are one token each keep every prompt aligned."""
    names = single_tokens(tokenizer, NAMES)
    places, objects = single_tokens(tokenizer, PLACES), single_tokens(tokenizer, OBJECTS)
    if len(names) < 3 or not places or not objects:
        raise SystemExit("the tokenizer splits too many of the benchmark's names, places or objects")
    rng = random.Random(seed)
    encode = lambda text: tokenizer(text, add_special_tokens=False)["input_ids"]  # noqa: E731
    pairs = []
    while len(pairs) < count:
        a, b, c = rng.sample(names, 3)
        place, obj = rng.choice(places), rng.choice(objects)
        clean = encode(TEMPLATE.format(a=a, b=b, place=place, s=b, obj=obj))
        corrupt = encode(TEMPLATE.format(a=a, b=b, place=place, s=c, obj=obj))
        pairs.append((clean, corrupt, encode(a)[0], encode(b)[0]))
    lengths = {len(p[0]) for p in pairs} | {len(p[1]) for p in pairs}
    if len(lengths) != 1:
        raise SystemExit(f"prompts tokenize to different lengths {sorted(lengths)}")
    return pairs


def patching_sweep(model, clean, corrupt, answers, subjects, n_layers: int):
    """Scores [n_layers, n_heads]: mean logit-difference change when one head's z at the last
    position comes from the corrupt run. One forward per head."""
    import torch
    cfg = model.config
    n_heads = cfg.num_attention_heads
    d_head = getattr(cfg, "head_dim", None) or cfg.hidden_size // n_heads
    layers = model.model.layers
    rows = torch.arange(clean.shape[0])

    def logit_diff(logits):
        last = logits[:, -1, :]
        return (last[rows, answers] - last[rows, subjects]).mean().item()

    # The corrupt run's z at every layer, read by forward pre-hooks on o_proj.
    corrupt_z = {}
    handles = [layers[l].self_attn.o_proj.register_forward_pre_hook(
        lambda mod, args, l=l: corrupt_z.__setitem__(l, args[0][:, -1, :].clone())) for l in range(n_layers)]
    model(input_ids=corrupt, use_cache=False)
    for h in handles:
        h.remove()
    clean_diff = logit_diff(model(input_ids=clean, use_cache=False).logits)

    scores = torch.zeros(n_layers, n_heads)
    for layer in range(n_layers):
        for head in range(n_heads):
            cols = slice(head * d_head, (head + 1) * d_head)

            def patch(mod, args, layer=layer, cols=cols):
                z = args[0].clone()
                z[:, -1, cols] = corrupt_z[layer][:, cols]
                return (z,)

            handle = layers[layer].self_attn.o_proj.register_forward_pre_hook(patch)
            try:
                scores[layer, head] = logit_diff(model(input_ids=clean, use_cache=False).logits) - clean_diff
            finally:
                handle.remove()
    return scores


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def run_ours(command: str, runs: int) -> dict:
    """Median wall time of `runs` runs of a shell command, and its peak RSS from /usr/bin/time
    (getrusage of children would carry this process's own peak through fork)."""
    times, rss = [], []
    for _ in range(runs):
        with tempfile.NamedTemporaryFile("r", suffix=".rss") as f:
            t0 = time.perf_counter()
            proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", f.name, "sh", "-c", command],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            times.append(time.perf_counter() - t0)
            if proc.returncode != 0:
                raise SystemExit(f"--ours failed with status {proc.returncode}: {proc.stderr.strip()[-2000:]}")
            rss.append(int(f.read().split()[-1]) / 1024.0)
    return {"command": command, "median_s": statistics.median(times), "seconds": times, "peak_rss_mib": max(rss)}


def read_scores(path: str, key: str | None):
    from safetensors.torch import load_file
    tensors = load_file(path)
    if key is None:
        keys = [k for k in tensors if k.endswith("/scores")]
        if len(keys) != 1:
            raise SystemExit(f"{path}: name the scores tensor with --ours-key (found {sorted(tensors)})")
        key = keys[0]
    if key not in tensors:
        raise SystemExit(f"{path}: no tensor '{key}' (found {sorted(tensors)})")
    return key, tensors[key].float()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--gguf", type=Path, default=DEFAULT_GGUF)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--pairs", type=int, default=32, help="IOI prompt pairs (the batch of every forward)")
    p.add_argument("--layers", type=int, default=None, help="sweep only the first N layers (smoke runs)")
    p.add_argument("--ours", action="append", default=[],
                   help="our command line for the same sweep, run through sh -c (repeatable: each is timed)")
    p.add_argument("--ours-runs", type=int, default=None, help="runs of each --ours command (default: --runs)")
    p.add_argument("--ours-scores", help="safetensors file our command wrote; compared with the reference")
    p.add_argument("--ours-key", help="tensor name in --ours-scores (default: the one ending in /scores)")
    p.add_argument("--scores", action="store_true", help="print the reference scores too")
    args = p.parse_args()

    import torch
    import transformers
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    model = load_hf_from_gguf(args.gguf)
    load_s = time.perf_counter() - t0
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(args.gguf.parent), gguf_file=args.gguf.name)
    pairs = ioi_pairs(tokenizer, args.pairs)
    clean = torch.tensor([p[0] for p in pairs])
    corrupt = torch.tensor([p[1] for p in pairs])
    answers = torch.tensor([p[2] for p in pairs])
    subjects = torch.tensor([p[3] for p in pairs])
    n_layers = min(args.layers or model.config.num_hidden_layers, model.config.num_hidden_layers)

    times, scores = [], None
    with torch.inference_mode():
        for _ in range(args.runs):
            t = time.perf_counter()
            scores = patching_sweep(model, clean, corrupt, answers, subjects, n_layers)
            times.append(time.perf_counter() - t)
    reference = {
        "median_s": statistics.median(times), "seconds": times, "load_s": load_s,
        "peak_rss_mib": peak_rss_mib(), "forwards_per_sweep": 2 + n_layers * model.config.num_attention_heads,
        "transformers": transformers.__version__, "torch": torch.__version__,
    }
    out = {"benchmark": "all-heads activation patching (z at the last position)", "model": args.gguf.name,
           "cpu": cpu_model(), "threads": args.threads, "runs": args.runs, "pairs": args.pairs,
           "prompt_tokens": clean.shape[1], "layers": n_layers, "heads": model.config.num_attention_heads,
           "reference": reference}
    if args.scores:
        out["reference"]["scores"] = [[round(v, 6) for v in row] for row in scores.tolist()]
    out["ours"], out["ratios"] = [], []
    for command in args.ours:
        ours = run_ours(command, args.ours_runs or args.runs)
        out["ours"].append(ours)
        out["ratios"].append({
            "command": command,
            "time_vs_sweep": ours["median_s"] / reference["median_s"],
            "time_vs_sweep_plus_load": ours["median_s"] / (reference["median_s"] + load_s),
            "peak_rss": ours["peak_rss_mib"] / reference["peak_rss_mib"],
        })
    if args.ours_scores:
        key, theirs = read_scores(args.ours_scores, args.ours_key)
        if tuple(theirs.shape) != tuple(scores.shape):
            raise SystemExit(f"{args.ours_scores}: '{key}' is {list(theirs.shape)}, the reference {list(scores.shape)}")
        out["scores_max_abs_diff"] = (theirs - scores).abs().max().item()
        out["scores_key"] = key
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
