#!/usr/bin/env python3
"""Trains `induction-2l`, Circuitry's embedded default model: a 2-layer attention-only
transformer that learns induction (a previous-token head in layer 0 composing with an induction
head in layer 1) on BOS, random tokens, a random sequence twice, random tokens.

Writes model.safetensors (TransformerLens tensor names, float32), config.json, tokenizer.json
and SHA256SUMS into the output folder (default models/induction-2l/). CPU only, fixed seed,
two threads: a re-run reproduces the outcome and, up to float rounding, the figures (about 4
minutes on two quiet cores):

    .venv/bin/python scripts/train_induction.py --out models/induction-2l
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

# Idle OpenMP threads sleep instead of spinning: on a shared 2-core machine spinning workers
# slow training several-fold.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from attn_only_model import (  # noqa: E402
    BOS_ID, AttnOnlyConfig, AttnOnlyTransformer, half_losses, head_scores, repeated_batch)

SEQ_LEN = 49


def build_tokenizer(path: Path) -> None:
    """Byte-level BPE with no merges: id 0 = "<|bos|>" (special, prepended by the
    post-processor), ids 1..127 = the byte-level characters of ASCII bytes 1..127."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from tokenizers import AddedToken

    byte_to_char = _gpt2_byte_to_unicode()
    vocab = {"<|bos|>": BOS_ID}
    for byte in range(1, 128):
        vocab[byte_to_char[byte]] = byte
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.add_special_tokens([AddedToken("<|bos|>", special=True, normalized=False)])
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.post_processor = processors.TemplateProcessing(
        single="<|bos|> $A", pair="<|bos|> $A <|bos|> $B", special_tokens=[("<|bos|>", BOS_ID)])
    tok.decoder = decoders.ByteLevel()
    ids = tok.encode("abc").ids
    if ids != [0, 97, 98, 99]:
        raise SystemExit(f"tokenizer self-check failed: 'abc' -> {ids}")
    if tok.decode(tok.encode("Hi there!\n").ids) != "Hi there!\n":
        raise SystemExit("tokenizer self-check failed: round trip")
    tok.save(str(path))


def _gpt2_byte_to_unicode() -> dict[int, str]:
    """The GPT-2 byte-level alphabet: printable bytes map to themselves, the others to U+0100+."""
    printable = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
                 + list(range(ord("®"), ord("ÿ") + 1)))
    chars = printable[:]
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return {b: chr(c) for b, c in zip(printable, chars)}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def evaluate(model: AttnOnlyTransformer, seed: int, batch: int = 256):
    gen = torch.Generator().manual_seed(seed)
    data = repeated_batch(gen, batch, SEQ_LEN)
    with torch.inference_mode():
        logits, patterns = model(data.tokens, return_patterns=True)
    first, second = half_losses(logits, data)
    return first, second, head_scores(patterns, data)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "models/induction-2l")
    ap.add_argument("--steps", type=int, default=8000)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--log-every", type=int, default=500)
    args = ap.parse_args()

    torch.set_num_threads(2)
    torch.manual_seed(args.seed)
    cfg = AttnOnlyConfig()
    model = AttnOnlyTransformer(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr)
    gen = torch.Generator().manual_seed(args.seed + 1)
    eval_seed = args.seed + 2

    t0 = time.time()
    for step in range(1, args.steps + 1):
        tokens = repeated_batch(gen, args.batch, SEQ_LEN).tokens
        logits = model(tokens)
        # Every next-token prediction after BOS counts; only the second copy is predictable.
        loss = torch.nn.functional.cross_entropy(
            logits[:, :-1].reshape(-1, cfg.d_vocab), tokens[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % args.log_every == 0 or step == args.steps:
            first, second, _ = evaluate(model, eval_seed)
            print(f"step {step:5d}  train {loss.item():.3f}  first copy {first:.3f}  "
                  f"second copy {second:.3f}  {time.time() - t0:.0f}s", flush=True)
    train_seconds = time.time() - t0

    first, second, scores = evaluate(model, eval_seed)
    print("previous-token scores [layer][head]:", scores["previous_token"].tolist())
    print("induction scores      [layer][head]:", scores["induction"].tolist())

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    from safetensors.torch import save_file
    save_file(model.state_dict_tl(), str(out / "model.safetensors"))
    config = {
        "model_type": "circuitry-attn-only",
        "n_layers": cfg.n_layers, "d_model": cfg.d_model, "n_heads": cfg.n_heads,
        "d_head": cfg.d_head, "d_vocab": cfg.d_vocab, "n_ctx": cfg.n_ctx,
        "bos_token_id": BOS_ID, "add_bos": True,
        "training": {
            "script": "scripts/train_induction.py", "seed": args.seed, "steps": args.steps,
            "batch": args.batch, "lr": args.lr, "optimizer": "AdamW", "seq_len": SEQ_LEN,
            "period_range": [6, 24], "token_range": [32, 126], "threads": 2,
            "train_seconds": round(train_seconds, 1),
            "final_train_loss": round(loss.item(), 4),
            "eval_loss_first_copy": round(first, 4),
            "eval_loss_second_copy": round(second, 4),
            "previous_token_scores": [[round(x, 3) for x in row] for row in scores["previous_token"].tolist()],
            "induction_scores": [[round(x, 3) for x in row] for row in scores["induction"].tolist()],
        },
    }
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    build_tokenizer(out / "tokenizer.json")
    files = ["config.json", "model.safetensors", "tokenizer.json"]
    (out / "SHA256SUMS").write_text("".join(f"{sha256(out / f)}  {f}\n" for f in files))
    print(f"wrote {out} in {train_seconds:.0f}s of training")


if __name__ == "__main__":
    main()
