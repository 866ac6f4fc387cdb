#include "runtime/formats/model_source.h"

#include <cstdlib>
#include <limits>

#include <gtest/gtest.h>

#include "runtime/formats/format_error.h"
#include "runtime/formats/layer_names.h"
#include "tests/cpp/formats/test_files.h"

namespace circuit::formats {
namespace {

using testing::ScratchDir;

const char* kAttnOnlyConfig = R"({"model_type": "circuitry-attn-only", "n_layers": 1, "d_model": 4,
  "n_heads": 1, "d_head": 4, "d_vocab": 3, "n_ctx": 2, "bos_token_id": 0})";

void write_attn_only(const ScratchDir& dir, const std::string& folder) {
  dir.write(folder + "/config.json", std::string(kAttnOnlyConfig));
  dir.write(folder + "/model.safetensors",
            testing::safetensors_file({{"embed.W_E", "F32", {3, 4}, std::vector<uint8_t>(48)}}));
}

// The metadata of a one-layer Llama GGUF; tests add tensors before building it.
testing::GgufBuilder tiny_gguf_builder() {
  testing::GgufBuilder b;
  b.kv_string("general.architecture", "llama")
      .kv_u32("llama.block_count", 1)
      .kv_u32("llama.embedding_length", 4)
      .kv_u32("llama.attention.head_count", 2)
      .kv_u32("llama.feed_forward_length", 8)
      .kv_u32("llama.context_length", 16)
      .kv_strings("tokenizer.ggml.tokens", {"x", "y"});
  return b;
}

std::vector<uint8_t> tiny_gguf() {
  return tiny_gguf_builder().build();
}

TEST(ModelSource, ResolvesShortNames) {
  ScratchDir dir;
  write_attn_only(dir, "induction-2l");
  dir.write("induction-2l/tokenizer.json", std::string("{}"));
  dir.write("smollm2-135m/SmolLM2.Q4_1.gguf", tiny_gguf());
  const std::string models = dir.path().string();

  const ModelSource a = resolve_model("induction-2l", models);
  EXPECT_EQ(a.name, "induction-2l");
  EXPECT_EQ(a.kind, ModelKind::Safetensors);
  ASSERT_EQ(a.weights.size(), 1u);
  EXPECT_EQ(a.weights[0], (dir.path() / "induction-2l" / "model.safetensors").string());
  EXPECT_EQ(a.config_path, (dir.path() / "induction-2l" / "config.json").string());
  EXPECT_EQ(a.tokenizer_path, (dir.path() / "induction-2l" / "tokenizer.json").string());
  EXPECT_EQ(a.config.family, Family::AttnOnly);
  EXPECT_TRUE(a.config.add_bos);

  const ModelSource s = resolve_model("smollm2-135m", models);
  EXPECT_EQ(s.kind, ModelKind::Gguf);
  EXPECT_EQ(s.name, "smollm2-135m");
  EXPECT_EQ(s.config.d_vocab, 2);
  EXPECT_TRUE(s.config_path.empty());
  EXPECT_TRUE(s.tokenizer_path.empty());

  const auto listed = list_models(models);
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].name, "induction-2l");
  EXPECT_EQ(listed[1].name, "smollm2-135m");
}

TEST(ModelSource, ResolvesPathsToFoldersAndFiles) {
  ScratchDir dir;
  write_attn_only(dir, "m");
  const std::string gguf = dir.write("other/tiny.gguf", tiny_gguf());
  const ModelSource folder = resolve_model((dir.path() / "m").string(), "/nonexistent");
  EXPECT_EQ(folder.name, "m");
  EXPECT_EQ(folder.kind, ModelKind::Safetensors);
  const ModelSource file = resolve_model(gguf, "/nonexistent");
  EXPECT_EQ(file.name, "tiny");
  EXPECT_EQ(file.weights, std::vector<std::string>{gguf});
  const ModelSource via_config = resolve_model((dir.path() / "m" / "config.json").string(), "/nonexistent");
  EXPECT_EQ(via_config.name, "m");
}

