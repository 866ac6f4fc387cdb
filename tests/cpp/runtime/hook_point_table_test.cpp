// The hook point table: which points each family has, name resolution and its one-line errors.
#include <gtest/gtest.h>

#include <algorithm>

#include "runtime/formats/hook_point_table.h"
#include "tiny_models.h"

namespace circuit::formats {
namespace {

bool has(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

TEST(HookPointTable, FamiliesHaveTheirPoints) {
  auto llama = hook_point_names(rt::testing::tiny_config(Family::Llama), false);
  EXPECT_TRUE(has(llama, "blocks.1.attn.hook_rot_q"));
  EXPECT_TRUE(has(llama, "blocks.0.mlp.hook_pre_linear"));
  EXPECT_TRUE(has(llama, "blocks.0.hook_resid_mid"));
  EXPECT_FALSE(has(llama, "hook_pos_embed"));
  EXPECT_FALSE(has(llama, "blocks.0.attn.hook_result"));  // opt-in
  EXPECT_TRUE(has(hook_point_names(rt::testing::tiny_config(Family::Llama), true), "blocks.0.attn.hook_result"));

  auto neox = hook_point_names(rt::testing::tiny_config(Family::GptNeoX), false);
  EXPECT_FALSE(has(neox, "blocks.0.hook_resid_mid"));  // parallel residual
  EXPECT_TRUE(has(neox, "blocks.0.ln2.hook_normalized"));

  auto toy = hook_point_names(rt::testing::tiny_config(Family::AttnOnly), false);
  EXPECT_FALSE(has(toy, "blocks.0.ln1.hook_scale"));
  EXPECT_FALSE(has(toy, "blocks.0.hook_mlp_out"));
  EXPECT_TRUE(has(toy, "hook_pos_embed"));
  EXPECT_EQ(toy.front(), "hook_embed");
  EXPECT_EQ(toy.back(), "hook_logits");
}

TEST(HookPointTable, LookupErrorsAreOneLineWithTheNearestName) {
  auto c = rt::testing::tiny_config(Family::Llama);
  auto typo = lookup_hook_point("blocks.0.attn.hook_patern", c);
  EXPECT_FALSE(typo.ref);
  EXPECT_EQ(typo.suggestion, "blocks.0.attn.hook_pattern");
  EXPECT_NE(typo.error.find("did you mean 'blocks.0.attn.hook_pattern'"), std::string::npos);
  auto layer = lookup_hook_point("blocks.7.hook_resid_pre", c);
  EXPECT_NE(layer.error.find("layers are 0..1"), std::string::npos);
  auto ok = lookup_hook_point("blocks.1.mlp.hook_post", c);
  ASSERT_TRUE(ok.ref);
  EXPECT_EQ(ok.ref->kind, HookKind::MlpPost);
  EXPECT_EQ(ok.ref->layer, 1);
  EXPECT_FALSE(lookup_hook_point("hook_pos_embed", c).ref);  // rotary model
}

TEST(HookPointTable, PatternsAndShapes) {
  auto c = rt::testing::tiny_config(Family::Llama);
  EXPECT_EQ(match_hook_points("blocks.*.attn.hook_z", c, false).size(), 2u);
  EXPECT_EQ(match_hook_points("blocks.*", c, false).size(), match_hook_points("blocks.*", c, true).size() - 8u);
  EXPECT_EQ(match_hook_points("*hook_result", c, false).size(), 2u);
  EXPECT_EQ(match_hook_points("*hook_result", c, true).size(), 2u);
  const auto& k = hook_point_spec(HookKind::K);
  EXPECT_EQ(shape_symbols(k), "[batch, pos, kv_head, d_head]");
  EXPECT_EQ(hook_point_shape(k, c, 3, 5), (std::vector<std::int64_t>{3, 5, 2, 8}));
  EXPECT_EQ(head_count(hook_point_spec(HookKind::Pattern), c), 4);
}

}  // namespace
}  // namespace circuit::formats
