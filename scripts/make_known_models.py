"""Writes Circuitry's known-circuit models: small attention-only transformers whose weights are
written by hand (numpy, no training), so that the edges that carry the task are known exactly.
They check circuit discovery: EAP, EAP-IG and ACDC must rank the true edges above the others.

    .venv/bin/python scripts/make_known_models.py             # writes models/known-*/
    .venv/bin/python scripts/make_known_models.py --verify    # also scores every edge (torch)

Models (docs/known-models.md explains the construction):
  known-prev-token  predicts the token before the current one: a previous-token head in layer 0
                    writes it into a subspace, a layer-1 head moves it to the logits (V-composition).
  known-induction   after "... A B ... A" predicts B: a previous-token head in layer 0 feeds the
                    key of an induction head in layer 1 (K-composition), which copies the value.
Both have distractor heads: dead ones (they write into a subspace nothing reads), live ones that
change the output distribution only on tokens the task metric ignores (digit logits), and
constant ones (they attend to BOS and add the same vector to the logits on every prompt).

Format: exactly models/induction-2l's (model_type "circuitry-attn-only", TransformerLens tensor
names, learned positions added to the query and key inputs only, byte-level tokenizer). Each
folder gets config.json, model.safetensors, tokenizer.json, circuit.json (the true edges as an
interchange document, with the task's prompt pairs) and SHA256SUMS. Deterministic: re-running
reproduces every file bit for bit (tests/python/test_known_models.py checks it).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

N_LAYERS, D_MODEL, N_HEADS, D_HEAD, D_VOCAB, N_CTX = 2, 64, 4, 16, 128, 64
BOS_ID = 0

# The task alphabet: 16 letters with one-hot token codes. Other bytes embed to zero.
LETTERS = "abcdefghijklmnop"
# Digits whose logits the live-but-irrelevant heads move (the task metric never reads them).
DIGITS = "0123"

# Residual-stream layout (dims of d_model). Positions live in POS, which the residual stream never
# uses: they reach only the query and key inputs, as the architecture adds them there.
T = list(range(0, 16))    # the current token (embedding)
P = list(range(16, 32))   # the previous token (written by the previous-token head)
O = list(range(32, 48))   # the output code read by the unembedding (one dim per letter)
POS = [48, 49, 50]        # (1, u, u^2), u = position / n_ctx
BOSF = 51                 # 1 at BOS only (embedding)
D = list(range(52, 60))   # dead: written by distractors, read by nothing
X = list(range(60, 64))   # digit logits: read only by the unembedding's digit columns

# Attention sharpness (nats between the intended key and the next best one).
POSITION_GAP = 20.0   # positional heads: effectively one-hot
CONTENT_GAP = 5.0     # content heads: sharp but not saturated, so gradients pass the softmax
OUTPUT_SCALE = 10.0   # logit written per unit of attention by the heads that predict
CONSTANT_SCALE = 0.5  # the BOS heads' constant push on letter logits


def token_id(ch: str) -> int:
    return ord(ch)


@dataclass
class Head:
    """One head's weights: W_Q/W_K/W_V [d_model, d_head], W_O [d_head, d_model]."""
    role: str
    W_Q: np.ndarray = field(default_factory=lambda: np.zeros((D_MODEL, D_HEAD)))
    W_K: np.ndarray = field(default_factory=lambda: np.zeros((D_MODEL, D_HEAD)))
    W_V: np.ndarray = field(default_factory=lambda: np.zeros((D_MODEL, D_HEAD)))
    W_O: np.ndarray = field(default_factory=lambda: np.zeros((D_HEAD, D_MODEL)))


def attend_offset(head: Head, offset: int, gap: float = POSITION_GAP) -> None:
    """Attention by position only: score(i, j) = -c (u_j - u_{i-offset})^2, so query i attends to
    key i - offset (the nearest one allowed when that is before the start). q and k read only
    POS, so the token content of the residual stream never reaches this head's pattern."""
    delta = offset / N_CTX
    c = gap * N_CTX * N_CTX * np.sqrt(D_HEAD)  # gap nats at |j - (i - offset)| = 1
    one, u, u2 = POS
    # q = c (-(u - delta)^2, 2(u - delta), -1) from (1, u, u^2); k = (1, u, u^2).
    head.W_Q[one, 0], head.W_Q[u, 0], head.W_Q[u2, 0] = -c * delta ** 2, 2 * c * delta, -c
    head.W_Q[one, 1], head.W_Q[u, 1] = -2 * c * delta, 2 * c
    head.W_Q[one, 2] = -c
    head.W_K[one, 0], head.W_K[u, 1], head.W_K[u2, 2] = 1.0, 1.0, 1.0


