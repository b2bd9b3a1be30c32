#include "convbench/layer.hpp"

#include <algorithm>
#include <cmath>

namespace convbench {

std::string_view to_string(Kind k) {
  switch (k) {
    case Kind::normal: return "normal";
    case Kind::spatial: return "spatial";
    case Kind::depthwise: return "depthwise";
    case Kind::dw_spatial: return "dw_spatial";
  }
  return "?";
}

std::string_view to_string(Act a) {
  switch (a) {
    case Act::none: return "none";
    case Act::relu: return "relu";
    case Act::elu: return "elu";
    case Act::tanh: return "tanh";
    case Act::hardswish: return "hardswish";
    case Act::hardsigmoid: return "hardsigmoid";
  }
  return "?";
}

std::string_view to_string(Layout l) { return l == Layout::nchw ? "nchw" : "nhwc"; }

std::string_view to_string(StageRole r) {
  switch (r) {
    case StageRole::conv: return "conv";
    case StageRole::conv_kx1: return "conv_kx1";
    case StageRole::dw_kxk: return "dw_kxk";
    case StageRole::dw_kx1: return "dw_kx1";
    case StageRole::dw_1xk: return "dw_1xk";
    case StageRole::pointwise: return "pointwise";
  }
  return "?";
}

Kind parse_kind(std::string_view s) {
  for (Kind k : kAllKinds)
    if (s == to_string(k)) return k;
  throw Error("unknown kind '" + std::string(s) +
              "' (expected normal, spatial, depthwise or dw_spatial)");
}

Act parse_act(std::string_view s) {
  for (Act a : kAllActs)
    if (s == to_string(a)) return a;
  throw Error("unknown activation '" + std::string(s) +
              "' (expected none, relu, elu, tanh, hardswish or hardsigmoid)");
}

Layout parse_layout(std::string_view s) {
  if (s == "nchw") return Layout::nchw;
  if (s == "nhwc") return Layout::nhwc;
  throw Error("unknown layout '" + std::string(s) + "' (expected nchw or nhwc)");
}

namespace {

// Vertical half of a shape: kh x 1, carrying the h stride/padding/dilation.
ConvDesc vertical(const ConvDesc& s, int64_t g, int64_t ic, int64_t oc) {
  return ConvDesc::make(g, s.mb, ic, s.ih, s.iw, oc, s.kh, 1, s.sh, 1, s.ph, 0, s.dh, 0, s.oh,
                        s.iw);
}

// Horizontal half: 1 x kw depthwise over an input already at the output height.
ConvDesc horizontal(const ConvDesc& s, int64_t c) {
  return ConvDesc::make(c, s.mb, c, s.oh, s.iw, c, 1, s.kw, 1, s.sw, 0, s.pw, 0, s.dw, s.oh,
                        s.ow);
}

ConvDesc pointwise(const ConvDesc& s) {
  return ConvDesc::make(1, s.mb, s.ic, s.oh, s.ow, s.oc, 1, 1, 1, 1, 0, 0, 0, 0);
}

}  // namespace

std::vector<Stage> Layer::stages() const {
  const ConvDesc& s = shape;
  if (kind != Kind::normal && s.g != 1)
    throw Error("kind " + std::string(to_string(kind)) + " needs g1 (got g" +
                std::to_string(s.g) + "): its stages set their own groups");
  std::vector<Stage> st;
  switch (kind) {
    case Kind::normal:
      st.push_back({s, StageRole::conv});
      break;
    case Kind::spatial:
      st.push_back({vertical(s, 1, s.ic, s.oc), StageRole::conv_kx1});
      st.push_back({horizontal(s, s.oc), StageRole::dw_1xk});
      break;
    case Kind::depthwise: {
      ConvDesc dw = s;
      dw.g = s.ic, dw.oc = s.ic, dw.name.clear();
      dw.validate();
      st.push_back({dw, StageRole::dw_kxk});
      st.push_back({pointwise(s), StageRole::pointwise});
      break;
    }
    case Kind::dw_spatial:
      st.push_back({vertical(s, s.ic, s.ic, s.ic), StageRole::dw_kx1});
      st.push_back({horizontal(s, s.ic), StageRole::dw_1xk});
      st.push_back({pointwise(s), StageRole::pointwise});
      break;
  }
  for (size_t i = 0; i < st.size(); ++i) {
    st[i].bias = bias;
    st[i].act = (act_each || i + 1 == st.size()) ? act : Act::none;
  }
  return st;
}

std::string Layer::str() const {
  std::string s = std::string(to_string(kind)) + "/" + std::string(to_string(act));
  if (act_each) s += "+each";
  if (bias) s += "+bias";
  return s + "/" + shape.str();
}

Layer Layer::parse(std::string_view s) {
  const size_t a = s.find('/'), b = a == std::string_view::npos ? a : s.find('/', a + 1);
  if (b == std::string_view::npos)
    throw Error("'" + std::string(s) + "' is not a layer (expected KIND/ACT[+each][+bias]/DESCRIPTOR)");
  Layer l;
  l.kind = parse_kind(s.substr(0, a));
  std::string_view act = s.substr(a + 1, b - a - 1);
  for (;;) {
    const size_t plus = act.rfind('+');
    if (plus == std::string_view::npos) break;
    const std::string_view mark = act.substr(plus + 1);
    if (mark == "each") l.act_each = true;
    else if (mark == "bias") l.bias = true;
    else throw Error("unknown layer marker '+" + std::string(mark) + "' (expected +each or +bias)");
    act = act.substr(0, plus);
  }
  l.act = parse_act(act);
  l.shape = ConvDesc::parse(s.substr(b + 1));
  l.stages();  // the kind must take the shape
  return l;
}

float apply_act_ref(Act a, float x) {
  switch (a) {
    case Act::none: return x;
    case Act::relu: return x < 0.f ? 0.f : x;  // NaN passes through
    case Act::elu: return x > 0.f ? x : static_cast<float>(std::expm1(static_cast<double>(x)));
    case Act::tanh: return static_cast<float>(std::tanh(static_cast<double>(x)));
    case Act::hardswish:
    case Act::hardsigmoid: {
      if (x != x) return x;
      const double s = std::min(1.0, std::max(0.0, static_cast<double>(x) / 6 + 0.5));
      return static_cast<float>(a == Act::hardswish ? x * s : s);
    }
  }
  return x;
}

}  // namespace convbench
