"""Where a Hugging Face causal LM keeps the pieces the analyses need (GPT-2 and Llama-family
modules): each layer's attention output projection (whose input is the heads' z, concatenated),
its MLP, the embeddings, the final norm and the unembedding; plus HF's own GGUF loading."""
import torch


class ModelParts:
    def __init__(self, model):
        self.model = model
        cfg = model.config
        self.n_layers = cfg.num_hidden_layers
        self.n_heads = cfg.num_attention_heads
        self.d_model = cfg.hidden_size
        self.d_head = self.d_model // self.n_heads
        if hasattr(model, "transformer"):  # GPT-2
            t = model.transformer
            self.family = "gpt2"
            self.layers = list(t.h)
            self.out_proj = [b.attn.c_proj for b in t.h]
            self.mlps = [b.mlp for b in t.h]
            self.final_norm = t.ln_f
            self.eps = t.ln_f.eps
        else:  # Llama family
            m = model.model
            self.family = "llama"
            self.layers = list(m.layers)
            self.out_proj = [b.self_attn.o_proj for b in m.layers]
            self.mlps = [b.mlp for b in m.layers]
            self.final_norm = m.norm
            self.eps = m.norm.variance_epsilon

    # --- weights --------------------------------------------------------------------------------
    def head_out_weight(self, layer, head):
        """W_O of one head as [d_head, d_model] (z_head @ W_O is its output)."""
        w = self.out_proj[layer].weight
        rows = slice(head * self.d_head, (head + 1) * self.d_head)
        return w[rows, :] if self.family == "gpt2" else w[:, rows].T  # Conv1D is [in, out]

    def out_bias(self, layer):
        return getattr(self.out_proj[layer], "bias", None)

    def unembed(self):
        """W_U [vocab, d_model] and b_U (or None)."""
        head = self.model.lm_head
        return head.weight, getattr(head, "bias", None)

    def embeddings(self, tokens):
        """What the embeddings write into the residual stream, [batch, seq, d_model]."""
        if self.family == "gpt2":
            t = self.model.transformer
            return t.wte(tokens) + t.wpe(torch.arange(tokens.shape[1]))[None]
        return self.model.model.embed_tokens(tokens)

    def norm_scale(self, x):
        """The final norm's divisor for residual x [..., d_model], [..., 1]."""
        x = x.double()
        if self.family == "gpt2":
            x = x - x.mean(-1, keepdim=True)
        return (x.pow(2).mean(-1, keepdim=True) + self.eps).sqrt()

    def norm_weight_bias(self):
        n = self.final_norm
        return n.weight, getattr(n, "bias", None)

    # --- hooks ----------------------------------------------------------------------------------
    def run(self, tokens, z_edit=None, capture_z=False, capture_resid=False, capture_mlp=False,
            capture_final_input=False, grad=False, output_attentions=False):
        """One forward. z_edit(layer, z) -> z' edits each layer's concatenated z (pre-hook on
        the output projection). Returns (logits, captures)."""
        caps = {"z": {}, "resid": {}, "mlp": {}}
        handles = []
        for l in range(self.n_layers):
            def pre(mod, args, l=l):
                z = args[0]
                if z_edit is not None:
                    z = z_edit(l, z)
                if capture_z:
                    if grad and z.requires_grad:
                        z.retain_grad()
                    caps["z"][l] = z
                return (z,) + tuple(args[1:])
            handles.append(self.out_proj[l].register_forward_pre_hook(pre))
            if capture_resid:
                def post(mod, args, out, l=l):
                    caps["resid"][l] = out[0] if isinstance(out, tuple) else out
                handles.append(self.layers[l].register_forward_hook(post))
            if capture_mlp:
                def mlp_out(mod, args, out, l=l):
                    caps["mlp"][l] = out
                handles.append(self.mlps[l].register_forward_hook(mlp_out))
        if capture_final_input:
            def final_in(mod, args):
                caps["final_input"] = args[0]
            handles.append(self.final_norm.register_forward_pre_hook(final_in))
        try:
            with torch.set_grad_enabled(grad):
                out = self.model(tokens, output_attentions=output_attentions)
        finally:
            for h in handles:
                h.remove()
        caps["attentions"] = out.attentions if output_attentions else None
        return out.logits, caps


def load_gguf_model(path):
    """A GGUF file through HF's own loader (dequantization and q/k un-permutation, float32), in
    eval mode. from_pretrained needs `accelerate` for GGUF files; without it, the same HF loader
    is called directly."""
    import transformers
    from pathlib import Path
    path = Path(path)
    try:
        return transformers.AutoModelForCausalLM.from_pretrained(
            str(path.parent), gguf_file=path.name, dtype=torch.float32).eval()
    except ValueError as e:
        if "accelerate" not in str(e):
            raise
    from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint
    config = transformers.AutoConfig.from_pretrained(str(path.parent), gguf_file=path.name)
    model = transformers.AutoModelForCausalLM.from_config(config).float().eval()
    tensors = load_gguf_checkpoint(str(path), return_tensors=True, model_to_load=model)["tensors"]
    missing, unexpected = model.load_state_dict(tensors, strict=False)
    assert not unexpected and set(missing) <= {"lm_head.weight"}, (missing, unexpected)
    model.tie_weights()
    return model
