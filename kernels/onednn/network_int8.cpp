// A network in chained int8 on oneDNN: every tensor between layers is s8 or u8
// in NHWC with one scale (real = scale * quantised), and each primitive's
// output scales and post-ops requantise straight into the next layer's type,
// as an int8 inference engine runs a quantised graph. f32 appears only at the
// network's inputs and outputs, where a reorder quantises or dequantises.
#include "kernels/onednn/network_int8.hpp"

#include <algorithm>
#include <memory>
#include <numeric>
#include <unordered_map>

#include "convbench/model.hpp"
#include "kernels/onednn/util.hpp"

namespace convbench::onednn {
namespace {

using dnnl::memory;
using dt = memory::data_type;
using tag = memory::format_tag;

// Calibrated ranges are widened by half before they become scales: a maximum
// seen on four inputs is exceeded on others, and clipping costs more accuracy
// than a coarser step (as the per-layer int8 calibration does).
constexpr float kWiden = 1.5f;

struct QTensor {
  dt type = dt::s8;
  float scale = 1.f;  // real = scale * quantised
  memory mem;
};

float qmax(dt t) { return t == dt::u8 ? 255.f : 127.f; }
bool nonneg_act(Act a) { return a == Act::relu || a == Act::hardsigmoid; }
// act(s * x) = s * act(x) for s > 0: the requantising scale may come first.
bool homogeneous(Act a) { return a == Act::none || a == Act::relu; }

memory::desc nhwc(const Dims& d, dt t) { return memory::desc({d[0], d[1], d[2], d[3]}, t, tag::nhwc); }

// One executed node's steps, sharing the network's stream.
class NodeSteps final : public Prepared {
 public:
  void add(Step s) { steps_.push_back(std::move(s)); }
  Memory memory_use() const override { return mem; }
  Memory mem{0, 0};
  // Tensors whose steps see them only through views (a folded batch): the
  // views do not own the buffer, so these handles keep it alive.
  std::vector<memory> owned;
};

// What a scaled activation post-op chain does, after output scales that
// already brought the accumulator to real values (or, for homogeneous
// activations, straight to the destination's scale).
void scaled_act(dnnl::primitive_attr& attr, Act a, float dst_scale) {
  dnnl::post_ops po;
  if (a != Act::none) append_act(po, a, homogeneous(a) ? 1.f : 1.f / dst_scale);
  attr.set_post_ops(po);
}

class ChainedNetwork {
 public:
  ChainedNetwork(const Model& m, const RunConfig& cfg, const Backend::NetworkData& nd)
      : m_(m), cfg_(cfg), nd_(nd), strm_(std::make_shared<dnnl::stream>(engine())) {
    plan_tensors();
    for (size_t i : m_.order) build(i);
  }

  std::vector<std::pair<size_t, std::unique_ptr<Prepared>>> take() { return std::move(out_); }

 private:
  // Types and scales: a concat and its inputs share one scale and type (the
  // concat is then a copy), the widest of their ranges; u8 where every member
  // is known non-negative from its activation, s8 otherwise.
  void plan_tensors() {
    const size_t n = m_.nodes.size();
    std::vector<size_t> group(n);
    std::iota(group.begin(), group.end(), size_t{0});
    auto find = [&](size_t x) {
      while (group[x] != x) x = group[x] = group[group[x]];
      return x;
    };
    std::vector<bool> nn(n, false);
    for (size_t i : m_.order) {
      const Node& node = m_.nodes[i];
      switch (node.op) {
        case NodeOp::input:
        case NodeOp::shape: nn[i] = false; break;
        case NodeOp::conv: nn[i] = nonneg_act(node.layer.stages().back().act); break;
        case NodeOp::add: nn[i] = nonneg_act(node.act); break;
        case NodeOp::concat:
          nn[i] = std::all_of(m_.in[i].begin(), m_.in[i].end(), [&](size_t j) { return nn[j]; });
          for (size_t j : m_.in[i]) group[find(j)] = find(i);
          break;
      }
    }
    std::vector<float> g_range(n, 0.f);
    std::vector<bool> g_nn(n, true);
    for (size_t i = 0; i < n; ++i) {
      const size_t g = find(i);
      g_range[g] = std::max(g_range[g], nd_.range[i] > 0 ? nd_.range[i] : 1.f);
      g_nn[g] = g_nn[g] && nn[i];
    }
    q_.resize(n);
    for (size_t i = 0; i < n; ++i) {
      const size_t g = find(i);
      q_[i].type = g_nn[g] ? dt::u8 : dt::s8;
      q_[i].scale = kWiden * g_range[g] / qmax(q_[i].type);
      q_[i].mem = memory(nhwc(m_.nodes[i].dims, q_[i].type), engine());
    }
  }

  // A user-side f32 tensor (the runner's buffer, in the configured layout).
  memory user(size_t i) const {
    const Dims& d = m_.nodes[i].dims;
    return memory({{d[0], d[1], d[2], d[3]}, dt::f32, user_tag(cfg_.layout)}, engine(), nd_.f32[i]);
  }