def attend_bos(head: Head, gap: float = POSITION_GAP) -> None:
    """Attention by position only, to position 0: score(i, j) = -c u_j."""
    one, u, _ = POS
    head.W_Q[one, 0] = -gap * N_CTX * np.sqrt(D_HEAD)
    head.W_K[u, 0] = 1.0


def attend_match(head: Head, query_dims: list[int], key_dims: list[int],
                 gap: float = CONTENT_GAP) -> None:
    """Content attention: score(i, j) = gap * <resid_i[query_dims], resid_j[key_dims]>, i.e.
    `gap` nats more on keys whose code matches the query's (one-hot codes)."""
    for k, (qd, kd) in enumerate(zip(query_dims, key_dims)):
        head.W_Q[qd, k] = gap * np.sqrt(D_HEAD)
        head.W_K[kd, k] = 1.0


def copy_ov(head: Head, src: list[int], dst: list[int], scale: float = 1.0) -> None:
    """OV circuit: dim src[k] of the attended position -> dim dst[k mod len(dst)], times scale."""
    for k, s in enumerate(src):
        head.W_V[s, k] = 1.0
        head.W_O[k, dst[k % len(dst)]] = scale


def constant_ov(head: Head) -> None:
    """Reads the BOS flag, writes a fixed ramp over the letter logits (the same on every prompt
    when the head attends to BOS by position)."""
    head.W_V[BOSF, 0] = 1.0
    for k, o in enumerate(O):
        head.W_O[0, o] = CONSTANT_SCALE * (k / (len(O) - 1) - 0.5)


def shared_tensors() -> dict[str, np.ndarray]:
    W_E = np.zeros((D_VOCAB, D_MODEL))
    for k, ch in enumerate(LETTERS):
        W_E[token_id(ch), T[k]] = 1.0
    W_E[BOS_ID, BOSF] = 1.0
    W_pos = np.zeros((N_CTX, D_MODEL))
    for i in range(N_CTX):
        u = i / N_CTX
        W_pos[i, POS] = (1.0, u, u * u)
    W_U = np.zeros((D_MODEL, D_VOCAB))
    for k, ch in enumerate(LETTERS):
        W_U[O[k], token_id(ch)] = 1.0
    for k, ch in enumerate(DIGITS):
        W_U[X[k], token_id(ch)] = 1.0
    return {"embed.W_E": W_E, "pos_embed.W_pos": W_pos, "unembed.W_U": W_U,
            "unembed.b_U": np.zeros(D_VOCAB)}


def prev_token_heads() -> list[list[Head]]:
    """known-prev-token: the true path is input -> a0.h1 (v) -> a1.h2 (v) -> logits."""
    h00 = Head("constant: attends to BOS, adds a fixed ramp to the letter logits")
    attend_bos(h00); constant_ov(h00)
    h01 = Head("TRUE previous-token head: attends to i-1 by position, writes its token into P")
    attend_offset(h01, 1); copy_ov(h01, T, P)
    h02 = Head("dead: attends to itself, writes its token into D (read by nothing)")
    attend_offset(h02, 0); copy_ov(h02, T, D)
    h03 = Head("live, irrelevant: duplicate-token head, writes into the digit logits")
    attend_match(h03, T, T); copy_ov(h03, T, X)
    h10 = Head("live, irrelevant: queries with a0.h3's digit code, writes into the digit logits")
    attend_match(h10, X * 4, T); copy_ov(h10, T, X)
    h11 = Head("dead: a second previous-token head; moves P from i-1 into D")
    attend_offset(h11, 1); copy_ov(h11, P, D)
    h12 = Head("TRUE mover: attends to itself by position, copies P into the letter logits")
    attend_offset(h12, 0); copy_ov(h12, P, O, OUTPUT_SCALE)
    h13 = Head("live, irrelevant: attends to i-2 by position, writes into the digit logits")
    attend_offset(h13, 2); copy_ov(h13, T, X)
    return [[h00, h01, h02, h03], [h10, h11, h12, h13]]


