// A network prepared on one backend: every convolution prepared once, joins
// (add, concat) as steps of their own, run in topological order. One buffer per
// live tensor: a tensor's buffer is reused once its last reader has run, so the
// activation memory is what a framework's planner would give, not the sum of
// all tensors. The network's inputs, outputs and shape markers keep their own.
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "convbench/backend.hpp"
#include "convbench/buffer.hpp"
#include "convbench/model.hpp"

namespace convbench {

// Weights and biases of a network's layer: make_layer_data's, each stage scaled
// by a power of two near 3 / sqrt(fan-in), so that activations keep their size
// through any depth instead of growing by that factor per layer.
LayerData network_layer_data(const Layer& l, uint64_t seed);

// The data of a network input or a shape marker (node index `node`), drawn in
// NCHW order like make_input so that both layouts hold the same tensor.
std::vector<float> network_tensor(const Dims& d, Layout layout, uint64_t seed, size_t node);

// Prepares every convolution (and the runner every join) as one step that does
// nothing: a network run on it costs what the runner itself costs.
const Backend& empty_backend();

class ModelRunner {
 public:
  // One executed node: a convolution's prepared layer or a join's single step.
  struct Exec {
    size_t node;  // into model().nodes
    std::unique_ptr<Prepared> p;
    const float* src;  // a convolution's input (joins hold their own pointers)
    float* dst;
    // A depthwise layer computed inside this one (a backend's prepare_fused),
    // whose tensor is never written; kNone otherwise.
    size_t fused_from = kNone;
    static constexpr size_t kNone = static_cast<size_t>(-1);
  };

  // Throws Error naming the node a backend refuses, and why.
  ModelRunner(const Model& m, const Backend& b, const RunConfig& cfg, uint64_t seed);
  void run();
  // Per exec, per step, wall seconds of one run.
  void run_timed(std::vector<std::vector<double>>& seconds);

  const Model& model() const { return model_; }
  const std::vector<Exec>& execs() const { return execs_; }
  // The network's outputs: node index and tensor (in the configured layout).
  std::vector<std::pair<size_t, const float*>> outputs() const;
  // Bytes of every tensor buffer a run uses (inputs, outputs, markers and the
  // reused intermediates), and what they would take without reuse.
  int64_t activation_bytes() const { return bytes_; }
  int64_t activation_bytes_unshared() const { return bytes_unshared_; }

  // Per node, the largest |value| of its output tensor over `draws` network
  // inputs other than the benchmark's: the ranges a static int8 calibration of
  // the whole network needs. Overwrites the tensors.
  std::vector<float> tensor_ranges(int draws);

 private:
  uint64_t seed_;
  Layout layout_;
  Model model_;
  std::vector<Exec> execs_;
  std::vector<Buffer> bufs_;
  std::vector<int> buf_of_;  // per node, into bufs_
  int64_t bytes_ = 0, bytes_unshared_ = 0;
};

}  // namespace convbench
