// XNNPACK, the CPU engine behind TFLite on phones (the study's platform): one
// NHWC f32 convolution operator per stage, on its own pthreadpool sized to the
// thread count. ReLU is fused as XNNPACK's output clamp; ELU runs as XNNPACK's
// own ELU operator and tanh (which this 2022 snapshot lacks for f32) as a
// vectorised pass of ours, each a step of its own and labelled so.
#include "convbench/backend.hpp"
#include "convbench/buffer.hpp"

#ifdef CONVBENCH_HAVE_XNNPACK
#include "kernels/simd/kernels.hpp"
#include <pthreadpool.h>
#include <xnnpack.h>

#include <cmath>
#include <limits>
#endif

namespace convbench {
namespace {

#ifdef CONVBENCH_HAVE_XNNPACK

bool xnn_ready() {
  static const bool ok = xnn_initialize(nullptr) == xnn_status_success;
  return ok;
}

void check(xnn_status s, const char* what) {
  if (s != xnn_status_success) throw Error(std::string("XNNPACK: ") + what + " failed (status " + std::to_string(static_cast<int>(s)) + ")");
}

struct OpDeleter {
  void operator()(xnn_operator_t op) const { xnn_delete_operator(op); }
};
using Op = std::unique_ptr<xnn_operator, OpDeleter>;

class XnnPrepared final : public StagedPrepared {
 public:
  XnnPrepared(const Layer& l, const RunConfig& cfg, const LayerData& data)
      : StagedPrepared(l), pool_(threads() > 1 ? pthreadpool_create(static_cast<size_t>(threads())) : nullptr,
              [](pthreadpool_t p) { if (p) pthreadpool_destroy(p); }) {
    ops_.resize(stages_.size());
    acts_.resize(stages_.size());
    bound_.assign(stages_.size(), {nullptr, nullptr});
    for (size_t i = 0; i < stages_.size(); ++i) {
      const Stage& s = stages_[i];
      const ConvDesc& c = s.conv;
      // XNNPACK wants [g][ocg][kh][kw][icg].
      std::vector<float> w(data.weights[i].size());
      for (int64_t o = 0; o < c.oc; ++o)
        for (int64_t ic = 0; ic < c.icg(); ++ic)
          for (int64_t y = 0; y < c.kh; ++y)
            for (int64_t x = 0; x < c.kw; ++x)
              w[((o * c.kh + y) * c.kw + x) * c.icg() + ic] =
                  data.weights[i][((o * c.icg() + ic) * c.kh + y) * c.kw + x];
      const bool relu_in_clamp = s.act == Act::relu && cfg.fuse_act;
      xnn_operator_t op = nullptr;
      // A negative trailing padding only marks rows no window reaches: 0 gives the
      // same output size.
      check(xnn_create_convolution2d_nhwc_f32(
                static_cast<uint32_t>(c.ph), static_cast<uint32_t>(std::max<int64_t>(0, c.pr)),
                static_cast<uint32_t>(std::max<int64_t>(0, c.pb)), static_cast<uint32_t>(c.pw),
                static_cast<uint32_t>(c.kh), static_cast<uint32_t>(c.kw),
                static_cast<uint32_t>(c.sh), static_cast<uint32_t>(c.sw),
                static_cast<uint32_t>(c.dh + 1), static_cast<uint32_t>(c.dw + 1),
                static_cast<uint32_t>(c.g), static_cast<size_t>(c.icg()),
                static_cast<size_t>(c.ocg()), static_cast<size_t>(c.ic), static_cast<size_t>(c.oc),
                w.data(), s.bias ? data.biases[i].data() : nullptr,
                relu_in_clamp ? 0.f : -std::numeric_limits<float>::infinity(),
                std::numeric_limits<float>::infinity(), 0, &op),
            "create convolution");
      ops_[i].reset(op);
      steps_.push_back({stage_name(i), step_type(s),
                        std::string("xnn_convolution_nhwc_f32") + (relu_in_clamp ? " +relu(clamp)" : ""),
                        [this, i] { conv(i); }});
      if (s.act == Act::none || relu_in_clamp) continue;
      const int64_t n = c.mb * c.oh * c.ow;
      xnn_operator_t a = nullptr;
      std::string impl;
      if (s.act == Act::elu) {
        check(xnn_create_elu_nc_f32(c.oc, c.oc, c.oc, 1.f, 0, &a), "create elu");
        impl = "xnn_elu_nc_f32 (separate operator)";
      } else if (s.act == Act::hardswish) {
        check(xnn_create_hardswish_nc_f32(c.oc, c.oc, c.oc, 0, &a), "create hardswish");
        impl = "xnn_hardswish_nc_f32 (separate operator)";
      } else if (s.act == Act::relu) {
        check(xnn_create_clamp_nc_f32(c.oc, c.oc, c.oc, 0.f, std::numeric_limits<float>::infinity(), 0, &a), "create clamp");
        impl = "xnn_clamp_nc_f32 (separate operator)";
      } else {
        impl = "act_" + std::string(to_string(s.act)) + "__" + simd::isa() +
               " (convbench's pass; this XNNPACK has no f32 operator for it)";
      }
      acts_[i].reset(a);
      steps_.push_back({act_name(i), StepType::activation, impl,
                        [this, i, n] { act(i, n); }});
    }
  }