def induction_heads() -> list[list[Head]]:
    """known-induction: the true edges are input -> a0.h0 (v), a0.h0 -> a1.h0 (k),
    input -> a1.h0 (q, v), a1.h0 -> logits."""
    h00 = Head("TRUE previous-token head: attends to i-1 by position, writes its token into P")
    attend_offset(h00, 1); copy_ov(h00, T, P)
    h01 = Head("dead: attends to itself, writes its token into D (read by nothing)")
    attend_offset(h01, 0); copy_ov(h01, T, D)
    h02 = Head("live, irrelevant: duplicate-token head, writes into the digit logits")
    attend_match(h02, T, T); copy_ov(h02, T, X)
    h03 = Head("constant: attends to BOS, adds a fixed ramp to the letter logits")
    attend_bos(h03); constant_ov(h03)
    h10 = Head("TRUE induction head: query = current token, key = previous token (P), "
               "value = token, written into the letter logits")
    attend_match(h10, T, P); copy_ov(h10, T, O, OUTPUT_SCALE)
    h11 = Head("dead: attends to itself, moves P into D")
    attend_offset(h11, 0); copy_ov(h11, P, D)
    h12 = Head("live, irrelevant: queries with a0.h2's digit code, writes into the digit logits")
    attend_match(h12, X * 4, T); copy_ov(h12, T, X)
    h13 = Head("dead: an induction head (same QK as a1.h0) whose output goes into D")
    attend_match(h13, T, P); copy_ov(h13, T, D)
    return [[h00, h01, h02, h03], [h10, h11, h12, h13]]


def model_tensors(heads: list[list[Head]]) -> dict[str, np.ndarray]:
    out = shared_tensors()
    for l, layer in enumerate(heads):
        for name in ("W_Q", "W_K", "W_V", "W_O"):
            out[f"blocks.{l}.attn.{name}"] = np.stack([getattr(h, name) for h in layer])
        for name in ("b_Q", "b_K", "b_V"):
            out[f"blocks.{l}.attn.{name}"] = np.zeros((N_HEADS, D_HEAD))
        out[f"blocks.{l}.attn.b_O"] = np.zeros(D_MODEL)
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sorted(out.items())}


# ---- tasks: clean / corrupt prompt pairs, answers (clean) and wrong answers (corrupt) ----

@dataclass
class Task:
    name: str
    doc: str
    clean: list[str]
    corrupt: list[str]
    answers: list[str]
    wrong: list[str]


def prev_token_task(n: int = 16, length: int = 12, seed: int = 5) -> Task:
    """Random letters; the answer at the last position is the letter before it. The corrupt
    prompt is a fresh random string whose second-to-last letter differs."""
    rng = random.Random(seed)
    clean, corrupt, answers, wrong = [], [], [], []
    while len(clean) < n:
        a = "".join(rng.choice(LETTERS) for _ in range(length))
        b = "".join(rng.choice(LETTERS) for _ in range(length))
        if a[-2] == b[-2]:
            continue
        clean.append(a); corrupt.append(b); answers.append(a[-2]); wrong.append(b[-2])
    return Task("previous-token",
                "after letters ...x y, predict x (the letter before the last); corrupt: other "
                "random letters with a different letter before the last",
                clean, corrupt, answers, wrong)


def induction_task(n: int = 16, period: int = 8, repeat: int = 4, seed: int = 6) -> Task:
    """s (period distinct letters) then its first `repeat` letters again; the answer is
    s[repeat]. The corrupt prompt has the same shape with another s, whose answer differs."""
    rng = random.Random(seed)
    clean, corrupt, answers, wrong = [], [], [], []
    while len(clean) < n:
        s = rng.sample(LETTERS, period)
        t = rng.sample(LETTERS, period)
        if s[repeat] == t[repeat]:
            continue
        clean.append("".join(s + s[:repeat])); corrupt.append("".join(t + t[:repeat]))
        answers.append(s[repeat]); wrong.append(t[repeat])
    return Task("repeated-letters",
                "s (8 distinct letters) then s[:4]; predict s[4]; corrupt: the same shape with "
                "another s whose answer differs",
                clean, corrupt, answers, wrong)


