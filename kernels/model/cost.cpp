#include "convbench/cost.hpp"

#include <algorithm>

namespace convbench {
namespace {

int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// Sum over output positions of the kernel taps that land inside the input:
// for each tap, the output positions y with 0 <= y*s - p + t*(d+1) < i.
int64_t valid_taps(int64_t i, int64_t o, int64_t k, int64_t s, int64_t p, int64_t d) {
  int64_t n = 0;
  for (int64_t t = 0; t < k; ++t) {
    const int64_t shift = t * (d + 1) - p;
    const int64_t first = std::max<int64_t>(0, floor_div(-shift + s - 1, s));  // ceil(-shift/s)
    const int64_t hi = std::min(o - 1, floor_div(i - 1 - shift, s));
    if (hi >= first) n += hi - first + 1;
  }
  return n;
}

}  // namespace

int64_t conv_macs(const ConvDesc& d) { return d.dst_elems() * d.icg() * d.kh * d.kw; }

int64_t conv_macs_effective(const ConvDesc& d) {
  // Validity of a tap factorises into a row test and a column test.
  return d.mb * d.oc * d.icg() * valid_taps(d.ih, d.oh, d.kh, d.sh, d.ph, d.dh) *
         valid_taps(d.iw, d.ow, d.kw, d.sw, d.pw, d.dw);
}

Cost stage_cost(const Stage& s) {
  const ConvDesc& d = s.conv;
  Cost c;
  c.in = {d.mb, d.ic, d.ih, d.iw};
  c.out = {d.mb, d.oc, d.oh, d.ow};
  c.macs = conv_macs(d);
  c.macs_effective = conv_macs_effective(d);
  c.act_elems = s.act == Act::none ? 0 : d.dst_elems();
  c.params = d.wei_elems();
  c.params_with_bias = c.params + d.oc;
  c.bytes = 4 * (d.src_elems() + (s.bias ? c.params_with_bias : c.params) + d.dst_elems());
  return c;
}

LayerCost layer_cost(const Layer& l) {
  LayerCost lc;
  const std::vector<Stage> st = l.stages();
  for (size_t i = 0; i < st.size(); ++i) {
    const Cost c = stage_cost(st[i]);
    lc.stages.push_back(c);
    lc.total.macs += c.macs;
    lc.total.macs_effective += c.macs_effective;
    lc.total.act_elems += c.act_elems;
    lc.total.params += c.params;
    lc.total.params_with_bias += c.params_with_bias;
    lc.bytes_unfused += c.bytes;
    if (i + 1 < st.size()) lc.intermediate_bytes.push_back(4 * st[i].conv.dst_elems());
  }
  lc.total.in = lc.stages.front().in;
  lc.total.out = lc.stages.back().out;
  const int64_t weights = l.bias ? lc.total.params_with_bias : lc.total.params;
  lc.total.bytes = 4 * (l.shape.src_elems() + weights + l.shape.dst_elems());
  return lc;
}

}  // namespace convbench
