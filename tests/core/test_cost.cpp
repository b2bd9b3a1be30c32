// The calculators against what the reference actually does and allocates, and
// against published figures for real networks.
#include <gtest/gtest.h>

#include <random>

#include "convbench/cost.hpp"
#include "convbench/reference.hpp"

namespace convbench {
namespace {

// Random awkward shapes: odd channels, strides, dilation, asymmetric padding.
std::vector<ConvDesc> random_shapes(uint64_t seed, int count) {
  std::mt19937_64 rng(seed);
  auto r = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  std::vector<ConvDesc> out;
  while (static_cast<int>(out.size()) < count) {
    const int g = r(0, 3) == 0 ? r(2, 3) : 1;
    const int ih = r(1, 11), iw = r(1, 11), kh = r(1, 5), kw = r(1, 5);
    const int dh = r(0, 1) ? r(0, 2) : 0, dw = r(0, 1) ? r(0, 2) : 0;
    const int exth = (kh - 1) * (dh + 1) + 1, extw = (kw - 1) * (dw + 1) + 1;
    try {
      // Output sizes one above the natural ones force extra bottom/right padding.
      const int sh = r(1, 3), sw = r(1, 3), ph = r(0, exth - 1), pw = r(0, extw - 1);
      const int natural_h = ih + 2 * ph >= exth ? (ih + 2 * ph - exth) / sh + 1 : 0;
      const int natural_w = iw + 2 * pw >= extw ? (iw + 2 * pw - extw) / sw + 1 : 0;
      out.push_back(ConvDesc::make(g, r(1, 2), g * r(1, 5), ih, iw, g * r(1, 5), kh, kw, sh, sw,
                                   ph, pw, dh, dw, natural_h + r(0, 1), natural_w + r(0, 1)));
    } catch (const Error&) {
    }
  }
  return out;
}

int64_t count_ref_macs(const ConvDesc& d, uint64_t seed) {
  std::vector<float> src(d.src_elems()), wei(d.wei_elems()), dst(d.dst_elems());
  fill_data(src.data(), d.src_elems(), seed, 0);
  fill_data(wei.data(), d.wei_elems(), seed, 1);
  int64_t macs = 0;
  conv_ref(d, Layout::nchw, src.data(), wei.data(), nullptr, dst.data(), &macs);
  return macs;
}

TEST(Cost, EffectiveMacsEqualWhatTheReferenceDoes) {
  const uint64_t seed = 7;
  int padded = 0;
  for (const ConvDesc& d : random_shapes(seed, 400)) {
    const int64_t counted = count_ref_macs(d, seed);
    ASSERT_EQ(conv_macs_effective(d), counted) << "seed " << seed << " shape " << d.str();
    if (d.ph == 0 && d.pw == 0 && d.pb <= 0 && d.pr <= 0)
      ASSERT_EQ(conv_macs(d), counted) << "seed " << seed << " shape " << d.str();
    else
      ++padded;
    ASSERT_LE(counted, conv_macs(d)) << d.str();
  }
  EXPECT_GT(padded, 100) << "the random set must exercise padding";
}

TEST(Cost, ChannelTailsAndRealShapes) {
  for (const char* s : {"mb1ic3ih13oc7oh13kh3", "mb2ic17ih9iw11oc33oh5ow6kh4kw2sh2sw2",
                        "g13mb1ic13ih9oc13oh9kh5dh1", "mb1ic31ih7oc1kh7ph3",
                        "mb1ic3ih224oc64oh112kh7sh2ph3", "g32mb1ic32ih15oc32oh8kh3sh2"}) {
    const ConvDesc d = ConvDesc::parse(s);
    EXPECT_EQ(conv_macs_effective(d), count_ref_macs(d, 1)) << s;
  }
}

TEST(Cost, LayerMacsEqualTheReferenceLayerForEveryKind) {
  const uint64_t seed = 11;
  for (const ConvDesc& d : random_shapes(seed, 60)) {
    for (Kind k : kAllKinds) {
      Layer l;
      l.kind = k;
      l.shape = d;
      if (k != Kind::normal && d.g != 1) continue;
      const LayerCost c = layer_cost(l);
      const LayerData data = make_layer_data(l, seed);
      const std::vector<float> src = make_input(l, Layout::nhwc, seed);
      int64_t macs = 0;
      layer_ref(l, Layout::nhwc, data, src.data(), &macs);
      ASSERT_EQ(c.total.macs_effective, macs) << "seed " << seed << " " << l.str();
      int64_t stage_sum = 0;
      for (const Cost& s : c.stages) stage_sum += s.macs_effective;
      ASSERT_EQ(stage_sum, macs) << l.str();
    }
  }
}

TEST(Cost, ParamsEqualTheWeightsTheReferenceAllocates) {
  for (const ConvDesc& d : random_shapes(3, 60)) {
    for (Kind k : kAllKinds) {
      if (k != Kind::normal && d.g != 1) continue;
      for (bool bias : {false, true}) {
        Layer l;
        l.kind = k, l.shape = d, l.bias = bias;
        const LayerData data = make_layer_data(l, 3);
        int64_t w = 0, b = 0;
        for (const auto& v : data.weights) w += static_cast<int64_t>(v.size());
        for (const auto& v : data.biases) b += static_cast<int64_t>(v.size());
        const LayerCost c = layer_cost(l);
        EXPECT_EQ(c.total.params, w) << l.str();
        if (bias) {
          EXPECT_EQ(c.total.params_with_bias, w + b) << l.str();
        }
        EXPECT_EQ(c.total.bytes, 4 * (d.src_elems() + w + b + d.dst_elems())) << l.str();
      }
    }
  }
}

TEST(Cost, IntermediatesAndActivationCounts) {
  Layer l;
  l.kind = Kind::dw_spatial;
  l.shape = ConvDesc::parse("mb1ic8ih10oc16oh10kh3");
  l.act = Act::relu;
  LayerCost c = layer_cost(l);
  ASSERT_EQ(c.intermediate_bytes.size(), 2u);
  EXPECT_EQ(c.intermediate_bytes[0], 4 * 8 * 10 * 10);  // k x 1 keeps the input width
  EXPECT_EQ(c.intermediate_bytes[1], 4 * 8 * 10 * 10);
  EXPECT_EQ(c.total.act_elems, 16 * 10 * 10);
  l.act_each = true;
  c = layer_cost(l);
  EXPECT_EQ(c.total.act_elems, 8 * 100 + 8 * 100 + 16 * 100);
  EXPECT_EQ(c.bytes_unfused, c.total.bytes + 2 * (c.intermediate_bytes[0] + c.intermediate_bytes[1]));
}

// Published figures, computed by their authors, not by this code.
TEST(Cost, ResNet50Conv1) {
  // 112 * 112 * 64 output points, each 7 * 7 * 3 taps: the "118 M" of ResNet-50's stem.
  const ConvDesc d = ConvDesc::parse("mb1ic3ih224oc64oh112kh7sh2ph3");
  EXPECT_EQ(conv_macs(d), 118013952);
  EXPECT_EQ(d.wei_elems(), 9408);
}

TEST(Cost, MobileNetV1MatchesThePaper) {
  const std::vector<ConvDesc> shapes =
      read_shape_file(std::string(CONVBENCH_SOURCE_DIR) + "/bench/shapes/mobilenet_v1.txt");
  ASSERT_EQ(shapes.size(), 27u);
  int64_t macs = 0, params = 0;
  for (const ConvDesc& d : shapes) macs += conv_macs(d), params += d.wei_elems();
  macs += 1024 * 1000;             // the classifier
  params += 1024 * 1000 + 1000;
  // Howard et al. 2017, Table 8: 569 million mult-adds, 4.2 million parameters.
  EXPECT_NEAR(static_cast<double>(macs), 569e6, 0.005 * 569e6) << macs;
  EXPECT_NEAR(static_cast<double>(params), 4.2e6, 0.01 * 4.2e6) << params;
  // The paper's Table 2 shares: 1x1 convolutions 95 % of the mult-adds, 3x3 depthwise 3 %.
  int64_t pw = 0, dw = 0;
  for (const ConvDesc& d : shapes) {
    if (d.kh == 1) pw += conv_macs(d);
    else if (d.is_depthwise()) dw += conv_macs(d);
  }
  EXPECT_NEAR(static_cast<double>(pw) / macs, 0.9486, 0.002);
  EXPECT_NEAR(static_cast<double>(dw) / macs, 0.0306, 0.002);
}

}  // namespace
}  // namespace convbench
