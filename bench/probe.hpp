// The machine's limits, measured rather than derived from nominal clocks: FP32
// FMA peak and memory bandwidth for a thread count, run once and cached by CPU
// model (in $XDG_CACHE_HOME or ~/.cache/convbench; CONVBENCH_REPROBE=1 re-runs).
#pragma once

#include <string>

namespace convbench {

struct MachineLimits {
  std::string cpu;       // /proc/cpuinfo model name
  std::string fma_isa;   // the widest FMA the probe used: avx512f, avx2 or scalar
  int threads = 1;
  double peak_gflops = 0;  // FP32, all FMA units busy
  double dram_gbs = 0;     // STREAM triad on arrays far larger than the caches
  // Read bandwidth with each thread's array at half of the cache level (L3: half
  // of it shared among the threads); 0 where the level is not there.
  double l1_gbs = 0, l2_gbs = 0, l3_gbs = 0;
  int64_t l1_bytes = 0, l2_bytes = 0, l3_bytes = 0;  // per core (L1, L2), shared (L3)
  double bf16_gflops = 0;  // AVX512_BF16 dot products (vdpbf16ps); 0 without them
  double int8_gops = 0;    // AVX512_VNNI u8 x s8 dot products (vpdpbusd); 0 without them
  // Where the CPU has AMX, the tile products (tdpbf16ps, tdpbusd) are faster and
  // give those peaks instead; which ISA each peak is from.
  std::string bf16_isa, int8_isa;
  bool cached = false;
};

MachineLimits probe_machine(int threads);
std::string cpu_model();

}  // namespace convbench
