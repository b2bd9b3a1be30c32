// Every path of the hand-written depthwise stage against the reference, each
// forced where the shape allows it: the plan picks one path per CPU (the
// zero-padded copy only on AMD, see plan_dw), so the backend tests alone would
// leave the others unchecked on any one machine.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "convbench/reference.hpp"
#include "kernels/simd/kernels.hpp"

namespace convbench {
namespace {

struct Path {
  const char* name;
  bool compact, streamed;
};

// Whether run_dw can take the path on this shape.
bool allows(const ConvDesc& c, const Path& path) {
  if (path.compact) return simd::dw_copy_fits(c);
  if (path.streamed) return (c.sw == 1 || c.sw == 2) && c.dw == 0 && c.kw >= 3 && c.kw <= 9;
  return true;
}

TEST(DwPaths, EachPathMatchesTheReference) {
  const Path paths[] = {{"planned", false, false}, {"compact", true, false},
                        {"streamed", false, true}, {"held or generic", false, false}};
  const char* shapes[] = {
      // 7x7 and 14x14 rows on multiples of 512 channels, stride 1 and 2.
      "g1024mb1ic1024ih7oc1024oh7kh3ph1",
      "g512mb1ic512ih14oc512oh14kh3ph1",
      "g512mb1ic512ih14oc512oh7kh3sh2",
      // Two images, asymmetric padding, stride 2, rows that 7 does not divide.
      "g512mb2ic512ih9iw11oc512oh5ow6kh3kw3sh2sw2ph1pw1",
      // Channel tails, PyTorch's stride-2 padding (on the left, not TensorFlow's
      // on the right: the swapped edge tiles), rows of one and two 14-wide tiles.
      "g40mb1ic40ih14oc40oh7kh3sh2ph1",
      "g72mb1ic72ih14oc72oh7kh5sh2ph2",
      "g72mb1ic72ih56oc72oh28kh5sh2ph2",
      "g960mb1ic960ih7oc960oh7kh3ph1",
      "g24mb1ic24ih28oc24oh28kh3ph1",
      "g72mb1ic72ih14oc72oh14kh5ph2",
  };
  int checked = 0;
  for (const char* text : shapes) {
    const ConvDesc c = ConvDesc::parse(text);
    const uint64_t seed = 7;
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    std::vector<float> src(static_cast<size_t>(c.src_elems())), w(static_cast<size_t>(c.wei_elems())),
        bias(static_cast<size_t>(c.oc));
    for (float& v : src) v = u(rng);
    for (float& v : w) v = u(rng);
    for (float& v : bias) v = u(rng);
    std::vector<float> ref(static_cast<size_t>(c.dst_elems()));
    conv_ref(c, Layout::nhwc, src.data(), w.data(), bias.data(), ref.data());
    act_ref(Act::relu, ref.data(), c.dst_elems());
    for (const Path& path : paths) {
      simd::DwPlan p = simd::plan_dw(c, w.data(), bias.data(), Act::relu);
      if (std::string(path.name) != "planned") {
        if (!allows(c, path)) continue;
        p.compact = path.compact;
        p.streamed = path.streamed;
      }
      std::vector<float> y(ref.size(), NAN);
      simd::run_dw(p, src.data(), y.data());
      double worst = 0;
      for (size_t i = 0; i < y.size(); ++i) {
        const double err = std::fabs(static_cast<double>(y[i]) - ref[i]) /
                           (1.0 + std::fabs(static_cast<double>(ref[i])));
        if (!(err <= worst)) worst = std::isnan(err) ? INFINITY : err;  // NaN: never written
      }
      EXPECT_LE(worst, 1e-5) << text << " on the " << path.name << " path, seed " << seed;
      ++checked;
    }
  }
  EXPECT_GE(checked, 20);
}

}  // namespace
}  // namespace convbench
