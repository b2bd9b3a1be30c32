// A convolution layer of one of the four kinds, and its decomposition into
// stages, each a grouped 2-D convolution.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "convbench/conv_desc.hpp"

namespace convbench {

enum class Kind { normal, spatial, depthwise, dw_spatial };
// hardswish and hardsigmoid as PyTorch and MobileNetV3 define them:
// hardsigmoid(x) = min(max(x / 6 + 1/2, 0), 1), hardswish(x) = x hardsigmoid(x).
enum class Act { none, relu, elu, tanh, hardswish, hardsigmoid };
enum class Layout { nchw, nhwc };

inline constexpr std::array<Kind, 4> kAllKinds = {Kind::normal, Kind::spatial, Kind::depthwise,
                                                  Kind::dw_spatial};
inline constexpr std::array<Act, 6> kAllActs = {Act::none, Act::relu,      Act::elu,
                                                Act::tanh, Act::hardswish, Act::hardsigmoid};

std::string_view to_string(Kind k);
std::string_view to_string(Act a);
std::string_view to_string(Layout l);
Kind parse_kind(std::string_view s);  // throws Error naming the bad value
Act parse_act(std::string_view s);
Layout parse_layout(std::string_view s);

// What a stage does inside its layer: names the per-layer-type rows of a profile.
enum class StageRole { conv, conv_kx1, dw_kxk, dw_kx1, dw_1xk, pointwise };
std::string_view to_string(StageRole r);

struct Stage {
  ConvDesc conv;
  StageRole role;
  Act act = Act::none;  // applied to this stage's output
  bool bias = false;
};

struct Layer {
  Kind kind = Kind::normal;
  ConvDesc shape;  // the layer as a whole: input, output, kernel, stride, padding, dilation
  Act act = Act::none;
  bool act_each = false;  // MobileNet style: activation after every stage
  bool bias = false;

  // The stages in execution order; throws Error when the kind cannot take the shape.
  std::vector<Stage> stages() const;
  // "kind/act/shape" plus "+each" / "+bias" markers: one string per layer.
  std::string str() const;
  // The inverse of str(); throws Error naming the bad part.
  static Layer parse(std::string_view s);
};

// Activation on one value, written as plainly as the reference needs.
float apply_act_ref(Act a, float x);

}  // namespace convbench