 public:
  // XNNPACK packs the weights inside its operators and does not say how much.
  Memory memory_use() const override {
    Memory m{-1, 0};
    m.workspace = intermediate_bytes();
    return m;
  }

 private:
  void conv(size_t i) {
    const ConvDesc& c = stages_[i].conv;
    // Setup binds the tensors (and builds indirection buffers): only when they move.
    if (bound_[i].first != in(i) || bound_[i].second != out(i)) {
      check(xnn_setup_convolution2d_nhwc_f32(ops_[i].get(), c.mb, c.ih, c.iw, in(i), out(i),
                                             pool_.get()),
            "setup convolution");
      bound_[i] = {in(i), out(i)};
    }
    check(xnn_run_operator(ops_[i].get(), pool_.get()), "run convolution");
  }

  void act(size_t i, int64_t rows) {
    float* y = out(i);
    if (!acts_[i]) {
      const int64_t oc = stages_[i].conv.oc;
      simd::bias_act_rows(stages_[i].act, y, rows, oc, oc, nullptr, nullptr);
      return;
    }
    if (stages_[i].act == Act::elu)
      check(xnn_setup_elu_nc_f32(acts_[i].get(), rows, y, y, pool_.get()), "setup elu");
    else if (stages_[i].act == Act::hardswish)
      check(xnn_setup_hardswish_nc_f32(acts_[i].get(), rows, y, y, pool_.get()), "setup hardswish");
    else
      check(xnn_setup_clamp_nc_f32(acts_[i].get(), rows, y, y, pool_.get()), "setup clamp");
    check(xnn_run_operator(acts_[i].get(), pool_.get()), "run activation");
  }

  std::unique_ptr<pthreadpool, void (*)(pthreadpool_t)> pool_;
  std::vector<Op> ops_, acts_;
  std::vector<std::pair<const float*, const float*>> bound_;
};

#endif  // CONVBENCH_HAVE_XNNPACK

class XnnBackend final : public Backend {
 public:
  std::string_view name() const override { return "xnnpack"; }
  std::string unavailable() const override {
#ifdef CONVBENCH_HAVE_XNNPACK
    if (!xnn_ready()) return "xnn_initialize failed: this CPU lacks the ISA XNNPACK needs";
    return {};
#else
    return "built without XNNPACK (libxnnpack-dev and libpthreadpool-dev were not found when "
           "configuring)";
#endif
  }
  std::string version() const override {
#ifdef CONVBENCH_HAVE_XNNPACK
    return "XNNPACK " CONVBENCH_XNNPACK_VERSION " (Debian package)";
#else
    return {};
#endif
  }
  std::string refuse(const Layer& l, const RunConfig& cfg) const override {
    l.stages();
    if (std::string why = unavailable(); !why.empty()) return why;
    if (cfg.layout != Layout::nhwc) return "XNNPACK convolutions take NHWC tensors only";
    if (cfg.precision != Precision::f32) return "convbench runs XNNPACK in f32 only";
    return {};
  }
  std::unique_ptr<Prepared> prepare(const Layer& l, const RunConfig& cfg,
                                    const LayerData& data) const override {
#ifdef CONVBENCH_HAVE_XNNPACK
    return std::make_unique<XnnPrepared>(l, cfg, data);
#else
    throw Error("backend xnnpack: " + unavailable());
#endif
  }
};

}  // namespace

const Backend& xnnpack_backend() {
  static const XnnBackend b;
  return b;
}

}  // namespace convbench
