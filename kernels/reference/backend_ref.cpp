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
  }

  void run(const float* src, float* dst) override {
    const float* cur = src;
    for (size_t i = 0; i < stages_.size(); ++i) {
      float* out = i + 1 == stages_.size() ? dst : tmp_[i].data();
      const Stage& s = stages_[i];
      conv_ref(s.conv, layout_, cur, data_.weights[i].data(),
               s.bias ? data_.biases[i].data() : nullptr, out);
      act_ref(s.act, out, s.conv.dst_elems());
      cur = out;
    }
  }

  std::string impl() const override {
    return "ref_direct:" + std::string(to_string(layout_));
  }

 private:
  std::vector<Stage> stages_;
  Layout layout_;
  LayerData data_;
  std::vector<std::vector<float>> tmp_;
};

class RefBackend final : public Backend {
 public:
  std::string_view name() const override { return "ref"; }
  std::string refuse(const Layer& l, Layout) const override {
    l.stages();  // throws for shapes the kind cannot take
    return {};
  }
  std::unique_ptr<Prepared> prepare(const Layer& l, Layout layout,
                                    const LayerData& data) const override {
    return std::make_unique<RefPrepared>(l, layout, data);
  }
};

}  // namespace

const Backend& reference_backend() {
  static const RefBackend b;
  return b;
}

}  // namespace convbench
