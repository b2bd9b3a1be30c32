// Depthwise convolution, vectorised over channels: the row kernels that choose
// a tile family per kernel width and stride, and the stage itself.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/simd/depthwise.cc"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <algorithm>

#include "kernels/simd/depthwise-inl.h"
#include "kernels/simd/dw_streamed-inl.h"
#include "kernels/simd/dw_tiles-inl.h"
#include "kernels/simd/kernels.hpp"
#include "kernels/simd/threads-inl.h"

HWY_BEFORE_NAMESPACE();
namespace convbench::simd {
namespace HWY_NAMESPACE {

// Output rows oy0 .. oy0+nrows-1 of a depthwise convolution, stride S and no
// horizontal dilation, row r at out0 + r*ldo; XT outputs x one channel vector
// per tile, with up to KW FMAs per input load. Each column of tiles is done for
// all the rows before the next, while its input columns are still in L1. Loops over a tile have
// constant bounds and no early exit, so the accumulators stay in registers.
template <int KW, int S, int XT = DwTileWidth<KW, S>()>
HWY_INLINE void DwRowsSliding(const DwPlan& p, const float* src, float* out0, int64_t ldo,
                              int64_t n, int64_t oy0, int64_t nrows) {
  constexpr int NIN = (XT - 1) * S + KW;
  const ConvDesc& c = p.c;
  const D d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  const int64_t C = c.ic;
  const int64_t ystep = c.dh + 1, rstride = ystep * c.iw * C;
  for (int64_t x0 = 0; x0 < c.ow; x0 += XT) {
    const int64_t xs = x0 * S - c.pw;  // leftmost input column of the tile
    const bool inside = xs >= 0 && xs + NIN <= c.iw;
    for (int64_t r = 0; r < nrows; ++r) {
      const int64_t oy = oy0 + r;
      float* out = out0 + r * ldo;
      if constexpr (DwHoldsInputs<KW>()) {
        if (c.dh == 0 && r + 1 < nrows) {
          const float* img = src + (n * c.ih * c.iw + xs) * C;
          DwPairColumn<KW, S>(p, img, oy * c.sh - c.ph, out + x0 * C, ldo, xs, inside,
                              std::min<int64_t>(XT, c.ow - x0));
          ++r;
          continue;
        }
      }
      // Kernel rows that land inside the input; the others add nothing.
      int64_t ky0 = 0, ky1 = c.kh;
      const int64_t iy0 = oy * c.sh - c.ph;
      while (ky0 < ky1 && iy0 + ky0 * ystep < 0) ++ky0;
      while (ky1 > ky0 && iy0 + (ky1 - 1) * ystep >= c.ih) --ky1;
      if constexpr (DwHoldsInputs<KW>()) {
        const float* row = src + ((n * c.ih + iy0 + ky0 * ystep) * c.iw + xs) * C;
        const int64_t nout = std::min<int64_t>(XT, c.ow - x0);
        for (int64_t c0 = 0; c0 < C; c0 += N)
          DwHeldInputTile<KW, S>(p, row + c0, rstride, ky1 - ky0, ky0, out + x0 * C + c0, c0, xs,
                        inside, nout, static_cast<size_t>(std::min(N, C - c0)));
        continue;
      }
      const float* row = src + ((n * c.ih + iy0 + ky0 * ystep) * c.iw + xs) * C;
      DwStreamedRow<KW, S, XT>(p, row, rstride, ky0, ky1, out + x0 * C, xs,
                         std::min<int64_t>(XT, c.ow - x0));
    }
  }
}

// Any stride and dilation: one output pixel at a time.
HWY_INLINE void DwRowGeneric(const DwPlan& p, const float* src, float* out, int64_t n,
                             int64_t oy) {
  const ConvDesc& c = p.c;
  const D d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  const int64_t C = c.ic;
  for (int64_t c0 = 0; c0 < C; c0 += N) {
    const bool full = c0 + N <= C;
    const size_t cn = static_cast<size_t>(std::min(N, C - c0));
    const V bias = hn::LoadU(d, p.bias.data() + c0);
    for (int64_t ox = 0; ox < c.ow; ++ox) {
      V acc = bias;
      for (int64_t ky = 0; ky < c.kh; ++ky) {
        const int64_t iy = oy * c.sh - c.ph + ky * (c.dh + 1);
        if (iy < 0 || iy >= c.ih) continue;
        for (int64_t kx = 0; kx < c.kw; ++kx) {
          const int64_t ix = ox * c.sw - c.pw + kx * (c.dw + 1);
          if (ix < 0 || ix >= c.iw) continue;
          const float* s = src + ((n * c.ih + iy) * c.iw + ix) * C + c0;
          const V v = full ? hn::LoadU(d, s) : LoadPart(d, s, cn);
          acc = hn::MulAdd(v, hn::LoadU(d, p.wpack.data() + (ky * c.kw + kx) * p.cpad + c0), acc);
        }
      }
      const V v = Activate(d, acc, p.act);
      if (full) hn::StoreU(v, d, out + ox * C + c0);
      else StorePart(v, d, out + ox * C + c0, cn);
    }
  }
}

// Held-input kernels (KW <= 3) at horizontal stride S; false for other widths.
template <int S>
HWY_INLINE bool DwRowsHeldInput(const DwPlan& p, const float* src, float* out, int64_t ldo,
                           int64_t n, int64_t oy, int64_t nrows) {
  switch (p.c.kw) {
    case 1: DwRowsSliding<1, S>(p, src, out, ldo, n, oy, nrows); return true;
    case 2: DwRowsSliding<2, S>(p, src, out, ldo, n, oy, nrows); return true;
    case 3: DwRowsSliding<3, S>(p, src, out, ldo, n, oy, nrows); return true;
    default: return false;
  }
}

// At most XT outputs per tile, and no more than the registers allow.
template <int KW, int S, int XT>
constexpr int DwXT() {
  return std::min(XT, DwTileWidth<KW, S>());
}

// Streamed kernels (KW 4..9) at horizontal stride S, XT outputs per tile.
template <int S, int XT>
HWY_NOINLINE void DwRowsStreamedXT(const DwPlan& p, const float* src, float* out, int64_t ldo,
                                   int64_t n, int64_t oy, int64_t nrows) {
  switch (p.c.kw) {
    case 4: return DwRowsSliding<4, S, DwXT<4, S, XT>()>(p, src, out, ldo, n, oy, nrows);
    case 5: return DwRowsSliding<5, S, DwXT<5, S, XT>()>(p, src, out, ldo, n, oy, nrows);
    case 6: return DwRowsSliding<6, S, DwXT<6, S, XT>()>(p, src, out, ldo, n, oy, nrows);
    case 7: return DwRowsSliding<7, S, DwXT<7, S, XT>()>(p, src, out, ldo, n, oy, nrows);
    case 8: return DwRowsSliding<8, S, DwXT<8, S, XT>()>(p, src, out, ldo, n, oy, nrows);
    default: return DwRowsSliding<9, S, DwXT<9, S, XT>()>(p, src, out, ldo, n, oy, nrows);
  }
}

// Rows of 7 (or 21, 35) outputs take half-width tiles: 14-wide ones computed
// twice the outputs they store on 7x7 images.
template <int S>
HWY_INLINE void DwRowsStreamed(const DwPlan& p, const float* src, float* out, int64_t ldo,
                               int64_t n, int64_t oy, int64_t nrows) {
  constexpr int kWide = 14, kHalf = 7;
  const int64_t ow = p.c.ow;
  const auto computed = [&](int64_t xt) { return (ow + xt - 1) / xt * xt; };
  if constexpr (kRegs == 32)
    if (computed(kHalf) < computed(kWide))
      return DwRowsStreamedXT<S, kHalf>(p, src, out, ldo, n, oy, nrows);
  DwRowsStreamedXT<S, kWide>(p, src, out, ldo, n, oy, nrows);
}

// The held-input and generic kernels, compiled apart from the streamed ones.
// The 3x3 pair tile uses 28 of the 32 vector registers and most general ones,
// and how GCC allocated them moved with unrelated code in the same function
// (with the streamed tiles' edge variants beside it, the 3x3 stage slowed by a
// tenth); this split and the hidden column pointer in DwPairAllRows prevent it.
HWY_NOINLINE void DwRowsHeldAndGeneric(const DwPlan& p, const float* src, float* out, int64_t ldo,
                              int64_t n, int64_t oy, int64_t nrows) {
  if (p.c.dw == 0 && p.c.sw == 1 && DwRowsHeldInput<1>(p, src, out, ldo, n, oy, nrows)) return;
  if (p.c.dw == 0 && p.c.sw == 2 && DwRowsHeldInput<2>(p, src, out, ldo, n, oy, nrows)) return;
  for (int64_t r = 0; r < nrows; ++r) DwRowGeneric(p, src, out + r * ldo, n, oy + r);
}

// Output rows oy .. oy+nrows-1 of image n, row r at out + r*ldo.
void DwRows(const DwPlan& p, const float* src, float* out, int64_t ldo, int64_t n, int64_t oy,
            int64_t nrows) {
  const ConvDesc& c = p.c;
  if (c.dw == 0 && c.kw >= 4 && c.kw <= 9 && (c.sw == 1 || c.sw == 2)) {
    if (c.sw == 1) DwRowsStreamed<1>(p, src, out, ldo, n, oy, nrows);
    else DwRowsStreamed<2>(p, src, out, ldo, n, oy, nrows);
    return;
  }
  DwRowsHeldAndGeneric(p, src, out, ldo, n, oy, nrows);
}

void RunDw(const DwPlan& p, const float* src, float* dst) {
  const int64_t ld = p.c.ow * p.c.oc;
  // Blocks of up to 4 rows (see DwRowsSliding).
  Parallel([&] {
    ForThreadRows(p.c.mb, p.c.oh, 4, [&](int64_t n, int64_t oy, int64_t rr) {
      DwRows(p, src, dst + (n * p.c.oh + oy) * ld, ld, n, oy, rr);
    });
  });
}

}  // namespace HWY_NAMESPACE
}  // namespace convbench::simd
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace convbench::simd {

HWY_EXPORT(RunDw);

void run_dw(const DwPlan& p, const float* src, float* dst) {
  apply_isa_cap();
  HWY_DYNAMIC_DISPATCH(RunDw)(p, src, dst);
}

}  // namespace convbench::simd
#endif  // HWY_ONCE
