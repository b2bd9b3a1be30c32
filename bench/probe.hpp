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
  bool cached = false;
};

MachineLimits probe_machine(int threads);
std::string cpu_model();

}  // namespace convbench
