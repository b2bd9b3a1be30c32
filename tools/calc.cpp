// convbench-calc: the exact cost of a layer of each kind.
#include <cinttypes>
#include <cstdio>
#include <string>
#include <vector>

#include "convbench/cost.hpp"
#include "convbench/json.hpp"
#include "convbench/model.hpp"
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

// Every convolution of a network with its cost, and the totals.
int print_network(const Model& m, bool json) {
  nlohmann::json layers = nlohmann::json::array();
  Cost total;
  int convs = 0;
  for (const Node& n : m.nodes) {
    if (n.op != NodeOp::conv) continue;
    const LayerCost c = layer_cost(n.layer);
    layers.push_back({{"name", n.name}, {"layer", n.layer.str()}, {"macs", c.total.macs},
                      {"macs_effective", c.total.macs_effective}, {"params", c.total.params},
                      {"params_with_bias", c.total.params_with_bias}});
    total.macs += c.total.macs, total.macs_effective += c.total.macs_effective;
    total.params += c.total.params, total.params_with_bias += c.total.params_with_bias;
    ++convs;
  }
  if (json) {
    nlohmann::json j = {{"network", m.name}, {"convolutions", convs}, {"nodes", m.nodes.size()},
                        {"macs", total.macs}, {"macs_effective", total.macs_effective},
                        {"params", total.params}, {"params_with_bias", total.params_with_bias},
                        {"layers", layers}};
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("network %s: %d convolutions, %zu nodes\n", m.name.c_str(), convs, m.nodes.size());
  std::printf("%-32s %16s %16s %12s  %s\n", "layer", "MACs", "MACs effective", "params", "layer");
  for (const auto& l : layers)
    std::printf("%-32s %16lld %16lld %12lld  %s\n", l["name"].get<std::string>().c_str(),
                static_cast<long long>(l["macs"]), static_cast<long long>(l["macs_effective"]),
                static_cast<long long>(l["params_with_bias"]), l["layer"].get<std::string>().c_str());
  std::printf("%-32s %16lld %16lld %12lld\n", "total", static_cast<long long>(total.macs),
              static_cast<long long>(total.macs_effective),
              static_cast<long long>(total.params_with_bias));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Exact MACs, FLOPs, parameters and bytes of a convolution layer", "convbench-calc"};
  std::string kind = "all", shape, act = "none", network;
  bool json = false, act_each = false, bias = false;
  app.add_option("--kind", kind, "normal, spatial, depthwise, dw_spatial or all")
      ->capture_default_str();
  app.add_option("--shape", shape, "benchdnn descriptor, e.g. mb1ic64ih56oc64oh56kh3");
  app.add_option("--network", network, "a network file: every convolution and the totals");
  app.add_option("--act", act, "none, relu, elu or tanh")->capture_default_str();
  app.add_flag("--act-each", act_each, "activation after every stage");
  app.add_flag("--bias", bias, "a bias per stage");
  app.add_flag("--json", json, "JSON: one object per kind, an array for --kind all");
  return tool_main(app, argc, argv, [&] {
    if (!network.empty()) {
      if (!shape.empty()) throw Error("give --shape or --network, not both");
      return print_network(read_network_file(network), json);
    }
    if (shape.empty()) throw Error("--shape is required (or give --network FILE)");
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
