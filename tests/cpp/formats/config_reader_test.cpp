#include "runtime/formats/config_reader.h"

#include <limits>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "runtime/formats/format_error.h"
#include "runtime/formats/gguf_reader.h"
#include "tests/cpp/formats/test_files.h"

namespace circuit::formats {
namespace {

using nlohmann::json;

std::string error_of(const json& j) {
  try {
    config_from_hf_json(j, "config.json");
  } catch (const FormatError& e) {
    return e.what();
  }
  return "no error";
}

// GPT-2 small as Hugging Face ships it (n_inner null).
json gpt2_json() {
  return json::parse(R"({"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "n_ctx": 1024,
    "n_embd": 768, "n_head": 12, "n_layer": 12, "n_positions": 1024, "vocab_size": 50257,
    "n_inner": null, "activation_function": "gelu_new", "layer_norm_epsilon": 1e-05,
    "bos_token_id": 50256, "eos_token_id": 50256})");
}

TEST(ConfigFromHfJson, Gpt2) {
  const ModelConfig c = config_from_hf_json(gpt2_json(), "config.json");
  EXPECT_EQ(c.family, Family::Gpt2);
  EXPECT_EQ(c.architecture, "GPT2LMHeadModel");
  EXPECT_EQ(c.n_layers, 12);
  EXPECT_EQ(c.d_model, 768);
  EXPECT_EQ(c.n_heads, 12);
  EXPECT_EQ(c.n_kv_heads, 12);
  EXPECT_EQ(c.d_head, 64);
  EXPECT_EQ(c.d_mlp, 3072);  // 4 * n_embd
  EXPECT_EQ(c.d_vocab, 50257);
  EXPECT_EQ(c.n_ctx, 1024);
  EXPECT_EQ(c.norm, NormKind::LayerNorm);
  EXPECT_FLOAT_EQ(c.norm_eps, 1e-5f);
  EXPECT_EQ(c.positions, PositionKind::Learned);
  EXPECT_EQ(c.mlp, MlpKind::Gelu);
  EXPECT_EQ(c.activation, "gelu_new");
  EXPECT_TRUE(c.qkv_bias && c.attn_out_bias && c.mlp_bias);
  EXPECT_TRUE(c.tied_embeddings);
  EXPECT_EQ(c.bos_token_id, 50256);
  EXPECT_FALSE(c.add_bos);

  json j = gpt2_json();
  j["n_inner"] = 1000;
  j["tie_word_embeddings"] = false;
  j["activation_function"] = "relu";
  const ModelConfig d = config_from_hf_json(j, "config.json");
  EXPECT_EQ(d.d_mlp, 1000);
  EXPECT_FALSE(d.tied_embeddings);
  EXPECT_EQ(d.activation, "relu");
}

// SmolLM2-135M's config.json, trimmed.
json llama_json() {
  return json::parse(R"({"architectures": ["LlamaForCausalLM"], "model_type": "llama",
    "hidden_size": 576, "intermediate_size": 1536, "num_attention_heads": 9, "num_hidden_layers": 30,
    "num_key_value_heads": 3, "max_position_embeddings": 8192, "rms_norm_eps": 1e-05,
    "rope_theta": 100000, "tie_word_embeddings": true, "vocab_size": 49152,
    "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu"})");
}

TEST(ConfigFromHfJson, Llama) {
  const ModelConfig c = config_from_hf_json(llama_json(), "config.json");
  EXPECT_EQ(c.family, Family::Llama);
  EXPECT_EQ(c.n_layers, 30);
  EXPECT_EQ(c.n_heads, 9);
  EXPECT_EQ(c.n_kv_heads, 3);
  EXPECT_EQ(c.d_head, 64);
  EXPECT_EQ(c.d_mlp, 1536);
  EXPECT_EQ(c.n_ctx, 8192);
  EXPECT_EQ(c.norm, NormKind::RmsNorm);
  EXPECT_FLOAT_EQ(c.norm_eps, 1e-5f);
  EXPECT_EQ(c.positions, PositionKind::Rotary);
  EXPECT_FLOAT_EQ(c.rope_theta, 100000.0f);
  EXPECT_FALSE(c.rope_scaling.has_value());
  EXPECT_EQ(c.mlp, MlpKind::SwiGlu);
  EXPECT_EQ(c.activation, "silu");
  EXPECT_FALSE(c.qkv_bias || c.attn_out_bias || c.mlp_bias);
  EXPECT_TRUE(c.tied_embeddings);

  // Defaults: no num_key_value_heads -> MHA; no tie_word_embeddings -> untied; explicit head_dim.
  json j = llama_json();
  j.erase("num_key_value_heads");
  j.erase("tie_word_embeddings");
  j.erase("rms_norm_eps");
  j.erase("rope_theta");
  j["head_dim"] = 128;
  j["attention_bias"] = true;
  const ModelConfig d = config_from_hf_json(j, "config.json");
  EXPECT_EQ(d.n_kv_heads, 9);
  EXPECT_FALSE(d.tied_embeddings);
  EXPECT_EQ(d.d_head, 128);
  EXPECT_FLOAT_EQ(d.norm_eps, 1e-6f);
  EXPECT_FLOAT_EQ(d.rope_theta, 10000.0f);
  EXPECT_TRUE(d.qkv_bias && d.attn_out_bias);
}

