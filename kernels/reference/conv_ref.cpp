#include "convbench/reference.hpp"

#include <algorithm>
#include <cmath>

namespace convbench {

void conv_ref(const ConvDesc& d, Layout layout, const float* src, const float* wei,
              const float* bias, float* dst, int64_t* mac_count) {
  const int64_t icg = d.icg(), ocg = d.ocg();
  int64_t macs = 0;
  for (int64_t n = 0; n < d.mb; ++n)
    for (int64_t g = 0; g < d.g; ++g)
      for (int64_t oc = 0; oc < ocg; ++oc)
        for (int64_t oy = 0; oy < d.oh; ++oy)
          for (int64_t ox = 0; ox < d.ow; ++ox) {
            const int64_t o = g * ocg + oc;
            double acc = bias ? bias[o] : 0.0;
            for (int64_t ic = 0; ic < icg; ++ic)
              for (int64_t ky = 0; ky < d.kh; ++ky) {
                const int64_t iy = oy * d.sh - d.ph + ky * (d.dh + 1);
                if (iy < 0 || iy >= d.ih) continue;
                for (int64_t kx = 0; kx < d.kw; ++kx) {
                  const int64_t ix = ox * d.sw - d.pw + kx * (d.dw + 1);
                  if (ix < 0 || ix >= d.iw) continue;
                  const int64_t c = g * icg + ic;
                  const float x = src[offset(layout, d.ic, d.ih, d.iw, n, c, iy, ix)];
                  const float w = wei[((o * icg + ic) * d.kh + ky) * d.kw + kx];
                  acc += static_cast<double>(x) * w;
                  ++macs;
                }
              }
            dst[offset(layout, d.oc, d.oh, d.ow, n, o, oy, ox)] = static_cast<float>(acc);
          }
  if (mac_count) *mac_count += macs;
}

void act_ref(Act a, float* data, int64_t n) {
  if (a == Act::none) return;
  for (int64_t i = 0; i < n; ++i) data[i] = apply_act_ref(a, data[i]);
}





std::vector<float> layer_ref(const Layer& l, Layout layout, const LayerData& data,
                             const float* src, int64_t* mac_count, float* max_preact) {
  const std::vector<Stage> st = l.stages();
  std::vector<float> in, out;
  const float* cur = src;
  for (size_t i = 0; i < st.size(); ++i) {
    out.assign(static_cast<size_t>(st[i].conv.dst_elems()), 0.f);
    conv_ref(st[i].conv, layout, cur, data.weights[i].data(),
             st[i].bias ? data.biases[i].data() : nullptr, out.data(), mac_count);
    if (max_preact)
      for (float v : out) *max_preact = std::max(*max_preact, std::fabs(v));
    act_ref(st[i].act, out.data(), st[i].conv.dst_elems());
    in.swap(out);
    cur = in.data();
  }
  return in;
}

}  // namespace convbench
