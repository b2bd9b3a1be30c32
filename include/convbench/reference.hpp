// The oracle: plain loops anyone can check by eye. Never optimised.
#pragma once

#include <cstdint>
#include <vector>

#include "convbench/data.hpp"
#include "convbench/layer.hpp"

namespace convbench {



// Grouped 2-D convolution. Weights are [oc][ic/g][kh][kw] (PyTorch's layout), bias
// is [oc] or null. src and dst are in `layout`. When mac_count is not null it is
// increased by every multiply-add performed (taps in padding are skipped).
void conv_ref(const ConvDesc& d, Layout layout, const float* src, const float* wei,
              const float* bias, float* dst, int64_t* mac_count = nullptr);

void act_ref(Act a, float* data, int64_t n);


// Runs every stage of the layer with conv_ref; returns the output in `layout`.
// max_preact, when given, receives the largest |value| any stage produced before
// its activation: the scale at which quantisation errors arise.
std::vector<float> layer_ref(const Layer& l, Layout layout, const LayerData& data,
                             const float* src, int64_t* mac_count = nullptr,
                             float* max_preact = nullptr);

}  // namespace convbench
