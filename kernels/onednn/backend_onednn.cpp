// oneDNN: every stage a convolution primitive (forward inference, depthwise via
// groups), created at prepare and executed at run. Activations as fused post-ops
// or as separate eltwise primitives; user tensors in plain NCHW/NHWC with the
// reorders into and out of oneDNN's chosen layouts run as steps of their own.
#include <oneapi/dnnl/dnnl.hpp>
#include <oneapi/dnnl/dnnl_debug.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <unordered_map>

#include "convbench/backend.hpp"
#include "convbench/reference.hpp"
#include "kernels/onednn/network_int8.hpp"
#include "kernels/onednn/util.hpp"

namespace convbench {
namespace {

using namespace onednn;

using dnnl::algorithm;
using dnnl::memory;
using dt = memory::data_type;
using tag = memory::format_tag;

// Plan of one stage: its primitive descriptor and what surrounds it.
struct StagePlan {
  Stage stage;
  dnnl::convolution_forward::primitive_desc pd;
  dt src_dt, dst_dt;
  float src_scale = 1.f;         // int8: real = scale * quantised
  std::vector<float> wei_scale;  // int8: per output channel
};

// The mode a registry entry stands for: oneDNN's own layouts, or plain ones.
enum class LayoutMode { any, plain };

class OnednnPlan {
 public:
  OnednnPlan(const Layer& l, const RunConfig& cfg, LayoutMode mode, const LayerData* data)
      : cfg_(cfg), mode_(mode) {
    const std::vector<Stage> st = l.stages();
    std::vector<float> calib_max;  // int8: max |x| at each stage input
    if (cfg.precision == Precision::int8 && data) calib_max = stage_input_ranges(l, *data);
    if (cfg.precision == Precision::int8 && !data) calib_max.assign(st.size(), 1.f);
    for (size_t i = 0; i < st.size(); ++i) {
      StagePlan sp{st[i], {}, dt::f32, dt::f32, 1.f, {}};
      const bool last = i + 1 == st.size();
      switch (cfg.precision) {
        case Precision::f32: break;
        case Precision::bf16:
          sp.src_dt = dt::bf16;
          sp.dst_dt = last ? dt::f32 : dt::bf16;
          break;
        case Precision::int8:
        case Precision::int8_chained: {  // refused per layer: a network mode
          // u8 where the input is known non-negative (after a ReLU), s8 otherwise:
          // oneDNN 2.6 has no zero-point support in its fast int8 convolutions.
          const bool nonneg = i > 0 && st[i - 1].act == Act::relu;
          sp.src_dt = nonneg ? dt::u8 : dt::s8;
          sp.src_scale = calib_max[i] / (nonneg ? 255.f : 127.f);
          sp.dst_dt = dt::f32;  // dequantised inside the convolution
          if (data) {
            const ConvDesc& c = st[i].conv;
            const int64_t per_oc = c.icg() * c.kh * c.kw;
            for (int64_t o = 0; o < c.oc; ++o)
              sp.wei_scale.push_back(max_abs(data->weights[i].data() + o * per_oc, per_oc) / 127.f);
          } else {
            sp.wei_scale.assign(static_cast<size_t>(st[i].conv.oc), 1.f);
          }
          break;
        }
      }
      sp.pd = make_pd(sp);
      plans_.push_back(std::move(sp));
    }
  }

  const std::vector<StagePlan>& stages() const { return plans_; }

