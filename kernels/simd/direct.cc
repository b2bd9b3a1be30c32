// The direct convolution: an implicit GEMM over an indirection table, and the
// pointwise GEMM (the same register tile reading input rows in place), run
// tile by tile (direct-inl.h) over the threads.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/simd/direct.cc"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>
#include <omp.h>

#include <algorithm>
#include <vector>

#include "kernels/simd/direct-inl.h"
#include "kernels/simd/gemm_tile-inl.h"
#include "kernels/simd/kernels.hpp"
#include "kernels/simd/threads-inl.h"

HWY_BEFORE_NAMESPACE();
namespace convbench::simd {
namespace HWY_NAMESPACE {

template <int MR, int NV>
void RunDirectT(const DirectPlan& p, const float* src, float* dst) {
  const ConvDesc& c = p.c;
  const int64_t P = c.mb * c.oh * c.ow;
  const int64_t ptiles = (P + MR - 1) / MR;
  // Work units: (group, pixel tile) with every channel block inside, or, with
  // blocks_outer, (group, channel block, pixel tile).
  // Too few pixel tiles to share evenly between the threads (a fully connected
  // layer has one; a 7x7 image's 9 tiles gave two threads 5 and 4, the last of
  // one row): the channel blocks are shared too.
  const int64_t T = omp_get_max_threads();
  const auto uneven = [&](int64_t units) {
    return static_cast<double>((units + T - 1) / T * T) / static_cast<double>(units);
  };
  const bool by_block = p.blocks_outer || c.g * ptiles < 4 * T ||
                        (T > 1 && uneven(c.g * ptiles) > uneven(c.g * p.ocb * ptiles) + 0.05);
  const int64_t blocks = by_block ? p.ocb : 1;
  const int64_t units = c.g * blocks * ptiles;
  const Passes passes = PassesOf(p);
  Parallel([&] {
    TileScratch<MR> ts(c);
    for (int64_t s0 = 0; s0 < passes.steps; s0 += passes.chunk) {
      const Pass ps = PassAt(p, s0);
      // No barrier between passes: a static schedule of the same units in the
      // same region gives each thread the same units in every pass (OpenMP
      // guarantees it), so a unit's passes run in order on one thread. A
      // barrier per pass let the slower vCPU set the end of every pass.
#pragma omp for schedule(static) nowait
      for (int64_t u = 0; u < units; ++u) {
        const int64_t pt = u % ptiles, gb = u / ptiles;
        // Every channel block of the tile while its input rows are in L1 (the tap
        // chunk is sized so that all blocks' weights stay in L2 together), or the
        // unit's one block.
        const int64_t ob0 = by_block ? gb % blocks : 0;
        DirectTile<MR, NV>(p, src, dst + pt * MR * c.oc, pt, gb / blocks, ob0,
                           by_block ? ob0 + 1 : p.ocb, ps, ts);
      }
    }
  });
}

void RunDirect(const DirectPlan& p, const float* src, float* dst) {
  WithTile(p, [&](auto mr, auto nv) {
    RunDirectT<decltype(mr)::value, decltype(nv)::value>(p, src, dst);
  });
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
