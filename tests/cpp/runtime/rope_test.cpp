// RoPE against its formula: pair (i, i + d/2) of a head rotates by position * theta^(-2i/d);
// Llama 3 scaling keeps high frequencies and divides low ones by the factor.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>

#include "runtime/model/rope.h"
#include "tiny_models.h"

namespace circuit::rt {
namespace {

TEST(Rope, RotatesEachPairByPositionTimesFrequency) {
  auto c = testing::tiny_config(formats::Family::Llama);
  const int d = c.d_head;
  auto x = at::randn({1, 3, 1, d});
  auto positions = at::tensor({0, 5, 11}, at::kLong).view({1, 3});
  auto inv = rope_inverse_frequencies(c);
  auto out = apply_rope(x, rope_tables(inv, positions, at::kFloat));
  for (int p = 0; p < 3; ++p) {
    const double m = positions[0][p].item<double>();
    for (int i = 0; i < d / 2; ++i) {
      const double angle = m * std::pow(c.rope_theta, -2.0 * i / d);
      const double a = x[0][p][0][i].item<double>(), b = x[0][p][0][i + d / 2].item<double>();
      EXPECT_NEAR(out[0][p][0][i].item<double>(), a * std::cos(angle) - b * std::sin(angle), 1e-5);
      EXPECT_NEAR(out[0][p][0][i + d / 2].item<double>(), b * std::cos(angle) + a * std::sin(angle), 1e-5);
    }
  }
}

TEST(Rope, PartialRotaryLeavesTheRestUntouched) {
  auto c = testing::tiny_config(formats::Family::GptNeoX);  // rotary_fraction 0.25 of d_head 8
  EXPECT_EQ(rotary_dims(c), 2);
  auto x = at::randn({2, 4, 3, c.d_head});
  auto positions = at::arange(4, at::kLong).view({1, 4}).expand({2, 4});
  auto out = apply_rope(x, rope_tables(rope_inverse_frequencies(c), positions, at::kFloat));
  EXPECT_TRUE(at::equal(out.narrow(-1, 2, c.d_head - 2), x.narrow(-1, 2, c.d_head - 2)));
  EXPECT_FALSE(at::allclose(out.narrow(1, 1, 3), x.narrow(1, 1, 3)));
}

TEST(Rope, Llama3ScalingBands) {
  auto c = testing::tiny_config(formats::Family::Llama);
  c.d_head = 64;
  c.rope_theta = 500000.0f;
  auto plain = rope_inverse_frequencies(c);
  c.rope_scaling = formats::RopeScaling{8.0f, 1.0f, 4.0f, 8192};
  auto scaled = rope_inverse_frequencies(c);
  const double low_wavelen = 8192.0 / 1.0, high_wavelen = 8192.0 / 4.0;
  for (int i = 0; i < plain.size(0); ++i) {
    const double f = plain[i].item<double>(), wavelen = 2 * M_PI / f;
    if (wavelen < high_wavelen) EXPECT_NEAR(scaled[i].item<double>(), f, 1e-12 + f * 1e-6);
    if (wavelen > low_wavelen) EXPECT_NEAR(scaled[i].item<double>(), f / 8.0, f * 1e-6);
  }
}

}  // namespace
}  // namespace circuit::rt
