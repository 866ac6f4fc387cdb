#include "runtime/formats/config_reader.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include "runtime/formats/format_error.h"
#include "runtime/formats/gguf_reader.h"

namespace circuit::formats {
namespace {

using nlohmann::json;

// Norm epsilons and RoPE bases: zero, negative, NaN or past a float (inf once stored) make
// every forward NaN or inf.
bool positive_finite_float(double x) {
  return std::isfinite(x) && x > 0.0 && x <= static_cast<double>(std::numeric_limits<float>::max());
}

// Typed access to one config.json object with Hugging Face's defaults and our error messages.
class Fields {
 public:
  Fields(const json& j, const std::string& where) : j_(j), where_(where) {}

  bool has(const char* key) const { return j_.contains(key) && !j_.at(key).is_null(); }

  int required_int(const char* key) const {
    if (!has(key)) throw FormatError(where_, std::string("missing field '") + key + "'");
    return to_int(key, j_.at(key));
  }
  int int_or(const char* key, int fallback) const { return has(key) ? to_int(key, j_.at(key)) : fallback; }
  float float_or(const char* key, float fallback) const {
    if (!has(key)) return fallback;
    const json& v = j_.at(key);
    if (!v.is_number()) wrong(key, "a number", v);
    return v.get<float>();
  }
  float positive_float_or(const char* key, float fallback) const {
    if (!has(key)) return fallback;
    const json& v = j_.at(key);
    if (!v.is_number()) wrong(key, "a number", v);
    const double x = v.get<double>();
    if (!positive_finite_float(x)) wrong(key, "a positive finite number", v);
    return static_cast<float>(x);
  }
  int positive_int_or(const char* key, int fallback) const {
    const int x = int_or(key, fallback);
    if (x <= 0) wrong(key, "a positive integer", j_.at(key));
    return x;
  }
  bool bool_or(const char* key, bool fallback) const {
    if (!has(key)) return fallback;
    const json& v = j_.at(key);
    if (!v.is_boolean()) wrong(key, "true or false", v);
    return v.get<bool>();
  }
  std::string string_or(const char* key, const std::string& fallback) const {
    if (!has(key)) return fallback;
    const json& v = j_.at(key);
    if (!v.is_string()) wrong(key, "a string", v);
    return v.get<std::string>();
  }
  // Token ids may be a list (several EOS tokens); the first one is the model's.
  int token_or(const char* key, int fallback) const {
    if (!has(key)) return fallback;
    const json& v = j_.at(key);
    if (v.is_array()) {
      if (v.empty()) return fallback;
      return to_int(key, v.at(0));
    }
    return to_int(key, v);
  }
  const json* object(const char* key) const {
    if (!has(key)) return nullptr;
    const json& v = j_.at(key);
    if (!v.is_object()) wrong(key, "an object", v);
    return &v;
  }

  [[noreturn]] void fail(const std::string& reason) const { throw FormatError(where_, reason); }
  const std::string& where() const { return where_; }

 private:
  int to_int(const char* key, const json& v) const {
    if (!v.is_number_integer()) wrong(key, "an integer", v);
    const int64_t x = v.get<int64_t>();
    if (x < -1 || x > (int64_t(1) << 31) - 1) wrong(key, "an integer in range", v);
    return static_cast<int>(x);
  }
  [[noreturn]] void wrong(const char* key, const char* expected, const json& v) const {
    std::string shown = v.dump();
    if (shown.size() > 40) shown = shown.substr(0, 37) + "...";
    throw FormatError(where_, std::string("field '") + key + "' must be " + expected + ", got " + shown);
  }

