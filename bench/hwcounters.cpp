#include "hwcounters.hpp"

#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace convbench {
namespace {

int open_counter(uint64_t config, int group) {
  perf_event_attr a{};
  a.type = PERF_TYPE_HARDWARE;
  a.size = sizeof(a);
  a.config = config;
  a.disabled = group < 0 ? 1 : 0;
  a.exclude_kernel = 1;
  a.exclude_hv = 1;
  return static_cast<int>(syscall(SYS_perf_event_open, &a, 0, -1, group, 0));
}

}  // namespace

HwCounters::HwCounters() {
  const uint64_t what[] = {PERF_COUNT_HW_CPU_CYCLES, PERF_COUNT_HW_INSTRUCTIONS,
                           PERF_COUNT_HW_CACHE_MISSES};
  for (int i = 0; i < 3; ++i) {
    fd_[i] = open_counter(what[i], i == 0 ? -1 : fd_[0]);
    if (fd_[i] < 0) {
      why_ = std::string("perf_event_open failed: ") + std::strerror(errno);
      for (int& f : fd_)
        if (f >= 0) close(f), f = -1;
      return;
    }
  }
}

HwCounters::~HwCounters() {
  for (int f : fd_)
    if (f >= 0) close(f);
}

void HwCounters::start() {
  if (!available()) return;
  ioctl(fd_[0], PERF_EVENT_IOC_RESET, PERF_IOC_FLAG_GROUP);
  ioctl(fd_[0], PERF_EVENT_IOC_ENABLE, PERF_IOC_FLAG_GROUP);
}

std::array<uint64_t, 3> HwCounters::stop() {
  std::array<uint64_t, 3> v{};
  if (!available()) return v;
  ioctl(fd_[0], PERF_EVENT_IOC_DISABLE, PERF_IOC_FLAG_GROUP);
  for (int i = 0; i < 3; ++i)
    if (read(fd_[i], &v[i], sizeof(v[i])) != sizeof(v[i])) v[i] = 0;
  return v;
}

}  // namespace convbench