@dataclass
class KnownModel:
    name: str
    doc: str
    heads: list[list[Head]]
    task: Task
    true_edges: list[str]
    node_docs: dict[str, str]


def known_models() -> list[KnownModel]:
    return [
        KnownModel(
            "known-prev-token",
            "Predicts the letter before the current one: the previous-token head a0.h1 writes it "
            "into a subspace and a1.h2 moves it to the logits (V-composition).",
            prev_token_heads(), prev_token_task(),
            ["input->a0.h1<v>", "a0.h1->a1.h2<v>", "a1.h2->logits"],
            {"a0.h1": "previous-token head (by position)", "a1.h2": "mover: copies P to the logits"}),
        KnownModel(
            "known-induction",
            "Induction: the previous-token head a0.h0 feeds the key of the induction head a1.h0, "
            "which queries with the current token and copies the attended token to the logits.",
            induction_heads(), induction_task(),
            ["input->a0.h0<v>", "a0.h0->a1.h0<k>", "input->a1.h0<q>", "input->a1.h0<v>",
             "a1.h0->logits"],
            {"a0.h0": "previous-token head (by position)", "a1.h0": "induction head"}),
    ]


# ---- files ----

def tokenize(text: str) -> list[int]:
    return [BOS_ID] + [ord(c) for c in text]


def config_json(km: KnownModel) -> dict:
    return {
        "model_type": "circuitry-attn-only",
        "n_layers": N_LAYERS, "d_model": D_MODEL, "n_heads": N_HEADS, "d_head": D_HEAD,
        "d_vocab": D_VOCAB, "n_ctx": N_CTX, "bos_token_id": BOS_ID, "add_bos": True,
        "construction": {
            "script": "scripts/make_known_models.py",
            "doc": km.doc,
            "alphabet": LETTERS,
            "heads": {f"a{l}.h{h}": hd.role for l, layer in enumerate(km.heads)
                      for h, hd in enumerate(layer)},
            "true_edges": km.true_edges,
        },
    }


def circuit_document(km: KnownModel, weights_sha256: str) -> dict:
    def node(nid: str) -> dict:
        if nid == "input":
            return {"id": "input", "kind": "input"}
        if nid == "logits":
            return {"id": "logits", "kind": "logits"}
        l, h = nid[1:].split(".h")
        out = {"id": nid, "kind": "attention", "layer": int(l), "head": int(h)}
        if nid in km.node_docs:
            out["doc"] = km.node_docs[nid]
        return out

    node_ids: list[str] = []
    edges = []
    for e in km.true_edges:
        src, rest = e.split("->")
        tgt, inp = (rest[:-3], rest[-2]) if rest.endswith(">") else (rest, None)
        for nid in (src, tgt):
            if nid not in node_ids:
                node_ids.append(nid)
        edge = {"id": e, "source": src, "target": tgt}
        if inp:
            edge["input"] = inp
        edge["in_circuit"] = True
        edges.append(edge)
    def rank(nid: str) -> tuple[int, int]:
        if nid in ("input", "logits"):
            return (-1, 0) if nid == "input" else (N_LAYERS, 0)
        l, h = nid[1:].split(".h")
        return (int(l), int(h))

    node_ids.sort(key=rank)
    t = km.task
    return {
        "format": "circuitry.circuit", "version": 1, "name": km.name, "doc": km.doc,
        "model": {"family": "attn-only", "name": km.name,
                  "shape": {"n_layers": N_LAYERS, "n_heads": N_HEADS, "n_kv_heads": N_HEADS,
                            "d_model": D_MODEL, "d_head": D_HEAD, "d_mlp": 0,
                            "d_vocab": D_VOCAB, "n_ctx": N_CTX},
                  "weights_sha256": weights_sha256},
        "nodes": [node(n) for n in node_ids],
        "edges": edges,
        "task": {"name": t.name,
                 "pairs": [{"clean": c, "corrupt": k} for c, k in zip(t.clean, t.corrupt)],
                 "answers": t.answers, "wrong_answers": t.wrong},
        "metric": {"name": "logit_diff", "normalized": False},
        "claims": [],
        "provenance": {"tool": "circuitry", "source_path": "scripts/make_known_models.py",
                       "command": "scripts/make_known_models.py"},
        "extensions": {"known_circuit": {"task_doc": t.doc,
                                         "true_edges_are_exact": True}},
    }


