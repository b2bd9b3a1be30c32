// The hand-written kernels as backends:
//   direct_nhwc      every stage through the direct (implicit-GEMM) kernel;
//   hand_nhwc        each stage through its specialist: depthwise stages through
//                    the channel-vectorised depthwise kernel, 1x1 stages through
//                    the GEMM micro-kernel, the rest through the direct kernel;
//   hand_fused_nhwc  the same, with a depthwise stage and the pointwise stage
//                    after it computed row by row as one fused step.
#include <hwy/highway.h>

#include "convbench/backend.hpp"
#include "convbench/buffer.hpp"
#include "kernels/hand/kernels.hpp"

namespace convbench {
namespace {

enum class Mode { direct, specialist, fused };

class HandPrepared final : public Prepared {
 public:
  HandPrepared(const Layer& l, Mode mode, bool fuse_act, const LayerData& data)
      : stages_(l.stages()) {
    // Unfused: the kernels store raw sums and the activation is a pass of its own.
    std::vector<Act> pass(stages_.size(), Act::none);
    if (!fuse_act)
      for (size_t i = 0; i < stages_.size(); ++i) std::swap(pass[i], stages_[i].act);
    const hand::Tile t = hand::gemm_tile();
    const std::string isa = "__" + hand::isa();
    const std::string tile = std::to_string(t.mr) + "x" + std::to_string(t.nv) + "v";
    for (size_t i = 0; i + 1 < stages_.size(); ++i)
      tmp_.emplace_back(static_cast<size_t>(stages_[i].conv.dst_elems()));
    for (size_t i = 0; i < stages_.size(); ++i) {
      const Stage& s = stages_[i];
      const float* bias = s.bias ? data.biases[i].data() : nullptr;
      const bool dw = mode != Mode::direct && s.conv.is_depthwise();
      if (dw && mode == Mode::fused && i + 1 < stages_.size()) {
        const Stage& n = stages_[i + 1];
        hand::DirectPlan pw = hand::plan_direct(n.conv, data.weights[i + 1].data(),
                                                n.bias ? data.biases[i + 1].data() : nullptr, n.act);
        // Fused, every row step reads all pointwise weights: worth it while they
        // stay in L2 (256 KiB: 64 -> 1024 or 256 -> 256 channels).
        if (pw.pointwise && n.conv.g == 1 && n.conv.ic * n.conv.oc * 4 <= (256 << 10)) {
          dws_.push_back(hand::plan_dw(s.conv, data.weights[i].data(), bias, s.act));
          directs_.push_back(std::move(pw));
          fused_.push_back(hand::plan_dw_pw_fused(dws_.back()));
          const size_t di = dws_.size() - 1, pi = directs_.size() - 1, fi = fused_.size() - 1;
          steps_.push_back({"stage" + std::to_string(i) + "+" + std::to_string(i + 1),
                            StepType::depthwise, "dw_pw_fused_nhwc_" + tile + isa,
                            [this, i, di, pi, fi] {
                              hand::run_dw_pw_fused(dws_[di], directs_[pi], fused_[fi], in(i), out(i + 1));
                            }});
          ++i;  // only reached with fused activations: nothing to add
          continue;
        }
      }
      if (dw) {
        dws_.push_back(hand::plan_dw(s.conv, data.weights[i].data(), bias, s.act));
        const size_t di = dws_.size() - 1;
        const bool sliding = (s.conv.sw == 1 || s.conv.sw == 2) && s.conv.dw == 0 && s.conv.kw <= 9;
        steps_.push_back({"stage" + std::to_string(i), step_type(s),
                          std::string(sliding ? "dw_nhwc_sliding" : "dw_nhwc_generic") + isa,
                          [this, i, di] { hand::run_dw(dws_[di], in(i), out(i)); }});
        add_act(i, pass[i]);
        continue;
      }
      directs_.push_back(hand::plan_direct(s.conv, data.weights[i].data(), bias, s.act));
      const size_t pi = directs_.size() - 1;
      const bool gemm = directs_[pi].pointwise;
      steps_.push_back({"stage" + std::to_string(i), step_type(s),
                        std::string(gemm ? "pw_gemm_nhwc_" : "direct_nhwc_") + tile + isa,
                        [this, i, pi] { hand::run_direct(directs_[pi], in(i), out(i)); }});
      add_act(i, pass[i]);
    }
  }

 public:
  Memory memory_use() const override {
    Memory m{0, 0};
    const auto f = [](size_t n) { return static_cast<int64_t>(n * sizeof(float)); };
    for (const hand::DirectPlan& p : directs_) {
      m.weights += f(p.wpack.size() + p.bias.size());
      m.workspace += static_cast<int64_t>(p.off.size() * sizeof(int64_t)) + f(p.zeros.size());
    }
    for (const hand::DwPlan& p : dws_) m.weights += f(p.wpack.size() + p.bias.size());
    for (const hand::FusedPlan& p : fused_) m.workspace += p.scratch.bytes();
    for (const Buffer& t : tmp_) m.workspace += f(t.size());
    return m;
  }

 private:
  void add_act(size_t i, Act a) {
    if (a == Act::none) return;
    const int64_t n = stages_[i].conv.dst_elems();
    steps_.push_back({"act" + std::to_string(i), StepType::activation,
                      "act_" + std::string(to_string(a)) + "__" + hand::isa(),
                      [this, i, a, n] { hand::act_inplace(a, out(i), n); }});
  }

  const float* in(size_t i) const { return i == 0 ? src_ : tmp_[i - 1].data(); }
  float* out(size_t i) { return i + 1 == stages_.size() ? dst_ : tmp_[i].data(); }

  std::vector<Stage> stages_;
  std::vector<Buffer> tmp_;  // intermediate tensors
  // Indexed, not pointed to: the vectors grow while the steps are built.
  std::vector<hand::DirectPlan> directs_;
  std::vector<hand::DwPlan> dws_;
  std::vector<hand::FusedPlan> fused_;
};

class HandBackend final : public Backend {
 public:
  HandBackend(const char* name, Mode mode) : name_(name), mode_(mode) {}
  std::string_view name() const override { return name_; }
  std::string version() const override {
    return "convbench kernels, Highway " + std::to_string(HWY_MAJOR) + "." +
           std::to_string(HWY_MINOR) + "." + std::to_string(HWY_PATCH) + ", target " +
           hand::isa() +
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
    const Mode mode = cfg.fuse_act ? mode_ : (mode_ == Mode::fused ? Mode::specialist : mode_);
    return std::make_unique<HandPrepared>(l, mode, cfg.fuse_act, data);
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
  static const HandBackend b("hand_nhwc", Mode::specialist);
  return b;
}
const Backend& hand_fused_nhwc_backend() {
  static const HandBackend b("hand_fused_nhwc", Mode::fused);
  return b;
}

}  // namespace convbench
