// Every registered backend against the reference: all kinds x activations x
// k = 1..9 x layouts x precisions x fused/unfused, on awkward shapes (odd
// channels and sizes, strides, dilation, asymmetric padding, batch > 1), with
// NaN-poisoned outputs and fixed seeds printed on failure.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <cstring>
#include <map>
#include <tuple>

#include "convbench/backend.hpp"
#include "convbench/reference.hpp"

namespace convbench {
namespace {

// Base shapes; the kernel size is substituted into kh and kw.
struct Base {
  int64_t mb, ic, ih, iw, oc, sh, sw, dh, dw;
  bool same;  // output size = input / stride (asymmetric padding for even k)
};
const Base kBases[] = {
    {2, 7, 11, 9, 13, 1, 1, 0, 0, true},   // channel tails, batch 2
    {1, 3, 13, 13, 17, 2, 2, 0, 0, false},  // stride 2, valid padding
    {1, 17, 12, 10, 5, 1, 2, 1, 0, true},  // dilation, mixed stride
    {1, 1, 9, 7, 3, 3, 1, 0, 1, true},     // one channel, stride 3
    {1, 33, 10, 10, 31, 1, 1, 0, 0, true},
    {1, 64, 6, 5, 64, 1, 1, 0, 0, true},   // full vectors, tiny image
    // Rows wider than the depthwise register tile (14 outputs on AVX-512): tiles
    // with no padding column and a partial last tile, at strides 1 and 2.
    {1, 19, 3, 45, 21, 1, 1, 0, 0, true},
    {1, 32, 9, 61, 16, 2, 2, 0, 0, false},
    // Enough output rows for the depthwise kernels' row blocks (pairs of rows
    // that share input rows) at vertical strides 2 and 3.
    {1, 16, 40, 11, 16, 2, 1, 0, 0, true},
    {1, 5, 36, 7, 9, 3, 2, 0, 0, true},
    // Full channel vectors on rows of whole depthwise tiles (14 x 3 on AVX-512):
    // the first and last tile of a row, whose padding columns the streamed tile
    // skips at compile time, and an interior one.
    {1, 32, 7, 42, 24, 1, 1, 0, 0, true},
};

bool make_shape(const Base& b, int k, ConvDesc& out) {
  const int64_t exth = (k - 1) * (b.dh + 1) + 1, extw = (k - 1) * (b.dw + 1) + 1;
  try {
    if (b.same) {
      const int64_t oh = (b.ih + b.sh - 1) / b.sh, ow = (b.iw + b.sw - 1) / b.sw;
      const int64_t ph = same_pad_begin(b.ih, oh, b.sh, exth);
      const int64_t pw = same_pad_begin(b.iw, ow, b.sw, extw);
      out = ConvDesc::make(1, b.mb, b.ic, b.ih, b.iw, b.oc, k, k, b.sh, b.sw, ph, pw, b.dh, b.dw,
                           oh, ow);
    } else {
      out = ConvDesc::make(1, b.mb, b.ic, b.ih, b.iw, b.oc, k, k, b.sh, b.sw, 0, 0, b.dh, b.dw);
    }
    return true;
  } catch (const Error&) {
    return false;
  }
}

// max |y - ref| / max(1, scale), where scale is the largest magnitude any stage
// produced before its activation: quantisation errors arise at that scale, and no
// activation here amplifies an error (all are 1-Lipschitz), so a saturating tanh
// must not shrink the yardstick.
double normalised_error(const std::vector<float>& y, const std::vector<float>& ref,
                        float preact_scale, size_t& at) {
  const float scale = std::max(1.f, preact_scale);
  double worst = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    if (std::isnan(y[i]) != std::isnan(ref[i])) {
      at = i;
      return std::numeric_limits<double>::infinity();
    }
    const double e = std::fabs(static_cast<double>(y[i]) - ref[i]) / scale;
    if (e > worst) worst = e, at = i;
  }
  return worst;
}

// Shape families: which bases each one covers. Every base runs at the kernel
// sizes the rotation below gives it, so each test is a few hundred cases.
struct Family {
  const char* name;
  std::vector<int> bases;
};
const Family kFamilies[] = {
    {"tails_batch2", {0}},       {"stride2_valid", {1}},     {"dilation", {2}},
    {"one_channel_stride3", {3}}, {"c33_to_c31", {4}},       {"full_vectors_tiny", {5}},
    {"wide_rows", {6, 7}},        {"row_blocks", {8, 9}},    {"whole_tiles", {10}},
};

// The bases a kernel size runs on: three of the first six in rotation, then
// one of each pair and the last.
bool base_at(int bi, int k) {
  for (int b : {k % 6, (k + 2) % 6, (k + 4) % 6, 6 + k % 2, 8 + k % 2, 10})
    if (b == bi) return true;
  return false;
}

using Param = std::tuple<const Backend*, Family, Kind>;
class BackendTest : public ::testing::TestWithParam<Param> {};

// Every kernel size, activation, layout, precision and fusion of one backend,
// shape family and kind.
TEST_P(BackendTest, MatchesReference) {
  const Backend& b = *std::get<0>(GetParam());
  const Family& fam = std::get<1>(GetParam());
  const Kind kind = std::get<2>(GetParam());
  if (!b.unavailable().empty()) GTEST_SKIP() << b.unavailable();
  const uint64_t seed = 1234;
  std::map<std::string, int> refused;
  int checked = 0, failures = 0;
  std::map<std::string, double> worst;  // by precision, printed to justify the tolerances
  for (int k = 1; k <= 9; ++k)
    for (int bi : fam.bases) {
      if (!base_at(bi, k)) continue;
      ConvDesc shape;
      if (!make_shape(kBases[bi], k, shape)) continue;
      // A third of the shapes run on two or three threads: partitioning bugs
      // show there, and three threads split an image's rows mid-way.
      const int nthreads = (k + bi) % 3 == 0 ? 2 + k % 2 : 1;
      set_threads(nthreads);
      for (Act act : kAllActs)
        for (Layout layout : {Layout::nchw, Layout::nhwc})
          for (Precision prec : {Precision::f32, Precision::bf16, Precision::int8})
            for (bool fuse : {true, false}) {
              if (!fuse && act == Act::none) continue;
              // The hard activations share the epilogues' code paths with ELU and
              // tanh: an odd and an even kernel (held-input and streamed tiles,
              // symmetric and asymmetric padding) cover them at a third of the cost.
              if ((act == Act::hardswish || act == Act::hardsigmoid) && k != 3 && k != 4) continue;
              Layer l;
              l.kind = kind, l.shape = shape, l.act = act;
              l.act_each = (k + bi) % 2 == 0;
              l.bias = k % 3 != 0;
              RunConfig cfg{layout, prec, fuse};
              const std::string why = b.refuse(l, cfg);
              if (!why.empty()) {
                ++refused[std::string(to_string(prec)) + ": " + why.substr(0, 80)];
                continue;
              }
              const LayerData data = make_layer_data(l, seed);
              const std::vector<float> src = make_input(l, layout, seed);
              float preact = 0.f;
              const std::vector<float> ref =
                  layer_ref(l, layout, data, src.data(), nullptr, &preact);
              std::unique_ptr<Prepared> p = b.prepare(l, cfg, data);
              std::vector<float> y(ref.size(), std::numeric_limits<float>::quiet_NaN());
              p->run(src.data(), y.data());
              size_t at = 0;
              const double err = normalised_error(y, ref, preact, at);
              ++checked;
              double& w = worst[std::string(to_string(prec))];
              w = std::max(w, err);
              if (!(err <= b.tolerance(cfg))) {
                if (++failures <= 10)
                  ADD_FAILURE() << b.name() << " " << l.str() << " " << cfg.str() << " threads "
                                << nthreads << " seed "
                                << seed << ": normalised error " << err << " > "
                                << b.tolerance(cfg) << " at " << at << " (got " << y[at]
                                << ", want " << ref[at] << ") impl " << p->impl();
                continue;
              }
              // A second run on the same prepared layer gives the same result.
              std::vector<float> y2(ref.size(), std::numeric_limits<float>::quiet_NaN());
              p->run(src.data(), y2.data());
              if (std::memcmp(y.data(), y2.data(), y.size() * sizeof(float)) != 0 &&
                  ++failures <= 10)
                ADD_FAILURE() << b.name() << " " << l.str() << " " << cfg.str()
                              << ": second run differs";
            }
    }
  set_threads(1);
  for (const auto& [why, n] : refused) std::printf("  %s refused %d cases: %s\n", std::string(b.name()).c_str(), n, why.c_str());
  for (const auto& [prec, err] : worst)
    std::printf("  %s %s: worst normalised error %.3g\n", std::string(b.name()).c_str(),
                prec.c_str(), err);
  std::printf("  %s: %d cases checked, %d failed\n", std::string(b.name()).c_str(), checked,
              failures);
  if (checked == 0) GTEST_SKIP() << b.name() << " refuses every " << fam.name << " case of this kind";
}

// Edges of the prepare/run split, each run on more threads than were set at
// prepare (no scratch was allocated for them): a kernel with more taps than one
// pass of the direct kernel holds (13 x 13 = 169 > kMaxTapChunk = 128); a stem
// (3 channels, 7x7, stride 2, two images: the direct kernel reads whole kernel rows,
// on the narrow tile for 24 output channels); and a pointwise layer whose
// weights exceed 1 MiB (the direct kernel's channel blocks go outermost).
class BackendEdgeTest : public ::testing::TestWithParam<const Backend*> {};

TEST_P(BackendEdgeTest, PlanEdgesAndMoreThreadsThanPrepared) {
  const Backend& b = *GetParam();
  if (!b.unavailable().empty()) GTEST_SKIP() << b.unavailable();
  const uint64_t seed = 99;
  int checked = 0;
  const ConvDesc many_taps = ConvDesc::make(1, 1, 5, 15, 14, 9, 13, 13, 1, 1, 6, 6, 0, 0, 15, 14);
  const std::vector<std::pair<Kind, ConvDesc>> cases = {
      {Kind::normal, many_taps},
      {Kind::depthwise, many_taps},
      {Kind::normal, ConvDesc::make(1, 2, 3, 17, 19, 24, 7, 7, 2, 2, 3, 3, 0, 0)},
      {Kind::normal, ConvDesc::make(1, 1, 523, 5, 3, 530, 1, 1, 1, 1, 0, 0, 0, 0)},
      // A stem wide enough for whole row-tap tiles (14 pixels) inside a row, beside
      // tiles that padding clips or that cross into the next row or image; kernel
      // rows wholly in padding; two channel blocks, the second partial.
      {Kind::normal, ConvDesc::make(1, 2, 3, 9, 61, 40, 5, 5, 2, 2, 2, 2, 1, 0)},
      // Stem rows that are one tile clipped on both sides, and two tiles whose
      // second alone the trailing padding clips (the tiles' input windows).
      {Kind::normal, ConvDesc::make(1, 1, 2, 6, 27, 24, 5, 5, 2, 2, 2, 2, 0, 0)},
      {Kind::normal, ConvDesc::make(1, 1, 1, 5, 56, 16, 3, 3, 2, 2, 0, 0, 0, 0, 2, 28)},
      // Rows of 7 outputs, where one depthwise tile is the whole row and skips
      // the padding on both sides, at strides 1 and 2; channel tails.
      {Kind::depthwise, ConvDesc::make(1, 1, 40, 9, 7, 24, 5, 5, 1, 1, 2, 2, 0, 0)},
      {Kind::depthwise, ConvDesc::make(1, 1, 40, 10, 14, 24, 5, 5, 2, 2, 1, 1, 0, 0, 5, 7)},
      // 49 pixels: a last pointwise tile of one row (6- and 12-row tiles), alone
      // and after a depthwise stage; a channel tail.
      {Kind::normal, ConvDesc::make(1, 1, 37, 7, 7, 100, 1, 1, 1, 1, 0, 0, 0, 0)},
      {Kind::depthwise, ConvDesc::make(1, 1, 37, 7, 7, 100, 3, 3, 1, 1, 1, 1, 0, 0)},
      {Kind::depthwise, ConvDesc::make(1, 1, 37, 7, 7, 24, 3, 3, 1, 1, 1, 1, 0, 0)},
      // A fully connected layer on one image: its one tile is one pixel, whose
      // weights stream from memory (the one-row tile that prefetches them); an
      // odd reduction, so the last k falls outside the even/odd pairs.
      {Kind::normal, ConvDesc::make(1, 1, 37, 1, 1, 100, 1, 1, 1, 1, 0, 0, 0, 0)},
      // The same last tile of one or two rows for a 3x3 convolution (6-row tiles)
      // and a stem (14-row tiles: 2 x 3 x 5 = 30 pixels).
      {Kind::normal, ConvDesc::make(1, 1, 37, 7, 7, 100, 3, 3, 1, 1, 1, 1, 0, 0)},
      {Kind::normal, ConvDesc::make(1, 2, 3, 3, 5, 20, 3, 3, 1, 1, 1, 1, 0, 0)},
      // 144 and 40 output channels: the 3-vector tile (where the target has one),
      // after a depthwise stage, on a last tile of one row, and in a 3x3 convolution.
      {Kind::normal, ConvDesc::make(1, 1, 37, 7, 7, 144, 1, 1, 1, 1, 0, 0, 0, 0)},
      {Kind::depthwise, ConvDesc::make(1, 1, 37, 7, 7, 40, 3, 3, 1, 1, 1, 1, 0, 0)},
      {Kind::normal, ConvDesc::make(1, 2, 19, 9, 11, 144, 3, 3, 2, 1, 1, 1, 0, 0)},
      // Last channel blocks narrower than the tile (a tile of only the vectors
      // they need, its last vector masked): 72 = 32 + 32 + 8 in two tap passes,
      // whose second adds to the first's partial sums (160 input channels); 104 =
      // 64 + 40 (three vectors, the third half used); 56 in one block, alone and
      // after a depthwise stage.
      {Kind::normal, ConvDesc::make(1, 1, 160, 6, 13, 72, 3, 3, 1, 1, 1, 1, 0, 0)},
      {Kind::normal, ConvDesc::make(1, 1, 21, 12, 5, 104, 1, 1, 1, 1, 0, 0, 0, 0)},
      {Kind::normal, ConvDesc::make(1, 1, 21, 12, 5, 56, 1, 1, 1, 1, 0, 0, 0, 0)},
      {Kind::depthwise, ConvDesc::make(1, 1, 29, 12, 5, 56, 3, 3, 1, 1, 1, 1, 0, 0)},
      // A strided 1x1 convolution with 1.4 MB of weights (ResNet's downsampling):
      // channel blocks outermost, since the pixels it reads are few.
      {Kind::normal, ConvDesc::make(1, 1, 600, 9, 9, 530, 1, 1, 2, 2, 0, 0, 0, 0)},
      // Weights over 512 KiB on small images: channel blocks outermost, the taps
      // in two passes, and pixel tiles that skip the taps wholly in the padding
      // (a 7x7 image's last pixel reads no tap of the 3x3 kernel's second pass);
      // 7x7 kernels on 7x7 images, two of them (tiles cross into the next image);
      // stride 2 with asymmetric padding.
      {Kind::normal, ConvDesc::make(1, 1, 300, 7, 7, 130, 3, 3, 1, 1, 1, 1, 0, 0)},
      // The same as the spatial kind: its 3 x 1 convolution runs channel blocks
      // outermost, so the fused backend declines to fuse it with the 1 x 3
      // depthwise and runs the depthwise plan it built for that on its own.
      {Kind::spatial, ConvDesc::make(1, 1, 400, 7, 7, 130, 3, 3, 1, 1, 1, 1, 0, 0)},
      {Kind::normal, ConvDesc::make(1, 2, 64, 7, 7, 40, 7, 7, 1, 1, 3, 3, 0, 0)},
      // Depthwise stages on multiples of 512 channels, through the zero-padded
      // copy: a 7x7 image (an odd row last) and two images at stride 2 with
      // asymmetric padding; and an image too wide for a band of two rows.
      {Kind::depthwise, ConvDesc::make(1, 1, 1024, 7, 7, 40, 3, 3, 1, 1, 1, 1, 0, 0)},
      {Kind::depthwise, ConvDesc::make(1, 2, 512, 9, 11, 24, 3, 3, 2, 2, 1, 0, 0, 0, 5, 6)},
      {Kind::depthwise, ConvDesc::make(1, 1, 512, 6, 21, 24, 3, 3, 1, 1, 1, 1, 0, 0)},
      {Kind::normal, ConvDesc::make(1, 1, 96, 14, 13, 70, 5, 5, 2, 2, 2, 1, 0, 0, 7, 7)},
  };
  for (const auto& [kind, shape] : cases) {
    Layer l;
    l.kind = kind, l.act = Act::relu, l.bias = true;
    l.shape = shape;
    const RunConfig cfg{Layout::nhwc, Precision::f32, true};
    if (!b.refuse(l, cfg).empty()) continue;
    const LayerData data = make_layer_data(l, seed);
    const std::vector<float> src = make_input(l, Layout::nhwc, seed);
    float preact = 0.f;
    const std::vector<float> ref = layer_ref(l, Layout::nhwc, data, src.data(), nullptr, &preact);
    set_threads(1);
    std::unique_ptr<Prepared> p = b.prepare(l, cfg, data);
    set_threads(3);
    std::vector<float> y(ref.size(), std::numeric_limits<float>::quiet_NaN());
    p->run(src.data(), y.data());
    set_threads(1);
    size_t at = 0;
    const double err = normalised_error(y, ref, preact, at);
    EXPECT_LE(err, b.tolerance(cfg)) << b.name() << " " << l.str() << " seed " << seed << " at "
                                     << at << " (got " << y[at] << ", want " << ref[at]
                                     << ") impl " << p->impl();
    ++checked;
  }
  if (checked == 0) GTEST_SKIP() << b.name() << " refuses these layers";
}

// The fused depthwise + pointwise step never writes the depthwise tensor, so
// the prepared layer does not hold one: its workspace (row buffers, one per
// thread) is far below the 784 KiB a 56x56x64 intermediate takes.
TEST(HandFused, HoldsNoIntermediateTensor) {
  Layer l;
  l.kind = Kind::depthwise, l.act = Act::relu;
  l.shape = ConvDesc::parse("mb1ic64ih56oc64oh56kh3");
  set_threads(2);
  std::unique_ptr<Prepared> p = find_backend("hand_fused_nhwc")
                                    .prepare(l, {Layout::nhwc, Precision::f32, true},
                                             make_layer_data(l, 3));
  set_threads(1);
  ASSERT_EQ(p->steps().size(), 1u) << p->impl();
  EXPECT_LT(p->memory_use().workspace, 56 * 56 * 64 * 4 / 2) << p->impl();
}

// Named backend_family_kind, so that a failure names its case.
INSTANTIATE_TEST_SUITE_P(Registry, BackendTest,
                         ::testing::Combine(::testing::ValuesIn(backends()),
                                            ::testing::ValuesIn(kFamilies),
                                            ::testing::ValuesIn(kAllKinds)),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param)->name()) + "_" +
                                  std::get<1>(info.param).name + "_" +
                                  std::string(to_string(std::get<2>(info.param)));
                         });
INSTANTIATE_TEST_SUITE_P(Registry, BackendEdgeTest, ::testing::ValuesIn(backends()),
                         [](const auto& info) { return std::string(info.param->name()); });

}  // namespace
}  // namespace convbench
