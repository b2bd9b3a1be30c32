// Small pieces of the oneDNN backend: the engine, names of ISAs and memory
// formats, activations as eltwise operations, tensor tags and dims.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include <string>

#include "convbench/data.hpp"
#include "convbench/layer.hpp"

namespace convbench::onednn {

dnnl::engine& engine();
std::string isa_name(dnnl::cpu_isa isa);
// "f32:acdb" for NHWC, "f32:aBcd16b" for a 16-channel blocked layout.
std::string fmt(const dnnl::memory::desc& md);
dnnl::algorithm eltwise_alg(Act a);
float eltwise_alpha(Act a);
float eltwise_beta(Act a);
// The activation as post-ops (hardsigmoid, which oneDNN 2.6 lacks, as two),
// the result multiplied by `scale`.
void append_act(dnnl::post_ops& po, Act a, float scale = 1.f);
dnnl::memory::format_tag user_tag(Layout l);
dnnl::memory::dims weight_dims(const ConvDesc& c);
float max_abs(const float* p, int64_t n);  // 1 for an all-zero array

// A fully connected layer with a batch (1x1 kernel on 1x1 images) becomes one
// image whose width is the batch: the same bytes in either layout (NHWC then
// says so), and one matrix product instead of oneDNN 2.6 running a vector
// product per image (12x slower in f32, 30x in int8 on Mask R-CNN's fc6).
// Returns whether it folded.
bool fold_batch(Layer& l, Layout& layout);

// Static calibration of one layer: the largest |x| at each stage's input.
std::vector<float> stage_input_ranges(const Layer& l, const LayerData& data);

}  // namespace convbench::onednn
