// The phone study's FLOP and parameter table (shared/seeds/003), for valid
// padding and stride 1. Its "FLOPs" count multiplications, i.e. our MACs.
// Its depthwise-and-spatially-separable row is wrong; the corrected one is tested
// and the study's is shown to disagree.
#include <gtest/gtest.h>

#include "convbench/cost.hpp"

namespace convbench {
namespace {

struct Case {
  int64_t f, din, dout, hout, wout;
};

Layer layer(Kind k, const Case& c) {
  Layer l;
  l.kind = k;
  // Valid padding: the input is the output grown by f-1 on each axis.
  l.shape = ConvDesc::parse("ic" + std::to_string(c.din) + "ih" + std::to_string(c.hout + c.f - 1) +
                            "iw" + std::to_string(c.wout + c.f - 1) + "oc" +
                            std::to_string(c.dout) + "kh" + std::to_string(c.f) + "kw" +
                            std::to_string(c.f));
  return l;
}

std::vector<Case> cases() {
  std::vector<Case> v;
  for (int64_t f = 1; f <= 9; ++f)
    for (int64_t din : {1, 3, 16, 64})
      for (int64_t dout : {1, 8, 64}) v.push_back({f, din, dout, 7 + f, 12});
  return v;
}

int64_t study_dw_spatial_flops(const Case& c) {  // as printed in the study
  return c.f * c.hout * (c.wout + 2) + c.f * c.hout * c.wout + c.din * c.hout * c.wout * c.dout;
}

int64_t corrected_dw_spatial_flops(const Case& c) {
  return c.f * c.din * c.hout * (c.wout + c.f - 1) + c.f * c.din * c.hout * c.wout +
         c.din * c.hout * c.wout * c.dout;
}

TEST(StudyTable, Normal) {
  for (const Case& c : cases()) {
    const LayerCost lc = layer_cost(layer(Kind::normal, c));
    EXPECT_EQ(lc.total.macs, c.f * c.f * c.din * c.hout * c.wout * c.dout);
    EXPECT_EQ(lc.total.params, c.f * c.f * c.din * c.dout);
    EXPECT_EQ(lc.total.out[2], c.hout);
    EXPECT_EQ(lc.total.out[3], c.wout);
  }
}

TEST(StudyTable, SpatiallySeparable) {
  for (const Case& c : cases()) {
    const LayerCost lc = layer_cost(layer(Kind::spatial, c));
    EXPECT_EQ(lc.total.macs, c.f * c.din * c.hout * (c.wout + c.f - 1) * c.dout +
                                 c.f * c.hout * c.wout * c.dout);
    EXPECT_EQ(lc.total.params, c.f * c.din * c.dout + c.f * c.dout);
  }
}

TEST(StudyTable, DepthwiseSeparable) {
  for (const Case& c : cases()) {
    const LayerCost lc = layer_cost(layer(Kind::depthwise, c));
    EXPECT_EQ(lc.total.macs, c.f * c.f * c.din * c.hout * c.wout + c.din * c.hout * c.wout * c.dout);
    EXPECT_EQ(lc.total.params, c.f * c.f * c.din + c.din * c.dout);
  }
}

TEST(StudyTable, DepthwiseAndSpatiallySeparableCorrected) {
  for (const Case& c : cases()) {
    const LayerCost lc = layer_cost(layer(Kind::dw_spatial, c));
    EXPECT_EQ(lc.total.macs, corrected_dw_spatial_flops(c));
    EXPECT_EQ(lc.total.params, 2 * c.f * c.din + c.din * c.dout);  // the study's is right
  }
}

// The printed formula drops d_in from both depthwise terms and writes W_out+2
// for W_out+f-1: it agrees only when d_in = 1 and f = 3.
TEST(StudyTable, StudysDwSpatialFormulaIsWrong) {
  for (const Case& c : cases()) {
    const int64_t truth = layer_cost(layer(Kind::dw_spatial, c)).total.macs;
    EXPECT_EQ(study_dw_spatial_flops(c) == truth, c.din == 1 && c.f == 3)
        << "f" << c.f << " din" << c.din << " dout" << c.dout << ": study "
        << study_dw_spatial_flops(c) << ", counted " << truth;
  }
  // One concrete case for the README: the default layer, k = 3 and k = 7.
  const Case k3{3, 64, 64, 56, 56}, k7{7, 64, 64, 56, 56};
  EXPECT_EQ(corrected_dw_spatial_flops(k3) - study_dw_spatial_flops(k3), 63 * 3 * 56 * 58 + 63 * 3 * 56 * 56);
  EXPECT_GT(corrected_dw_spatial_flops(k7), study_dw_spatial_flops(k7));
}

}  // namespace
}  // namespace convbench
