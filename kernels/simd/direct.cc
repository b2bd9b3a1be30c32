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

// Row-tap plans on the row-tap tile (stems): tiles of MR pixels inside one
// output row, walked along it. A row's tap rows are found once for all its
// tiles and those wholly in the padding are skipped, not read as zeros; the
// table path's per-tile divisions and lookups were a fifth of a stem's time.
template <int MR, int NV>
HWY_INLINE void RunRowTaps(const DirectPlan& p, const float* src, float* dst) {
  const ConvDesc& c = p.c;  // one group (see plan_direct)
  const int64_t xtiles = (c.ow + MR - 1) / MR, units = c.mb * c.oh * xtiles;
  const int64_t K = c.kw * c.ic, lda_row = c.sw * c.ic, dy = c.dh + 1;
  // The window of input columns a tile reads, in pixels.
  const int64_t span = (MR - 1) * c.sw + c.kw;
  Parallel([&] {
    TileScratch<MR> ts(c);
    const float* rows[kMaxTapChunk];
    const int64_t nt = omp_get_num_threads(), tid = omp_get_thread_num();
    const int64_t u1 = units * (tid + 1) / nt;
    for (int64_t u = units * tid / nt; u < u1;) {
      const int64_t r = u / xtiles, n = r / c.oh, oy = r % c.oh;
      const int64_t iy0 = oy * c.sh - c.ph;
      int64_t y0 = 0, y1 = c.kh;
      while (y0 < y1 && iy0 + y0 * dy < 0) ++y0;
      while (y1 > y0 && iy0 + (y1 - 1) * dy >= c.ih) --y1;
      const int64_t taps = y1 - y0;
      for (int64_t j = 0; j < taps; ++j)
        rows[j] = src + (n * c.ih + iy0 + (y0 + j) * dy) * c.iw * c.ic;
      float* out_row = dst + r * c.ow * c.oc;
      for (int64_t xt = u % xtiles; xt < xtiles && u < u1; ++xt, ++u) {
        const int64_t x0 = xt * MR, ix0 = x0 * c.sw - c.pw;
        const int nrows = static_cast<int>(std::min<int64_t>(MR, c.ow - x0));
        if (nrows == MR && ix0 >= 0 && ix0 + span <= c.iw) {
          for (int64_t j = 0; j < taps; ++j) ts.a[j] = rows[j] + ix0 * c.ic;
        } else {
          // The padding clips the tile (or it is a row's short last one).
          for (int64_t j = 0; j < taps; ++j)
            ts.a[j] = RowWindow<MR>(c, rows[j], ix0, ts.clipped + MR * c.kh * K + j * ts.win);
        }
        for (int64_t ob = 0; ob < p.ocb; ++ob) {
          const int64_t col0 = ob * p.nr;
          GemmTileCols<MR, NV, true>(nrows, ts.a, taps, K,
                                     p.wpack.data() + (ob * p.taps * c.ic + y0 * K) * p.nr,
                                     out_row + x0 * c.oc + col0, c.oc,
                                     std::min(p.nr, c.oc - col0), p.bias.data() + col0, p.act,
                                     true, true, lda_row);
        }
      }
    }
  });
}

template <int MR, int NV>
void RunDirectT(const DirectPlan& p, const float* src, float* dst) {
  const ConvDesc& c = p.c;
  if constexpr (kMRRowTaps > 0 && MR == kMRRowTaps)
    if (p.row_taps) return RunRowTaps<MR, NV>(p, src, dst);
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
