// Which SIMD target runs: the CONVBENCH_MAX_ISA cap, and what the other files'
// dispatch asks of it (the target's name, lanes, register tile).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/simd/dispatch.cc"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <cstdlib>
#include <string>

#include "kernels/simd/kernels.hpp"
#include "kernels/simd/vec-inl.h"

HWY_BEFORE_NAMESPACE();
namespace convbench::simd {
namespace HWY_NAMESPACE {

int TileMR() { return kMR; }
int TileNV() { return kNV; }
int TileMRRowTaps() { return kMRRowTaps; }
int TileMR3() { return kMR3; }
int Lanes() { return static_cast<int>(hn::Lanes(D())); }

}  // namespace HWY_NAMESPACE
}  // namespace convbench::simd
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace convbench::simd {

HWY_EXPORT(TileMR);
HWY_EXPORT(TileNV);
HWY_EXPORT(TileMRRowTaps);
HWY_EXPORT(TileMR3);
HWY_EXPORT(Lanes);

namespace {
int64_t g_target = 0;  // the dispatched target, fixed by apply_isa_cap()
}

void apply_isa_cap() {
  static const bool done = [] {
    if (const char* cap = std::getenv("CONVBENCH_MAX_ISA")) {
      const std::string s(cap);
      int64_t disable = 0;
      if (s == "avx2") disable = HWY_AVX3 | HWY_AVX3_DL;
      else if (s == "sse4") disable = HWY_AVX3 | HWY_AVX3_DL | HWY_AVX2;
      else if (s == "scalar") disable = HWY_AVX3 | HWY_AVX3_DL | HWY_AVX2 | HWY_SSE4 | HWY_SSSE3;
      hwy::DisableTargets(disable);
    }
    // In this Highway, SupportedTargets() re-detects the CPU and points the
    // dispatch tables at the best target it finds, ignoring DisableTargets: call
    // it here once, then point them at the capped set. isa() must not call it.
    const int64_t supported = hwy::SupportedTargets();
    hwy::GetChosenTarget().Update(supported);
    const int64_t usable = supported & HWY_TARGETS;
    g_target = usable & -usable;  // lower bits are better targets
    return true;
  }();
  (void)done;
}

Tile gemm_tile() {
  apply_isa_cap();
  return {HWY_DYNAMIC_DISPATCH(TileMR)(), HWY_DYNAMIC_DISPATCH(TileNV)(), lanes(),
          HWY_DYNAMIC_DISPATCH(TileMRRowTaps)(), HWY_DYNAMIC_DISPATCH(TileMR3)()};
}

int lanes() {
  apply_isa_cap();
  return HWY_DYNAMIC_DISPATCH(Lanes)();
}

std::string isa() {
  apply_isa_cap();
  return hwy::TargetName(g_target);
}

}  // namespace convbench::simd
#endif  // HWY_ONCE
