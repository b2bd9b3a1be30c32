// build/bin/convbench: Google Benchmark over kind x activation x backend x
// shape x kernel size (x precision, layout, fusion, threads), or over the phone
// study's 12 networks. Names: <kind>/<act>/<backend>/<shape>/k:<k>[/threads:N].
#include <benchmark/benchmark.h>
#include <omp.h>
#include <sys/resource.h>
#include <unistd.h>
#include <xmmintrin.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "cases.hpp"
#include "convbench/buffer.hpp"
#include "convbench/cost.hpp"
#include "hwcounters.hpp"
#include "probe.hpp"
#include "runner.hpp"

#ifndef CONVBENCH_BUILD_FLAGS
#define CONVBENCH_BUILD_FLAGS "unknown"
#endif

namespace convbench {
namespace {

BenchOptions g_opts;
// Hardware counters of the main thread, where the machine has them.
HwCounters& hw() {
  static HwCounters h;
  return h;
}

void set_hw_counters(benchmark::State& state, const std::array<uint64_t, 3>& v) {
  if (!hw().available()) return;
  using C = benchmark::Counter;
  state.counters["cycles"] = C(static_cast<double>(v[0]), C::kAvgIterations);
  state.counters["instructions"] = C(static_cast<double>(v[1]), C::kAvgIterations);
  state.counters["cache_misses"] = C(static_cast<double>(v[2]), C::kAvgIterations);
  if (v[0]) state.counters["IPC"] = static_cast<double>(v[1]) / static_cast<double>(v[0]);
}
std::vector<MachineLimits> g_limits;  // by thread count

const MachineLimits& limits(int threads) {
  for (const MachineLimits& m : g_limits)
    if (m.threads == threads) return m;
  g_limits.push_back(probe_machine(threads));
  return g_limits.back();
}

// Denormals flushed on every thread that may run a kernel.
void flush_denormals() {
#pragma omp parallel
  { _mm_setcsr(_mm_getcsr() | 0x8040); }
  _mm_setcsr(_mm_getcsr() | 0x8040);
}

size_t last_level_cache_bytes() {
  for (const char* p : {"/sys/devices/system/cpu/cpu0/cache/index3/size",
                        "/sys/devices/system/cpu/cpu0/cache/index2/size"}) {
    std::ifstream in(p);
    std::string s;
    if (in >> s && !s.empty()) {
      const size_t mult = s.back() == 'K' ? 1024 : s.back() == 'M' ? 1024 * 1024 : 1;
      return std::stoul(s) * mult;
    }
  }
  return size_t{32} << 20;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

struct Totals {
  int64_t macs = 0, macs_eff = 0, params = 0, bytes = 0, taps = 0;
};

// Every per-time counter is a Google Benchmark rate counter, so that it is
// derived from the very time the JSON reports (no second clock).
void set_counters(benchmark::State& state, const Totals& t, int threads, double reorder_s,
                  double prepare_s) {
  using C = benchmark::Counter;
  const double flops = 2.0 * t.macs, flops_eff = 2.0 * t.macs_eff;
  state.counters["FLOPS"] = C(flops, C::kIsIterationInvariantRate);
  state.counters["FLOPS_eff"] = C(flops_eff, C::kIsIterationInvariantRate);
  state.counters["MACs"] = t.macs;
  state.counters["MACs_eff"] = t.macs_eff;
  state.counters["params"] = t.params;
  state.counters["bytes"] = t.bytes;
  state.counters["AI"] = flops / std::max<int64_t>(1, t.bytes);
  const MachineLimits& m = limits(threads);
  state.counters["peak_pct"] = C(100.0 * flops / (m.peak_gflops * 1e9), C::kIsIterationInvariantRate);
  // time / (iterations * taps), in microseconds: an inverted rate.
  if (t.taps > 0)
    state.counters["us_per_tap"] = C(static_cast<double>(t.taps) * 1e-6, C::kIsIterationInvariantRate | C::kInvert);
  state.counters["reorder_us"] = reorder_s * 1e6;
  state.counters["reorder_pct"] = C(100.0 * reorder_s, C::kIsIterationInvariantRate);
  state.counters["prepare_ms"] = prepare_s * 1e3;
}

bool cold_io() { return g_opts.cold == BenchOptions::Cold::io || g_opts.cold == BenchOptions::Cold::all; }
bool cold_wei() { return g_opts.cold == BenchOptions::Cold::wei || g_opts.cold == BenchOptions::Cold::all; }

// Copies to rotate so that one pass over `bytes` each exceeds the last-level
// cache twice; at most 256, and at most 4 GiB in all.
size_t copies_for(int64_t bytes) {
  const int64_t b = std::max<int64_t>(1, bytes);
  const int64_t n = 2 * static_cast<int64_t>(last_level_cache_bytes()) / b + 1;
  return static_cast<size_t>(std::clamp<int64_t>(std::min<int64_t>(n, (int64_t{4} << 30) / b), 2, 256));
}

int64_t peak_rss_bytes() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<int64_t>(u.ru_maxrss) * 1024;
}

void set_memory_counters(benchmark::State& state, Prepared::Memory m, int64_t rss_growth) {
  if (m.weights >= 0) state.counters["weights_bytes"] = static_cast<double>(m.weights);
  if (m.workspace >= 0) state.counters["workspace_bytes"] = static_cast<double>(m.workspace);
  state.counters["rss_growth_bytes"] = static_cast<double>(rss_growth);
}

void run_layer(benchmark::State& state, const BenchCase& c) {
  using clock = std::chrono::steady_clock;
  set_threads(c.threads);
  flush_denormals();
  const Backend& b = find_backend(c.backend);
  const LayerData data = make_layer_data(c.layer, g_opts.seed);
  const ConvDesc& s = c.layer.shape;
  const int64_t rss0 = peak_rss_bytes();
  const size_t nbuf = cold_io() ? copies_for(4 * (s.src_elems() + s.dst_elems())) : 1;
  const std::vector<float> input = make_input(c.layer, c.cfg.layout, g_opts.seed);
  std::vector<Buffer> src(nbuf, Buffer(input.begin(), input.end()));
  std::vector<Buffer> dst(nbuf, Buffer(static_cast<size_t>(s.dst_elems())));
  std::vector<std::unique_ptr<Prepared>> ps;
  const auto t0 = clock::now();
  try {
    ps.push_back(b.prepare(c.layer, c.cfg, data));
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  const double prepare_s = std::chrono::duration<double>(clock::now() - t0).count();
  const Prepared::Memory mem = ps[0]->memory_use();
  if (cold_wei()) {
    const int64_t w = mem.weights > 0 ? mem.weights : 4 * layer_cost(c.layer).total.params;
    for (size_t k = copies_for(w + std::max<int64_t>(0, mem.workspace)); ps.size() < k;)
      ps.push_back(b.prepare(c.layer, c.cfg, data));
  }
  for (size_t i = 0; i < std::max(nbuf, ps.size()); ++i)  // warm-up
    ps[i % ps.size()]->run(src[i % nbuf].data(), dst[i % nbuf].data());
  const int64_t rss_growth = peak_rss_bytes() - rss0;

  size_t i = 0, j = 0;
  hw().start();
  for (auto _ : state) {
    ps[j]->run(src[i].data(), dst[i].data());
    benchmark::DoNotOptimize(dst[i].data());
    benchmark::ClobberMemory();
    if (++i == nbuf) i = 0;
    if (++j == ps.size()) j = 0;
  }
  set_hw_counters(state, hw().stop());

  // After the timed loop: a few step-timed runs for the reorder share and labels.
  Prepared& p = *ps[0];
  std::vector<double> reorder, one;
  for (int r = 0; r < 5; ++r) {
    p.run_timed(src[0].data(), dst[0].data(), one);
    double sum = 0;
    for (size_t k = 0; k < one.size(); ++k)
      if (p.steps()[k].type == StepType::reorder) sum += one[k];
    reorder.push_back(sum);
  }
  const LayerCost lc = layer_cost(c.layer);
  Totals t{lc.total.macs, lc.total.macs_effective, lc.total.params, lc.total.bytes, s.kh * s.kw};
  set_counters(state, t, c.threads, median(reorder), prepare_s);
  set_memory_counters(state, mem, rss_growth);
  if (ps.size() > 1) state.counters["cold_copies"] = static_cast<double>(ps.size());
  // Backends that wrap a library GEMM: the share of the run inside it.
  if (const double share = library_share(p, src[0].data(), dst[0].data()); share >= 0)
    state.counters["gemm_pct"] = 100 * share;
  state.SetLabel(c.cfg.str() + " | " + p.impl());
}

void run_model(benchmark::State& state, const BenchCase& c) {
  using clock = std::chrono::steady_clock;
  set_threads(c.threads);
  flush_denormals();
  const int64_t rss0 = peak_rss_bytes();
  std::vector<std::unique_ptr<ModelRunner>> rs;
  const auto t0 = clock::now();
  try {
    rs.push_back(std::make_unique<ModelRunner>(c.model, find_backend(c.backend), c.cfg, g_opts.seed));
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  const double prepare_s = std::chrono::duration<double>(clock::now() - t0).count();
  Prepared::Memory mem{0, 0};
  for (const ModelRunner::Exec& e : rs[0]->execs()) {
    const Prepared::Memory m = e.p->memory_use();
    mem.weights = mem.weights < 0 || m.weights < 0 ? -1 : mem.weights + m.weights;
    mem.workspace = mem.workspace < 0 || m.workspace < 0 ? -1 : mem.workspace + m.workspace;
  }
  // Cold: whole prepared copies of the network, each with its own weights and
  // tensors, so both come from memory (io and wei are the same thing here).
  if (g_opts.cold != BenchOptions::Cold::none) {
    int64_t params = 0;
    for (const Node& n : c.model.nodes)
      if (n.op == NodeOp::conv) params += layer_cost(n.layer).total.params;
    const int64_t w = mem.weights > 0 ? mem.weights : 4 * params;
    for (size_t k = copies_for(w + rs[0]->activation_bytes()); rs.size() < k;)
      rs.push_back(std::make_unique<ModelRunner>(c.model, find_backend(c.backend), c.cfg, g_opts.seed));
  }
  for (auto& r : rs) r->run();
  const int64_t rss_growth = peak_rss_bytes() - rss0;
  size_t j = 0;
  hw().start();
  for (auto _ : state) {
    rs[j]->run();
    benchmark::ClobberMemory();
    if (++j == rs.size()) j = 0;
  }
  set_hw_counters(state, hw().stop());
  ModelRunner* r = rs[0].get();
  std::vector<std::vector<double>> secs;
  std::vector<double> reorder;
  for (int k = 0; k < 5; ++k) {
    r->run_timed(secs);
    double sum = 0;
    for (size_t li = 0; li < secs.size(); ++li)
      for (size_t si = 0; si < secs[li].size(); ++si)
        if (r->execs()[li].p->steps()[si].type == StepType::reorder) sum += secs[li][si];
    reorder.push_back(sum);
  }
  Totals t;
  int convs = 0;
  for (const Node& n : c.model.nodes) {
    if (n.op != NodeOp::conv) continue;
    const LayerCost lc = layer_cost(n.layer);
    t.macs += lc.total.macs, t.macs_eff += lc.total.macs_effective;
    t.params += lc.total.params, t.bytes += lc.total.bytes;
    ++convs;
  }
  // Time per kernel tap means something for the study's networks (one k), not for a network file.
  t.taps = c.name.rfind("network/", 0) == 0 ? 0 : c.layer.shape.kh * c.layer.shape.kw;
  set_counters(state, t, c.threads, median(reorder), prepare_s);
  int64_t images = 1;
  for (const Node& n : c.model.nodes)
    if (n.op == NodeOp::input) images = n.dims[0];
  state.counters["images_per_s"] = benchmark::Counter(static_cast<double>(images), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["act_bytes"] = static_cast<double>(r->activation_bytes());
  set_memory_counters(state, mem, rss_growth);
  if (rs.size() > 1) state.counters["cold_copies"] = static_cast<double>(rs.size());
  state.SetLabel(c.cfg.str() + " | " + c.model.name + " | " + std::to_string(convs) + " convolutions, " +
                 std::to_string(r->execs().size()) + " steps");
}

// The runner alone: every convolution and join an empty step.
void run_overhead(benchmark::State& state, const Model& m) {
  set_threads(1);
  ModelRunner r(m, empty_backend(), RunConfig{}, g_opts.seed);
  r.run();
  for (auto _ : state) {
    r.run();
    benchmark::ClobberMemory();
  }
  using C = benchmark::Counter;
  const double steps = static_cast<double>(r.execs().size());
  state.counters["steps"] = steps;
  state.counters["ns_per_step"] = C(steps * 1e-9, C::kIsIterationInvariantRate | C::kInvert);
}

std::string read_first_line(const char* path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  return s;
}

void add_context() {
  auto ctx = [](const std::string& k, const std::string& v) { benchmark::AddCustomContext(k, v); };
  ctx("convbench_cpu", cpu_model());
  for (int t : g_opts.threads) {
    const MachineLimits& m = limits(t);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.9g", m.peak_gflops);  // the exact value peak_pct uses
    ctx("peak_gflops_threads_" + std::to_string(t), buf);
    std::snprintf(buf, sizeof buf, "%.9g", m.dram_gbs);
    ctx("dram_gbs_threads_" + std::to_string(t), buf);
    const std::pair<const char*, double> more[] = {
        {"l1_gbs", m.l1_gbs}, {"l2_gbs", m.l2_gbs}, {"l3_gbs", m.l3_gbs},
        {"peak_bf16_gflops", m.bf16_gflops}, {"peak_int8_gops", m.int8_gops}};
    for (const auto& [k, v] : more) {
      std::snprintf(buf, sizeof buf, "%.9g", v);
      ctx(std::string(k) + "_threads_" + std::to_string(t), buf);
    }
  }
  // What does not change with the thread count, once.
  const MachineLimits& m = limits(g_opts.threads.front());
  ctx("peak_bf16_isa", m.bf16_isa.empty() ? "none" : m.bf16_isa);
  ctx("peak_int8_isa", m.int8_isa.empty() ? "none" : m.int8_isa);
  ctx("l1_bytes", std::to_string(m.l1_bytes));
  ctx("l2_bytes", std::to_string(m.l2_bytes));
  ctx("l3_bytes", std::to_string(m.l3_bytes));
  ctx("peak_fma_isa", m.fma_isa);
  ctx("peak_probe", m.cached ? "cached" : "measured now");
  ctx("compiler", std::string("g++ ") + __VERSION__);
  ctx("build_flags", CONVBENCH_BUILD_FLAGS);
  for (const Backend* b : backends())
    if (!b->version().empty()) ctx("version_" + std::string(b->name()), b->version());
  std::string threads;
  for (int t : g_opts.threads) threads += (threads.empty() ? "" : ",") + std::to_string(t);
  ctx("threads", threads);
  const char* bind = std::getenv("OMP_PROC_BIND");
  ctx("pinning", bind ? std::string("OMP_PROC_BIND=") + bind : "none");
  const char* cold[] = {"none", "io", "wei", "all"};
  ctx("cold_cache", cold[static_cast<int>(g_opts.cold)]);
  const std::string gov = read_first_line("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor");
  ctx("cpufreq_governor", gov.empty() ? "unreadable" : gov);
  for (const char* var : {"OPENBLAS_CORETYPE", "ONEDNN_MAX_CPU_ISA", "OMP_NUM_THREADS"}) {
    const char* v = std::getenv(var);
    ctx(std::string("env_") + var, v ? v : "(unset)");
  }
  ctx("denormals", "flushed (FTZ+DAZ)");
  ctx("hw_counters", hw().available()
                         ? "cycles, instructions, cache_misses: the main thread's, per iteration"
                         : "unavailable here (" + hw().why_not() + ")");
  // What a case's name does not say, for tools/report's reproducing commands.
  ctx("act_each", g_opts.act_each ? "yes" : "no");
  ctx("bias", g_opts.bias ? "yes" : "no");
  std::string nets;
  for (const std::string& f : g_opts.network_files) nets += (nets.empty() ? "" : ",") + f;
  if (!nets.empty()) ctx("network_files", nets);
  ctx("seed", std::to_string(g_opts.seed));
}

}  // namespace
}  // namespace convbench

int main(int argc, char** argv) {
  using namespace convbench;
  use_best_openblas_core(argv);
  std::vector<std::string> args(argv + 1, argv + argc), rest;
  for (const std::string& a : args)
    if (a == "--help" || a == "-h") {
      std::printf("usage: convbench [convbench flags] [--benchmark_* flags]\n\n%s",
                  bench_flags_help().c_str());
      return 0;
    }
  std::vector<BenchCase> cases;
  try {
    g_opts = parse_bench_flags(args, rest);
    std::vector<std::string> skipped;
    cases = make_cases(g_opts, skipped);
    if (!skipped.empty()) {
      std::fprintf(stderr, "convbench: %zu case(s) not registered:\n", skipped.size());
      for (size_t i = 0; i < skipped.size() && i < 20; ++i)
        std::fprintf(stderr, "  %s\n", skipped[i].c_str());
      if (skipped.size() > 20) std::fprintf(stderr, "  ... and %zu more\n", skipped.size() - 20);
    }
    if (cases.empty()) throw Error("no case to run with these flags");
  } catch (const Error& e) {
    std::fprintf(stderr, "convbench: error: %s\n", e.what());
    return 2;
  }
  // OpenMP reads its binding at start-up: re-run ourselves with it set.
  if (g_opts.pin && !std::getenv("OMP_PROC_BIND")) {
    setenv("OMP_PROC_BIND", "close", 1);
    setenv("OMP_PLACES", "cores", 1);
    execv("/proc/self/exe", argv);
    std::fprintf(stderr, "convbench: error: cannot re-run with OMP_PROC_BIND set\n");
    return 2;
  }
  std::vector<char*> gb_argv = {argv[0]};
  for (std::string& a : rest) gb_argv.push_back(a.data());
  int gb_argc = static_cast<int>(gb_argv.size());
  benchmark::Initialize(&gb_argc, gb_argv.data());
  if (benchmark::ReportUnrecognizedArguments(gb_argc, gb_argv.data())) return 2;
  if (g_opts.runner_overhead) {
    std::vector<Model> nets = g_opts.networks;
    if (nets.empty()) nets.push_back(study_model(Kind::normal, Act::relu, 3));
    for (const Model& m : nets)
      benchmark::RegisterBenchmark(("runner/" + m.name + "/empty").c_str(), run_overhead, m)
          ->UseRealTime()
          ->Unit(benchmark::kNanosecond);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
  }
    bool listing = false;
  for (const std::string& a : rest) listing |= a.rfind("--benchmark_list_tests", 0) == 0 && a != "--benchmark_list_tests=false";
  for (const BenchCase& c : cases) {
    auto* bm = c.is_model ? benchmark::RegisterBenchmark(c.name.c_str(), run_model, c)
                          : benchmark::RegisterBenchmark(c.name.c_str(), run_layer, c);
    bm->UseRealTime()->Unit(benchmark::kMicrosecond);
  }
  if (!listing) add_context();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
