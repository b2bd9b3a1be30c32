// The exact cost of a stage and of a layer: MACs, FLOPs, parameters, bytes.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "convbench/layer.hpp"

namespace convbench {

struct Cost {
  std::array<int64_t, 4> in{};   // N, C, H, W
  std::array<int64_t, 4> out{};  // N, C, H, W
  int64_t macs = 0;            // nominal: every kernel tap, padding included (the study's)
  int64_t macs_effective = 0;  // taps that land in padding excluded (benchdnn's)
  int64_t act_elems = 0;       // elements passed through an activation
  int64_t params = 0;          // weights only
  int64_t params_with_bias = 0;
  int64_t bytes = 0;  // minimum traffic: input, weights (and bias), output, each once
  int64_t flops() const { return 2 * macs; }
  int64_t flops_effective() const { return 2 * macs_effective; }
};

struct LayerCost {
  Cost total;  // bytes counts the layer's input, all weights and its output once
  std::vector<Cost> stages;
  std::vector<int64_t> intermediate_bytes;  // each tensor between two stages
  int64_t bytes_unfused = 0;  // sum of stage bytes: intermediates written and read back
};

// Nominal and effective MACs of one grouped convolution.
int64_t conv_macs(const ConvDesc& d);
int64_t conv_macs_effective(const ConvDesc& d);

Cost stage_cost(const Stage& s);
LayerCost layer_cost(const Layer& l);

}  // namespace convbench
