"""The attention-only transformer of Circuitry's toy models (model_type "circuitry-attn-only"),
in PyTorch, with TransformerLens tensor names; shared by the training script and the tests.

Architecture: token embedding into the residual stream; learned positions added to the query and
key inputs only (q = (resid + pos) W_Q + b_Q, k = (resid + pos) W_K + b_K, v = resid W_V + b_V);
no LayerNorm, no MLP; causal softmax attention scaled by 1/sqrt(d_head); unembedding with bias.
Also holds the repeated-sequence data generator and the head scores, so that training, the
README's figures and tests/python/test_induction_model.py measure the same things.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

# Printable ASCII and space (ids = byte values), so prompts made of these ids read as text.
FIRST_TOKEN = 32
LAST_TOKEN = 126
BOS_ID = 0


@dataclass(frozen=True)
class AttnOnlyConfig:
    n_layers: int = 2
    d_model: int = 64
    n_heads: int = 4
    d_head: int = 16
    d_vocab: int = 128
    n_ctx: int = 64


class AttnOnlyTransformer(nn.Module):
    def __init__(self, cfg: AttnOnlyConfig):
        super().__init__()
        self.cfg = cfg
        L, D, H, E = cfg.n_layers, cfg.d_model, cfg.n_heads, cfg.d_head
        self.W_E = nn.Parameter(torch.randn(cfg.d_vocab, D))
        self.W_pos = nn.Parameter(torch.randn(cfg.n_ctx, D))
        init = 1.0 / math.sqrt(D)
        self.W_Q = nn.Parameter(torch.randn(L, H, D, E) * init)
        self.W_K = nn.Parameter(torch.randn(L, H, D, E) * init)
        self.W_V = nn.Parameter(torch.randn(L, H, D, E) * init)
        self.W_O = nn.Parameter(torch.randn(L, H, E, D) * (1.0 / math.sqrt(H * E)))
        self.b_Q = nn.Parameter(torch.zeros(L, H, E))
        self.b_K = nn.Parameter(torch.zeros(L, H, E))
        self.b_V = nn.Parameter(torch.zeros(L, H, E))
        self.b_O = nn.Parameter(torch.zeros(L, D))
        self.W_U = nn.Parameter(torch.randn(D, cfg.d_vocab) * init)
        self.b_U = nn.Parameter(torch.zeros(cfg.d_vocab))

    def forward(self, tokens: torch.Tensor, return_patterns: bool = False):
        """tokens [batch, pos] -> logits [batch, pos, d_vocab] (and the attention patterns
        [layer][batch, head, query_pos, key_pos] when return_patterns)."""
        n = tokens.shape[1]
        resid = self.W_E[tokens]
        pos = self.W_pos[:n]
        mask = torch.ones(n, n, dtype=torch.bool, device=tokens.device).tril()
        patterns = []
        for l in range(self.cfg.n_layers):
            qk_in = resid + pos
            q = torch.einsum("bpd,hde->bhpe", qk_in, self.W_Q[l]) + self.b_Q[l][None, :, None]
            k = torch.einsum("bpd,hde->bhpe", qk_in, self.W_K[l]) + self.b_K[l][None, :, None]
            v = torch.einsum("bpd,hde->bhpe", resid, self.W_V[l]) + self.b_V[l][None, :, None]
            scores = q @ k.transpose(-1, -2) / math.sqrt(self.cfg.d_head)
            scores = scores.masked_fill(~mask, float("-inf"))
            pattern = scores.softmax(-1)
            z = pattern @ v
            resid = resid + torch.einsum("bhpe,hed->bpd", z, self.W_O[l]) + self.b_O[l]
            patterns.append(pattern)
        logits = resid @ self.W_U + self.b_U
        return (logits, patterns) if return_patterns else logits

    # TransformerLens names <-> our stacked parameters.
    def state_dict_tl(self) -> dict[str, torch.Tensor]:
        out = {
            "embed.W_E": self.W_E,
            "pos_embed.W_pos": self.W_pos,
            "unembed.W_U": self.W_U,
            "unembed.b_U": self.b_U,
        }
        for l in range(self.cfg.n_layers):
            for name in ("W_Q", "W_K", "W_V", "W_O", "b_Q", "b_K", "b_V", "b_O"):
                out[f"blocks.{l}.attn.{name}"] = getattr(self, name)[l]
        return {k: v.detach().float().contiguous().clone() for k, v in out.items()}

    @classmethod
    def from_tl(cls, cfg: AttnOnlyConfig, tensors: dict[str, torch.Tensor]) -> "AttnOnlyTransformer":
        model = cls(cfg)
        with torch.no_grad():
            model.W_E.copy_(tensors["embed.W_E"])
            model.W_pos.copy_(tensors["pos_embed.W_pos"])
            model.W_U.copy_(tensors["unembed.W_U"])
            model.b_U.copy_(tensors["unembed.b_U"])
            for l in range(cfg.n_layers):
                for name in ("W_Q", "W_K", "W_V", "W_O", "b_Q", "b_K", "b_V", "b_O"):
                    getattr(model, name)[l].copy_(tensors[f"blocks.{l}.attn.{name}"])
        return model


def load_model(folder) -> "AttnOnlyTransformer":
    """Loads a circuitry-attn-only model folder (config.json + model.safetensors)."""
    import json
    from pathlib import Path

    from safetensors.torch import load_file

    folder = Path(folder)
    meta = json.loads((folder / "config.json").read_text())
    cfg = AttnOnlyConfig(**{k: meta[k] for k in AttnOnlyConfig.__dataclass_fields__})
    return AttnOnlyTransformer.from_tl(cfg, load_file(str(folder / "model.safetensors")))


@dataclass
class RepeatBatch:
    tokens: torch.Tensor   # [batch, seq_len]: BOS, random prefix, s, s
    start: torch.Tensor    # [batch]: position of the first copy of s
    period: torch.Tensor   # [batch]: |s|


def repeated_batch(gen: torch.Generator, batch: int, seq_len: int = 49,
                   min_period: int = 6, max_period: int = 24) -> RepeatBatch:
    """BOS, a random prefix, a random sequence s twice, then random tokens up to seq_len. |s| and
    the start of s are drawn per row (|s| from min_period..max_period) so that neither a fixed
    period nor a fixed place gives a positional shortcut: a repeat anywhere is predicted."""
    assert 1 + 2 * max_period <= seq_len
    n_tok = LAST_TOKEN - FIRST_TOKEN + 1
    tokens = torch.randint(0, n_tok, (batch, seq_len), generator=gen) + FIRST_TOKEN
    tokens[:, 0] = BOS_ID
    period = torch.randint(min_period, max_period + 1, (batch,), generator=gen)
    # start uniform in 1 .. seq_len - 2|s|
    room = seq_len - 2 * period
    start = 1 + (torch.rand(batch, generator=gen) * room).long()
    for b in range(batch):
        p, s = int(period[b]), int(start[b])
        tokens[b, s + p:s + 2 * p] = tokens[b, s:s + p]
    return RepeatBatch(tokens, start, period)


def half_losses(logits: torch.Tensor, data: RepeatBatch) -> tuple[float, float]:
    """Mean next-token loss predicting the first copy of s, and predicting the second copy (its
    first token excluded: nothing earlier says what follows the end of s)."""
    logp = logits.log_softmax(-1)
    first, second = [], []
    for b in range(data.tokens.shape[0]):
        p, s = int(data.period[b]), int(data.start[b])
        toks = data.tokens[b]
        # The logit at position i predicts token i + 1.
        for i in range(s - 1, s + p - 1):
            first.append(-logp[b, i, toks[i + 1]])
        for i in range(s + p, s + 2 * p - 1):
            second.append(-logp[b, i, toks[i + 1]])
    return float(torch.stack(first).mean()), float(torch.stack(second).mean())


def head_scores(patterns: list[torch.Tensor], data: RepeatBatch) -> dict[str, torch.Tensor]:
    """Previous-token and induction scores of every head, [layer, head], in [0, 1].

    Previous-token: attention from each position of both copies of s to the position before it.
    Induction: attention from each position of the second copy to the position after the same
    token's occurrence in the first copy (i - |s| + 1). Both leave BOS out of the attention
    mass (divide by 1 - attention on BOS), since heads park unused attention on BOS."""
    n_layers = len(patterns)
    n_heads = patterns[0].shape[1]
    prev = torch.zeros(n_layers, n_heads)
    induction = torch.zeros(n_layers, n_heads)
    n_prev = n_ind = 0
    for b in range(data.tokens.shape[0]):
        p, s = int(data.period[b]), int(data.start[b])
        qp = torch.arange(max(s, 2), s + 2 * p)
        qi = torch.arange(s + p, s + 2 * p)
        for l, pat in enumerate(patterns):
            a = pat[b]  # [head, q, k]
            non_bos_p = (1 - a[:, qp, 0]).clamp_min(1e-6)
            non_bos_i = (1 - a[:, qi, 0]).clamp_min(1e-6)
            prev[l] += (a[:, qp, qp - 1] / non_bos_p).sum(-1)
            induction[l] += (a[:, qi, qi - p + 1] / non_bos_i).sum(-1)
        n_prev += len(qp)
        n_ind += len(qi)
    return {"previous_token": prev / n_prev, "induction": induction / n_ind}
