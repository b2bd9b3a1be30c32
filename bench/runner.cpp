#include "runner.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/simd/kernels.hpp"

namespace convbench {
namespace {

int64_t elems(const Dims& d) { return d[0] * d[1] * d[2] * d[3]; }

// Runs f(begin, end) over [0, n) in chunks, on every thread when there are
// several (one thread opens no OpenMP region: it costs more than a small join).
template <class F>
void parallel_chunks(int64_t n, int64_t chunk, const F& f) {
  const int64_t nchunks = (n + chunk - 1) / chunk;
  if (omp_get_max_threads() == 1) {
    f(int64_t{0}, n);
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < nchunks; ++c) f(c * chunk, std::min(n, (c + 1) * chunk));
}

// A join as a prepared step: its tensors are fixed at construction.
class JoinPrepared final : public Prepared {
 public:
  JoinPrepared(const Node& n, Layout layout, std::vector<const float*> ins,
               std::vector<Dims> in_dims, float* out)
      : ins_(std::move(ins)), dims_(std::move(in_dims)), out_dims_(n.dims), out_(out),
        act_(n.act), layout_(layout) {
    const bool add = n.op == NodeOp::add;
    const std::string impl = std::string(add ? "add" : "concat") + "_" +
                             std::string(to_string(layout)) + " x" + std::to_string(ins_.size()) +
                             (add && act_ != Act::none ? " +" + std::string(to_string(act_)) : "");
    steps_.push_back({n.name, StepType::join, impl, [this, add] { add ? sum() : concat(); }});
  }

  Memory memory_use() const override { return {0, 0}; }

 private:
  void sum() {
    parallel_chunks(elems(out_dims_), 16384, [&](int64_t b, int64_t e) {
      float* o = out_;
      const float* x0 = ins_[0];
      const float* x1 = ins_[1];
      for (int64_t i = b; i < e; ++i) o[i] = x0[i] + x1[i];
      for (size_t k = 2; k < ins_.size(); ++k) {
        const float* x = ins_[k];
        for (int64_t i = b; i < e; ++i) o[i] += x[i];
      }
      if (act_ != Act::none) simd::act_inplace(act_, o + b, e - b);
    });
  }

  void concat() {
    const int64_t N = out_dims_[0], C = out_dims_[1], HW = out_dims_[2] * out_dims_[3];
    const auto nin = static_cast<int64_t>(ins_.size());
    if (layout_ == Layout::nhwc) {
      // Per pixel, each input's channels side by side.
      parallel_chunks(N * HW, 256, [&](int64_t b, int64_t e) {
        for (int64_t p = b; p < e; ++p) {
          float* o = out_ + p * C;
          for (int64_t k = 0; k < nin; ++k) {
            const int64_t ck = dims_[k][1];
            std::memcpy(o, ins_[k] + p * ck, static_cast<size_t>(ck) * sizeof(float));
            o += ck;
          }
        }
      });
      return;
    }
    // NCHW: per image, each input's planes one after another.
    parallel_chunks(N * nin, 1, [&](int64_t b, int64_t e) {
      for (int64_t job = b; job < e; ++job) {
        const int64_t n = job / nin, k = job % nin;
        int64_t c0 = 0;
        for (int64_t j = 0; j < k; ++j) c0 += dims_[j][1];
        const int64_t ck = dims_[k][1];
        std::memcpy(out_ + (n * C + c0) * HW, ins_[k] + n * ck * HW,
                    static_cast<size_t>(ck * HW) * sizeof(float));
      }
    });
  }