TEST(ConfigFromHfJson, Llama3RopeScalingBothSpellings) {
  json j = llama_json();
  j["rope_theta"] = 500000.0;
  j["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 32.0}, {"low_freq_factor", 1.0},
                       {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 8192}};
  const ModelConfig c = config_from_hf_json(j, "config.json");
  ASSERT_TRUE(c.rope_scaling.has_value());
  EXPECT_FLOAT_EQ(c.rope_scaling->factor, 32.0f);
  EXPECT_FLOAT_EQ(c.rope_scaling->high_freq_factor, 4.0f);
  EXPECT_EQ(c.rope_scaling->original_max_position_embeddings, 8192);
  EXPECT_FLOAT_EQ(c.rope_theta, 500000.0f);

  // transformers 5 writes rope_parameters, theta inside.
  json k = llama_json();
  k.erase("rope_theta");
  k["rope_parameters"] = {{"rope_type", "llama3"}, {"rope_theta", 500000.0}, {"factor", 8.0},
                          {"original_max_position_embeddings", 8192}};
  const ModelConfig d = config_from_hf_json(k, "config.json");
  EXPECT_FLOAT_EQ(d.rope_theta, 500000.0f);
  EXPECT_FLOAT_EQ(d.rope_scaling->factor, 8.0f);

  k["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 1000.0}};
  EXPECT_FALSE(config_from_hf_json(k, "config.json").rope_scaling.has_value());
  k["rope_parameters"] = {{"rope_type", "yarn"}, {"factor", 4.0}};
  EXPECT_EQ(error_of(k), "config.json: unsupported RoPE scaling 'yarn' (supported: default, llama3)");
}

TEST(ConfigFromHfJson, Qwen2) {
  const json j = json::parse(R"({"model_type": "qwen2", "hidden_size": 896, "intermediate_size": 4864,
    "num_attention_heads": 14, "num_hidden_layers": 24, "num_key_value_heads": 2, "vocab_size": 151936,
    "rope_theta": 1000000.0, "tie_word_embeddings": true, "rms_norm_eps": 1e-06, "use_sliding_window": false,
    "max_position_embeddings": 32768, "bos_token_id": 151643, "eos_token_id": 151645})");
  const ModelConfig c = config_from_hf_json(j, "config.json");
  EXPECT_EQ(c.family, Family::Llama);
  EXPECT_EQ(c.architecture, "qwen2");
  EXPECT_TRUE(c.qkv_bias);
  EXPECT_FALSE(c.attn_out_bias);
  EXPECT_EQ(c.d_head, 64);
  EXPECT_EQ(c.n_kv_heads, 2);
  EXPECT_FLOAT_EQ(c.rope_theta, 1e6f);
  json k = j;
  k["use_sliding_window"] = true;
  EXPECT_EQ(error_of(k), "config.json: sliding-window attention is not supported");
}