  void add_reorder(NodeSteps& p, const std::string& name, const memory& from, const memory& to,
                   float scale) {
    dnnl::primitive_attr attr;
    attr.set_output_scales(0, {scale});
    dnnl::reorder::primitive_desc rpd(from, to, attr);
    dnnl::reorder r(rpd);
    auto strm = strm_;
    memory f = from, t = to;
    p.add({name, StepType::reorder,
           std::string(rpd.impl_info_str()) + " " + fmt(from.get_desc()) + "->" + fmt(to.get_desc()),
           [r, f, t, strm]() mutable {
             r.execute(*strm, f, t);
             strm->wait();
           }});
  }

  void build(size_t i) {
    const Node& node = m_.nodes[i];
    auto p = std::make_unique<NodeSteps>();
    p->owned.push_back(q_[i].mem);
    p->mem.workspace += static_cast<int64_t>(q_[i].mem.get_desc().get_size());
    switch (node.op) {
      case NodeOp::input:
      case NodeOp::shape:
        add_reorder(*p, "reorder:quantise", user(i), q_[i].mem, 1.f / q_[i].scale);
        break;
      case NodeOp::conv: conv(i, *p); break;
      case NodeOp::add: add(i, *p); break;
      case NodeOp::concat: concat(i, *p); break;
    }
    if (node.op != NodeOp::input && node.op != NodeOp::shape && nd_.f32[i])
      add_reorder(*p, "reorder:dst", q_[i].mem, user(i), q_[i].scale);
    out_.emplace_back(i, std::move(p));
  }

  void conv(size_t i, NodeSteps& p) {
    Layer l = m_.nodes[i].layer;
    Layout unused = Layout::nhwc;
    const bool folded = fold_batch(l, unused);
    // The same bytes seen with the folded layer's dims.
    auto view = [&](QTensor t, const Dims& d) {
      if (folded) t.mem = memory(nhwc(d, t.type), engine(), t.mem.get_data_handle());
      return t;
    };
    const LayerData& data = nd_.layers[i];
    const std::vector<Stage> st = l.stages();
    const QTensor& qin = q_[m_.in[i][0]];
    // Intermediates of a multi-stage layer: ranges from the layer's own
    // calibration, from the input's range.
    LayerData calib = data;
    calib.input_range = qin.scale * qmax(qin.type);
    const std::vector<float> range = st.size() > 1 ? stage_input_ranges(l, calib) : std::vector<float>{};
    QTensor src = view(qin, Dims{st[0].conv.mb, st[0].conv.ic, st[0].conv.ih, st[0].conv.iw});
    for (size_t s = 0; s < st.size(); ++s) {
      const ConvDesc& c = st[s].conv;
      const bool last = s + 1 == st.size();
      QTensor dst;
      if (last) {
        dst = view(q_[i], Dims{c.mb, c.oc, c.oh, c.ow});
      } else {
        dst.type = nonneg_act(st[s].act) ? dt::u8 : dt::s8;
        dst.scale = range[s + 1] / qmax(dst.type);  // already widened by the calibration
        dst.mem = memory(nhwc({c.mb, c.oc, c.oh, c.ow}, dst.type), engine());
        p.mem.workspace += static_cast<int64_t>(dst.mem.get_desc().get_size());
      }
      const int64_t per_oc = c.icg() * c.kh * c.kw;
      std::vector<float> wscale(static_cast<size_t>(c.oc)), oscale(wscale.size());
      for (int64_t o = 0; o < c.oc; ++o) {
        wscale[o] = max_abs(data.weights[s].data() + o * per_oc, per_oc) / 127.f;
        oscale[o] = src.scale * wscale[o] / (homogeneous(st[s].act) ? dst.scale : 1.f);
      }
      dnnl::primitive_attr attr;
      attr.set_output_scales(1 << 1, oscale);
      scaled_act(attr, st[s].act, dst.scale);
      const memory::desc wmd(weight_dims(c), dt::s8, tag::any);
      const memory::desc bmd = st[s].bias ? memory::desc({c.oc}, dt::f32, tag::x) : memory::desc();
      dnnl::convolution_forward::desc d(
          dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
          src.mem.get_desc(), wmd, bmd, dst.mem.get_desc(), {c.sh, c.sw}, {c.dh, c.dw},
          {c.ph, c.pw}, {c.pb, c.pr});
      dnnl::convolution_forward::primitive_desc pd(d, attr, engine());

      // Weights quantised per output channel and bias in accumulator units,
      // once, here.
      memory wei(pd.weights_desc(), engine());
      {
        memory usr({weight_dims(c), dt::f32, c.g == 1 ? tag::oihw : tag::goihw}, engine(),
                   const_cast<float*>(data.weights[s].data()));
        std::vector<float> inv(wscale.size());
        for (size_t o = 0; o < inv.size(); ++o) inv[o] = 1.f / wscale[o];
        dnnl::primitive_attr wattr;
        wattr.set_output_scales(c.g == 1 ? 1 << 0 : (1 << 0) | (1 << 1), inv);
        dnnl::reorder(dnnl::reorder::primitive_desc(usr, wei, wattr)).execute(*strm_, usr, wei);
        strm_->wait();
      }
      p.mem.weights += static_cast<int64_t>(pd.weights_desc().get_size());
      p.mem.workspace += pd.query_s64(dnnl::query::memory_consumption_s64);
      std::unordered_map<int, memory> args = {
          {DNNL_ARG_SRC, src.mem}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst.mem}};
      if (st[s].bias) {
        memory bias({{c.oc}, dt::f32, tag::x}, engine());
        auto* b = static_cast<float*>(bias.get_data_handle());
        for (int64_t o = 0; o < c.oc; ++o) b[o] = data.biases[s][o] / (src.scale * wscale[o]);
        args[DNNL_ARG_BIAS] = bias;
        p.mem.weights += c.oc * static_cast<int64_t>(sizeof(float));
      }
      dnnl::convolution_forward prim(pd);
      auto strm = strm_;
      p.add({"stage" + std::to_string(s), step_type(st[s]),
             std::string(pd.impl_info_str()) + " src=" + fmt(pd.src_desc()) +
                 " wei=" + fmt(pd.weights_desc()) + " dst=" + fmt(pd.dst_desc()),
             [prim, args, strm] {
               prim.execute(*strm, args);
               strm->wait();
             }});
      src = dst;
    }
  }

