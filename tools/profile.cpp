// convbench-profile: a network on one backend, broken down the way the OpenVINO
// studies did it: per layer (step, implementation, time, share) and per layer
// type (count, total, share, average), with latency percentiles, throughput, and
// a check that the per-step times add up to the end-to-end time.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "convbench/cost.hpp"
#include "convbench/json.hpp"
#include "probe.hpp"
#include "runner.hpp"
#include "tool_main.hpp"

using namespace convbench;

namespace {

Model parse_model_spec(const std::string& spec) {
  // study:<kind>/<act>[/k<k>]
  if (spec.rfind("study:", 0) != 0)
    throw Error("--model '" + spec + "': expected study:<kind>/<act>[/k<k>]");
  std::string rest = spec.substr(6);
  std::vector<std::string> parts;
  for (size_t p; (p = rest.find('/')) != std::string::npos; rest.erase(0, p + 1))
    parts.push_back(rest.substr(0, p));
  parts.push_back(rest);
  if (parts.size() < 2 || parts.size() > 3)
    throw Error("--model '" + spec + "': expected study:<kind>/<act>[/k<k>]");
  int k = 3;
  if (parts.size() == 3) {
    if (parts[2].size() < 2 || parts[2][0] != 'k' ||
        parts[2].find_first_not_of("0123456789", 1) != std::string::npos)
      throw Error("--model '" + spec + "': bad kernel size '" + parts[2] + "' (expected k1..k9)");
    k = std::stoi(parts[2].substr(1));
  }
  return study_model(parse_kind(parts[0]), parse_act(parts[1]), k);
}

double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double pos = q * (v.size() - 1);
  const size_t lo = static_cast<size_t>(pos);
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - lo) * (v[hi] - v[lo]);
}

std::string csv_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

// max |y - ref| / max(1, max |ref|) over every output of the network.
// Also sets ref_max, the reference outputs' largest |value|: an error of zero
// on outputs that are all zero proves nothing, and the report says so.
double network_error(const ModelRunner& got, const ModelRunner& ref, double& ref_max) {
  double worst = 0;
  ref_max = 0;
  const auto go = got.outputs(), ro = ref.outputs();
  for (size_t k = 0; k < go.size(); ++k) {
    const Dims& d = got.model().nodes[go[k].first].dims;
    const int64_t n = d[0] * d[1] * d[2] * d[3];
    double scale = 1, err = 0;
    for (int64_t i = 0; i < n; ++i) {
      const double r = ro[k].second[i], y = go[k].second[i];
      if (std::isnan(y) != std::isnan(r)) return INFINITY;
      scale = std::max(scale, std::fabs(r));
      ref_max = std::max(ref_max, std::fabs(r));
      err = std::max(err, std::fabs(y - r));
    }
    worst = std::max(worst, err / scale);
  }
  return worst;
}

