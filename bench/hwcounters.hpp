// Hardware counters (cycles, instructions, last-level cache misses) of the
// calling thread through perf_event_open, where the CPU and the kernel expose
// them; many VMs do not, and then available() says why.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace convbench {

class HwCounters {
 public:
  HwCounters();
  ~HwCounters();
  HwCounters(const HwCounters&) = delete;
  HwCounters& operator=(const HwCounters&) = delete;

  bool available() const { return fd_[0] >= 0; }
  const std::string& why_not() const { return why_; }
  void start();
  // Counts since start(): cycles, instructions, cache misses.
  std::array<uint64_t, 3> stop();

 private:
  std::array<int, 3> fd_{-1, -1, -1};
  std::string why_;
};

}  // namespace convbench
