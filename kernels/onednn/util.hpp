// Small pieces of the oneDNN backend: the engine, names of ISAs and memory
// formats, activations as eltwise operations, tensor tags and dims.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include <string>

#include "convbench/layer.hpp"

namespace convbench::onednn {

dnnl::engine& engine();
std::string isa_name(dnnl::cpu_isa isa);
// "f32:acdb" for NHWC, "f32:aBcd16b" for a 16-channel blocked layout.
std::string fmt(const dnnl::memory::desc& md);
dnnl::algorithm eltwise_alg(Act a);
float eltwise_alpha(Act a);
float eltwise_beta(Act a);
// The activation as post-ops (hardsigmoid, which oneDNN 2.6 lacks, as two).
void append_act(dnnl::post_ops& po, Act a);
dnnl::memory::format_tag user_tag(Layout l);
dnnl::memory::dims weight_dims(const ConvDesc& c);
float max_abs(const float* p, int64_t n);  // 1 for an all-zero array

}  // namespace convbench::onednn
