#include "runtime/model/families.h"

#include <stdexcept>

namespace circuit::rt {
namespace {

using formats::Family;
using L = Layout;

FamilyRow gpt2_row() {
  return FamilyRow{
      Family::Gpt2,
      {
          {"embed", "wte.weight"},
          {"pos_embed", "wpe.weight"},
          {"blocks.{l}.ln1.w", "h.%d.ln_1.weight"},
          {"blocks.{l}.ln1.b", "h.%d.ln_1.bias"},
          {"blocks.{l}.q.w", "h.%d.attn.c_attn.weight", L::Conv1DSplit3, 0},
          {"blocks.{l}.k.w", "h.%d.attn.c_attn.weight", L::Conv1DSplit3, 1},
          {"blocks.{l}.v.w", "h.%d.attn.c_attn.weight", L::Conv1DSplit3, 2},
          {"blocks.{l}.q.b", "h.%d.attn.c_attn.bias", L::Split3, 0},
          {"blocks.{l}.k.b", "h.%d.attn.c_attn.bias", L::Split3, 1},
          {"blocks.{l}.v.b", "h.%d.attn.c_attn.bias", L::Split3, 2},
          {"blocks.{l}.o.w", "h.%d.attn.c_proj.weight", L::Transpose},
          {"blocks.{l}.o.b", "h.%d.attn.c_proj.bias"},
          {"blocks.{l}.ln2.w", "h.%d.ln_2.weight"},
          {"blocks.{l}.ln2.b", "h.%d.ln_2.bias"},
          {"blocks.{l}.up.w", "h.%d.mlp.c_fc.weight", L::Transpose},
          {"blocks.{l}.up.b", "h.%d.mlp.c_fc.bias"},
          {"blocks.{l}.down.w", "h.%d.mlp.c_proj.weight", L::Transpose},
          {"blocks.{l}.down.b", "h.%d.mlp.c_proj.bias"},
          {"ln_final.w", "ln_f.weight"},
          {"ln_final.b", "ln_f.bias"},
          {"unembed.w", "lm_head.weight", L::AsIs, 0, true},
      },
      {
          // llama.cpp's converter stores GPT-2's Conv1D weights transposed to [out, in].
          {"embed", "token_embd.weight"},
          {"pos_embed", "position_embd.weight"},
          {"blocks.{l}.ln1.w", "blk.%d.attn_norm.weight"},
          {"blocks.{l}.ln1.b", "blk.%d.attn_norm.bias"},
          {"blocks.{l}.q.w", "blk.%d.attn_qkv.weight", L::Split3, 0},
          {"blocks.{l}.k.w", "blk.%d.attn_qkv.weight", L::Split3, 1},
          {"blocks.{l}.v.w", "blk.%d.attn_qkv.weight", L::Split3, 2},
          {"blocks.{l}.q.b", "blk.%d.attn_qkv.bias", L::Split3, 0},
          {"blocks.{l}.k.b", "blk.%d.attn_qkv.bias", L::Split3, 1},
          {"blocks.{l}.v.b", "blk.%d.attn_qkv.bias", L::Split3, 2},
          {"blocks.{l}.o.w", "blk.%d.attn_output.weight"},
          {"blocks.{l}.o.b", "blk.%d.attn_output.bias"},
          {"blocks.{l}.ln2.w", "blk.%d.ffn_norm.weight"},
          {"blocks.{l}.ln2.b", "blk.%d.ffn_norm.bias"},
          {"blocks.{l}.up.w", "blk.%d.ffn_up.weight"},
          {"blocks.{l}.up.b", "blk.%d.ffn_up.bias"},
          {"blocks.{l}.down.w", "blk.%d.ffn_down.weight"},
          {"blocks.{l}.down.b", "blk.%d.ffn_down.bias"},
          {"ln_final.w", "output_norm.weight"},
          {"ln_final.b", "output_norm.bias"},
          {"unembed.w", "output.weight", L::AsIs, 0, true},
      },
      {"", "transformer."},
      {},
  };
}

FamilyRow llama_row() {
  return FamilyRow{
      Family::Llama,
      {
          {"embed", "model.embed_tokens.weight"},
          {"blocks.{l}.ln1.w", "model.layers.%d.input_layernorm.weight"},
          {"blocks.{l}.q.w", "model.layers.%d.self_attn.q_proj.weight"},
          {"blocks.{l}.k.w", "model.layers.%d.self_attn.k_proj.weight"},
          {"blocks.{l}.v.w", "model.layers.%d.self_attn.v_proj.weight"},
          {"blocks.{l}.q.b", "model.layers.%d.self_attn.q_proj.bias", L::AsIs, 0, true},
          {"blocks.{l}.k.b", "model.layers.%d.self_attn.k_proj.bias", L::AsIs, 0, true},
          {"blocks.{l}.v.b", "model.layers.%d.self_attn.v_proj.bias", L::AsIs, 0, true},
          {"blocks.{l}.o.w", "model.layers.%d.self_attn.o_proj.weight"},
          {"blocks.{l}.o.b", "model.layers.%d.self_attn.o_proj.bias", L::AsIs, 0, true},
          {"blocks.{l}.ln2.w", "model.layers.%d.post_attention_layernorm.weight"},
          {"blocks.{l}.gate.w", "model.layers.%d.mlp.gate_proj.weight"},
          {"blocks.{l}.up.w", "model.layers.%d.mlp.up_proj.weight"},
          {"blocks.{l}.down.w", "model.layers.%d.mlp.down_proj.weight"},
          {"ln_final.w", "model.norm.weight"},
          {"unembed.w", "lm_head.weight", L::AsIs, 0, true},
      },
      {
          {"embed", "token_embd.weight"},
          {"blocks.{l}.ln1.w", "blk.%d.attn_norm.weight"},
          {"blocks.{l}.q.w", "blk.%d.attn_q.weight", L::GgufRopeQ},
          {"blocks.{l}.k.w", "blk.%d.attn_k.weight", L::GgufRopeK},
          {"blocks.{l}.v.w", "blk.%d.attn_v.weight"},
          {"blocks.{l}.q.b", "blk.%d.attn_q.bias", L::GgufRopeQ, 0, true},
          {"blocks.{l}.k.b", "blk.%d.attn_k.bias", L::GgufRopeK, 0, true},
          {"blocks.{l}.v.b", "blk.%d.attn_v.bias", L::AsIs, 0, true},
          {"blocks.{l}.o.w", "blk.%d.attn_output.weight"},
          {"blocks.{l}.ln2.w", "blk.%d.ffn_norm.weight"},
          {"blocks.{l}.gate.w", "blk.%d.ffn_gate.weight"},
          {"blocks.{l}.up.w", "blk.%d.ffn_up.weight"},
          {"blocks.{l}.down.w", "blk.%d.ffn_down.weight"},
          {"ln_final.w", "output_norm.weight"},
          {"unembed.w", "output.weight", L::AsIs, 0, true},
      },
      {""},
      {"llama"},  // qwen2's converter leaves q/k as Hugging Face wrote them
  };
}

FamilyRow neox_row() {
  return FamilyRow{
      Family::GptNeoX,
      {
          {"embed", "gpt_neox.embed_in.weight"},
          {"blocks.{l}.ln1.w", "gpt_neox.layers.%d.input_layernorm.weight"},
          {"blocks.{l}.ln1.b", "gpt_neox.layers.%d.input_layernorm.bias"},
          {"blocks.{l}.q.w", "gpt_neox.layers.%d.attention.query_key_value.weight", L::NeoxSplit3, 0},
          {"blocks.{l}.k.w", "gpt_neox.layers.%d.attention.query_key_value.weight", L::NeoxSplit3, 1},
          {"blocks.{l}.v.w", "gpt_neox.layers.%d.attention.query_key_value.weight", L::NeoxSplit3, 2},
          {"blocks.{l}.q.b", "gpt_neox.layers.%d.attention.query_key_value.bias", L::NeoxSplit3, 0},
          {"blocks.{l}.k.b", "gpt_neox.layers.%d.attention.query_key_value.bias", L::NeoxSplit3, 1},
          {"blocks.{l}.v.b", "gpt_neox.layers.%d.attention.query_key_value.bias", L::NeoxSplit3, 2},
          {"blocks.{l}.o.w", "gpt_neox.layers.%d.attention.dense.weight"},
          {"blocks.{l}.o.b", "gpt_neox.layers.%d.attention.dense.bias"},
          {"blocks.{l}.ln2.w", "gpt_neox.layers.%d.post_attention_layernorm.weight"},
          {"blocks.{l}.ln2.b", "gpt_neox.layers.%d.post_attention_layernorm.bias"},
          {"blocks.{l}.up.w", "gpt_neox.layers.%d.mlp.dense_h_to_4h.weight"},
          {"blocks.{l}.up.b", "gpt_neox.layers.%d.mlp.dense_h_to_4h.bias"},
          {"blocks.{l}.down.w", "gpt_neox.layers.%d.mlp.dense_4h_to_h.weight"},
          {"blocks.{l}.down.b", "gpt_neox.layers.%d.mlp.dense_4h_to_h.bias"},
          {"ln_final.w", "gpt_neox.final_layer_norm.weight"},
          {"ln_final.b", "gpt_neox.final_layer_norm.bias"},
          {"unembed.w", "embed_out.weight", L::AsIs, 0, true},
      },
      {},  // GGUF GPT-NeoX files are not read (no config_from_gguf support)
      {""},
      {},
  };
}

FamilyRow attn_only_row() {
  return FamilyRow{
      Family::AttnOnly,
      {
          {"embed", "embed.W_E"},
          {"pos_embed", "pos_embed.W_pos"},
          {"blocks.{l}.q.w", "blocks.%d.attn.W_Q", L::TlHeadsIn},
          {"blocks.{l}.k.w", "blocks.%d.attn.W_K", L::TlHeadsIn},
          {"blocks.{l}.v.w", "blocks.%d.attn.W_V", L::TlHeadsIn},
          {"blocks.{l}.q.b", "blocks.%d.attn.b_Q", L::TlHeadsIn, 0, true},
          {"blocks.{l}.k.b", "blocks.%d.attn.b_K", L::TlHeadsIn, 0, true},
          {"blocks.{l}.v.b", "blocks.%d.attn.b_V", L::TlHeadsIn, 0, true},
          {"blocks.{l}.o.w", "blocks.%d.attn.W_O", L::TlHeadsOut},
          {"blocks.{l}.o.b", "blocks.%d.attn.b_O", L::AsIs, 0, true},
          {"unembed.w", "unembed.W_U", L::Transpose},
          {"unembed.b", "unembed.b_U", L::AsIs, 0, true},
      },
      {},
      {""},
      {},
  };
}

}  // namespace

const FamilyRow& family_row(formats::Family family) {
  static const FamilyRow rows[] = {gpt2_row(), llama_row(), neox_row(), attn_only_row()};
  for (const FamilyRow& row : rows)
    if (row.family == family) return row;
  throw std::invalid_argument(std::string("no family row for ") + formats::family_name(family));
}

}  // namespace circuit::rt
