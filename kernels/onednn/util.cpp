#include "kernels/onednn/util.hpp"

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
void append_act(dnnl::post_ops& po, Act a) {
  po.append_eltwise(1.f, eltwise_alg(a), eltwise_alpha(a), eltwise_beta(a));
  if (a == Act::hardsigmoid) po.append_eltwise(1.f, algorithm::eltwise_clip, 0.f, 1.f);
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


}  // namespace convbench::onednn