  const json& j_;
  const std::string& where_;
};

void require_positive(const Fields& f, const char* what, int value) {
  if (value <= 0) f.fail(std::string(what) + " must be positive, got " + std::to_string(value));
}

// Hugging Face activation names -> ours ("gelu_new" is the tanh approximation).
std::string activation_from(const Fields& f, const std::string& hf_name) {
  if (hf_name == "silu" || hf_name == "swish") return "silu";
  if (hf_name == "gelu") return "gelu";
  if (hf_name == "gelu_new" || hf_name == "gelu_pytorch_tanh" || hf_name == "gelu_fast") return "gelu_new";
  if (hf_name == "relu") return "relu";
  f.fail("unsupported activation '" + hf_name + "' (supported: silu, gelu, gelu_new, gelu_pytorch_tanh, relu)");
}

// A number as a person reads it: 1e-06, -10000, nan, inf.
std::string shown(double x) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", x);
  return text;
}

void check_heads(const Fields& f, ModelConfig& c) {
  require_positive(f, "the layer count", c.n_layers);
  require_positive(f, "the model width", c.d_model);
  require_positive(f, "the head count", c.n_heads);
  require_positive(f, "the key/value head count", c.n_kv_heads);
  require_positive(f, "the head width", c.d_head);
  require_positive(f, "the vocabulary size", c.d_vocab);
  if (c.n_heads % c.n_kv_heads != 0)
    f.fail(std::to_string(c.n_heads) + " attention heads are not a multiple of " +
           std::to_string(c.n_kv_heads) + " key/value heads");
  require_positive(f, "the context length", c.n_ctx);
  if (c.mlp != MlpKind::None) require_positive(f, "the MLP width", c.d_mlp);
  if (c.norm != NormKind::None && !positive_finite_float(c.norm_eps))
    f.fail("the norm epsilon must be a positive finite number, got " + shown(c.norm_eps));
  if (c.positions == PositionKind::Rotary && !positive_finite_float(c.rope_theta))
    f.fail("the RoPE base must be a positive finite number, got " + shown(c.rope_theta));
}

// RoPE base and scaling: transformers 5 writes "rope_parameters", older files "rope_theta"
// and "rope_scaling"; NeoX spells the base "rotary_emb_base".
void read_rope(const Fields& f, ModelConfig& c, const char* theta_key) {
  c.rope_theta = f.positive_float_or(theta_key, 10000.0f);
  const json* params = f.object("rope_parameters");
  if (!params) params = f.object("rope_scaling");
  if (!params) return;
  Fields p(*params, f.where());
  if (params->contains("rope_theta")) c.rope_theta = p.positive_float_or("rope_theta", c.rope_theta);
  if (params->contains("partial_rotary_factor"))
    c.rotary_fraction = p.float_or("partial_rotary_factor", c.rotary_fraction);
  std::string type = p.string_or("rope_type", p.string_or("type", "default"));
  if (type == "default") return;
  if (type != "llama3") f.fail("unsupported RoPE scaling '" + type + "' (supported: default, llama3)");
  RopeScaling s;
  s.factor = p.float_or("factor", 1.0f);
  s.low_freq_factor = p.float_or("low_freq_factor", 1.0f);
  s.high_freq_factor = p.float_or("high_freq_factor", 1.0f);
  s.original_max_position_embeddings = p.int_or("original_max_position_embeddings", 0);
  if (s.original_max_position_embeddings <= 0)
    f.fail("llama3 RoPE scaling needs 'original_max_position_embeddings'");
  c.rope_scaling = s;
}

ModelConfig gpt2_config(const Fields& f) {
  ModelConfig c;
  c.family = Family::Gpt2;
  c.n_layers = f.required_int("n_layer");
  c.d_model = f.required_int("n_embd");
  c.n_heads = f.required_int("n_head");
  c.n_kv_heads = c.n_heads;
  c.d_vocab = f.required_int("vocab_size");
  c.n_ctx = f.positive_int_or("n_positions", f.positive_int_or("n_ctx", 1024));
  if (c.n_heads > 0) c.d_head = c.d_model / c.n_heads;
  // n_inner: null means 4 * n_embd (computed wide: a huge n_embd must not overflow an int).
  const int64_t default_mlp = int64_t{4} * c.d_model;
  if (!f.has("n_inner") && default_mlp > std::numeric_limits<int>::max())
    f.fail("n_embd " + std::to_string(c.d_model) + " is too large (4 * n_embd is the MLP width)");
  c.d_mlp = f.int_or("n_inner", static_cast<int>(default_mlp));
  c.norm = NormKind::LayerNorm;
  c.norm_eps = f.positive_float_or("layer_norm_epsilon", 1e-5f);
  c.positions = PositionKind::Learned;
  c.mlp = MlpKind::Gelu;
  c.activation = activation_from(f, f.string_or("activation_function", "gelu_new"));
  c.qkv_bias = c.attn_out_bias = c.mlp_bias = true;
  c.tied_embeddings = f.bool_or("tie_word_embeddings", true);
  if (!f.bool_or("scale_attn_weights", true)) c.attn_scale = 1.0f;
  if (f.bool_or("scale_attn_by_inverse_layer_idx", false))
    f.fail("scale_attn_by_inverse_layer_idx is not supported");
  c.bos_token_id = f.token_or("bos_token_id", 50256);
  c.eos_token_id = f.token_or("eos_token_id", 50256);
  if (c.n_heads > 0 && c.d_model % c.n_heads != 0)
    f.fail("n_embd " + std::to_string(c.d_model) + " is not a multiple of n_head " + std::to_string(c.n_heads));
  return c;
}

// Llama and Qwen2 share their keys; they differ in defaults and Qwen2's q/k/v biases.
ModelConfig llama_config(const Fields& f, bool qwen2) {
  ModelConfig c;
  c.family = Family::Llama;
  c.n_layers = f.required_int("num_hidden_layers");
  c.d_model = f.required_int("hidden_size");
  c.n_heads = f.required_int("num_attention_heads");
  c.n_kv_heads = f.int_or("num_key_value_heads", c.n_heads);
  c.d_vocab = f.required_int("vocab_size");
  c.d_mlp = f.required_int("intermediate_size");
  c.n_ctx = f.positive_int_or("max_position_embeddings", qwen2 ? 32768 : 2048);
  c.d_head = f.int_or("head_dim", c.n_heads > 0 ? c.d_model / c.n_heads : 0);
  c.norm = NormKind::RmsNorm;
  c.norm_eps = f.positive_float_or("rms_norm_eps", 1e-6f);
  c.positions = PositionKind::Rotary;
  read_rope(f, c, "rope_theta");
  c.mlp = MlpKind::SwiGlu;
  c.activation = activation_from(f, f.string_or("hidden_act", "silu"));
  if (qwen2) {
    c.qkv_bias = true;  // Qwen2 always has q/k/v biases and no output bias
    if (f.bool_or("use_sliding_window", false)) f.fail("sliding-window attention is not supported");
  } else {
    c.qkv_bias = c.attn_out_bias = f.bool_or("attention_bias", false);
    c.mlp_bias = f.bool_or("mlp_bias", false);
  }
  c.tied_embeddings = f.bool_or("tie_word_embeddings", false);
  c.bos_token_id = f.token_or("bos_token_id", qwen2 ? -1 : 1);
  c.eos_token_id = f.token_or("eos_token_id", qwen2 ? -1 : 2);
  return c;
}

ModelConfig gpt_neox_config(const Fields& f) {
  ModelConfig c;
  c.family = Family::GptNeoX;
  c.n_layers = f.required_int("num_hidden_layers");
  c.d_model = f.required_int("hidden_size");
  c.n_heads = f.required_int("num_attention_heads");
  c.n_kv_heads = c.n_heads;
  c.d_vocab = f.required_int("vocab_size");
  c.d_mlp = f.required_int("intermediate_size");
  c.n_ctx = f.positive_int_or("max_position_embeddings", 2048);
  if (c.n_heads > 0) c.d_head = c.d_model / c.n_heads;
  c.norm = NormKind::LayerNorm;
  c.norm_eps = f.positive_float_or("layer_norm_eps", 1e-5f);
  c.positions = PositionKind::Rotary;
  c.rotary_fraction = f.float_or("rotary_pct", 0.25f);
  read_rope(f, c, "rotary_emb_base");
  if (c.rotary_fraction <= 0.0f || c.rotary_fraction > 1.0f)
    f.fail("rotary_pct must be in (0, 1], got " + std::to_string(c.rotary_fraction));
  c.mlp = MlpKind::Gelu;
  c.activation = activation_from(f, f.string_or("hidden_act", "gelu"));
  c.parallel_residual = f.bool_or("use_parallel_residual", true);
  c.qkv_bias = c.attn_out_bias = f.bool_or("attention_bias", true);
  c.mlp_bias = true;
  c.tied_embeddings = f.bool_or("tie_word_embeddings", false);
  c.bos_token_id = f.token_or("bos_token_id", 0);
  c.eos_token_id = f.token_or("eos_token_id", 2);
  return c;
}

// Our own toy models (docs/model-formats.md): attention only, no norm, learned positions
// added to the query and key inputs, biases on q/k/v/o and the unembedding.
ModelConfig attn_only_config(const Fields& f) {
  ModelConfig c;
  c.family = Family::AttnOnly;
  c.n_layers = f.required_int("n_layers");
  c.d_model = f.required_int("d_model");
  c.n_heads = f.required_int("n_heads");
  c.n_kv_heads = c.n_heads;
  c.d_head = f.required_int("d_head");
  c.d_vocab = f.required_int("d_vocab");
  c.n_ctx = f.required_int("n_ctx");
  require_positive(f, "n_ctx", c.n_ctx);
  c.d_mlp = 0;
  c.norm = NormKind::None;
  c.positions = PositionKind::LearnedQkOnly;
  c.mlp = MlpKind::None;
  c.activation = "";
  c.qkv_bias = c.attn_out_bias = true;
  c.unembed_bias = true;
  c.tied_embeddings = false;
  c.bos_token_id = f.token_or("bos_token_id", -1);
  c.eos_token_id = f.token_or("eos_token_id", -1);
  c.add_bos = f.bool_or("add_bos", c.bos_token_id >= 0);
  if (c.add_bos && c.bos_token_id < 0) f.fail("add_bos is true but there is no bos_token_id");
  return c;
}

}  // namespace