  std::vector<const float*> ins_;
  std::vector<Dims> dims_;
  Dims out_dims_;
  float* out_;
  Act act_;
  Layout layout_;
};

class EmptyPrepared final : public Prepared {
 public:
  explicit EmptyPrepared(const std::string& name) {
    steps_.push_back({name, StepType::other, "nothing", [] {}});
  }
  Memory memory_use() const override { return {0, 0}; }
};

class EmptyBackend final : public Backend {
 public:
  std::string_view name() const override { return "empty"; }
  std::string refuse(const Layer&, const RunConfig&) const override { return {}; }
  std::unique_ptr<Prepared> prepare(const Layer&, const RunConfig&, const LayerData&) const override {
    return std::make_unique<EmptyPrepared>("stage0");
  }
};

}  // namespace

const Backend& empty_backend() {
  static const EmptyBackend b;
  return b;
}

std::vector<float> network_tensor(const Dims& d, Layout layout, uint64_t seed, size_t node) {
  std::vector<float> nchw(static_cast<size_t>(elems(d)));
  fill_data(nchw.data(), elems(d), seed, 1000 + node);
  return convert_layout(nchw, Layout::nchw, layout, d[0], d[1], d[2], d[3]);
}

LayerData network_layer_data(const Layer& l, uint64_t seed) {
  LayerData d = make_layer_data(l, seed);
  const std::vector<Stage> st = l.stages();
  for (size_t i = 0; i < st.size(); ++i) {
    const ConvDesc& c = st[i].conv;
    const double fan_in = static_cast<double>(c.icg() * c.kh * c.kw);
    const auto scale = static_cast<float>(std::exp2(std::round(std::log2(3.0 / std::sqrt(fan_in)))));
    if (scale == 1.f) continue;
    for (float& w : d.weights[i]) w *= scale;
  }
  return d;
}

ModelRunner::ModelRunner(const Model& m, const Backend& b, const RunConfig& cfg, uint64_t seed)
    : seed_(seed), layout_(cfg.layout), model_(m) {
  if (model_.order.empty()) model_.validate();
  if (std::string why = b.unavailable(); !why.empty())
    throw Error("backend " + std::string(b.name()) + " is unavailable: " + why);
  // Chained int8 runs each convolution as int8 does; only the tensors between differ.
  const bool chained = cfg.precision == Precision::int8_chained;
  RunConfig layer_cfg = cfg;
  if (chained) layer_cfg.precision = Precision::int8;
  const std::vector<Node>& nodes = model_.nodes;
  for (const Node& n : nodes)
    if (n.op == NodeOp::conv)
      if (std::string why = b.refuse(n.layer, layer_cfg); !why.empty())
        throw Error("backend " + std::string(b.name()) + " refuses " + n.name + " (" +
                    n.layer.str() + ") " + cfg.str() + ": " + why);

  std::vector<bool> keep(nodes.size(), false);
  for (size_t i = 0; i < nodes.size(); ++i)
    keep[i] = nodes[i].op == NodeOp::input || nodes[i].op == NodeOp::shape;
  for (size_t o : model_.outputs()) keep[o] = true;

  // Pairs the backend computes as one layer: a depthwise layer whose output only
  // a single-stage layer reads (MobileNets' depthwise then pointwise), f32 only
  // (the data below is drawn before any int8 calibration). fused[j] = i.
  std::vector<size_t> readers(nodes.size(), 0);
  for (size_t j = 0; j < nodes.size(); ++j)
    for (size_t i : model_.in[j]) ++readers[i];
  std::vector<size_t> fused(nodes.size(), Exec::kNone);
  std::vector<std::unique_ptr<Prepared>> fused_prep(nodes.size());
  if (cfg.precision == Precision::f32)
    for (size_t j = 0; j < nodes.size(); ++j) {
      if (nodes[j].op != NodeOp::conv || model_.in[j].size() != 1) continue;
      const size_t i = model_.in[j][0];
      if (nodes[i].op != NodeOp::conv || keep[i] || readers[i] != 1) continue;
      const std::vector<Stage> si = nodes[i].layer.stages(), sj = nodes[j].layer.stages();
      if (si.size() != 1 || sj.size() != 1 || !si[0].conv.is_depthwise()) continue;
      const LayerData di = network_layer_data(nodes[i].layer, seed + 1 + i);
      const LayerData dj = network_layer_data(nodes[j].layer, seed + 1 + j);
      LayerData d;
      d.weights = {di.weights[0], dj.weights[0]};
      d.biases = {di.biases[0], dj.biases[0]};
      if ((fused_prep[j] = b.prepare_fused({si[0], sj[0]}, cfg, d))) fused[j] = i;
    }
  std::vector<bool> unwritten(nodes.size(), false);
  for (size_t j = 0; j < nodes.size(); ++j)
    if (fused[j] != Exec::kNone) unwritten[fused[j]] = true;

  // Buffer plan: inputs, markers and outputs keep theirs; every other tensor
  // takes the smallest free buffer that holds it and gives it back after its
  // last reader (a node's output is taken before its inputs are given back, so
  // it never shares a buffer with one of them). Chained int8 keeps its
  // intermediates in the backend's own tensors: only the kept ones are f32.
  // A fused pair runs where its second layer is: the first one's input is read there.
  std::vector<size_t> last_reader(nodes.size(), 0), pos(nodes.size());
  for (size_t t = 0; t < model_.order.size(); ++t) pos[model_.order[t]] = t;
  for (size_t i = 0; i < nodes.size(); ++i)
    for (size_t j : model_.in[i]) last_reader[j] = std::max(last_reader[j], pos[i]);
  for (size_t j = 0; j < nodes.size(); ++j)
    if (fused[j] != Exec::kNone) {
      const size_t x = model_.in[fused[j]][0];
      last_reader[x] = std::max(last_reader[x], pos[j]);
    }
  buf_of_.assign(nodes.size(), -1);
  std::vector<size_t> cap;  // floats per buffer
  std::vector<int> free_list;
  for (size_t t = 0; t < model_.order.size(); ++t) {
    const size_t i = model_.order[t];
    const auto need = static_cast<size_t>(elems(nodes[i].dims));
    bytes_unshared_ += static_cast<int64_t>(need * sizeof(float));
    if ((chained && !keep[i]) || unwritten[i]) continue;
    int best = -1;
    if (!keep[i])
      for (int f : free_list)
        if (cap[f] >= need && (best < 0 || cap[f] < cap[best])) best = f;
    if (best >= 0) {
      free_list.erase(std::find(free_list.begin(), free_list.end(), best));
    } else {
      best = static_cast<int>(cap.size());
      cap.push_back(need);
    }
    buf_of_[i] = best;
    std::vector<size_t> read = model_.in[i];
    if (fused[i] != Exec::kNone) read.push_back(model_.in[fused[i]][0]);
    for (size_t j : read)
      if (!keep[j] && buf_of_[j] >= 0 && last_reader[j] == t &&
          std::find(free_list.begin(), free_list.end(), buf_of_[j]) == free_list.end())
        free_list.push_back(buf_of_[j]);
  }
  for (size_t c : cap) {
    bufs_.emplace_back(c);
    bytes_ += static_cast<int64_t>(c * sizeof(float));
  }

  // int8: static calibration of the network as a whole, as post-training
  // quantisation does it: each tensor's range from an f32 run of the same
  // network on other inputs (the benchmark's input is not among them), widened
  // by half where it is used; a layer calibrated on its own would assume the
  // input generator's range, which a deep layer's input need not have.
  std::vector<float> ranges(nodes.size(), 0.f);
  if (cfg.precision == Precision::int8 || chained)
    ranges = ModelRunner(model_, b, RunConfig{cfg.layout, Precision::f32, true}, seed)
                 .tensor_ranges(4);

  auto buf = [&](size_t node) { return bufs_[static_cast<size_t>(buf_of_[node])].data(); };
  auto conv_data = [&](size_t i) {
    LayerData data = network_layer_data(nodes[i].layer, seed + 1 + i);
    data.input_range = 1.5f * ranges[model_.in[i][0]];
    return data;
  };
  for (size_t i : model_.order) {
    const Node& n = nodes[i];
    if (n.op == NodeOp::input || n.op == NodeOp::shape) {
      const std::vector<float> v = network_tensor(n.dims, cfg.layout, seed, i);
      std::copy(v.begin(), v.end(), buf(i));
    }
  }
  if (chained) {
    Backend::NetworkData nd;
    nd.layers.resize(nodes.size());
    nd.range = ranges;
    nd.f32.assign(nodes.size(), nullptr);
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (keep[i]) nd.f32[i] = buf(i);
      if (nodes[i].op == NodeOp::conv) nd.layers[i] = conv_data(i);
    }
    auto plan = b.prepare_network(model_, cfg, nd);
    if (plan.empty())
      throw Error("backend " + std::string(b.name()) + " has no " +
                  std::string(to_string(cfg.precision)) + " mode (oneDNN has)");
    for (auto& [node, p] : plan) execs_.push_back({node, std::move(p), nullptr, nullptr});
    return;
  }
  for (size_t i : model_.order) {
    const Node& n = nodes[i];
    switch (n.op) {
      case NodeOp::input:
      case NodeOp::shape: break;
      case NodeOp::conv:
        if (unwritten[i]) break;
        if (fused[i] != Exec::kNone)
          execs_.push_back({i, std::move(fused_prep[i]), buf(model_.in[fused[i]][0]), buf(i),
                            fused[i]});
        else
          execs_.push_back({i, b.prepare(n.layer, cfg, conv_data(i)), buf(model_.in[i][0]), buf(i)});
        break;
      case NodeOp::add:
      case NodeOp::concat: {
        std::vector<const float*> ins;
        std::vector<Dims> dims;
        for (size_t j : model_.in[i]) ins.push_back(buf(j)), dims.push_back(nodes[j].dims);
        if (&b == &empty_backend())
          execs_.push_back({i, std::make_unique<EmptyPrepared>(n.name), nullptr, buf(i)});
        else
          execs_.push_back({i, std::make_unique<JoinPrepared>(n, cfg.layout, ins, dims, buf(i)),
                            nullptr, buf(i)});
        break;
      }
    }
  }
}

