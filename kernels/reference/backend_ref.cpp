// The reference as a backend, so that tools and benches can run it like any other.
#include "convbench/backend.hpp"
#include "convbench/reference.hpp"

namespace convbench {
namespace {

class RefPrepared final : public StagedPrepared {
 public:
  RefPrepared(const Layer& l, Layout layout, const LayerData& data)
      : StagedPrepared(l), layout_(layout), data_(data) {
    const std::string impl = "ref_direct:" + std::string(to_string(layout));
    for (size_t i = 0; i < stages_.size(); ++i)
      steps_.push_back({stage_name(i), step_type(stages_[i]), impl,
                        [this, i] { stage(i); }});
  }

 private:
  Memory memory_use() const override {
    Memory m{0, 0};
    for (const auto& w : data_.weights) m.weights += static_cast<int64_t>(w.size() * sizeof(float));
    for (const auto& b : data_.biases) m.weights += static_cast<int64_t>(b.size() * sizeof(float));
    m.workspace = intermediate_bytes();
    return m;
  }

  void stage(size_t i) {
    const Stage& s = stages_[i];
    conv_ref(s.conv, layout_, in(i), data_.weights[i].data(),
             s.bias ? data_.biases[i].data() : nullptr, out(i));
    act_ref(s.act, out(i), s.conv.dst_elems());
  }

  Layout layout_;
  LayerData data_;
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