  // Sums as binary adds, each input rescaled on the way in; the activation
  // and the requantisation on the last.
  void add(size_t i, NodeSteps& p) {
    const Node& node = m_.nodes[i];
    const QTensor& out = q_[i];
    const std::vector<size_t>& in = m_.in[i];
    for (size_t k = 1; k < in.size(); ++k) {
      const bool last = k + 1 == in.size();
      const Act act = last ? node.act : Act::none;
      const QTensor& a = k == 1 ? q_[in[0]] : out;
      const QTensor& b = q_[in[k]];
      const float to = last && !homogeneous(act) ? 1.f : 1.f / out.scale;
      dnnl::primitive_attr attr;
      attr.set_scales(DNNL_ARG_SRC_0, 0, {a.scale * to});
      attr.set_scales(DNNL_ARG_SRC_1, 0, {b.scale * to});
      scaled_act(attr, act, out.scale);
      dnnl::binary::desc d(dnnl::algorithm::binary_add, a.mem.get_desc(), b.mem.get_desc(),
                           out.mem.get_desc());
      dnnl::binary::primitive_desc pd(d, attr, engine());
      dnnl::binary prim(pd);
      std::unordered_map<int, memory> args = {
          {DNNL_ARG_SRC_0, a.mem}, {DNNL_ARG_SRC_1, b.mem}, {DNNL_ARG_DST, out.mem}};
      auto strm = strm_;
      p.add({in.size() == 2 ? node.name : node.name + "." + std::to_string(k), StepType::join,
             std::string(pd.impl_info_str()) + " add " + fmt(out.mem.get_desc()) +
                 (act != Act::none ? " +" + std::string(to_string(act)) : ""),
             [prim, args, strm] {
               prim.execute(*strm, args);
               strm->wait();
             }});
    }
  }

  // Every input already has the concat's scale and type: a copy.
  void concat(size_t i, NodeSteps& p) {
    std::vector<memory::desc> mds;
    std::unordered_map<int, memory> args = {{DNNL_ARG_DST, q_[i].mem}};
    for (size_t k = 0; k < m_.in[i].size(); ++k) {
      mds.push_back(q_[m_.in[i][k]].mem.get_desc());
      args[DNNL_ARG_MULTIPLE_SRC + static_cast<int>(k)] = q_[m_.in[i][k]].mem;
    }
    dnnl::concat::primitive_desc pd(q_[i].mem.get_desc(), 1, mds, engine());
    dnnl::concat prim(pd);
    auto strm = strm_;
    p.add({m_.nodes[i].name, StepType::join,
           std::string(pd.impl_info_str()) + " concat " + fmt(q_[i].mem.get_desc()) + " x" +
               std::to_string(mds.size()),
           [prim, args, strm] {
             prim.execute(*strm, args);
             strm->wait();
           }});
  }

  const Model& m_;
  RunConfig cfg_;
  const Backend::NetworkData& nd_;
  std::shared_ptr<dnnl::stream> strm_;
  std::vector<QTensor> q_;
  std::vector<std::pair<size_t, std::unique_ptr<Prepared>>> out_;
};

}  // namespace

std::vector<std::pair<size_t, std::unique_ptr<Prepared>>> prepare_chained_int8(
    const Model& m, const RunConfig& cfg, const Backend::NetworkData& nd) {
  return ChainedNetwork(m, cfg, nd).take();
}

}  // namespace convbench::onednn