void ModelRunner::run() {
  for (Exec& e : execs_) e.p->run(e.src, e.dst);
}

void ModelRunner::run_timed(std::vector<std::vector<double>>& seconds) {
  seconds.resize(execs_.size());
  for (size_t k = 0; k < execs_.size(); ++k)
    execs_[k].p->run_timed(execs_[k].src, execs_[k].dst, seconds[k]);
}

std::vector<float> ModelRunner::tensor_ranges(int draws) {
  std::vector<float> range(model_.nodes.size(), 0.f);
  auto widen = [&](size_t node, const float* x) {
    const int64_t n = elems(model_.nodes[node].dims);
    float m = range[node];
    for (int64_t k = 0; k < n; ++k) m = std::max(m, std::fabs(x[k]));
    range[node] = m;
  };
  for (int draw = 0; draw < draws; ++draw) {
    for (size_t i = 0; i < model_.nodes.size(); ++i) {
      if (buf_of_[i] < 0) continue;  // computed inside a fused layer
      float* x = bufs_[static_cast<size_t>(buf_of_[i])].data();
      if (model_.nodes[i].op == NodeOp::input) {
        const std::vector<float> v =
            network_tensor(model_.nodes[i].dims, layout_, seed_ ^ (0xCA11B0u + draw), i);
        std::copy(v.begin(), v.end(), x);
      }
      if (model_.nodes[i].op == NodeOp::input || model_.nodes[i].op == NodeOp::shape) widen(i, x);
    }
    for (Exec& e : execs_) {
      e.p->run(e.src, e.dst);
      widen(e.node, e.dst);
    }
  }
  return range;
}

std::vector<std::pair<size_t, const float*>> ModelRunner::outputs() const {
  std::vector<std::pair<size_t, const float*>> out;
  for (size_t o : model_.outputs())
    out.emplace_back(o, bufs_[static_cast<size_t>(buf_of_[o])].data());
  return out;
}

}  // namespace convbench
