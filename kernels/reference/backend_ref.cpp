// The reference as a backend, so that tools and benches can run it like any other.
#include "convbench/backend.hpp"

namespace convbench {
namespace {

class RefPrepared final : public Prepared {
 public:
  RefPrepared(const Layer& l, Layout layout, const LayerData& data)
      : stages_(l.stages()), layout_(layout), data_(data) {
    for (size_t i = 0; i + 1 < stages_.size(); ++i)
      tmp_.emplace_back(static_cast<size_t>(stages_[i].conv.dst_elems()));
    const std::string impl = "ref_direct:" + std::string(to_string(layout));
    for (size_t i = 0; i < stages_.size(); ++i)
      steps_.push_back({"stage" + std::to_string(i), step_type(stages_[i]), impl,
                        [this, i] { stage(i); }});
  }

 private:
  Memory memory_use() const override {
    Memory m{0, 0};
    for (const auto& w : data_.weights) m.weights += static_cast<int64_t>(w.size() * sizeof(float));
    for (const auto& b : data_.biases) m.weights += static_cast<int64_t>(b.size() * sizeof(float));
    for (const auto& t : tmp_) m.workspace += static_cast<int64_t>(t.size() * sizeof(float));
    return m;
  }

  void stage(size_t i) {
    const float* in = i == 0 ? src_ : tmp_[i - 1].data();
    float* out = i + 1 == stages_.size() ? dst_ : tmp_[i].data();
    const Stage& s = stages_[i];
    conv_ref(s.conv, layout_, in, data_.weights[i].data(), s.bias ? data_.biases[i].data() : nullptr,
             out);
    act_ref(s.act, out, s.conv.dst_elems());
  }

  std::vector<Stage> stages_;
  Layout layout_;
  LayerData data_;
  std::vector<std::vector<float>> tmp_;
};

class RefBackend final : public Backend {
 public:
  std::string_view name() const override { return "ref"; }
  std::string refuse(const Layer& l, const RunConfig& cfg) const override {
    l.stages();  // throws for shapes the kind cannot take
    if (cfg.precision != Precision::f32) return "the reference computes in f32 only";
    return {};
  }
  std::unique_ptr<Prepared> prepare(const Layer& l, const RunConfig& cfg,
                                    const LayerData& data) const override {
    return std::make_unique<RefPrepared>(l, cfg.layout, data);
  }
};

}  // namespace

const Backend& reference_backend() {
  static const RefBackend b;
  return b;
}

}  // namespace convbench
