// The hand-written kernels as backends:
//   direct_nhwc      every stage through the direct (implicit-GEMM) kernel;
//   hand_nhwc        each stage through its specialist: depthwise stages through
//                    the channel-vectorised depthwise kernel, 1x1 stages through
//                    the GEMM micro-kernel, the rest through the direct kernel;
//   hand_fused_nhwc  the same, with a depthwise stage and the pointwise stage
//                    after it, or a convolution and the 1 x k depthwise after
//                    it, computed row by row as one fused step.
#include <hwy/highway.h>

#include <optional>
#include <utility>

#include "convbench/backend.hpp"
#include "convbench/buffer.hpp"
#include "kernels/simd/kernels.hpp"

namespace convbench {
namespace {

enum class Mode { direct, per_stage, fused };

class SimdPrepared final : public StagedPrepared {
 public:
  SimdPrepared(std::vector<Stage> stages, Mode mode, bool fuse_act, const LayerData& data)
      : StagedPrepared(std::move(stages)) {
    // Unfused: the kernels store raw sums and the activation is a pass of its own.
    std::vector<Act> pass(stages_.size(), Act::none);
    if (!fuse_act)
      for (size_t i = 0; i < stages_.size(); ++i) std::swap(pass[i], stages_[i].act);
    const std::string isa = "__" + simd::isa();
    // The register tile a plan runs (rows x vectors), and its variants.
    auto tile = [&](const simd::DirectPlan& p) {
      return std::to_string(p.mr) + "x" + std::to_string(p.nv) +
             "v" + (p.row_taps ? "_row_taps" : "") + (p.blocks_outer ? "_blocks_outer" : "") +
             (p.pointwise && p.k_chunk < p.c.icg() ? "_k" + std::to_string(p.k_chunk) : "");
    };
    // Stage j's depthwise plan; built once, also where fusing it with the stage
    // before was tried and declined.
    std::optional<std::pair<size_t, simd::DwPlan>> built;
    auto dw_plan = [&](size_t j) {
      if (built && built->first == j) return std::move(built->second);
      const Stage& s = stages_[j];
      return simd::plan_dw(s.conv, data.weights[j].data(),
                           s.bias ? data.biases[j].data() : nullptr, s.act);
    };
    for (size_t i = 0; i < stages_.size(); ++i) {
      const Stage& s = stages_[i];
      const float* bias = s.bias ? data.biases[i].data() : nullptr;
      const bool dw = mode != Mode::direct && s.conv.is_depthwise();
      if (dw && mode == Mode::fused && i + 1 < stages_.size()) {
        const Stage& n = stages_[i + 1];
        simd::DirectPlan pw = simd::plan_direct(n.conv, data.weights[i + 1].data(),
                                                n.bias ? data.biases[i + 1].data() : nullptr, n.act);
        // Fused, every row step reads all pointwise weights: worth it while they
        // stay in L2 (256 KiB: 64 -> 1024 or 256 -> 256 channels).
        if (pw.pointwise && n.conv.g == 1 && n.conv.ic * n.conv.oc * 4 <= (256 << 10)) {
          dws_.push_back(dw_plan(i));
          directs_.push_back(std::move(pw));
          fused_.push_back(simd::plan_dw_pw_fused(dws_.back(), directs_.back().mr));
          drop_intermediate(i);
          const size_t di = dws_.size() - 1, pi = directs_.size() - 1, fi = fused_.size() - 1;
          steps_.push_back({stage_name(i) + "+" + std::to_string(i + 1),
                            StepType::depthwise, "dw_pw_fused_nhwc_" + tile(directs_.back()) + isa,
                            [this, i, di, pi, fi] {
                              simd::run_dw_pw_fused(dws_[di], directs_[pi], fused_[fi], in(i), out(i + 1));
                            }});
          ++i;  // only reached with fused activations: nothing to add
          continue;
        }
      }
      if (dw) {
        dws_.push_back(dw_plan(i));
        const size_t di = dws_.size() - 1;
        const bool sliding = (s.conv.sw == 1 || s.conv.sw == 2) && s.conv.dw == 0 && s.conv.kw <= 9;
        steps_.push_back({stage_name(i), step_type(s),
                          std::string(dws_.back().compact ? "dw_nhwc_compact"
                                      : sliding           ? "dw_nhwc_sliding"
                                                          : "dw_nhwc_generic") +
                              isa,
                          [this, i, di] { simd::run_dw(dws_[di], in(i), out(i)); }});
        add_act(i, pass[i]);
        continue;
      }
      directs_.push_back(simd::plan_direct(s.conv, data.weights[i].data(), bias, s.act));
      const size_t pi = directs_.size() - 1;
      if (mode == Mode::fused && i + 1 < stages_.size() && stages_[i + 1].conv.is_depthwise()) {
        // A convolution and the 1 x k depthwise after it (the spatial kind).
        simd::DwPlan dw = dw_plan(i + 1);
        simd::ConvDwPlan f = simd::plan_conv_dw_fused(directs_[pi], dw);
        if (!f.ok) {
          built.emplace(i + 1, std::move(dw));  // the next stage runs it alone
        } else {
          conv_dws_.push_back(std::move(f));
          drop_intermediate(i);
          const size_t fi = conv_dws_.size() - 1;
          steps_.push_back({stage_name(i) + "+" + std::to_string(i + 1), step_type(s),
                            "conv_dw_fused_nhwc_" + tile(directs_[pi]) + isa, [this, i, pi, fi] {
                              simd::run_conv_dw_fused(directs_[pi], conv_dws_[fi], in(i),
                                                      out(i + 1));
                            }});
          ++i;  // only reached with fused activations: nothing to add
          continue;
        }
      }
      const bool gemm = directs_[pi].pointwise;
      steps_.push_back({stage_name(i), step_type(s),
                        std::string(gemm ? "pw_gemm_nhwc_" : "direct_nhwc_") + tile(directs_[pi]) + isa,
                        [this, i, pi] { simd::run_direct(directs_[pi], in(i), out(i)); }});
      add_act(i, pass[i]);
    }
  }

