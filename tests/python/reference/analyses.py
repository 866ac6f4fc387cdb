"""The node analyses on a Hugging Face model, from hooks (see hf_parts.ModelParts). Prompts are
[batch, seq] token tensors of equal lengths (no padding); the metric is the logit difference
answer - wrong at the last position, per prompt, averaged over prompts. Results are float64
tensors shaped as Circuitry reports them ([n_layers, n_heads] for heads, [n_layers] per layer)."""
import torch


def logit_diff(logits, answers, wrong):
    """[batch] logit differences at the last position."""
    last = logits[:, -1].double()
    rows = torch.arange(last.shape[0])
    return last[rows, answers] - last[rows, wrong]


def normalized(m, clean, corrupt):
    return m if clean == corrupt else (m - corrupt) / (clean - corrupt)


def logit_lens(parts, tokens, answers, wrong):
    """The metric per layer with each layer's output put through the final norm and the
    unembedding (the final norm module itself, so a fresh scale)."""
    with torch.no_grad():
        _, caps = parts.run(tokens, capture_resid=True)
        out = torch.zeros(parts.n_layers, dtype=torch.float64)
        for l in range(parts.n_layers):
            logits = parts.model.lm_head(parts.final_norm(caps["resid"][l]))
            out[l] = logit_diff(logits, answers, wrong).mean()
    return out


def logit_lens_top_tokens(parts, tokens):
    """The classic logit lens at every position: each layer's output through the final norm
    and the unembedding, per layer, prompt and position. Returns (ids, probs, gaps), each
    [n_layers, batch, seq]: the argmax token, its softmax probability, and the logit margin
    between the first and second tokens (a near-zero margin is a tie that rounding may break
    either way)."""
    with torch.no_grad():
        _, caps = parts.run(tokens, capture_resid=True)
        shape = (parts.n_layers, *tokens.shape)
        ids = torch.zeros(shape, dtype=torch.long)
        probs = torch.zeros(shape, dtype=torch.float64)
        gaps = torch.zeros(shape, dtype=torch.float64)
        for l in range(parts.n_layers):
            logits = parts.model.lm_head(parts.final_norm(caps["resid"][l])).double()
            top = logits.topk(2, dim=-1)
            ids[l] = top.indices[..., 0]
            probs[l] = torch.softmax(logits, -1).gather(-1, top.indices[..., :1])[..., 0]
            gaps[l] = top.values[..., 0] - top.values[..., 1]
    return ids, probs, gaps


def direct_logit_attribution(parts, tokens, answers, wrong):
    """Per head, per MLP, the embeddings and the bias terms: each one's output at the last
    position, centred (LayerNorm), divided by the clean run's final-norm scale there, times the
    norm's weight, dotted with W_U[answer] - W_U[wrong]. Returns a dict."""
    with torch.no_grad():
        logits, caps = parts.run(tokens, capture_z=True, capture_mlp=True, capture_final_input=True)
        n = tokens.shape[0]
        W_U, b_U = parts.unembed()
        w, b = parts.norm_weight_bias()
        u = (W_U[answers] - W_U[wrong]).double()  # [n, d]
        direction = u * w.double()
        scale = parts.norm_scale(caps["final_input"][:, -1])  # [n, 1]

        def contribution(x):  # x [n, d] -> [n]
            x = x.double()
            if parts.family == "gpt2":
                x = x - x.mean(-1, keepdim=True)
            return (x / scale * direction).sum(-1)

        heads = torch.zeros(parts.n_layers, parts.n_heads, dtype=torch.float64)
        mlps = torch.zeros(parts.n_layers, dtype=torch.float64)
        bias = torch.zeros(n, dtype=torch.float64)
        for l in range(parts.n_layers):
            z = caps["z"][l][:, -1].reshape(n, parts.n_heads, parts.d_head)
            for h in range(parts.n_heads):
                heads[l, h] = contribution(z[:, h] @ parts.head_out_weight(l, h)).mean()
            mlps[l] = contribution(caps["mlp"][l][:, -1]).mean()
            if parts.out_bias(l) is not None:
                bias += contribution(parts.out_bias(l).expand(n, -1))
        if b is not None:
            bias += (u * b.double()).sum(-1)
        if b_U is not None:
            bias += (b_U[answers] - b_U[wrong]).double()
        embedded = contribution(parts.embeddings(tokens)[:, -1]).mean()
        return {"heads": heads, "mlps": mlps, "input": float(embedded), "bias": float(bias.mean()),
                "logit": float(logit_diff(logits, answers, wrong).mean())}


def _z_runs(parts, tokens):
    with torch.no_grad():
        logits, caps = parts.run(tokens, capture_z=True)
    return logits, {l: z.detach().clone() for l, z in caps["z"].items()}


def _head_slice(parts, h):
    return slice(h * parts.d_head, (h + 1) * parts.d_head)


