// ModelShape <-> ModelConfig: lowering records a checked model's shape, and the validator gets
// back a config whose architecture decides which hook points exist.
#include <gtest/gtest.h>

#include "compiler/plan/model_shape.h"
#include "runtime/formats/hook_point_table.h"

namespace circuit::plan {
namespace {

TEST(ModelShape, RoundTripsThroughModelConfig) {
  formats::ModelConfig smollm;
  smollm.name = "SmolLM2-135M-Instruct";
  smollm.family = formats::Family::Llama;
  smollm.n_layers = 30;
  smollm.n_heads = 9;
  smollm.n_kv_heads = 3;
  smollm.d_model = 576;
  smollm.d_head = 64;
  smollm.d_mlp = 1536;
  smollm.d_vocab = 49152;
  smollm.n_ctx = 8192;
  const ModelShape shape = model_shape_of(smollm);
  EXPECT_EQ(shape, (ModelShape{"SmolLM2-135M-Instruct", "llama", 30, 9, 3, 576, 64, 1536, 49152, 8192}));
  const auto config = model_config_for(shape);
  ASSERT_TRUE(config.has_value());
  EXPECT_EQ(model_shape_of(*config), shape);
  EXPECT_EQ(config->positions, formats::PositionKind::Rotary);
  EXPECT_TRUE(formats::lookup_hook_point("blocks.29.attn.hook_rot_q", *config).ref.has_value());
}

TEST(ModelShape, FamiliesDecideHookPoints) {
  ModelShape toy{"induction-2l", "attn-only", 2, 4, 4, 64, 16, 0, 128, 64};
  auto config = model_config_for(toy);
  ASSERT_TRUE(config.has_value());
  EXPECT_FALSE(formats::lookup_hook_point("blocks.0.mlp.hook_post", *config).ref.has_value());
  EXPECT_FALSE(formats::lookup_hook_point("blocks.0.ln1.hook_scale", *config).ref.has_value());
  ModelShape neox{"pythia", "gpt-neox", 6, 8, 8, 512, 64, 2048, 50304, 2048};
  config = model_config_for(neox);
  ASSERT_TRUE(config.has_value());
  EXPECT_TRUE(config->parallel_residual);
  EXPECT_FALSE(formats::lookup_hook_point("blocks.0.hook_resid_mid", *config).ref.has_value());
  EXPECT_FALSE(model_config_for(ModelShape{.family = "rwkv"}).has_value());
}

}  // namespace
}  // namespace circuit::plan
