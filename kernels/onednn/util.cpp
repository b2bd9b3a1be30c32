#include "kernels/onednn/util.hpp"

#include "convbench/data.hpp"
#include "convbench/reference.hpp"

#include <oneapi/dnnl/dnnl_debug.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace convbench::onednn {

using dnnl::algorithm;
using dnnl::memory;
using tag = memory::format_tag;

dnnl::engine& engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

std::string isa_name(dnnl::cpu_isa isa) {
  switch (static_cast<dnnl_cpu_isa_t>(isa)) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx512_mic: return "avx512_mic";
    case dnnl_cpu_isa_avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    default: return "isa" + std::to_string(static_cast<int>(isa));
  }
}

// "f32:acdb" for NHWC, "f32:aBcd16b" for a 16-channel blocked layout: dims from
// the outermost stride in, upper case where blocked, then the inner blocks.
std::string fmt(const memory::desc& md) {
  const dnnl_memory_desc_t& d = md.data;
  std::string s = std::string(dnnl_dt2str(d.data_type)) + ":";
  if (d.format_kind != dnnl_blocked) return s + dnnl_fmt_kind2str(d.format_kind);
  const dnnl_blocking_desc_t& b = d.format_desc.blocking;
  std::vector<int> order(static_cast<size_t>(d.ndims));
  for (int i = 0; i < d.ndims; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](int x, int y) { return b.strides[x] > b.strides[y]; });
  for (int i : order) {
    bool blocked = false;
    for (int k = 0; k < b.inner_nblks; ++k) blocked |= b.inner_idxs[k] == i;
    s += static_cast<char>((blocked ? 'A' : 'a') + i);
  }
  for (int k = 0; k < b.inner_nblks; ++k)
    s += std::to_string(b.inner_blks[k]) + static_cast<char>('a' + b.inner_idxs[k]);
  return s;
}

algorithm eltwise_alg(Act a) {
  switch (a) {
    case Act::relu: return algorithm::eltwise_relu;
    case Act::elu: return algorithm::eltwise_elu;
    case Act::tanh: return algorithm::eltwise_tanh;
    case Act::hardswish: return algorithm::eltwise_hardswish;
    case Act::hardsigmoid: return algorithm::eltwise_linear;  // then clip: see append_act
    case Act::none: break;
  }
  return algorithm::undef;
}

float eltwise_alpha(Act a) { return a == Act::elu ? 1.f : a == Act::hardsigmoid ? 1.f / 6 : 0.f; }
float eltwise_beta(Act a) { return a == Act::hardsigmoid ? 0.5f : 0.f; }

// oneDNN 2.6 has hardswish but no hardsigmoid: that is x/6 + 1/2 clipped to
// [0, 1], two eltwise post-ops (or two primitives when not fused).
void append_act(dnnl::post_ops& po, Act a, float scale) {
  if (a == Act::hardsigmoid) {
    po.append_eltwise(1.f, eltwise_alg(a), eltwise_alpha(a), eltwise_beta(a));
    po.append_eltwise(scale, algorithm::eltwise_clip, 0.f, 1.f);
    return;
  }
  po.append_eltwise(scale, eltwise_alg(a), eltwise_alpha(a), eltwise_beta(a));
}

tag user_tag(Layout l) { return l == Layout::nchw ? tag::nchw : tag::nhwc; }

memory::dims weight_dims(const ConvDesc& c) {
  if (c.g == 1) return {c.oc, c.ic, c.kh, c.kw};
  return {c.g, c.ocg(), c.icg(), c.kh, c.kw};
}

float max_abs(const float* p, int64_t n) {
  float m = 0.f;
  for (int64_t i = 0; i < n; ++i) m = std::max(m, std::fabs(p[i]));
  return m > 0.f ? m : 1.f;
}

bool fold_batch(Layer& l, Layout& layout) {
  ConvDesc& c = l.shape;
  if (c.mb == 1 || c.kh != 1 || c.kw != 1 || c.ih != 1 || c.iw != 1 || c.oh != 1 || c.ow != 1)
    return false;
  c.iw = c.ow = c.mb;
  c.mb = 1;
  layout = Layout::nhwc;
  return true;
}

// Static calibration, as post-training quantisation does it: the range of each
// stage's input, with the layer's weights, over a few calibration inputs drawn
// like (but not equal to) the benchmark's inputs. The maximum of an
// intermediate varies by 30 % and more between draws, and clipping costs far
// more accuracy than a coarser scale, so the range is widened by half, but
// never beyond the analytic bound |bias| + sum |w| * (input bound), which no
// input can exceed (every activation here has |act(x)| <= |x|, but hard-sigmoid,
// whose output is at most min(1, 1/2 + |x|/6)).
std::vector<float> stage_input_ranges(const Layer& l, const LayerData& data) {
  const std::vector<Stage> st = l.stages();
  std::vector<float> seen(st.size(), 0.f);
  for (uint64_t draw = 0; draw < 8; ++draw) {
    std::vector<float> x = make_input(l, Layout::nchw, 0xCA11B0 + draw);
    // A network's layer sees its own range: the draws scaled to it.
    if (data.input_range > 0) {
      const float s = data.input_range / max_abs(x.data(), static_cast<int64_t>(x.size()));
      for (float& v : x) v *= s;
    }
    seen[0] = std::max(seen[0], max_abs(x.data(), static_cast<int64_t>(x.size())));
    for (size_t i = 0; i + 1 < st.size(); ++i) {
      std::vector<float> y(static_cast<size_t>(st[i].conv.dst_elems()));
      conv_ref(st[i].conv, Layout::nchw, x.data(), data.weights[i].data(),
               st[i].bias ? data.biases[i].data() : nullptr, y.data());
      act_ref(st[i].act, y.data(), st[i].conv.dst_elems());
      seen[i + 1] = std::max(seen[i + 1], max_abs(y.data(), static_cast<int64_t>(y.size())));
      x.swap(y);
    }
  }
  std::vector<float> range = {seen[0]};  // the input generator's range is exact
  float bound = seen[0];
  for (size_t i = 0; i + 1 < st.size(); ++i) {
    const ConvDesc& c = st[i].conv;
    const int64_t per_oc = c.icg() * c.kh * c.kw;
    float next = 0.f;
    for (int64_t o = 0; o < c.oc; ++o) {
      float sum = st[i].bias ? std::fabs(data.biases[i][o]) : 0.f;
      for (int64_t j = 0; j < per_oc; ++j) sum += std::fabs(data.weights[i][o * per_oc + j]) * bound;
      next = std::max(next, sum);
    }
    if (st[i].act == Act::hardsigmoid) next = std::min(1.f, 0.5f + next / 6);
    bound = next;
    range.push_back(std::min(bound, 1.5f * seen[i + 1]));
  }
  return range;
}

}  // namespace convbench::onednn