TEST(ConfigFromHfJson, GptNeoX) {
  const json j = json::parse(R"({"architectures": ["GPTNeoXForCausalLM"], "model_type": "gpt_neox",
    "hidden_size": 512, "intermediate_size": 2048, "num_attention_heads": 8, "num_hidden_layers": 6,
    "vocab_size": 50304, "max_position_embeddings": 2048, "rotary_pct": 0.25, "rotary_emb_base": 10000,
    "use_parallel_residual": true, "layer_norm_eps": 1e-05, "hidden_act": "gelu", "tie_word_embeddings": false,
    "bos_token_id": 0, "eos_token_id": 0})");
  const ModelConfig c = config_from_hf_json(j, "config.json");
  EXPECT_EQ(c.family, Family::GptNeoX);
  EXPECT_EQ(c.d_head, 64);
  EXPECT_FLOAT_EQ(c.rotary_fraction, 0.25f);
  EXPECT_TRUE(c.parallel_residual);
  EXPECT_TRUE(c.qkv_bias && c.attn_out_bias && c.mlp_bias);
  EXPECT_EQ(c.norm, NormKind::LayerNorm);
  EXPECT_EQ(c.activation, "gelu");
  EXPECT_EQ(c.eos_token_id, 0);
  json k = j;
  k.erase("rotary_pct");
  k["use_parallel_residual"] = false;
  const ModelConfig d = config_from_hf_json(k, "config.json");
  EXPECT_FLOAT_EQ(d.rotary_fraction, 0.25f);
  EXPECT_FALSE(d.parallel_residual);
}

TEST(ConfigFromHfJson, AttnOnly) {
  const json j = json::parse(R"({"model_type": "circuitry-attn-only", "n_layers": 2, "d_model": 64,
    "n_heads": 4, "d_head": 16, "d_vocab": 128, "n_ctx": 64, "bos_token_id": 0, "add_bos": true})");
  const ModelConfig c = config_from_hf_json(j, "config.json");
  EXPECT_EQ(c.family, Family::AttnOnly);
  EXPECT_EQ(c.n_layers, 2);
  EXPECT_EQ(c.d_head, 16);
  EXPECT_EQ(c.n_kv_heads, 4);
  EXPECT_EQ(c.d_mlp, 0);
  EXPECT_EQ(c.positions, PositionKind::LearnedQkOnly);
  EXPECT_EQ(c.norm, NormKind::None);
  EXPECT_EQ(c.mlp, MlpKind::None);
  EXPECT_TRUE(c.unembed_bias);
  EXPECT_EQ(c.bos_token_id, 0);
  EXPECT_TRUE(c.add_bos);
  json k = j;
  k.erase("d_head");
  EXPECT_EQ(error_of(k), "config.json: missing field 'd_head'");
}

TEST(ConfigFromHfJson, MissingFieldsAndWrongTypes) {
  json j = llama_json();
  j.erase("num_attention_heads");
  EXPECT_EQ(error_of(j), "config.json: missing field 'num_attention_heads'");
  j = llama_json();
  j["num_hidden_layers"] = "30";
  EXPECT_EQ(error_of(j), "config.json: field 'num_hidden_layers' must be an integer, got \"30\"");
  j = llama_json();
  j["tie_word_embeddings"] = 1;
  EXPECT_EQ(error_of(j), "config.json: field 'tie_word_embeddings' must be true or false, got 1");
  j = llama_json();
  j["rms_norm_eps"] = "small";
  EXPECT_EQ(error_of(j), "config.json: field 'rms_norm_eps' must be a number, got \"small\"");
  j = llama_json();
  j["num_key_value_heads"] = 4;
  EXPECT_EQ(error_of(j), "config.json: 9 attention heads are not a multiple of 4 key/value heads");
  j = llama_json();
  j["hidden_act"] = "quick_gelu";
  EXPECT_NE(error_of(j).find("unsupported activation 'quick_gelu'"), std::string::npos);
  EXPECT_EQ(error_of(json::parse(R"({"model_type": "bert"})")),
            "config.json: unsupported model_type 'bert' (supported: gpt2, llama, qwen2, gpt_neox, circuitry-attn-only)");
  EXPECT_EQ(error_of(json::object()), "config.json: missing field 'model_type'");
  EXPECT_EQ(error_of(json::array()), "config.json: not a JSON object");
  j = gpt2_json();
  j["n_head"] = 0;
  EXPECT_NE(error_of(j).find("must be positive"), std::string::npos);
}

