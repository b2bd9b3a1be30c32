// The direct convolution: an implicit GEMM over an indirection table, and the
// pointwise GEMM (the same register tile reading input rows in place).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/simd/direct.cc"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <algorithm>

#include "kernels/simd/gemm_tile-inl.h"
#include "kernels/simd/kernels.hpp"
#include "kernels/simd/threads-inl.h"

HWY_BEFORE_NAMESPACE();
namespace convbench::simd {
namespace HWY_NAMESPACE {

void RunDirect(const DirectPlan& p, const float* src, float* dst) {
  const ConvDesc& c = p.c;
  const D d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  const int64_t NR = kNV * N;
  const int64_t P = c.mb * c.oh * c.ow;
  const int64_t ptiles = (P + kMR - 1) / kMR;
  const int64_t icg = c.icg(), ocg = c.ocg();
  const int64_t units = c.g * ptiles;
  for (int64_t t0 = 0; t0 < p.taps; t0 += p.tap_chunk) {
    const int64_t nt = std::min(p.tap_chunk, p.taps - t0);
    const bool first = t0 == 0, last = t0 + nt == p.taps;
    Parallel([&] {
      alignas(64) const float* a[kMaxTapChunk * kMR];
#pragma omp for schedule(static)
      for (int64_t u = 0; u < units; ++u) {
        const int64_t pt = u % ptiles, g = u / ptiles;
        const int64_t p0 = pt * kMR;
        const int nrows = static_cast<int>(std::min<int64_t>(kMR, P - p0));
        for (int64_t t = 0; t < nt; ++t)
          for (int i = 0; i < kMR; ++i) {
            const int64_t px = std::min(p0 + i, P - 1);
            if (p.pointwise) {
              a[t * kMR + i] = src + px * c.ic + g * icg;
            } else {
              const int64_t o = p.off[px * p.taps + t0 + t];
              a[t * kMR + i] = o < 0 ? p.zeros.data() : src + o + g * icg;
            }
          }
        // Every channel block of the tile while its input rows are in L1; the
        // tap chunk is sized so that all blocks' weights stay in L2 together.
        for (int64_t ob = 0; ob < p.ocb; ++ob) {
          const float* b = p.wpack.data() + ((g * p.ocb + ob) * p.taps + t0) * icg * NR;
          const int64_t col0 = ob * NR;
          GemmTileRows(nrows, a, nt, icg, b, dst + p0 * c.oc + g * ocg + col0, c.oc,
                       std::min(NR, ocg - col0), p.bias.data() + (g * p.ocb + ob) * NR, p.act,
                       first, last);
        }
      }
    });
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace convbench::simd
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace convbench::simd {

HWY_EXPORT(RunDirect);

void run_direct(const DirectPlan& p, const float* src, float* dst) {
  apply_isa_cap();
  HWY_DYNAMIC_DISPATCH(RunDirect)(p, src, dst);
}

}  // namespace convbench::simd
#endif  // HWY_ONCE
