// convbench-calc: the exact cost of a layer of each kind.
#include <cinttypes>
#include <cstdio>
#include <string>
#include <vector>

#include "convbench/cost.hpp"
#include "convbench/json.hpp"
#include "tool_main.hpp"

using namespace convbench;

namespace {

std::string dims(const std::array<int64_t, 4>& d) {
  return std::to_string(d[0]) + "x" + std::to_string(d[1]) + "x" + std::to_string(d[2]) + "x" +
         std::to_string(d[3]);
}

std::string human(int64_t v) {
  char buf[32];
  if (v >= 10'000'000'000) std::snprintf(buf, sizeof buf, "%.2f G", v / 1e9);
  else if (v >= 10'000'000) std::snprintf(buf, sizeof buf, "%.2f M", v / 1e6);
  else if (v >= 10'000) std::snprintf(buf, sizeof buf, "%.2f k", v / 1e3);
  else std::snprintf(buf, sizeof buf, "%" PRId64, v);
  return buf;
}

void print_layer(const Layer& l) {
  const LayerCost lc = layer_cost(l);
  const std::vector<Stage> st = l.stages();
  std::printf("%s  %s  act %s\n", std::string(to_string(l.kind)).c_str(), l.shape.str().c_str(),
              std::string(to_string(l.act)).c_str());
  std::printf("  %-10s %-44s %-16s %14s %14s %12s %12s\n", "stage", "shape", "out NCHW", "MACs",
              "MACs eff.", "params", "bytes");
  for (size_t i = 0; i < st.size(); ++i) {
    const Cost& c = lc.stages[i];
    std::printf("  %-10s %-44s %-16s %14" PRId64 " %14" PRId64 " %12" PRId64 " %12" PRId64 "\n",
                std::string(to_string(st[i].role)).c_str(), st[i].conv.str().c_str(),
                dims(c.out).c_str(), c.macs, c.macs_effective, c.params, c.bytes);
  }
  const Cost& t = lc.total;
  std::printf("  %-10s %-44s %-16s %14" PRId64 " %14" PRId64 " %12" PRId64 " %12" PRId64 "\n",
              "total", "", dims(t.out).c_str(), t.macs, t.macs_effective, t.params, t.bytes);
  std::printf("  FLOPs %s (effective %s), params with bias %s, activated elements %s",
              human(t.flops()).c_str(), human(t.flops_effective()).c_str(),
              human(t.params_with_bias).c_str(), human(t.act_elems).c_str());
  for (size_t i = 0; i < lc.intermediate_bytes.size(); ++i)
    std::printf("%s%s B", i == 0 ? ", intermediates " : " + ",
                human(lc.intermediate_bytes[i]).c_str());
  std::printf("\n");
}

void print_all(const std::vector<Layer>& layers) {
  std::vector<LayerCost> costs;
  for (const Layer& l : layers) costs.push_back(layer_cost(l));
  std::printf("shape %s  act %s\n", layers[0].shape.str().c_str(),
              std::string(to_string(layers[0].act)).c_str());
  std::printf("  %-22s", "");
  for (const Layer& l : layers) std::printf(" %18s", std::string(to_string(l.kind)).c_str());
  std::printf("\n");
  auto row = [&](const char* label, auto get, bool ratio) {
    std::printf("  %-22s", label);
    for (const LayerCost& c : costs) std::printf(" %18" PRId64, get(c));
    std::printf("\n");
    if (!ratio) return;
    std::printf("  %-22s", "  ratio to normal");
    for (const LayerCost& c : costs)
      std::printf(" %18.4f", static_cast<double>(get(c)) / static_cast<double>(get(costs[0])));
    std::printf("\n");
  };
  row("stages", [](const LayerCost& c) { return static_cast<int64_t>(c.stages.size()); }, false);
  row("MACs", [](const LayerCost& c) { return c.total.macs; }, true);
  row("MACs effective", [](const LayerCost& c) { return c.total.macs_effective; }, true);
  row("FLOPs", [](const LayerCost& c) { return c.total.flops(); }, false);
  row("params", [](const LayerCost& c) { return c.total.params; }, true);
  row("params with bias", [](const LayerCost& c) { return c.total.params_with_bias; }, false);
  row("min bytes", [](const LayerCost& c) { return c.total.bytes; }, true);
  row("bytes, unfused", [](const LayerCost& c) { return c.bytes_unfused; }, false);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Exact MACs, FLOPs, parameters and bytes of a convolution layer", "convbench-calc"};
  std::string kind = "all", shape, act = "none";
  bool json = false, act_each = false, bias = false;
  app.add_option("--kind", kind, "normal, spatial, depthwise, dw_spatial or all")
      ->capture_default_str();
  app.add_option("--shape", shape, "benchdnn descriptor, e.g. mb1ic64ih56oc64oh56kh3")
      ->required();
  app.add_option("--act", act, "none, relu, elu or tanh")->capture_default_str();
  app.add_flag("--act-each", act_each, "activation after every stage");
  app.add_flag("--bias", bias, "a bias per stage");
  app.add_flag("--json", json, "JSON: one object per kind, an array for --kind all");
  return tool_main(app, argc, argv, [&] {
    Layer base;
    base.shape = ConvDesc::parse(shape);
    base.act = parse_act(act);
    base.act_each = act_each;
    base.bias = bias;
    std::vector<Layer> layers;
    if (kind == "all") {
      for (Kind k : kAllKinds) layers.push_back(base), layers.back().kind = k;
    } else {
      base.kind = parse_kind(kind);
      layers.push_back(base);
    }
    // Everything is computed before anything is printed: an error leaves stdout empty.
    nlohmann::json j = nlohmann::json::array();
    for (const Layer& l : layers) j.push_back(cost_json(l));
    if (json) {
      std::printf("%s\n", (kind == "all" ? j : j[0]).dump(2).c_str());
    } else if (kind == "all") {
      print_all(layers);
      for (const Layer& l : layers) std::printf("\n"), print_layer(l);
    } else {
      print_layer(layers[0]);
    }
    return 0;
  });
}