// A norm epsilon or RoPE base of zero, below zero or past a float makes every forward NaN or
// inf; a context of 0 positions holds no token.
TEST(ConfigFromHfJson, RefusesEpsilonsBasesAndContextsThatBreakTheModel) {
  json j = llama_json();
  j["rms_norm_eps"] = 0;
  EXPECT_EQ(error_of(j), "config.json: field 'rms_norm_eps' must be a positive finite number, got 0");
  j["rms_norm_eps"] = 1e39;  // inf as a float
  EXPECT_EQ(error_of(j), "config.json: field 'rms_norm_eps' must be a positive finite number, got 1e+39");
  j = llama_json();
  j["rope_theta"] = -10000;
  EXPECT_EQ(error_of(j), "config.json: field 'rope_theta' must be a positive finite number, got -10000");
  j = llama_json();
  j["max_position_embeddings"] = 0;
  EXPECT_EQ(error_of(j), "config.json: field 'max_position_embeddings' must be a positive integer, got 0");
  j = gpt2_json();
  j["layer_norm_epsilon"] = -1e-5;
  EXPECT_EQ(error_of(j), "config.json: field 'layer_norm_epsilon' must be a positive finite number, got -1e-05");
}

TEST(ConfigFromHfFile, ReportsJsonSyntaxErrors) {
  testing::ScratchDir dir;
  const std::string path = dir.write("config.json", std::string("{\"model_type\": "));
  try {
    config_from_hf_file(path);
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find(path + ": invalid JSON"), std::string::npos) << e.what();
  }
}

// A tiny Llama GGUF; the key `skip` is left out, for a test to write its own value.
testing::GgufBuilder llama_gguf(bool with_output, const std::string& skip = "") {
  testing::GgufBuilder b;
  b.kv_string("general.architecture", "llama").kv_string("general.name", "tiny");
  for (const auto& [key, value] : std::vector<std::pair<std::string, uint32_t>>{
           {"llama.block_count", 2}, {"llama.embedding_length", 8}, {"llama.attention.head_count", 4},
           {"llama.attention.head_count_kv", 2}, {"llama.feed_forward_length", 16}, {"llama.context_length", 32}})
    if (key != skip) b.kv_u32(key, value);
  if (skip != "llama.rope.freq_base") b.kv_f32("llama.rope.freq_base", 100000.0f);
  if (skip != "llama.attention.layer_norm_rms_epsilon") b.kv_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  b.kv_string("tokenizer.ggml.model", "gpt2")
      .kv_strings("tokenizer.ggml.tokens", {"a", "b", "c", "d", "e"})
      .kv_u32("tokenizer.ggml.bos_token_id", 1)
      .kv_u32("tokenizer.ggml.eos_token_id", 2);
  b.tensor_f32("token_embd.weight", {8, 5}, std::vector<float>(40));
  if (with_output) b.tensor_f32("output.weight", {8, 5}, std::vector<float>(40));
  return b;
}

TEST(ConfigFromGguf, Llama) {
  const auto bytes = llama_gguf(false).build();
  const ModelConfig c = config_from_gguf(GgufFile::parse(bytes, "tiny.gguf"));
  EXPECT_EQ(c.family, Family::Llama);
  EXPECT_EQ(c.name, "tiny");
  EXPECT_EQ(c.n_layers, 2);
  EXPECT_EQ(c.d_model, 8);
  EXPECT_EQ(c.n_heads, 4);
  EXPECT_EQ(c.n_kv_heads, 2);
  EXPECT_EQ(c.d_head, 2);
  EXPECT_EQ(c.d_mlp, 16);
  EXPECT_EQ(c.d_vocab, 5);
  EXPECT_EQ(c.n_ctx, 32);
  EXPECT_FLOAT_EQ(c.rope_theta, 100000.0f);
  EXPECT_FLOAT_EQ(c.norm_eps, 1e-5f);
  EXPECT_TRUE(c.tied_embeddings);
  EXPECT_EQ(c.bos_token_id, 1);
  EXPECT_EQ(c.eos_token_id, 2);
  EXPECT_FALSE(c.add_bos);  // BPE vocabulary, no add_bos_token key
  const auto untied = llama_gguf(true).kv_bool("tokenizer.ggml.add_bos_token", true).build();
  const ModelConfig d = config_from_gguf(GgufFile::parse(untied, "tiny.gguf"));
  EXPECT_FALSE(d.tied_embeddings);
  EXPECT_TRUE(d.add_bos);
}