def _all_heads(parts, heads):
    return heads if heads is not None else [(l, h) for l in range(parts.n_layers) for h in range(parts.n_heads)]


def head_patching_sweep(parts, clean, corrupt, answers, wrong, position=-1, normalize=True, heads=None):
    """Activation patching, denoising as TransformerLens does it: each head's clean z at
    `position` patched into the corrupt run, one head at a time (a forward pre-hook on the
    output projection edits its input). `heads`: (layer, head) pairs to sweep (all by default);
    the others stay NaN."""
    clean_logits, z_clean = _z_runs(parts, clean)
    corrupt_logits, _ = _z_runs(parts, corrupt)
    base = float(logit_diff(clean_logits, answers, wrong).mean())
    worst = float(logit_diff(corrupt_logits, answers, wrong).mean())
    out = torch.full((parts.n_layers, parts.n_heads), float("nan"), dtype=torch.float64)
    for l, h in _all_heads(parts, heads):
        def edit(layer, z, l=l, h=h):
            if layer != l:
                return z
            z = z.clone()
            z[:, position, _head_slice(parts, h)] = z_clean[l][:, position, _head_slice(parts, h)]
            return z
        with torch.no_grad():
            logits, _ = parts.run(corrupt, z_edit=edit)
        m = float(logit_diff(logits, answers, wrong).mean())
        out[l, h] = normalized(m, base, worst) if normalize else m
    return out


def path_patching_to_logits(parts, clean, corrupt, answers, wrong, normalize=True, heads=None):
    """Path patching with the logits as receiver: the sender head's z from the corrupt run,
    every other head's z frozen to the clean run, MLPs recomputed. `heads`: the senders
    ((layer, head) pairs, all by default); the others stay NaN."""
    clean_logits, z_clean = _z_runs(parts, clean)
    corrupt_logits, z_corrupt = _z_runs(parts, corrupt)
    base = float(logit_diff(clean_logits, answers, wrong).mean())
    worst = float(logit_diff(corrupt_logits, answers, wrong).mean())
    out = torch.full((parts.n_layers, parts.n_heads), float("nan"), dtype=torch.float64)
    for l, h in _all_heads(parts, heads):
        def edit(layer, z, l=l, h=h):
            frozen = z_clean[layer].clone()
            if layer == l:
                frozen[..., _head_slice(parts, h)] = z_corrupt[l][..., _head_slice(parts, h)]
            return frozen
        with torch.no_grad():
            logits, _ = parts.run(clean, z_edit=edit)
        m = float(logit_diff(logits, answers, wrong).mean())
        out[l, h] = normalized(m, base, worst) if normalize else m
    return out


def attribution_patching(parts, clean, corrupt, answers, wrong):
    """Per head: sum over positions and d_head of (z_corrupt - z_clean) * d metric / d z at the
    clean run, the metric being the mean logit difference."""
    _, z_corrupt = _z_runs(parts, corrupt)
    logits, caps = parts.run(clean, capture_z=True, grad=True)
    logit_diff(logits, answers, wrong).mean().backward()
    out = torch.zeros(parts.n_layers, parts.n_heads, dtype=torch.float64)
    for l in range(parts.n_layers):
        z = caps["z"][l]
        delta = (z_corrupt[l] - z.detach()).double() * z.grad.double()
        for h in range(parts.n_heads):
            out[l, h] = delta[..., _head_slice(parts, h)].sum()
    parts.model.zero_grad(set_to_none=True)
    return out


def _attention_score(parts, tokens, target):
    """target [batch, q, k] bool: where the behaviour attends; pooled over qualifying queries."""
    with torch.no_grad():
        _, caps = parts.run(tokens, output_attentions=True)
    queries = target.any(-1).sum()
    out = torch.zeros(parts.n_layers, parts.n_heads, dtype=torch.float64)
    for l, a in enumerate(caps["attentions"]):
        out[l] = (a.double() * target[:, None].double()).sum((0, 2, 3)) / queries
    return out


def previous_token_score(parts, tokens):
    s = tokens.shape[1]
    target = torch.zeros(tokens.shape[0], s, s, dtype=torch.bool)
    target[:, torch.arange(1, s), torch.arange(0, s - 1)] = True
    return _attention_score(parts, tokens, target)


def duplicate_token_score(parts, tokens):
    same = tokens[:, :, None] == tokens[:, None, :]
    earlier = torch.ones(tokens.shape[1], tokens.shape[1], dtype=torch.bool).tril(-1)
    return _attention_score(parts, tokens, same & earlier)


def induction_score(parts, tokens):
    s = tokens.shape[1]
    target = torch.zeros(tokens.shape[0], s, s, dtype=torch.bool)
    # key j follows an earlier copy of query i's token: tokens[j - 1] == tokens[i], 1 <= j <= i
    target[:, :, 1:] = tokens[:, :, None] == tokens[:, None, :-1]
    target &= torch.ones(s, s, dtype=torch.bool).tril()
    return _attention_score(parts, tokens, target)