 private:
  dnnl::convolution_forward::primitive_desc make_pd(const StagePlan& sp) const {
    const ConvDesc& c = sp.stage.conv;
    const bool plain = mode_ == LayoutMode::plain;
    const tag act_tag = plain ? user_tag(cfg_.layout) : tag::any;
    const memory::desc src({c.mb, c.ic, c.ih, c.iw}, sp.src_dt, act_tag);
    const memory::desc dst({c.mb, c.oc, c.oh, c.ow}, sp.dst_dt, act_tag);
    const dt wdt = cfg_.precision == Precision::f32    ? dt::f32
                   : cfg_.precision == Precision::bf16 ? dt::bf16
                                                       : dt::s8;
    const memory::desc wei(weight_dims(c), wdt, tag::any);
    const memory::desc bias = sp.stage.bias ? memory::desc({c.oc}, dt::f32, tag::x) : memory::desc();
    dnnl::primitive_attr attr;
    dnnl::post_ops po;
    if (cfg_.fuse_act && sp.stage.act != Act::none) append_act(po, sp.stage.act);
    attr.set_post_ops(po);
    if (cfg_.precision == Precision::int8) {
      std::vector<float> oscale(sp.wei_scale.size());
      for (size_t o = 0; o < oscale.size(); ++o) oscale[o] = sp.src_scale * sp.wei_scale[o];
      attr.set_output_scales(1 << 1, oscale);
    }
    dnnl::convolution_forward::desc d(
        dnnl::prop_kind::forward_inference, algorithm::convolution_direct, src, wei, bias, dst,
        {c.sh, c.sw}, {c.dh, c.dw}, {c.ph, c.pw}, {c.pb, c.pr});
    return dnnl::convolution_forward::primitive_desc(d, attr, engine());
  }

