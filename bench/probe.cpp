#include "probe.hpp"

#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

namespace convbench {
namespace {

using clock_type = std::chrono::steady_clock;

// 16 independent accumulators: enough to cover FMA latency x ports on current
// cores, and written with intrinsics so that the compiler cannot fold them into
// one dependency chain (no -ffast-math here).
__attribute__((target("avx512f"))) double fma_avx512(long iters) {
  __m512 acc[16];
  for (int i = 0; i < 16; ++i) acc[i] = _mm512_set1_ps(1.f + i * 1e-3f);
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (long it = 0; it < iters; ++it)
    for (int i = 0; i < 16; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  __m512 s = acc[0];
  for (int i = 1; i < 16; ++i) s = _mm512_add_ps(s, acc[i]);
  return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx2,fma"))) double fma_avx2(long iters) {
  __m256 acc[16];
  for (int i = 0; i < 16; ++i) acc[i] = _mm256_set1_ps(1.f + i * 1e-3f);
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (long it = 0; it < iters; ++it)
    for (int i = 0; i < 16; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  __m256 s = acc[0];
  for (int i = 1; i < 16; ++i) s = _mm256_add_ps(s, acc[i]);
  float out[8];
  _mm256_storeu_ps(out, s);
  return out[0];
}

double fma_scalar(long iters) {
  float acc[16];
  for (int i = 0; i < 16; ++i) acc[i] = 1.f + i * 1e-3f;
  for (long it = 0; it < iters; ++it)
    for (int i = 0; i < 16; ++i) acc[i] = acc[i] * 0.999999f + 1e-7f;
  float s = 0;
  for (float v : acc) s += v;
  return s;
}

// 16 chains of vdpbf16ps: 32 bf16 multiply-adds (64 FLOP) each.
__attribute__((target("avx512f,avx512bf16"))) double bf16_avx512(long iters) {
  __m512 acc[16];
  for (int i = 0; i < 16; ++i) acc[i] = _mm512_set1_ps(i * 1e-3f);
  const __m512bh a = (__m512bh)_mm512_set1_epi16(0x3f80), b = (__m512bh)_mm512_set1_epi16(0x0001);
  for (long it = 0; it < iters; ++it)
    for (int i = 0; i < 16; ++i) acc[i] = _mm512_dpbf16_ps(acc[i], a, b);
  __m512 s = acc[0];
  for (int i = 1; i < 16; ++i) s = _mm512_add_ps(s, acc[i]);
  return _mm512_reduce_add_ps(s);
}

// 16 chains of vpdpbusd: 64 u8 x s8 multiply-adds (128 operations) each.
__attribute__((target("avx512f,avx512vnni"))) double int8_avx512(long iters) {
  __m512i acc[16];
  for (int i = 0; i < 16; ++i) acc[i] = _mm512_set1_epi32(i);
  const __m512i a = _mm512_set1_epi8(1), b = _mm512_set1_epi8(1);
  for (long it = 0; it < iters; ++it)
    for (int i = 0; i < 16; ++i) acc[i] = _mm512_dpbusd_epi32(acc[i], a, b);
  __m512i s = acc[0];
  for (int i = 1; i < 16; ++i) s = _mm512_xor_si512(s, acc[i]);  // no sum: it would overflow
  return _mm512_cvtsi512_si32(s);
}

// Sums n floats many times with 8 independent accumulators; returns the sum.
__attribute__((target("avx512f"))) double read_avx512(const float* p, size_t n, int reps) {
  __m512 acc[8];
  for (auto& a : acc) a = _mm512_setzero_ps();
  for (int r = 0; r < reps; ++r)
    for (size_t i = 0; i + 128 <= n; i += 128)
      for (int k = 0; k < 8; ++k) acc[k] = _mm512_add_ps(acc[k], _mm512_loadu_ps(p + i + 16 * k));
  for (int k = 1; k < 8; ++k) acc[0] = _mm512_add_ps(acc[0], acc[k]);
  return _mm512_reduce_add_ps(acc[0]);
}

__attribute__((target("avx2"))) double read_avx2(const float* p, size_t n, int reps) {
  __m256 acc[8];
  for (auto& a : acc) a = _mm256_setzero_ps();
  for (int r = 0; r < reps; ++r)
    for (size_t i = 0; i + 64 <= n; i += 64)
      for (int k = 0; k < 8; ++k) acc[k] = _mm256_add_ps(acc[k], _mm256_loadu_ps(p + i + 8 * k));
  for (int k = 1; k < 8; ++k) acc[0] = _mm256_add_ps(acc[0], acc[k]);
  float out[8];
  _mm256_storeu_ps(out, acc[0]);
  return out[0];
}

// AMX: 4 accumulator tiles C[16][16] += A[16][32 bf16 | 64 int8] * B; one
// tdpbf16ps is 16*16*32 multiply-adds, one tdpbusd 16*16*64. Linux hands out
// the tile state only on request (arch_prctl ARCH_REQ_XCOMP_PERM).
bool amx_permitted() {
  static const bool ok = syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */, 18 /* XTILEDATA */) == 0;
  return ok;
}

struct alignas(64) TileConfig {
  uint8_t palette = 1, start_row = 0, reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

template <bool kInt8>
__attribute__((target("amx-tile,amx-bf16,amx-int8"))) double amx_kernel(long iters) {
  TileConfig cfg;
  for (int t = 0; t < 8; ++t) cfg.colsb[t] = 64, cfg.rows[t] = 16;
  _tile_loadconfig(&cfg);
  alignas(64) static uint8_t buf[16 * 64] = {};
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  _tile_loadd(4, buf, 64);
  _tile_loadd(5, buf, 64);
  _tile_loadd(6, buf, 64);
  _tile_loadd(7, buf, 64);
  for (long it = 0; it < iters / 64; ++it) {
    if constexpr (kInt8) {
      _tile_dpbusd(0, 4, 6);
      _tile_dpbusd(1, 4, 7);
      _tile_dpbusd(2, 5, 6);
      _tile_dpbusd(3, 5, 7);
    } else {
      _tile_dpbf16ps(0, 4, 6);
      _tile_dpbf16ps(1, 4, 7);
      _tile_dpbf16ps(2, 5, 6);
      _tile_dpbf16ps(3, 5, 7);
    }
  }
  alignas(64) static thread_local int32_t out[16 * 16];
  _tile_stored(0, out, 64);
  _tile_release();
  return out[0];
}

volatile double g_sink;

// Best of 7 (a VM's neighbours only ever slow a run down) of `ops_per_iter`
// operations per iteration on every thread.
double measure_rate(int threads, double (*kernel)(long), double ops_per_iter) {
  const long iters = 20'000'000;
  double best = 0;
  for (int rep = 0; rep < 7; ++rep) {
    const auto t0 = clock_type::now();
#pragma omp parallel num_threads(threads)
    { g_sink = kernel(iters); }
    const double s = std::chrono::duration<double>(clock_type::now() - t0).count();
    best = std::max(best, threads * static_cast<double>(iters) * ops_per_iter / s / 1e9);
  }
  return best;
}

// Read bandwidth with `bytes` per thread, each thread on its own array.
double measure_read(int threads, int64_t bytes) {
  __builtin_cpu_init();
  const bool avx512 = __builtin_cpu_supports("avx512f");
  if (!avx512 && !__builtin_cpu_supports("avx2")) return 0;
  const size_t n = static_cast<size_t>(bytes / 4) / 128 * 128;
  if (n == 0) return 0;
  const int reps = static_cast<int>(std::max<int64_t>(1, (int64_t{64} << 20) / bytes));
  double best = 0;
  std::vector<double> secs(static_cast<size_t>(threads));
#pragma omp parallel num_threads(threads)
  {
    std::vector<float> a(n, 1.f);  // first touched by the thread that reads it
    for (int rep = 0; rep < 6; ++rep) {
#pragma omp barrier
      const auto t0 = clock_type::now();
      g_sink = avx512 ? read_avx512(a.data(), n, reps) : read_avx2(a.data(), n, reps);
      const double s = std::chrono::duration<double>(clock_type::now() - t0).count();
#pragma omp barrier
      secs[static_cast<size_t>(omp_get_thread_num())] = s;
#pragma omp barrier
#pragma omp single
      if (rep > 0) {  // the first pass brings the arrays in
        const double slowest = *std::max_element(secs.begin(), secs.end());
        best = std::max(best, threads * 4.0 * static_cast<double>(n) * reps / slowest / 1e9);
      }
    }
  }
  return best;
}

int64_t cache_bytes(int index) {
  std::ifstream in("/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index) + "/size");
  std::string s;
  if (!(in >> s) || s.empty()) return 0;
  const int64_t mult = s.back() == 'K' ? 1024 : s.back() == 'M' ? 1024 * 1024 : 1;
  return std::stoll(s) * mult;
}

double measure_peak(int threads, std::string& isa) {
  __builtin_cpu_init();
  double (*kernel)(long) = fma_scalar;
  int lanes = 1;
  isa = "scalar";
  if (__builtin_cpu_supports("avx512f")) kernel = fma_avx512, lanes = 16, isa = "avx512f";
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    kernel = fma_avx2, lanes = 8, isa = "avx2";
  // 16 chains of `lanes`-wide FMAs, 2 FLOP each.
  return measure_rate(threads, kernel, 16.0 * lanes * 2);
}

double measure_triad(int threads) {
  const size_t n = size_t{64} << 20;  // 256 MiB per array
  std::vector<float> a(n), b(n, 1.f), c(n, 2.f);
#pragma omp parallel for num_threads(threads) schedule(static)
  for (size_t i = 0; i < n; ++i) a[i] = 0.f;  // first touch by the threads that use it
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    const auto t0 = clock_type::now();
#pragma omp parallel for num_threads(threads) schedule(static)
    for (size_t i = 0; i < n; ++i) a[i] = b[i] + 3.f * c[i];
    const double s = std::chrono::duration<double>(clock_type::now() - t0).count();
    best = std::max(best, 3.0 * n * sizeof(float) / s / 1e9);
  }
  g_sink = a[n / 2];
  return best;
}

std::filesystem::path cache_file() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x)
    return std::filesystem::path(x) / "convbench" / "machine.json";
  if (const char* h = std::getenv("HOME"); h && *h)
    return std::filesystem::path(h) / ".cache" / "convbench" / "machine.json";
  return {};
}

}  // namespace

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

MachineLimits probe_machine(int threads) {
  MachineLimits m;
  m.cpu = cpu_model();
  m.threads = threads;
  const std::string key = m.cpu + " | threads " + std::to_string(threads);
  const std::filesystem::path file = cache_file();
  nlohmann::json cache = nlohmann::json::object();
  const char* reprobe = std::getenv("CONVBENCH_REPROBE");
  if (!file.empty()) {
    std::ifstream in(file);
    if (in) cache = nlohmann::json::parse(in, nullptr, false);
    if (cache.is_discarded() || !cache.is_object()) cache = nlohmann::json::object();
    if (!(reprobe && std::string(reprobe) == "1") && cache.contains(key)) {
      const auto& e = cache[key];
      m.fma_isa = e.value("fma_isa", "");
      m.peak_gflops = e.value("peak_gflops", 0.0);
      m.dram_gbs = e.value("dram_gbs", 0.0);
      m.l1_gbs = e.value("l1_gbs", 0.0), m.l2_gbs = e.value("l2_gbs", 0.0), m.l3_gbs = e.value("l3_gbs", 0.0);
      m.l1_bytes = e.value("l1_bytes", int64_t{0}), m.l2_bytes = e.value("l2_bytes", int64_t{0});
      m.l3_bytes = e.value("l3_bytes", int64_t{0});
      m.bf16_gflops = e.value("bf16_gflops", 0.0), m.int8_gops = e.value("int8_gops", 0.0);
      m.bf16_isa = e.value("bf16_isa", ""), m.int8_isa = e.value("int8_isa", "");
      // Entries from before the cache and low-precision probes are measured again.
      m.cached = m.peak_gflops > 0 && m.dram_gbs > 0 && e.contains("l1_gbs") && e.contains("int8_isa");
      if (m.cached) return m;
    }
  }
  m.peak_gflops = measure_peak(threads, m.fma_isa);
  m.dram_gbs = measure_triad(threads);
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bf16"))
    m.bf16_gflops = measure_rate(threads, bf16_avx512, 16 * 64), m.bf16_isa = "avx512_bf16";
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vnni"))
    m.int8_gops = measure_rate(threads, int8_avx512, 16 * 128), m.int8_isa = "avx512_vnni";
  // Where the CPU has AMX (and oneDNN uses it), its tiles are the real peak.
  if (__builtin_cpu_supports("amx-bf16") && amx_permitted()) {
    // Each call runs iters/64 steps of 4 tile products: the rate per "iteration".
    const double bf16 = measure_rate(threads, amx_kernel<false>, 4 * 16 * 16 * 32 * 2 / 64.0);
    if (bf16 > m.bf16_gflops) m.bf16_gflops = bf16, m.bf16_isa = "amx_bf16";
  }
  if (__builtin_cpu_supports("amx-int8") && amx_permitted()) {
    const double i8 = measure_rate(threads, amx_kernel<true>, 4 * 16 * 16 * 64 * 2 / 64.0);
    if (i8 > m.int8_gops) m.int8_gops = i8, m.int8_isa = "amx_int8";
  }
  // index0 is L1 data, index2 L2, index3 L3 on x86 Linux.
  m.l1_bytes = cache_bytes(0), m.l2_bytes = cache_bytes(2), m.l3_bytes = cache_bytes(3);
  if (m.l1_bytes) m.l1_gbs = measure_read(threads, m.l1_bytes / 2);
  if (m.l2_bytes) m.l2_gbs = measure_read(threads, m.l2_bytes / 2);
  if (m.l3_bytes) m.l3_gbs = measure_read(threads, m.l3_bytes / 2 / threads);
  if (!file.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(file.parent_path(), ec);
    cache[key] = {{"fma_isa", m.fma_isa}, {"peak_gflops", m.peak_gflops}, {"dram_gbs", m.dram_gbs},
                  {"l1_gbs", m.l1_gbs}, {"l2_gbs", m.l2_gbs}, {"l3_gbs", m.l3_gbs},
                  {"l1_bytes", m.l1_bytes}, {"l2_bytes", m.l2_bytes}, {"l3_bytes", m.l3_bytes},
                  {"bf16_gflops", m.bf16_gflops}, {"int8_gops", m.int8_gops},
                  {"bf16_isa", m.bf16_isa}, {"int8_isa", m.int8_isa}};
    const std::filesystem::path tmp = file.string() + ".tmp";
    std::ofstream(tmp) << cache.dump(2) << "\n";
    std::filesystem::rename(tmp, file, ec);
  }
  return m;
}

}  // namespace convbench
