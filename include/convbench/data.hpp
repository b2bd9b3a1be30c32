// Tensors and the seeded data every tool, test and benchmark feeds the layers:
// indexing in either layout, and weights and inputs from a seed.
#pragma once

#include <cstdint>
#include <vector>

#include "convbench/layer.hpp"

namespace convbench {

// Offset of element (n, c, h, w) of an N x C x H x W tensor stored in `layout`.
inline int64_t offset(Layout layout, int64_t C, int64_t H, int64_t W, int64_t n, int64_t c,
                      int64_t h, int64_t w) {
  return layout == Layout::nchw ? ((n * C + c) * H + h) * W + w : ((n * H + h) * W + w) * C + c;
}

// The same N x C x H x W tensor in another layout.
std::vector<float> convert_layout(const std::vector<float>& v, Layout from, Layout to, int64_t N,
                                  int64_t C, int64_t H, int64_t W);

// Weights and biases of every stage of a layer, in PyTorch's layout.
struct LayerData {
  std::vector<std::vector<float>> weights;
  std::vector<std::vector<float>> biases;  // empty vectors when the layer has no bias
  // The largest |input| the layer is calibrated for, where the caller knows it
  // (a network calibrated as a whole); 0: the layer's own input generator.
  float input_range = 0;
};

// Deterministic data from a seed. Values are small multiples of 1/8 so that
// sums are exact in float whatever the summation order (benchdnn's trick).
void fill_data(float* p, int64_t n, uint64_t seed, uint64_t stream);
LayerData make_layer_data(const Layer& l, uint64_t seed);
std::vector<float> make_input(const Layer& l, Layout layout, uint64_t seed);

}  // namespace convbench
