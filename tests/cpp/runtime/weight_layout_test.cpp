// Stored-tensor layouts: llama.cpp's q/k row permutation is undone exactly, GPT-NeoX's per-head
// q|k|v grouping and TransformerLens head-major weights land in the canonical [out, in] rows.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "runtime/weights/weight_loader.h"
#include "tiny_models.h"

namespace circuit::rt {
namespace {

// llama.cpp's converter (convert_hf_to_gguf.py `permute`), written from its definition.
at::Tensor llama_cpp_permute(const at::Tensor& w, int heads) {
  auto shape = w.sizes().vec();
  std::vector<int64_t> split = {heads, 2, w.size(0) / heads / 2};
  for (size_t i = 1; i < shape.size(); ++i) split.push_back(shape[i]);
  return w.reshape(split).transpose(1, 2).reshape(shape);
}

TEST(WeightLayout, GgufRopePermutationIsUndone) {
  for (int heads : {2, 3}) {
    auto hf = at::randn({heads * 8, 5});
    auto stored = llama_cpp_permute(hf, heads);
    EXPECT_FALSE(at::equal(stored, hf));
    EXPECT_TRUE(at::equal(unpermute_gguf_rope_rows(stored, heads), hf));
    auto bias = at::randn({heads * 8});
    EXPECT_TRUE(at::equal(unpermute_gguf_rope_rows(llama_cpp_permute(bias, heads), heads), bias));
  }
  // Row r of head h, dim i < d/2 in HF order came from stored row 2i; dim i + d/2 from 2i + 1.
  auto stored = at::arange(8, at::kFloat).view({8, 1});
  auto hf = unpermute_gguf_rope_rows(stored, 1).view({8});
  EXPECT_TRUE(at::equal(hf, at::tensor({0.f, 2.f, 4.f, 6.f, 1.f, 3.f, 5.f, 7.f})));
}

TEST(WeightLayout, NeoxFusedQkvIsGroupedPerHead) {
  auto c = testing::tiny_config(formats::Family::GptNeoX);  // 4 heads x 8
  // Row value = head * 100 + part * 10 + dim, laid out as [head, q|k|v, d_head].
  auto rows = at::empty({c.n_heads * 3 * c.d_head});
  for (int h = 0; h < c.n_heads; ++h)
    for (int p = 0; p < 3; ++p)
      for (int d = 0; d < c.d_head; ++d) rows[(h * 3 + p) * c.d_head + d] = h * 100 + p * 10 + d;
  auto k = apply_layout(rows, Layout::NeoxSplit3, 1, c);
  ASSERT_EQ(k.size(0), c.n_heads * c.d_head);
  EXPECT_EQ(k[0].item<float>(), 10);
  EXPECT_EQ(k[c.d_head + 3].item<float>(), 113);
}

TEST(WeightLayout, TransformerLensHeadsBecomeRows) {
  auto c = testing::tiny_config(formats::Family::AttnOnly);
  auto w_q = at::randn({c.n_heads, c.d_model, c.d_head});
  auto rows = apply_layout(w_q, Layout::TlHeadsIn, 0, c);  // [heads*d_head, d_model]
  auto x = at::randn({c.d_model});
  auto expected = at::einsum("m,hmd->hd", {x, w_q}).reshape({-1});
  EXPECT_LT((at::mv(rows, x) - expected).abs().max().item<double>(), 1e-5);
  auto w_o = at::randn({c.n_heads, c.d_head, c.d_model});
  auto z = at::randn({c.n_heads, c.d_head});
  auto out = at::mv(apply_layout(w_o, Layout::TlHeadsOut, 0, c), z.reshape({-1}));
  EXPECT_LT((out - at::einsum("hd,hdm->m", {z, w_o})).abs().max().item<double>(), 1e-5);
}

}  // namespace
}  // namespace circuit::rt
