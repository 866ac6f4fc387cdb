#include "runtime/formats/model_source.h"

#include <cstdlib>

#include <gtest/gtest.h>

#include "runtime/formats/format_error.h"
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

std::vector<uint8_t> tiny_gguf() {
  testing::GgufBuilder b;
  b.kv_string("general.architecture", "llama")
      .kv_u32("llama.block_count", 1)
      .kv_u32("llama.embedding_length", 4)
      .kv_u32("llama.attention.head_count", 2)
      .kv_u32("llama.feed_forward_length", 8)
      .kv_u32("llama.context_length", 16)
      .kv_strings("tokenizer.ggml.tokens", {"x", "y"});
  return b.build();
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