def dump_json(obj: dict) -> bytes:
    return (json.dumps(obj, indent=2) + "\n").encode()


def write_model(km: KnownModel, out_dir: Path) -> None:
    from safetensors.numpy import save

    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, bytes] = {}
    files["model.safetensors"] = save(model_tensors(km.heads))
    files["config.json"] = dump_json(config_json(km))
    files["tokenizer.json"] = (ROOT / "models" / "induction-2l" / "tokenizer.json").read_bytes()
    weights_sha = hashlib.sha256(files["model.safetensors"]).hexdigest()
    files["circuit.json"] = dump_json(circuit_document(km, weights_sha))
    sums = "".join(f"{hashlib.sha256(files[n]).hexdigest()}  {n}\n" for n in sorted(files))
    files["SHA256SUMS"] = sums.encode()
    for name, data in files.items():
        (out_dir / name).write_bytes(data)


# ---- verification (torch): the forward, and every edge's EAP / EAP-IG / patching score ----

def all_edges() -> list[str]:
    """The full edge graph of a 2-layer attention-only model, MIB / EAP-IG names."""
    heads = [[f"a{l}.h{h}" for h in range(N_HEADS)] for l in range(N_LAYERS)]
    edges = []
    for l in range(N_LAYERS):
        senders = ["input"] + [n for ll in range(l) for n in heads[ll]]
        for r in heads[l]:
            for qkv in "qkv":
                edges += [f"{s}->{r}<{qkv}>" for s in senders]
    edges += [f"{s}->logits" for s in ["input"] + [n for layer in heads for n in layer]]
    return edges


class EdgeForward:
    """The attention-only forward with every receiver's input written as the sum of its senders'
    outputs, so that single edges can be patched and their gradients read."""

    def __init__(self, tensors: dict):
        import torch
        self.t = {k: torch.as_tensor(v, dtype=torch.float64) for k, v in tensors.items()}

    def run(self, tokens, patch=None, corrupt_outputs=None, embed_override=None):
        """-> (logits, sender outputs {name: [b, n, d]}, receiver inputs {name: [b, n, d]}).
        `patch`: edges whose sender output comes from `corrupt_outputs`."""
        import torch
        t = self.t
        n = tokens.shape[1]
        emb = t["embed.W_E"][tokens] if embed_override is None else embed_override
        pos = t["pos_embed.W_pos"][:n]
        mask = torch.ones(n, n, dtype=torch.bool).tril()
        outs = {"input": emb}
        inputs = {}

        def receive(receiver, senders):
            parts = []
            for s in senders:
                e = f"{s}->{receiver}"
                src = corrupt_outputs if patch and e in patch else outs
                parts.append(src[s])
            x = sum(parts)
            if x.requires_grad:
                x.retain_grad()
            inputs[receiver] = x
            return x

        senders = ["input"]
        for l in range(N_LAYERS):
            new = []
            for h in range(N_HEADS):
                r = f"a{l}.h{h}"
                xq = receive(r + "<q>", senders) + pos
                xk = receive(r + "<k>", senders) + pos
                xv = receive(r + "<v>", senders)
                q = xq @ t[f"blocks.{l}.attn.W_Q"][h]
                k = xk @ t[f"blocks.{l}.attn.W_K"][h]
                v = xv @ t[f"blocks.{l}.attn.W_V"][h]
                s = (q @ k.transpose(-1, -2)) / D_HEAD ** 0.5
                a = s.masked_fill(~mask, float("-inf")).softmax(-1)
                outs[r] = (a @ v) @ t[f"blocks.{l}.attn.W_O"][h]
                new.append(r)
            senders = senders + new
        logits = receive("logits", senders) @ t["unembed.W_U"] + t["unembed.b_U"]
        return logits, outs, inputs


