// The reference itself: hand-checked values, layout independence, and the
// spatial kind reproducing the normal kind for rank-1 kernels.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "convbench/cost.hpp"
#include "convbench/reference.hpp"

namespace convbench {
namespace {

TEST(ConvRef, HandComputed3x3) {
  // 1 channel, 3x3 input 1..9, 2x2 kernel of ones, padding 1 top/left only via oh/ph.
  const ConvDesc d = ConvDesc::parse("ic1ih3oc1oh3kh2ph1");  // top/left 1, bottom/right 0
  ASSERT_EQ(d.pb, 0);
  const float src[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  const float wei[4] = {1, 1, 1, 1};
  float dst[9];
  conv_ref(d, Layout::nchw, src, wei, nullptr, dst);
  const float want[9] = {1, 3, 5, 5, 12, 16, 11, 24, 28};
  for (int i = 0; i < 9; ++i) EXPECT_EQ(dst[i], want[i]) << i;
}

TEST(ConvRef, StrideDilationGroupsAndBias) {
  // 2 groups of 1 channel, kernel 2 with dilation 1 (taps 2 apart), stride 2.
  const ConvDesc d = ConvDesc::parse("g2ic2ih1iw5oc2oh1ow2kh1kw2sw2pw0dw1");
  const float src[10] = {1, 2, 3, 4, 5, 10, 20, 30, 40, 50};
  const float wei[4] = {1, -1, 2, 1};  // [oc][1][1][2]
  const float bias[2] = {0.5f, -0.5f};
  float dst[4];
  conv_ref(d, Layout::nchw, src, wei, bias, dst);
  EXPECT_EQ(dst[0], 1 - 3 + 0.5f);
  EXPECT_EQ(dst[1], 3 - 5 + 0.5f);
  EXPECT_EQ(dst[2], 2 * 10 + 30 - 0.5f);
  EXPECT_EQ(dst[3], 2 * 30 + 50 - 0.5f);
}

TEST(ConvRef, NchwAndNhwcAgreeExactly) {
  for (const char* s : {"mb2ic3ih7iw9oc5oh4ow5kh3kw2sh2sw2ph1pw1", "g3mb1ic3ih8oc3oh8kh5dh1",
                        "mb1ic7ih5oc13kh1"}) {
    for (Kind k : kAllKinds) {
      Layer l;
      l.kind = k;
      l.shape = ConvDesc::parse(s);
      l.act = Act::elu;
      l.bias = true;
      if (k != Kind::normal && l.shape.g != 1) continue;
      const LayerData data = make_layer_data(l, 5);
      const std::vector<float> a = layer_ref(l, Layout::nchw, data, make_input(l, Layout::nchw, 5).data());
      const std::vector<float> b = layer_ref(l, Layout::nhwc, data, make_input(l, Layout::nhwc, 5).data());
      const ConvDesc& o = l.shape;
      for (int64_t c = 0; c < o.oc; ++c)
        for (int64_t y = 0; y < o.oh; ++y)
          for (int64_t x = 0; x < o.ow; ++x)
            ASSERT_EQ(a[offset(Layout::nchw, o.oc, o.oh, o.ow, 0, c, y, x)],
                      b[offset(Layout::nhwc, o.oc, o.oh, o.ow, 0, c, y, x)])
                << l.str();
    }
  }
}

TEST(ConvRef, Activations) {
  EXPECT_EQ(apply_act_ref(Act::relu, -2.f), 0.f);
  EXPECT_EQ(apply_act_ref(Act::relu, 3.f), 3.f);
  EXPECT_FLOAT_EQ(apply_act_ref(Act::elu, -1.f), std::expm1(-1.f));
  EXPECT_EQ(apply_act_ref(Act::elu, 2.f), 2.f);
  EXPECT_FLOAT_EQ(apply_act_ref(Act::tanh, 0.5f), std::tanh(0.5f));
  EXPECT_TRUE(std::isnan(apply_act_ref(Act::relu, std::numeric_limits<float>::quiet_NaN())));
}

TEST(ConvRef, ActivationPlacement) {
  Layer l;
  l.kind = Kind::depthwise;
  l.shape = ConvDesc::parse("mb1ic4ih6oc4oh6kh3");
  l.act = Act::relu;
  std::vector<Stage> st = l.stages();
  EXPECT_EQ(st[0].act, Act::none);
  EXPECT_EQ(st[1].act, Act::relu);
  l.act_each = true;
  st = l.stages();
  EXPECT_EQ(st[0].act, Act::relu);
}

TEST(Layer, StagesOfEachKind) {
  Layer l;
  l.shape = ConvDesc::parse("mb1ic8ih20iw18oc16oh10ow9kh5kw3sh2sw2");
  l.kind = Kind::spatial;
  std::vector<Stage> st = l.stages();
  ASSERT_EQ(st.size(), 2u);
  EXPECT_EQ(st[0].conv.str(), "mb1ic8ih20iw18oc16oh10ow18kh5kw1sh2ph1pw0");
  EXPECT_EQ(st[1].conv.str(), "g16mb1ic16ih10iw18oc16oh10ow9kh1kw3sw2ph0pw0");
  l.kind = Kind::dw_spatial;
  st = l.stages();
  ASSERT_EQ(st.size(), 3u);
  EXPECT_EQ(st[0].conv.g, 8);
  EXPECT_EQ(st[2].conv.str(), "mb1ic8ih10iw9oc16oh10ow9kh1kw1ph0pw0");
  l.shape = ConvDesc::parse("g2mb1ic8ih20oc16kh3");
  try {
    l.stages();
    ADD_FAILURE() << "g2 accepted for dw_spatial";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("needs g1"), std::string::npos) << e.what();
  }
}

// Rank-1 kernels W[o][i][y][x] = A[o][i][y] * B[o][x]: the spatial kind (k x 1
// with A, then 1 x k depthwise with B) computes exactly the normal kind.
TEST(Layer, SpatialReproducesNormalForRank1Kernels) {
  for (const char* s : {"mb1ic5ih9oc7oh9kh3", "mb2ic3ih11iw8oc4oh6ow4kh4kw3sh2sw2ph1pw1dh1",
                        "mb1ic16ih14oc8oh14kh7", "mb1ic1ih6oc3oh6kh1"}) {
    Layer normal, spatial;
    normal.shape = spatial.shape = ConvDesc::parse(s);
    normal.act = spatial.act = Act::tanh;
    spatial.kind = Kind::spatial;
    const ConvDesc& d = normal.shape;
    LayerData sep = make_layer_data(spatial, 9);  // A: [oc][ic][kh][1], B: [oc][1][1][kw]
    LayerData full;
    full.weights.emplace_back(d.wei_elems());
    full.biases.emplace_back();
    for (int64_t o = 0; o < d.oc; ++o)
      for (int64_t i = 0; i < d.ic; ++i)
        for (int64_t y = 0; y < d.kh; ++y)
          for (int64_t x = 0; x < d.kw; ++x)
            full.weights[0][((o * d.ic + i) * d.kh + y) * d.kw + x] =
                sep.weights[0][(o * d.ic + i) * d.kh + y] * sep.weights[1][o * d.kw + x];
    const std::vector<float> src = make_input(normal, Layout::nchw, 9);
    const std::vector<float> a = layer_ref(normal, Layout::nchw, full, src.data());
    const std::vector<float> b = layer_ref(spatial, Layout::nchw, sep, src.data());
    ASSERT_EQ(a.size(), b.size());
    // Dyadic data keep every sum exact, so the two orders agree bit for bit.
    for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], b[i]) << s << " at " << i;
  }
}

}  // namespace
}  // namespace convbench