TEST(ModelSource, ShardedFolder) {
  ScratchDir dir;
  dir.write("s/config.json", std::string(kAttnOnlyConfig));
  dir.write("s/a.safetensors", testing::safetensors_file({{"x", "U8", {1}, {1}}}));
  dir.write("s/b.safetensors", testing::safetensors_file({{"y", "U8", {1}, {2}}}));
  dir.write("s/model.safetensors.index.json",
            std::string(R"({"weight_map": {"x": "a.safetensors", "y": "b.safetensors"}})"));
  const ModelSource s = resolve_model((dir.path() / "s").string(), "");
  EXPECT_EQ(s.weights.size(), 2u);
  dir.write("t/config.json", std::string(kAttnOnlyConfig));
  dir.write("t/model.safetensors.index.json", std::string(R"({"weight_map": {"x": "gone.safetensors"}})"));
  EXPECT_THROW(resolve_model((dir.path() / "t").string(), ""), FormatError);
}

TEST(ModelSource, UnknownNameListsModelsAndSuggests) {
  ScratchDir dir;
  write_attn_only(dir, "induction-2l");
  dir.write("smollm2-135m/x.gguf", tiny_gguf());
  try {
    resolve_model("smollm-135m", dir.path().string());
    FAIL();
  } catch (const FormatError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("unknown model 'smollm-135m'"), std::string::npos) << what;
    EXPECT_NE(what.find(" induction-2l smollm2-135m"), std::string::npos) << what;
    EXPECT_NE(what.find("did you mean 'smollm2-135m'?"), std::string::npos) << what;
  }
  try {
    resolve_model("qqqqqqqqqqqqqqqq", dir.path().string());
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_EQ(std::string(e.what()).find("did you mean"), std::string::npos) << e.what();
  }
}

TEST(ModelSource, BadFolders) {
  ScratchDir dir;
  dir.write("two/a.gguf", tiny_gguf());
  dir.write("two/b.gguf", tiny_gguf());
  dir.write("none/readme.txt", std::string("hi"));
  dir.write("noweights/config.json", std::string(kAttnOnlyConfig));
  const std::string models = dir.path().string();
  EXPECT_THROW(resolve_model("two", models), FormatError);
  EXPECT_THROW(resolve_model("none", models), FormatError);
  EXPECT_THROW(resolve_model("noweights", models), FormatError);
  EXPECT_THROW(resolve_model((dir.path() / "missing.gguf").string(), models), FormatError);
  std::vector<std::string> problems;
  EXPECT_TRUE(list_models(models, &problems).empty());
  EXPECT_EQ(problems.size(), 3u);
}

