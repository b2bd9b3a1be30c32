#include "runner.hpp"

namespace convbench {

ModelRunner::ModelRunner(const Model& m, const Backend& b, const RunConfig& cfg, uint64_t seed)
    : model_(m) {
  model_.validate();
  if (std::string why = b.unavailable(); !why.empty())
    throw Error("backend " + std::string(b.name()) + " is unavailable: " + why);
  const std::vector<float> input = make_input(m.layers.front().layer, cfg.layout, seed);
  bufs_.emplace_back(input.begin(), input.end());
  for (size_t i = 0; i < m.layers.size(); ++i) {
    const Layer& l = m.layers[i].layer;
    if (std::string why = b.refuse(l, cfg); !why.empty())
      throw Error("backend " + std::string(b.name()) + " refuses " + m.layers[i].name + " (" +
                  l.str() + ") " + cfg.str() + ": " + why);
    prepared_.push_back(b.prepare(l, cfg, make_layer_data(l, seed + 1 + i)));
    bufs_.emplace_back(static_cast<size_t>(l.shape.dst_elems()));
  }
}

void ModelRunner::run() {
  for (size_t i = 0; i < prepared_.size(); ++i) prepared_[i]->run(bufs_[i].data(), bufs_[i + 1].data());
}

void ModelRunner::run_timed(std::vector<std::vector<double>>& seconds) {
  seconds.resize(prepared_.size());
  for (size_t i = 0; i < prepared_.size(); ++i)
    prepared_[i]->run_timed(bufs_[i].data(), bufs_[i + 1].data(), seconds[i]);
}

}  // namespace convbench