ModelConfig config_from_hf_json(const nlohmann::json& config, const std::string& where) {
  if (!config.is_object()) throw FormatError(where, "not a JSON object");
  Fields f(config, where);
  if (!f.has("model_type")) f.fail("missing field 'model_type'");
  const std::string type = f.string_or("model_type", "");
  ModelConfig c;
  if (type == "gpt2") c = gpt2_config(f);
  else if (type == "llama") c = llama_config(f, false);
  else if (type == "qwen2") c = llama_config(f, true);
  else if (type == "gpt_neox") c = gpt_neox_config(f);
  else if (type == "circuitry-attn-only") c = attn_only_config(f);
  else
    f.fail("unsupported model_type '" + type +
           "' (supported: gpt2, llama, qwen2, gpt_neox, circuitry-attn-only)");
  c.architecture = type;
  if (config.contains("architectures") && config["architectures"].is_array() &&
      !config["architectures"].empty() && config["architectures"][0].is_string())
    c.architecture = config["architectures"][0].get<std::string>();
  c.name = f.string_or("name", "");  // _name_or_path is often a training path; the folder names the model
  c.pad_token_id = f.token_or("pad_token_id", -1);
  check_heads(f, c);
  if (c.bos_token_id >= c.d_vocab) c.bos_token_id = -1;  // some configs name ids outside the vocab
  return c;
}