def logit_diff(logits, answers, wrong):
    import torch
    last = logits[:, -1]
    rows = torch.arange(last.shape[0])
    return last[rows, answers] - last[rows, wrong]


def roc_auc(scores: list[float], labels: list[bool]) -> float:
    pos = [s for s, y in zip(scores, labels) if y]
    neg = [s for s, y in zip(scores, labels) if not y]
    wins = sum((p > q) + 0.5 * (p == q) for p in pos for q in neg)
    return wins / (len(pos) * len(neg))


def verify(km: KnownModel, out_dir: Path) -> dict:
    """Checks the files against the shared PyTorch model and scores every edge; returns figures."""
    import torch
    from safetensors.torch import load_file

    sys.path.insert(0, str(ROOT / "scripts"))
    from attn_only_model import load_model

    torch.set_num_threads(1)  # tiny tensors: threads only contend
    model = load_model(out_dir).double()
    t = km.task
    clean = torch.tensor([tokenize(s) for s in t.clean])
    corrupt = torch.tensor([tokenize(s) for s in t.corrupt])
    ans = torch.tensor([ord(c) for c in t.answers])
    wrong = torch.tensor([ord(c) for c in t.wrong])
    with torch.no_grad():
        ref = model(clean)
        top = ref[:, -1].argmax(-1)
    accuracy = float((top == ans).double().mean())

    ef = EdgeForward({k: v.numpy() for k, v in load_file(str(out_dir / "model.safetensors")).items()})
    logits, clean_out, _ = ef.run(clean)
    assert torch.allclose(logits, ref, atol=1e-6), "edge forward differs from attn_only_model"
    corrupt_logits, corrupt_out, _ = ef.run(corrupt)
    m_clean = float(logit_diff(logits, ans, wrong).mean())
    m_corrupt = float(logit_diff(corrupt_logits, ans, wrong).mean())
    edges = all_edges()
    labels = [e in km.true_edges for e in edges]

    def eap_scores(points):
        grads = {}
        for emb in points:
            emb = emb.clone().requires_grad_(True)
            lg, _, ins = ef.run(clean, embed_override=emb)
            logit_diff(lg, ans, wrong).mean().backward()
            for r, x in ins.items():
                grads[r] = grads.get(r, 0) + x.grad / len(points)
        out = []
        for e in edges:
            s, r = e.split("->")
            diff = corrupt_out[s] - clean_out[s]
            out.append(float((diff * grads[r]).sum()))  # grads are of the mean over rows
        return out

    e_clean = ef.t["embed.W_E"][clean]
    e_corrupt = ef.t["embed.W_E"][corrupt]
    eap = eap_scores([e_clean])
    steps = 5
    # From the corrupt input towards the clean one, alpha = k / steps, k = 0 .. steps-1 (as the
    # EAP-IG reference code and runtime/analysis/eap.cpp do).
    eap_ig = eap_scores([e_corrupt + (k / steps) * (e_clean - e_corrupt) for k in range(steps)])
    patch = []
    with torch.no_grad():
        for e in edges:
            lg, _, _ = ef.run(clean, patch={e}, corrupt_outputs=corrupt_out)
            patch.append(float(logit_diff(lg, ans, wrong).mean()) - m_clean)

    def summary(scores):
        mags = [abs(s) for s in scores]
        return {"auc": roc_auc(mags, labels),
                "min_true": min(m for m, y in zip(mags, labels) if y),
                "max_false": max(m for m, y in zip(mags, labels) if not y)}

    return {"accuracy": accuracy, "metric_clean": m_clean, "metric_corrupt": m_corrupt,
            "eap": summary(eap), "eap_ig": summary(eap_ig), "edge_patching": summary(patch),
            "true_edge_scores": {e: {"eap": eap[i], "eap_ig": eap_ig[i], "patch": patch[i]}
                                 for i, e in enumerate(edges) if labels[i]}}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "models",
                    help="folder that receives known-*/ (default: models/)")
    ap.add_argument("--verify", action="store_true",
                    help="also check each model with torch and print edge-score AUCs")
    args = ap.parse_args()
    for km in known_models():
        folder = args.out / km.name
        write_model(km, folder)
        print(f"wrote {folder}")
        if args.verify:
            print(json.dumps(verify(km, folder), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