 public:
  Memory memory_use() const override {
    Memory m{0, 0};
    const auto f = [](size_t n) { return static_cast<int64_t>(n * sizeof(float)); };
    for (const simd::DirectPlan& p : directs_) {
      m.weights += f(p.wpack.size() + p.bias.size());
      m.workspace += static_cast<int64_t>(p.off.size() * sizeof(int64_t) +
                                        p.tile_taps.size() * sizeof(int32_t) +
                                        p.tile_first.size() * sizeof(int64_t)) +
                     f(p.zeros.size());
    }
    for (const simd::DwPlan& p : dws_) m.weights += f(p.wpack.size() + p.bias.size());
    for (const simd::FusedPlan& p : fused_) m.workspace += p.scratch.bytes();
    for (const simd::ConvDwPlan& p : conv_dws_) {
      m.weights += f(p.dw.wpack.size() + p.dw.bias.size());
      m.workspace += p.scratch.bytes();
    }
    m.workspace += intermediate_bytes();
    return m;
  }

 private:
  void add_act(size_t i, Act a) {
    if (a == Act::none) return;
    const int64_t n = stages_[i].conv.dst_elems();
    steps_.push_back({act_name(i), StepType::activation,
                      "act_" + std::string(to_string(a)) + "__" + simd::isa(),
                      [this, i, a, n] { simd::act_inplace(a, out(i), n); }});
  }

  // Indexed, not pointed to: the vectors grow while the steps are built.
  std::vector<simd::DirectPlan> directs_;
  std::vector<simd::DwPlan> dws_;
  std::vector<simd::FusedPlan> fused_;
  std::vector<simd::ConvDwPlan> conv_dws_;
};

class HandBackend final : public Backend {
 public:
  HandBackend(const char* name, Mode mode) : name_(name), mode_(mode) {}
  std::string_view name() const override { return name_; }
  std::string version() const override {
    return "convbench kernels, Highway " + std::to_string(HWY_MAJOR) + "." +
           std::to_string(HWY_MINOR) + "." + std::to_string(HWY_PATCH) + ", target " +
           simd::isa() +
           (std::getenv("CONVBENCH_MAX_ISA")
                ? std::string(" (capped by CONVBENCH_MAX_ISA=") + std::getenv("CONVBENCH_MAX_ISA") + ")"
                : "");
  }
  std::string refuse(const Layer& l, const RunConfig& cfg) const override {
    l.stages();
    if (cfg.layout != Layout::nhwc) return "the hand-written kernels take NHWC tensors only";
    if (cfg.precision != Precision::f32) return "the hand-written kernels compute in f32 only";
    return {};
  }
  std::unique_ptr<Prepared> prepare(const Layer& l, const RunConfig& cfg,
                                    const LayerData& data) const override {
    // Fusing a depthwise and a pointwise stage needs the activation fused too.
    const Mode mode = cfg.fuse_act ? mode_ : (mode_ == Mode::fused ? Mode::per_stage : mode_);
    return std::make_unique<SimdPrepared>(l.stages(), mode, cfg.fuse_act, data);
  }
  std::unique_ptr<Prepared> prepare_fused(const std::vector<Stage>& stages, const RunConfig& cfg,
                                          const LayerData& data) const override {
    if (mode_ != Mode::fused || !cfg.fuse_act || cfg.layout != Layout::nhwc ||
        cfg.precision != Precision::f32 || stages.size() != 2 || !stages[0].conv.is_depthwise())
      return nullptr;
    auto p = std::make_unique<SimdPrepared>(stages, Mode::fused, true, data);
    // One step: the pair fused. Two: the plan declined (pointwise weights past
    // L2), and each layer alone does the same work without the private tensor.
    if (p->steps().size() != 1) return nullptr;
    return p;
  }

 private:
  const char* name_;
  Mode mode_;
};

}  // namespace

const Backend& direct_nhwc_backend() {
  static const HandBackend b("direct_nhwc", Mode::direct);
  return b;
}
const Backend& hand_nhwc_backend() {
  static const HandBackend b("hand_nhwc", Mode::per_stage);
  return b;
}
const Backend& hand_fused_nhwc_backend() {
  static const HandBackend b("hand_fused_nhwc", Mode::fused);
  return b;
}

}  // namespace convbench