ModelConfig config_from_hf_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FormatError(path, "cannot open");
  std::stringstream buffer;
  buffer << in.rdbuf();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(buffer.str());
  } catch (const nlohmann::json::exception& e) {
    std::string message = e.what();
    auto at = message.find("] ");
    throw FormatError(path, "invalid JSON: " + (at == std::string::npos ? message : message.substr(at + 2)));
  }
  return config_from_hf_json(j, path);
}

namespace {

constexpr uint64_t kIntMax = static_cast<uint64_t>(std::numeric_limits<int>::max());

// A count or size, read as unsigned whatever integer type the file stores it in, so that
// 2^31 is refused as 2147483648 rather than wrapping to a negative int.
int gguf_count(const GgufFile& g, const std::string& key, uint64_t v) {
  if (v > kIntMax)
    throw FormatError(g.path(), "metadata '" + key + "' is " + std::to_string(v) + ", more than " +
                                    std::to_string(kIntMax));
  return static_cast<int>(v);
}

int gguf_int(const GgufFile& g, const std::string& key) { return gguf_count(g, key, g.get_uint(key)); }

int gguf_int_or(const GgufFile& g, const std::string& key, int fallback) {
  return g.has(key) ? gguf_int(g, key) : fallback;
}

// A count that must be at least 1 (a context length of 0 leaves no room for one token).
int gguf_positive(const GgufFile& g, const std::string& key) {
  const int v = gguf_int(g, key);
  if (v == 0) throw FormatError(g.path(), "metadata '" + key + "' is 0, expected at least 1");
  return v;
}

// A float that must be positive and finite (norm epsilons, the RoPE base).
float gguf_positive_float(const GgufFile& g, const std::string& key, double fallback) {
  const double v = g.find_float(key).value_or(fallback);
  if (!positive_finite_float(v))
    throw FormatError(g.path(), "metadata '" + key + "' is " + shown(v) +
                                    ", expected a positive finite number");
  return static_cast<float>(v);
}

// A special token id; absent means none. Ids past an int are refused, never wrapped or dropped.
int gguf_token(const GgufFile& g, const std::string& key) {
  const auto v = g.find_uint(key);
  if (!v) return -1;
  if (*v > kIntMax)
    throw FormatError(g.path(), "metadata '" + key + "' is " + std::to_string(*v) + ", not a token id");
  return static_cast<int>(*v);
}

}  // namespace