  RunConfig cfg_;
  LayoutMode mode_;
  std::vector<StagePlan> plans_;
};

class OnednnPrepared final : public Prepared {
 public:
  OnednnPrepared(const Layer& l, const RunConfig& cfg, LayoutMode mode, const LayerData& data)
      : strm_(engine()) {
    OnednnPlan plan(l, cfg, mode, &data);
    const ConvDesc& s = l.shape;
    const tag ut = user_tag(cfg.layout);
    usr_src_ = memory({{s.mb, s.ic, s.ih, s.iw}, dt::f32, ut}, engine(), DNNL_MEMORY_NONE);
    usr_dst_ = memory({{s.mb, s.oc, s.oh, s.ow}, dt::f32, ut}, engine(), DNNL_MEMORY_NONE);

    memory cur = usr_src_;  // the tensor the next stage reads, in its current form
    bool cur_is_user_src = true;
    const auto& stages = plan.stages();
    for (size_t i = 0; i < stages.size(); ++i) {
      const StagePlan& sp = stages[i];
      const ConvDesc& c = sp.stage.conv;
      const bool last = i + 1 == stages.size();
      const std::string tagname = "stage" + std::to_string(i);

      // Bring the input into the primitive's layout and type (quantising for int8).
      memory src = cur;
      if (cur.get_desc() != sp.pd.src_desc()) {
        src = memory(sp.pd.src_desc(), engine());
        mem_.workspace += static_cast<int64_t>(sp.pd.src_desc().get_size());
        dnnl::primitive_attr rattr;
        if (cfg.precision == Precision::int8) rattr.set_output_scales(0, {1.f / sp.src_scale});
        add_reorder(i == 0 ? "reorder:src" : "reorder:" + tagname, cur, src, rattr,
                    i == 0 && cur_is_user_src);
      }

      // Weights and bias: reordered (and quantised) once, here, not timed.
      memory wei(sp.pd.weights_desc(), engine());
      mem_.weights += static_cast<int64_t>(sp.pd.weights_desc().get_size()) +
                      (sp.stage.bias ? c.oc * static_cast<int64_t>(sizeof(float)) : 0);
      // What the primitive keeps for itself: its scratchpad and the like.
      mem_.workspace += sp.pd.query_s64(dnnl::query::memory_consumption_s64);
      {
        const tag wt = c.g == 1 ? tag::oihw : tag::goihw;
        memory usr_wei({weight_dims(c), dt::f32, wt}, engine(),
                       const_cast<float*>(data.weights[i].data()));
        dnnl::primitive_attr wattr;
        if (cfg.precision == Precision::int8) {
          std::vector<float> inv(sp.wei_scale.size());
          for (size_t o = 0; o < inv.size(); ++o) inv[o] = 1.f / sp.wei_scale[o];
          wattr.set_output_scales(c.g == 1 ? 1 << 0 : (1 << 0) | (1 << 1), inv);
        }
        dnnl::reorder(dnnl::reorder::primitive_desc(usr_wei, wei, wattr))
            .execute(strm_, usr_wei, wei);
      }
      memory bias;
      if (sp.stage.bias) {
        bias = memory({{c.oc}, dt::f32, tag::x}, engine());
        float* b = static_cast<float*>(bias.get_data_handle());
        for (int64_t o = 0; o < c.oc; ++o)
          b[o] = data.biases[i][o] /
                 (cfg.precision == Precision::int8 ? sp.src_scale * sp.wei_scale[o] : 1.f);
      }
      strm_.wait();

      // Output: straight into the user tensor when the layouts agree.
      const bool to_user = last && sp.pd.dst_desc() == usr_dst_.get_desc();
      memory dst = to_user ? usr_dst_ : memory(sp.pd.dst_desc(), engine());
      if (!to_user) mem_.workspace += static_cast<int64_t>(sp.pd.dst_desc().get_size());
      dnnl::convolution_forward conv(sp.pd);
      std::unordered_map<int, memory> args = {
          {DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst}};
      if (sp.stage.bias) args[DNNL_ARG_BIAS] = bias;
      const bool reads_user = i == 0 && src == usr_src_;
      steps_.push_back({tagname, step_type(sp.stage), describe(sp),
                        [this, conv, args, reads_user, to_user] {
                          if (reads_user) usr_src_.set_data_handle(const_cast<float*>(src_));
                          if (to_user) usr_dst_.set_data_handle(dst_);
                          conv.execute(strm_, args);
                          strm_.wait();
                        }});
      if (!cfg.fuse_act && sp.stage.act != Act::none) {
        // One eltwise primitive per operation (hardsigmoid: linear, then clip).
        std::vector<std::pair<algorithm, std::pair<float, float>>> ops = {
            {eltwise_alg(sp.stage.act), {eltwise_alpha(sp.stage.act), eltwise_beta(sp.stage.act)}}};
        if (sp.stage.act == Act::hardsigmoid) ops.push_back({algorithm::eltwise_clip, {0.f, 1.f}});
        std::vector<dnnl::eltwise_forward> elts;
        std::string impl;
        for (const auto& [alg, ab] : ops) {
          dnnl::eltwise_forward::desc ed(dnnl::prop_kind::forward_inference, alg, sp.pd.dst_desc(),
                                         ab.first, ab.second);
          dnnl::eltwise_forward::primitive_desc epd(ed, engine());
          elts.emplace_back(epd);
          impl += (impl.empty() ? "" : " + ") + std::string(epd.impl_info_str());
        }
        steps_.push_back({"act" + std::to_string(i), StepType::activation,
                          impl + " " + std::string(to_string(sp.stage.act)),
                          [this, elts, dst, to_user] {
                            if (to_user) usr_dst_.set_data_handle(dst_);
                            for (const auto& elt : elts)
                              elt.execute(strm_, {{DNNL_ARG_SRC, dst}, {DNNL_ARG_DST, dst}});
                            strm_.wait();
                          }});
      }
      cur = dst;
      cur_is_user_src = false;
      if (last && !to_user) add_reorder("reorder:dst", dst, usr_dst_, {}, false);
    }
  }

 public:
  Memory memory_use() const override { return mem_; }

 private:
  static std::string describe(const StagePlan& sp) {
    std::string s = std::string(sp.pd.impl_info_str()) + " src=" + fmt(sp.pd.src_desc()) +
                    " wei=" + fmt(sp.pd.weights_desc()) + " dst=" + fmt(sp.pd.dst_desc());
    return s;
  }

  void add_reorder(const std::string& name, const memory& from, const memory& to,
                   const dnnl::primitive_attr& attr, bool from_user) {
    dnnl::reorder::primitive_desc rpd(from, to, attr);
    dnnl::reorder r(rpd);
    const bool to_user = to == usr_dst_;
    memory f = from, t = to;
    steps_.push_back({name, StepType::reorder,
                      std::string(rpd.impl_info_str()) + " " + fmt(from.get_desc()) + "->" +
                          fmt(to.get_desc()),
                      [this, r, f, t, from_user, to_user]() mutable {
                        if (from_user) usr_src_.set_data_handle(const_cast<float*>(src_));
                        if (to_user) usr_dst_.set_data_handle(dst_);
                        r.execute(strm_, f, t);
                        strm_.wait();
                      }});
  }