TEST(ConfigFromGguf, Errors) {
  auto bytes = testing::GgufBuilder().kv_string("general.architecture", "mamba").build();
  EXPECT_THROW(config_from_gguf(GgufFile::parse(bytes, "m.gguf")), FormatError);
  bytes = testing::GgufBuilder().kv_string("general.architecture", "llama").kv_u32("llama.block_count", 2).build();
  try {
    config_from_gguf(GgufFile::parse(bytes, "m.gguf"));
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_STREQ(e.what(), "m.gguf: missing metadata 'llama.embedding_length'");
  }
}

std::string gguf_error_of(const testing::GgufBuilder& b) {
  const auto bytes = b.build();
  try {
    config_from_gguf(GgufFile::parse(bytes, "tiny.gguf"));
  } catch (const FormatError& e) {
    return e.what();
  }
  return "no error";
}

// What the safetensors and config.json readers refuse, the GGUF reader refuses too.
TEST(ConfigFromGguf, RefusesZeroContextAndBadEpsilonsAndBases) {
  EXPECT_EQ(gguf_error_of(llama_gguf(false, "llama.context_length").kv_u32("llama.context_length", 0)),
            "tiny.gguf: metadata 'llama.context_length' is 0, expected at least 1");
  const std::string eps = "llama.attention.layer_norm_rms_epsilon";
  EXPECT_EQ(gguf_error_of(llama_gguf(false, eps).kv_f32(eps, std::numeric_limits<float>::quiet_NaN())),
            "tiny.gguf: metadata '" + eps + "' is nan, expected a positive finite number");
  EXPECT_EQ(gguf_error_of(llama_gguf(false, eps).kv_f32(eps, std::numeric_limits<float>::infinity())),
            "tiny.gguf: metadata '" + eps + "' is inf, expected a positive finite number");
  EXPECT_EQ(gguf_error_of(llama_gguf(false, eps).kv_f32(eps, 0.0f)),
            "tiny.gguf: metadata '" + eps + "' is 0, expected a positive finite number");
  EXPECT_EQ(gguf_error_of(llama_gguf(false, eps).kv_f64(eps, 1e300)),  // finite as a double, inf as a float
            "tiny.gguf: metadata '" + eps + "' is 1e+300, expected a positive finite number");
  EXPECT_EQ(gguf_error_of(llama_gguf(false, "llama.rope.freq_base").kv_f32("llama.rope.freq_base", -10000.0f)),
            "tiny.gguf: metadata 'llama.rope.freq_base' is -10000, expected a positive finite number");
  EXPECT_EQ(gguf_error_of(llama_gguf(false, "llama.rope.freq_base").kv_i32("llama.rope.freq_base", 0)),
            "tiny.gguf: metadata 'llama.rope.freq_base' is 0, expected a positive finite number");
  EXPECT_EQ(gguf_error_of(llama_gguf(false).kv_u32("llama.rope.dimension_count", 3)),
            "tiny.gguf: metadata 'llama.rope.dimension_count' is 3, expected 1 to the head width 2");
}

// Counts are read as unsigned and refused with the number the file holds, never wrapped.
TEST(ConfigFromGguf, RefusesCountsPastAnInt) {
  EXPECT_EQ(gguf_error_of(llama_gguf(false, "llama.block_count").kv_u32("llama.block_count", 1u << 31)),
            "tiny.gguf: metadata 'llama.block_count' is 2147483648, more than 2147483647");
  EXPECT_EQ(gguf_error_of(llama_gguf(false, "llama.block_count").kv_u64("llama.block_count", 1ull << 40)),
            "tiny.gguf: metadata 'llama.block_count' is 1099511627776, more than 2147483647");
  EXPECT_EQ(gguf_error_of(llama_gguf(false, "llama.block_count").kv_i32("llama.block_count", -5)),
            "tiny.gguf: metadata 'llama.block_count' is negative (-5)");
  EXPECT_EQ(gguf_error_of(llama_gguf(false, "llama.block_count").kv_u32("llama.block_count", 0)),
            "tiny.gguf: metadata 'llama.block_count' is 0, expected at least 1");
  EXPECT_EQ(gguf_error_of(llama_gguf(false).kv_u64("tokenizer.ggml.padding_token_id", 1ull << 32)),
            "tiny.gguf: metadata 'tokenizer.ggml.padding_token_id' is 4294967296, not a token id");
}

}  // namespace
}  // namespace circuit::formats
