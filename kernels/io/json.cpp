#include "convbench/json.hpp"

namespace convbench {

nlohmann::json to_json(const ConvDesc& d) {
  return {{"desc", d.str()},        {"groups", d.g},
          {"stride", {d.sh, d.sw}}, {"padding", {d.ph, d.pw, d.pb, d.pr}},
          {"dilation", {d.dh, d.dw}}, {"kernel", {d.kh, d.kw}}};
}

nlohmann::json to_json(const Cost& c) {
  return {{"in", c.in},
          {"out", c.out},
          {"macs", c.macs},
          {"macs_effective", c.macs_effective},
          {"flops", c.flops()},
          {"flops_effective", c.flops_effective()},
          {"act_elems", c.act_elems},
          {"params", c.params},
          {"params_with_bias", c.params_with_bias},
          {"bytes", c.bytes}};
}

nlohmann::json cost_json(const Layer& l) {
  const LayerCost lc = layer_cost(l);
  const std::vector<Stage> st = l.stages();
  nlohmann::json j = {{"kind", to_string(l.kind)},
                      {"shape", l.shape.str()},
                      {"act", to_string(l.act)},
                      {"act_each", l.act_each},
                      {"bias", l.bias}};
  j.update(to_json(lc.total));
  j["bytes_unfused"] = lc.bytes_unfused;
  j["intermediate_bytes"] = lc.intermediate_bytes;
  j["stages"] = nlohmann::json::array();
  for (size_t i = 0; i < st.size(); ++i) {
    nlohmann::json s = {{"role", to_string(st[i].role)},
                        {"shape", st[i].conv.str()},
                        {"act", to_string(st[i].act)}};
    s.update(to_json(lc.stages[i]));
    s.update(to_json(st[i].conv));
    s.erase("desc");
    j["stages"].push_back(std::move(s));
  }
  return j;
}

}  // namespace convbench