  dnnl::stream strm_;
  memory usr_src_, usr_dst_;
  Memory mem_{0, 0};
};

class OnednnBackend final : public Backend {
 public:
  explicit OnednnBackend(LayoutMode mode) : mode_(mode) {}
  std::string_view name() const override {
    return mode_ == LayoutMode::any ? "onednn" : "onednn_plain";
  }
  std::string version() const override {
    const dnnl_version_t* v = dnnl_version();
    const char* cap = std::getenv("ONEDNN_MAX_CPU_ISA");
    return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
           std::to_string(v->patch) + " isa " + isa_name(dnnl::get_effective_cpu_isa()) +
           (cap ? std::string(" (capped by ONEDNN_MAX_CPU_ISA=") + cap + ")" : "");
  }
  std::string refuse(const Layer& layer, const RunConfig& config) const override {
    Layer l = layer;
    RunConfig cfg = config;
    fold_batch(l, cfg.layout);
    l.stages();
    if (cfg.precision == Precision::int8_chained)
      return "int8_chained is a network mode (convbench --networks, convbench-profile --network)";
    if (cfg.precision == Precision::bf16 && !has_bf16())
      return "this CPU has no bf16 support (oneDNN's isa is " +
             isa_name(dnnl::get_effective_cpu_isa()) + ")";
    if (cfg.precision == Precision::int8 && !has_int8())
      return "oneDNN has no int8 convolutions below avx2 here";
    try {
      OnednnPlan plan(l, cfg, mode_, nullptr);
      for (const StagePlan& sp : plan.stages())
        if (std::string(sp.pd.impl_info_str()).find("ref") == 0 &&
            cfg.precision != Precision::f32)
          return "oneDNN offers only its reference implementation (" +
                 std::string(sp.pd.impl_info_str()) + ") for " + sp.stage.conv.str();
    } catch (const dnnl::error& e) {
      return std::string("oneDNN cannot create the primitive: ") + e.what();
    }
    return {};
  }
  std::unique_ptr<Prepared> prepare(const Layer& layer, const RunConfig& config,
                                    const LayerData& data) const override {
    Layer l = layer;
    RunConfig cfg = config;
    fold_batch(l, cfg.layout);
    return std::make_unique<OnednnPrepared>(l, cfg, mode_, data);
  }
  // Chained int8 keeps its tensors in NHWC between layers whatever the mode,
  // so only the entry with oneDNN's own layouts offers it.
  std::vector<std::pair<size_t, std::unique_ptr<Prepared>>> prepare_network(
      const Model& m, const RunConfig& cfg, const NetworkData& data) const override {
    if (cfg.precision != Precision::int8_chained || mode_ != LayoutMode::any) return {};
    if (!cfg.fuse_act)
      throw Error("int8_chained fuses every activation into its convolution or join; "
                  "unfused activations are a dequant-mode (int8) comparison");
    try {
      return prepare_chained_int8(m, cfg, data);
    } catch (const dnnl::error& e) {
      throw Error(std::string("oneDNN cannot create a chained int8 primitive: ") + e.what());
    }
  }

 private:
  static bool has_bf16() {
    const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
    return (isa & dnnl_cpu_isa_avx512_core_bf16) == dnnl_cpu_isa_avx512_core_bf16;
  }
  static bool has_int8() {
    const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
    return (isa & dnnl_cpu_isa_avx2) == dnnl_cpu_isa_avx2;
  }
  LayoutMode mode_;
};

}  // namespace

const Backend& onednn_backend() {
  static const OnednnBackend b(LayoutMode::any);
  return b;
}

const Backend& onednn_plain_backend() {
  static const OnednnBackend b(LayoutMode::plain);
  return b;
}

}  // namespace convbench
