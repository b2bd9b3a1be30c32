// convbench-run: runs one layer on one backend, prints its median time and
// implementation, and can save every tensor as .npy for checking elsewhere.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "convbench/backend.hpp"
#include "convbench/buffer.hpp"
#include "convbench/cost.hpp"
#include "convbench/json.hpp"
#include "convbench/npy.hpp"
#include "tool_main.hpp"

using namespace convbench;
namespace fs = std::filesystem;

namespace {

// Writes every file into a fresh sibling folder, then moves them into place, so
// that a failure leaves no partial set behind.
void save(const fs::path& dir, const Layer& l, Layout layout, const LayerData& data,
          const std::vector<float>& src, const std::vector<float>& dst) {
  if (fs::exists(dir) && !fs::is_directory(dir))
    throw Error("--save: " + dir.string() + " exists and is not a folder");
  const fs::path tmp = dir.string() + ".partial-" + std::to_string(::getpid());
  std::error_code ec;
  fs::create_directories(tmp, ec);
  if (ec) throw Error("--save: cannot create " + tmp.string() + ": " + ec.message());
  std::vector<std::string> names;
  try {
    const ConvDesc& s = l.shape;
    const std::vector<Stage> st = l.stages();
    write_npy((tmp / "input.npy").string(), convert_layout(src, layout, Layout::nchw, s.mb, s.ic, s.ih, s.iw).data(),
              {s.mb, s.ic, s.ih, s.iw});
    names.push_back("input.npy");
    nlohmann::json stages = nlohmann::json::array();
    for (size_t i = 0; i < st.size(); ++i) {
      const ConvDesc& c = st[i].conv;
      const std::string w = "weights" + std::to_string(i) + ".npy";
      write_npy((tmp / w).string(), data.weights[i].data(), {c.oc, c.icg(), c.kh, c.kw});
      names.push_back(w);
      if (st[i].bias) {
        const std::string b = "bias" + std::to_string(i) + ".npy";
        write_npy((tmp / b).string(), data.biases[i].data(), {c.oc});
        names.push_back(b);
      }
      nlohmann::json js = to_json(c);
      js["shape"] = js["desc"];
      js.erase("desc");
      js["role"] = to_string(st[i].role);
      js["act"] = to_string(st[i].act);
      js["bias"] = st[i].bias;
      stages.push_back(js);
    }
    write_npy((tmp / "output.npy").string(),
              convert_layout(dst, layout, Layout::nchw, s.mb, s.oc, s.oh, s.ow).data(), {s.mb, s.oc, s.oh, s.ow});
    names.push_back("output.npy");
    const nlohmann::json problem = {{"kind", to_string(l.kind)},
                                    {"shape", s.str()},
                                    {"act", to_string(l.act)},
                                    {"act_each", l.act_each},
                                    {"bias", l.bias},
                                    {"padding_order", "top, left, bottom, right"},
                                    {"stages", stages}};
    {
      std::ofstream f(tmp / "problem.json");
      f << problem.dump(2) << "\n";
      if (!f) throw Error("--save: cannot write problem.json");
    }
    names.push_back("problem.json");
    if (!fs::exists(dir)) {
      fs::rename(tmp, dir);
      return;
    }
    for (const std::string& n : names) fs::rename(tmp / n, dir / n);
    fs::remove_all(tmp);
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
}

}  // namespace

int main(int argc, char** argv) {
  use_best_openblas_core(argv);
  CLI::App app{"Run one convolution layer on one backend", "convbench-run"};
  std::string kind = "normal", shape, act = "none", backend = "ref", layout = "nhwc", save_dir;
  std::string precision = "f32";
  bool unfused = false;
  int nthreads = 1;
  bool act_each = false, bias = false;
  uint64_t seed = 1;
  int iters = 10;
  app.add_option("--kind", kind, "normal, spatial, depthwise or dw_spatial")->capture_default_str();
  app.add_option("--shape", shape, "benchdnn descriptor, e.g. mb1ic64ih56oc64oh56kh3");
  app.add_option("--act", act, "none, relu, elu or tanh")->capture_default_str();
  app.add_flag("--act-each", act_each, "activation after every stage");
  app.add_flag("--bias", bias, "a bias per stage");
  app.add_option("--backend", backend, "backend name, or 'list'")->capture_default_str();
  app.add_option("--layout", layout, "layout of the input and output tensors: nchw or nhwc")->capture_default_str();
  app.add_option("--precision", precision, "f32, bf16 or int8")->capture_default_str();
  app.add_flag("--unfused", unfused, "run the activation as a pass of its own");
  app.add_option("--threads", nthreads, "threads")->capture_default_str()->check(CLI::Range(1, 1024));
  app.add_option("--seed", seed, "seed for inputs and weights")->capture_default_str();
  app.add_option("--iters", iters, "timed runs (after one warm-up)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  app.add_option("--save", save_dir, "write input, weights, output (.npy) and problem.json");
  return tool_main(app, argc, argv, [&] {
    if (backend == "list") {
      for (const Backend* b : backends()) {
        const std::string why = b->unavailable();
        std::printf("%-24s %s\n", std::string(b->name()).c_str(),
                    why.empty() ? "available" : ("unavailable: " + why).c_str());
      }
      return 0;
    }
    if (shape.empty()) throw Error("--shape is required");
    Layer l;
    l.kind = parse_kind(kind);
    l.shape = ConvDesc::parse(shape);
    l.act = parse_act(act);
    l.act_each = act_each;
    l.bias = bias;
    RunConfig cfg;
    cfg.layout = parse_layout(layout);
    cfg.precision = parse_precision(precision);
    cfg.fuse_act = !unfused;
    const Layout lay = cfg.layout;
    const Backend& b = find_backend(backend);
    set_threads(nthreads);
    if (std::string why = b.unavailable(); !why.empty())
      throw Error("backend " + backend + " is unavailable: " + why);
    if (std::string why = b.refuse(l, cfg); !why.empty())
      throw Error("backend " + backend + " refuses " + l.str() + " " + cfg.str() + ": " + why);
    const LayerCost cost = layer_cost(l);

    const LayerData data = make_layer_data(l, seed);
    const std::vector<float> src = make_input(l, lay, seed);
    const Buffer src_buf(src.begin(), src.end());  // aligned, as convbench's are
    Buffer dst_buf(static_cast<size_t>(l.shape.dst_elems()));
    using clock = std::chrono::steady_clock;
    const auto t0 = clock::now();
    std::unique_ptr<Prepared> p = b.prepare(l, cfg, data);
    const double prepare_ms = std::chrono::duration<double, std::milli>(clock::now() - t0).count();
    p->run(src_buf.data(), dst_buf.data());  // warm-up
    std::vector<double> ms;
    for (int i = 0; i < iters; ++i) {
      const auto s = clock::now();
      p->run(src_buf.data(), dst_buf.data());
      ms.push_back(std::chrono::duration<double, std::milli>(clock::now() - s).count());
    }
    // Then the same number of runs timed step by step, for the breakdown.
    std::vector<std::vector<double>> step_ms(p->steps().size());
    std::vector<double> one;
    for (int i = 0; i < iters; ++i) {
      p->run_timed(src_buf.data(), dst_buf.data(), one);
      for (size_t k = 0; k < one.size(); ++k) step_ms[k].push_back(one[k] * 1e3);
    }
    auto median = [](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
    };
    std::sort(ms.begin(), ms.end());
    const double med = median(ms);
    if (!save_dir.empty()) save(save_dir, l, lay, data, src, std::vector<float>(dst_buf.begin(), dst_buf.end()));
    std::printf("layer    %s\n", l.str().c_str());
    std::printf("backend  %s%s%s, %s, %d thread(s), seed %llu\n", backend.c_str(),
                b.version().empty() ? "" : " ", b.version().c_str(), cfg.str().c_str(), nthreads,
                static_cast<unsigned long long>(seed));
    double reorder_ms = 0;
    for (size_t k = 0; k < p->steps().size(); ++k) {
      const Prepared::Step& st = p->steps()[k];
      const double m = median(step_ms[k]);
      if (st.type == StepType::reorder) reorder_ms += m;
      std::printf("step     %-14s %-12s %9.4f ms  %s\n", st.name.c_str(),
                  std::string(to_string(st.type)).c_str(), m, st.impl.c_str());
    }
    if (reorder_ms > 0) std::printf("reorders %.4f ms of the run\n", reorder_ms);
    if (const Prepared::Memory m = p->memory_use(); m.weights >= 0 || m.workspace >= 0)
      std::printf("memory   weights %s, workspace %s\n",
                  m.weights >= 0 ? (std::to_string(m.weights) + " bytes").c_str() : "not reported",
                  m.workspace >= 0 ? (std::to_string(m.workspace) + " bytes").c_str() : "not reported");
    if (const double share = library_share(*p, src_buf.data(), dst_buf.data(), iters); share >= 0)
      std::printf("library  %.1f %% of the run inside the library's GEMM calls\n", 100 * share);
    std::printf("time     median %.4f ms over %d runs (min %.4f, max %.4f), prepare %.3f ms\n",
                med, iters, ms.front(), ms.back(), prepare_ms);
    std::printf("rate     %.2f GFLOP/s nominal, %.2f GFLOP/s effective\n",
                cost.total.flops() / (med * 1e6), cost.total.flops_effective() / (med * 1e6));
    if (!save_dir.empty()) std::printf("saved    %s\n", save_dir.c_str());
    return 0;
  });
}