ModelConfig config_from_gguf(const GgufFile& g) {
  const std::string arch = g.get_string("general.architecture");
  if (arch != "llama" && arch != "qwen2" && arch != "gpt2")
    throw FormatError(g.path(), "unsupported general.architecture '" + arch + "' (supported: llama, qwen2, gpt2)");
  const std::string p = arch + ".";
  ModelConfig c;
  c.architecture = arch;
  c.name = g.find_string("general.name").value_or("");
  c.n_layers = gguf_positive(g, p + "block_count");
  c.d_model = gguf_positive(g, p + "embedding_length");
  c.n_heads = gguf_positive(g, p + "attention.head_count");
  c.n_kv_heads = gguf_int_or(g, p + "attention.head_count_kv", c.n_heads);
  c.d_mlp = gguf_int(g, p + "feed_forward_length");
  c.n_ctx = gguf_positive(g, p + "context_length");
  c.d_head = gguf_int_or(g, p + "attention.key_length", c.d_model / c.n_heads);

  // Vocabulary: the explicit size, else the token list, else the embedding's row count.
  const GgufTensorInfo* embd = g.find_tensor("token_embd.weight");
  if (g.has(p + "vocab_size")) {
    c.d_vocab = gguf_int(g, p + "vocab_size");
  } else if (const GgufValue* tokens = g.find("tokenizer.ggml.tokens");
             tokens && tokens->type == GgufValueType::Array) {
    c.d_vocab = gguf_count(g, "tokenizer.ggml.tokens", tokens->array_size());
  } else if (embd && embd->dims.size() == 2) {
    if (embd->dims[1] > kIntMax)
      throw FormatError(g.path(), "tensor 'token_embd.weight' has " + std::to_string(embd->dims[1]) +
                                      " rows, more than " + std::to_string(kIntMax));
    c.d_vocab = static_cast<int>(embd->dims[1]);
  } else {
    throw FormatError(g.path(), "cannot tell the vocabulary size (no " + p +
                                    "vocab_size, tokenizer.ggml.tokens or token_embd.weight)");
  }
  c.tied_embeddings = g.find_tensor("output.weight") == nullptr;

  if (arch == "gpt2") {
    c.family = Family::Gpt2;
    c.norm = NormKind::LayerNorm;
    c.norm_eps = gguf_positive_float(g, p + "attention.layer_norm_epsilon", 1e-5);
    c.positions = PositionKind::Learned;
    c.mlp = MlpKind::Gelu;
    c.activation = "gelu_new";
    c.qkv_bias = c.attn_out_bias = c.mlp_bias = true;
  } else {
    c.family = Family::Llama;
    c.norm = NormKind::RmsNorm;
    c.norm_eps = gguf_positive_float(g, p + "attention.layer_norm_rms_epsilon", 1e-6);
    c.positions = PositionKind::Rotary;
    c.rope_theta = gguf_positive_float(g, p + "rope.freq_base", 10000.0);
    if (auto dims = g.find_uint(p + "rope.dimension_count"); dims && c.d_head > 0) {
      if (*dims == 0 || *dims > static_cast<uint64_t>(c.d_head))
        throw FormatError(g.path(), "metadata '" + p + "rope.dimension_count' is " + std::to_string(*dims) +
                                        ", expected 1 to the head width " + std::to_string(c.d_head));
      c.rotary_fraction = static_cast<float>(*dims) / static_cast<float>(c.d_head);
    }
    c.mlp = MlpKind::SwiGlu;
    c.activation = "silu";
    c.qkv_bias = g.find_tensor("blk.0.attn_q.bias") != nullptr;
    c.attn_out_bias = g.find_tensor("blk.0.attn_output.bias") != nullptr;
    c.mlp_bias = g.find_tensor("blk.0.ffn_up.bias") != nullptr;
  }

  c.bos_token_id = gguf_token(g, "tokenizer.ggml.bos_token_id");
  c.eos_token_id = gguf_token(g, "tokenizer.ggml.eos_token_id");
  c.pad_token_id = gguf_token(g, "tokenizer.ggml.padding_token_id");
  // llama.cpp's default: SentencePiece ("llama") vocabularies add BOS, BPE ones do not.
  const bool spm = g.find_string("tokenizer.ggml.model").value_or("") == "llama";
  c.add_bos = g.find_bool("tokenizer.ggml.add_bos_token").value_or(spm) && c.bos_token_id >= 0;

  const nlohmann::json no_fields = nlohmann::json::object();
  Fields f(no_fields, g.path());
  check_heads(f, c);
  return c;
}

}  // namespace circuit::formats