TEST(LayerOfWeight, ReadsEveryFamilysNaming) {
  EXPECT_EQ(layer_of_weight("model.layers.3.mlp.up_proj.weight"), 3u);
  EXPECT_EQ(layer_of_weight("transformer.h.11.attn.c_attn.weight"), 11u);
  EXPECT_EQ(layer_of_weight("h.0.ln_1.weight"), 0u);
  EXPECT_EQ(layer_of_weight("gpt_neox.layers.5.attention.dense.bias"), 5u);
  EXPECT_EQ(layer_of_weight("blocks.1.attn.W_Q"), 1u);
  EXPECT_EQ(layer_of_weight("blk.29.ffn_down.weight"), 29u);
  EXPECT_EQ(layer_of_weight("blk.99999999999999999999999.x"), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(layer_of_weight("model.embed_tokens.weight"), std::nullopt);
  EXPECT_EQ(layer_of_weight("output_norm.weight"), std::nullopt);
  EXPECT_EQ(layer_of_weight("blk.x.attn_q.weight"), std::nullopt);
  EXPECT_EQ(layer_of_weight("layers"), std::nullopt);
  EXPECT_EQ(layer_of_weight("my_layers.3.w"), std::nullopt);
}

std::string resolve_error(const std::string& arg) {
  try {
    resolve_model(arg, "/nonexistent");
  } catch (const FormatError& e) {
    return e.what();
  }
  return "no error";
}

// Weights for a layer the config does not have were silently ignored; now the folder is
// refused, naming the first such tensor and the config's count.
TEST(ModelSource, RefusesWeightsOfLayersPastTheConfigsCount) {
  ScratchDir dir;
  dir.write("single/config.json", std::string(kAttnOnlyConfig));  // n_layers 1
  const std::string single = dir.write(
      "single/model.safetensors",
      testing::safetensors_file({{"blocks.0.attn.W_Q", "U8", {1}, {1}}, {"blocks.1.attn.W_Q", "U8", {1}, {1}},
                                 {"blocks.2.attn.W_Q", "U8", {1}, {1}}, {"embed.W_E", "U8", {1}, {1}}}));
  EXPECT_EQ(resolve_error((dir.path() / "single").string()),
            single + ": tensor 'blocks.1.attn.W_Q' is for layer 1, but the config's n_layers is 1 (layers 0 to 0)");

  dir.write("sharded/config.json", std::string(R"({"model_type": "llama", "hidden_size": 8,
    "intermediate_size": 16, "num_attention_heads": 2, "num_hidden_layers": 2, "vocab_size": 5})"));
  dir.write("sharded/a.safetensors", testing::safetensors_file({{"x", "U8", {1}, {1}}}));
  const std::string index = dir.write("sharded/model.safetensors.index.json", std::string(R"({"weight_map": {
    "model.layers.1.mlp.up_proj.weight": "a.safetensors", "model.layers.2.mlp.up_proj.weight": "a.safetensors",
    "model.embed_tokens.weight": "a.safetensors"}})"));
  EXPECT_EQ(resolve_error((dir.path() / "sharded").string()),
            index + ": tensor 'model.layers.2.mlp.up_proj.weight' is for layer 2, but the config's "
                    "num_hidden_layers is 2 (layers 0 to 1)");

  testing::GgufBuilder b = tiny_gguf_builder();
  b.tensor_f32("blk.0.attn_norm.weight", {4}, std::vector<float>(4));
  b.tensor_f32("blk.1.attn_norm.weight", {4}, std::vector<float>(4));
  const std::string gguf = dir.write("extra.gguf", b.build());
  EXPECT_EQ(resolve_error(gguf),
            gguf + ": tensor 'blk.1.attn_norm.weight' is for layer 1, but the config's llama.block_count is 1 "
                   "(layers 0 to 0)");

  // Weights for exactly the config's layers still resolve.
  write_attn_only(dir, "fine");
  EXPECT_EQ(resolve_error((dir.path() / "fine").string()), "no error");
}

TEST(ModelSource, FolderFromEnvironment) {
  ::setenv("CIRCUIT_MODELS", "/tmp/my-models", 1);
  EXPECT_EQ(models_folder("/repo"), "/tmp/my-models");
  ::setenv("CIRCUIT_MODELS", "", 1);
  EXPECT_EQ(models_folder("/repo"), "/repo/models");
  ::unsetenv("CIRCUIT_MODELS");
  EXPECT_EQ(models_folder("/repo"), "/repo/models");
}

TEST(ModelSource, NearestName) {
  const std::vector<std::string> names = {"induction-2l", "smollm2-135m", "gpt2"};
  EXPECT_EQ(nearest_name("smollm2", names), "smollm2-135m");
  EXPECT_EQ(nearest_name("gtp2", names), "gpt2");
  EXPECT_EQ(nearest_name("induction2l", names), "induction-2l");
  EXPECT_EQ(nearest_name("llama-70b", names), "");
}

}  // namespace
}  // namespace circuit::formats