int main(int argc, char** argv) {
  use_best_openblas_core(argv);
  CLI::App app{"Per-layer and per-layer-type profile of a network on one backend",
               "convbench-profile"};
  std::string model_spec, shapes, network, backend = "onednn", layout = "nhwc",
                                           precision = "f32", act = "relu", sort = "order";
  bool unfused = false, json = false, csv = false, check = false;
  int iters = 50, warmup = 5, nthreads = 1, top = 0;
  double min_time = 0;
  std::string check_backend = "ref";
  uint64_t seed = 1;
  app.add_option("--model", model_spec, "study:<kind>/<act>[/k<k>], the phone study's networks");
  app.add_option("--shapes", shapes, "a shape file run as a chain of normal-kind layers");
  app.add_option("--network", network, "a network file (bench/networks/*.net)");
  app.add_option("--act", act, "activation of the --shapes layers (a --model names its own)")->capture_default_str();
  app.add_option("--backend", backend)->capture_default_str();
  app.add_option("--layout", layout, "nhwc or nchw")->capture_default_str();
  app.add_option("--precision", precision, "f32, bf16 or int8")->capture_default_str();
  app.add_flag("--unfused", unfused, "activations as passes of their own");
  app.add_option("--threads", nthreads)->capture_default_str()->check(CLI::Range(1, 1024));
  app.add_option("--iters", iters, "measured runs")->capture_default_str()->check(CLI::Range(1, 100000));
  app.add_option("--min-time", min_time,
                 "stop measuring once this many seconds have passed (at least 3 runs, at most --iters)")
      ->check(CLI::Range(0.0, 1e6));
  app.add_option("--warmup", warmup, "unmeasured runs first")->capture_default_str()->check(CLI::Range(0, 100000));
  app.add_option("--seed", seed)->capture_default_str();
  app.add_option("--sort", sort, "order (execution order) or time (slowest layer first)")->capture_default_str();
  app.add_option("--top", top, "only the N slowest layers, with GFLOP/s and % of peak")->check(CLI::Range(1, 1000000));
  app.add_flag("--check", check, "also run the network on the reference backend and compare the outputs (exit 1 when beyond the backend's tolerance)");
  app.add_option("--check-backend", check_backend,
                 "what --check compares against (default ref; onednn is far faster on large networks)");
  app.add_flag("--json", json, "JSON instead of tables");
  app.add_flag("--csv", csv, "CSV (one row per step) instead of tables");
  return tool_main(app, argc, argv, [&] {
    if (model_spec.empty() + shapes.empty() + network.empty() != 2)
      throw Error("give exactly one of --model, --shapes and --network");
    if (json && csv) throw Error("give at most one of --json and --csv");
    if (sort != "order" && sort != "time") throw Error("--sort: expected order or time (got '" + sort + "')");
    if (top > 0) sort = "time";
    const Act a = parse_act(act);
    const Model model = !network.empty()   ? read_network_file(network)
                        : !shapes.empty()  ? shape_file_model(shapes, a)
                                           : parse_model_spec(model_spec);
    RunConfig cfg{parse_layout(layout), parse_precision(precision), !unfused};
    const Backend& b = find_backend(backend);
    const Backend& oracle = find_backend(check_backend);
    set_threads(nthreads);
    ModelRunner runner(model, b, cfg, seed);

    using clock = std::chrono::steady_clock;
    for (int i = 0; i < warmup; ++i) runner.run();
    // End-to-end and step-timed runs interleaved, so that both see the same
    // machine state (clock, caches, other load).
    std::vector<double> e2e;
    std::vector<std::vector<std::vector<double>>> samples;  // [exec][step][iter]
    std::vector<std::vector<double>> one;
    const auto start = clock::now();
    for (int i = 0; i < iters; ++i) {
      if (min_time > 0 && i >= 3 &&
          std::chrono::duration<double>(clock::now() - start).count() >= min_time)
        break;
      const auto t0 = clock::now();
      runner.run();
      e2e.push_back(std::chrono::duration<double, std::micro>(clock::now() - t0).count());
      runner.run_timed(one);
      samples.resize(one.size());
      for (size_t l = 0; l < one.size(); ++l) {
        samples[l].resize(one[l].size());
        for (size_t s = 0; s < one[l].size(); ++s) samples[l][s].push_back(one[l][s] * 1e6);
      }
    }
    const double median_us = percentile(e2e, 0.5);
    double sum_us = 0;
    struct Row { std::string layer, step, type, impl; double us; };
    std::vector<Row> rows;
    struct LayerRow { std::string layer, types, impl; double us = 0, flops = 0; };
    std::vector<LayerRow> layers;
    for (size_t l = 0; l < samples.size(); ++l) {
      const ModelRunner::Exec& ex = runner.execs()[l];
      const Node& node = model.nodes[ex.node];
      LayerRow lr{node.name, "", "", 0,
                  node.op == NodeOp::conv ? static_cast<double>(layer_cost(node.layer).total.flops()) : 0.0};
      // A fused pair is one row, named by both layers.
      if (ex.fused_from != ModelRunner::Exec::kNone) {
        const Node& first = model.nodes[ex.fused_from];
        lr.layer = first.name + "+" + node.name;
        lr.flops += static_cast<double>(layer_cost(first.layer).total.flops());
      }
      double main_us = -1;
      for (size_t s = 0; s < samples[l].size(); ++s) {
        const Prepared::Step& st = ex.p->steps()[s];
        const double us = percentile(samples[l][s], 0.5);
        sum_us += us;
        rows.push_back({lr.layer, st.name, std::string(to_string(st.type)), st.impl, us});
        lr.us += us;
        const std::string t(to_string(st.type));
        if (lr.types.find(t) == std::string::npos) lr.types += (lr.types.empty() ? "" : "+") + t;
        if (us > main_us) main_us = us, lr.impl = st.impl;
      }
      layers.push_back(lr);
    }
    struct TypeRow { int count = 0; double us = 0; };
    std::map<std::string, TypeRow> types;
    for (const Row& r : rows) ++types[r.type].count, types[r.type].us += r.us;
    const double ratio = sum_us / median_us;
    const bool sum_ok = std::fabs(ratio - 1.0) <= 0.05;
    int64_t images = 1;
    for (const Node& n : model.nodes)
      if (n.op == NodeOp::input) images = n.dims[0];
    const double throughput = images * 1e6 / median_us;
    const double peak = probe_machine(nthreads).peak_gflops;
    if (sort == "time") {
      std::stable_sort(rows.begin(), rows.end(), [](const Row& x, const Row& y) { return x.us > y.us; });
      std::stable_sort(layers.begin(), layers.end(), [](const LayerRow& x, const LayerRow& y) { return x.us > y.us; });
    }
    double err = -1, ref_max = 0;
    if (check) {
      ModelRunner ref(model, oracle, RunConfig{cfg.layout, Precision::f32, true}, seed);
      ref.run();
      runner.run();
      err = network_error(runner, ref, ref_max);
    }
    const bool check_ok = err <= b.tolerance(cfg) && ref_max > 0;

    if (json) {
      nlohmann::json j = {{"model", model.name}, {"backend", backend}, {"version", b.version()},
                          {"config", cfg.str()}, {"threads", nthreads},
                          {"iterations", static_cast<int>(e2e.size())}, {"images", images}};
      for (const Row& r : rows)
        j["steps"].push_back({{"layer", r.layer}, {"step", r.step}, {"type", r.type},
                              {"impl", r.impl}, {"median_us", r.us}, {"share", r.us / sum_us}});
      for (const LayerRow& r : layers)
        j["layers"].push_back({{"layer", r.layer}, {"types", r.types}, {"impl", r.impl},
                               {"median_us", r.us}, {"share", r.us / sum_us},
                               {"gflops", r.flops / (r.us * 1e3)},
                               {"peak_pct", 100 * r.flops / (r.us * 1e3) / peak}});
      for (const auto& [t, tr] : types)
        j["types"].push_back({{"type", t}, {"count", tr.count}, {"total_us", tr.us},
                              {"share", tr.us / sum_us}, {"avg_us", tr.us / tr.count}});
      j["latency_us"] = {{"median", median_us}, {"p10", percentile(e2e, 0.1)},
                         {"p90", percentile(e2e, 0.9)}, {"p99", percentile(e2e, 0.99)},
                         {"min", percentile(e2e, 0)}, {"max", percentile(e2e, 1)}};
      j["throughput_per_s"] = throughput;
      j["sum_of_steps_us"] = sum_us;
      j["sum_ratio"] = ratio;
      j["sum_rule_ok"] = sum_ok;
      j["activation_bytes"] = runner.activation_bytes();
      j["activation_bytes_unshared"] = runner.activation_bytes_unshared();
      if (check)
        j["check"] = {{"error", err}, {"tolerance", b.tolerance(cfg)}, {"reference_max", ref_max},
                      {"against", check_backend},
                      {"ok", check_ok}};
      std::printf("%s\n", j.dump(2).c_str());
      return check && !check_ok ? 1 : 0;
    }
    if (csv) {
      std::printf("layer,step,type,impl,median_us,share\n");
      for (const Row& r : rows)
        std::printf("%s,%s,%s,%s,%.3f,%.5f\n", csv_quote(r.layer).c_str(), r.step.c_str(),
                    r.type.c_str(), csv_quote(r.impl).c_str(), r.us, r.us / sum_us);
      return check && !check_ok ? 1 : 0;
    }
    std::printf("model %s on %s (%s), %s, %d thread(s), %d runs\n\n", model.name.c_str(),
                backend.c_str(), b.version().c_str(), cfg.str().c_str(), nthreads, iters);
    int w = 12;  // the layer column fits the longest name
    for (const LayerRow& r : layers) w = std::max(w, static_cast<int>(r.layer.size()));
    if (top > 0) {
      std::printf("The %d slowest layers\n%-*s %-22s %10s %8s %9s %7s  %s\n", top, w, "layer", "type",
                  "time (us)", "share", "GFLOP/s", "% peak", "implementation (slowest step)");
      for (size_t i = 0; i < layers.size() && i < static_cast<size_t>(top); ++i) {
        const LayerRow& r = layers[i];
        const double gf = r.flops / (r.us * 1e3);
        std::printf("%-*s %-22s %10.1f %7.2f%% %9.1f %6.1f%%  %s\n", w, r.layer.c_str(), r.types.c_str(),
                    r.us, 100 * r.us / sum_us, gf, 100 * gf / peak, r.impl.c_str());
      }
      std::printf("\n");
    } else {
      std::printf("Execution by layer\n%-*s %-14s %-12s %10s %8s  %s\n", w, "layer", "step", "type",
                  "time (us)", "share", "implementation");
      for (const Row& r : rows)
        std::printf("%-*s %-14s %-12s %10.1f %7.2f%%  %s\n", w, r.layer.c_str(), r.step.c_str(),
                    r.type.c_str(), r.us, 100 * r.us / sum_us, r.impl.c_str());
      std::printf("%-*s %-14s %-12s %10.1f %7.2f%%\n\n", w, "total", "", "", sum_us, 100.0);
    }
    std::printf("Execution by layer type\n%-12s %6s %10s %8s %12s\n", "type", "count",
                "time (us)", "share", "avg (us)");
    for (const auto& [t, tr] : types)
      std::printf("%-12s %6d %10.1f %7.2f%% %12.1f\n", t.c_str(), tr.count, tr.us,
                  100 * tr.us / sum_us, tr.us / tr.count);
    std::printf("\nlatency    median %.1f us, p10 %.1f, p90 %.1f, p99 %.1f, min %.1f, max %.1f\n",
                median_us, percentile(e2e, 0.1), percentile(e2e, 0.9), percentile(e2e, 0.99),
                percentile(e2e, 0), percentile(e2e, 1));
    std::printf("throughput %.1f images/s\n", throughput);
    std::printf("sum rule   the steps add up to %.1f us, %.1f%% of the end-to-end median: %s\n",
                sum_us, 100 * ratio, sum_ok ? "within 5%" : "NOT within 5%");
    std::printf("memory     activations %.2f MiB with buffers reused after their last reader (%.2f MiB without)\n",
                runner.activation_bytes() / 1048576.0, runner.activation_bytes_unshared() / 1048576.0);
    if (check)
      std::printf("check      outputs against %s: normalised error %.3g, tolerance %.3g, "
                  "reference outputs up to %.3g: %s\n",
                  check_backend.c_str(), err, b.tolerance(cfg), ref_max,
                  check_ok ? "ok" : ref_max > 0 ? "FAILED" : "FAILED (all-zero outputs prove nothing)");
    return check && !check_ok ? 1 : 0;
  });
}
