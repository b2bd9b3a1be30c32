// A model prepared on one backend: every layer prepared once, buffers chained,
// run end to end or step by step.
#pragma once

#include <memory>
#include <vector>

#include "convbench/backend.hpp"
#include "convbench/buffer.hpp"
#include "convbench/model.hpp"

namespace convbench {

class ModelRunner {
 public:
  // Throws Error naming the layer a backend refuses, and why.
  ModelRunner(const Model& m, const Backend& b, const RunConfig& cfg, uint64_t seed);
  void run();
  // Per layer, per step, wall seconds of one run.
  void run_timed(std::vector<std::vector<double>>& seconds);
  const Model& model() const { return model_; }
  const std::vector<std::unique_ptr<Prepared>>& prepared() const { return prepared_; }
  const Buffer& output() const { return bufs_.back(); }

 private:
  Model model_;
  std::vector<std::unique_ptr<Prepared>> prepared_;
  std::vector<Buffer> bufs_;  // input, then each layer's output
};

}  // namespace convbench
