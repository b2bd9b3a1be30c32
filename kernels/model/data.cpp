#include "convbench/data.hpp"

namespace convbench {

namespace {

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace

void fill_data(float* p, int64_t n, uint64_t seed, uint64_t stream) {
  uint64_t state = seed * 0x100000001B3ull + stream * 0x9E3779B97F4A7C15ull + 1;
  for (int64_t i = 0; i < n; ++i)
    p[i] = static_cast<float>(static_cast<int>(splitmix64(state) % 9) - 4) * 0.125f;
}

LayerData make_layer_data(const Layer& l, uint64_t seed) {
  LayerData data;
  const std::vector<Stage> st = l.stages();
  for (size_t i = 0; i < st.size(); ++i) {
    std::vector<float> w(static_cast<size_t>(st[i].conv.wei_elems()));
    fill_data(w.data(), static_cast<int64_t>(w.size()), seed, 1 + 2 * i);
    data.weights.push_back(std::move(w));
    std::vector<float> b(st[i].bias ? static_cast<size_t>(st[i].conv.oc) : 0);
    fill_data(b.data(), static_cast<int64_t>(b.size()), seed, 2 + 2 * i);
    data.biases.push_back(std::move(b));
  }
  return data;
}

std::vector<float> convert_layout(const std::vector<float>& v, Layout from, Layout to, int64_t N,
                                  int64_t C, int64_t H, int64_t W) {
  if (from == to) return v;
  std::vector<float> out(v.size());
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t w = 0; w < W; ++w)
          out[offset(to, C, H, W, n, c, h, w)] = v[offset(from, C, H, W, n, c, h, w)];
  return out;
}

std::vector<float> make_input(const Layer& l, Layout layout, uint64_t seed) {
  // Generated in NCHW order so that both layouts hold the same logical tensor.
  const ConvDesc& d = l.shape;
  std::vector<float> nchw(static_cast<size_t>(d.src_elems()));
  fill_data(nchw.data(), d.src_elems(), seed, 0);
  return convert_layout(nchw, Layout::nchw, layout, d.mb, d.ic, d.ih, d.iw);
}

}  // namespace convbench
