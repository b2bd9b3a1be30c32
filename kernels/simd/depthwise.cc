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
template <int KW, int S, int XT = DwTileWidth<KW, S>(), bool kHeld = DwHoldsInputs<KW>()>
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
      if constexpr (kHeld) {
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
      if constexpr (kHeld) {
        const float* row = src + ((n * c.ih + iy0 + ky0 * ystep) * c.iw + xs) * C;
        const int64_t nout = std::min<int64_t>(XT, c.ow - x0);
        for (int64_t c0 = 0; c0 < C; c0 += N)
          DwHeldInputTile<KW, S>(p, row + c0, C, rstride, ky1 - ky0, ky0, out + x0 * C + c0, c0,
                                 xs, inside, nout, static_cast<size_t>(std::min(N, C - c0)));
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

// The 3-wide kernel's streamed rows (see plan_dw), compiled apart from the
// wider kernels': in the same function it slowed theirs by 5-15 %.
template <int S, int XT>
HWY_NOINLINE void DwRowsStreamed3(const DwPlan& p, const float* src, float* out, int64_t ldo,
                                  int64_t n, int64_t oy, int64_t nrows) {
  DwRowsSliding<3, S, std::min(XT, kRegs - 5), false>(p, src, out, ldo, n, oy, nrows);
}

// Rows of 7 (or 21, 35) outputs take half-width tiles: 14-wide ones computed
// twice the outputs they store on 7x7 images.
template <int S>
HWY_INLINE void DwRowsStreamed(const DwPlan& p, const float* src, float* out, int64_t ldo,
                               int64_t n, int64_t oy, int64_t nrows) {
  constexpr int kWide = 14, kHalf = 7;
  const int64_t ow = p.c.ow;
  if (p.c.kw == 3) {
    if (kRegs == 32 && (ow + kHalf - 1) / kHalf * kHalf < (ow + kWide - 1) / kWide * kWide)
      return DwRowsStreamed3<S, kHalf>(p, src, out, ldo, n, oy, nrows);
    return DwRowsStreamed3<S, kWide>(p, src, out, ldo, n, oy, nrows);
  }
  const auto computed = [&](int64_t xt) { return (ow + xt - 1) / xt * xt; };
  if constexpr (kRegs == 32)
    if (computed(kHalf) < computed(kWide))
      return DwRowsStreamedXT<S, kHalf>(p, src, out, ldo, n, oy, nrows);
  DwRowsStreamedXT<S, kWide>(p, src, out, ldo, n, oy, nrows);
}

// The compact path (DwPlan::compact). On the tensor a tile's loads are one
// channel offset of 20-45 pixels C floats apart; at a multiple of 1024 channels
// (4 KiB) they all fall in one L1 set, and at 512 in two, so the next tile's
// lines do not survive in L1 (7x7x1024 ran 2.4x slower than 7x7x1008). Here a
// band of input rows, kDwBlock channels at a time, goes to a zero-padded
// scratch with pixels kDwBlock floats apart, and every tile on it is inside.

// Input rows iy0 .. iy0+rows-1 of image n, columns -pw .. -pw+W-1, channels
// cb .. cb+kDwBlock-1 to buf[row][column][kDwBlock]; with kZero the padding
// is zeroed and nothing copied: every channel block of a band has the same
// padding.
template <bool kZero>
HWY_INLINE void DwCopyBand(const ConvDesc& c, const float* src, int64_t n, int64_t iy0,
                           int64_t rows, int64_t W, int64_t cb, float* buf) {
  const D d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  const int64_t x0 = std::min(c.pw, W), x1 = std::max(x0, std::min(W, c.pw + c.iw));
  for (int64_t t = 0; t < rows; ++t, buf += W * kDwBlock) {
    const int64_t iy = iy0 + t;
    const bool pad_row = iy < 0 || iy >= c.ih;
    if constexpr (kZero) {
      for (int64_t x = 0; x < W; ++x)
        if (pad_row || x < x0 || x >= x1)
          for (int64_t k = 0; k < kDwBlock; k += N) hn::Store(hn::Zero(d), d, buf + x * kDwBlock + k);
      continue;
    }
    if (pad_row) continue;
    const float* s = src + ((n * c.ih + iy) * c.iw + x0 - c.pw) * c.ic + cb;
    for (int64_t x = x0; x < x1; ++x, s += c.ic) {
      for (int64_t k = 0; k < kDwBlock; k += N)
        hn::Store(hn::LoadU(d, s + k), d, buf + x * kDwBlock + k);
    }
  }
}

template <int KW, int S>
HWY_INLINE void DwRowsCompact(const DwPlan& p, const float* src, float* out, int64_t ldo,
                              int64_t n, int64_t oy0, int64_t nrows) {
  constexpr int XT = DwTileWidth<KW, S>(), NIN = (XT - 1) * S + KW;
  const ConvDesc& c = p.c;
  const D d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  const int64_t C = c.ic, ntile = (c.ow + XT - 1) / XT;
  const int64_t W = (ntile - 1) * XT * S + NIN, rstride = W * kDwBlock;
  // Output rows per band: as many as the scratch holds, an even number.
  int64_t band = ((kDwScratch / rstride - KW) / S + 1) & ~int64_t{1};
  band = std::max<int64_t>(1, std::min(band, nrows));
  HWY_ALIGN float buf[kDwScratch];
  for (int64_t b0 = 0; b0 < nrows; b0 += band) {
    const int64_t br = std::min(band, nrows - b0);
    const int64_t iy0 = (oy0 + b0) * S - c.ph, rows = (br - 1) * S + KW;
    DwCopyBand<true>(c, src, n, iy0, rows, W, 0, buf);
    for (int64_t cb = 0; cb < C; cb += kDwBlock) {
      DwCopyBand<false>(c, src, n, iy0, rows, W, cb, buf);
      for (int64_t xt = 0; xt < ntile; ++xt) {
        const int64_t nout = std::min<int64_t>(XT, c.ow - xt * XT);
        for (int64_t r = 0; r < br; r += 2) {
          float* o = out + (b0 + r) * ldo + xt * XT * C + cb;
          const float* in = buf + r * S * rstride + xt * XT * S * kDwBlock;
          for (int64_t v = 0; v < kDwBlock; v += N) {
            if (r + 1 == br) {
              DwHeldInputTile<KW, S>(p, in + v, kDwBlock, rstride, KW, 0, o + v, cb + v, 0, true,
                                     nout, static_cast<size_t>(N));
              continue;
            }
            V a[XT], b[XT];
            const V bias = hn::LoadU(d, p.bias.data() + cb + v);
            for (int j = 0; j < XT; ++j) a[j] = b[j] = bias;
            DwPairAllRows<KW, S, true>(p, in + v, kDwBlock, rstride, p.wpack.data() + cb + v, 0,
                                       static_cast<size_t>(N), a, b);
            StoreTile(d, a, p.act, o + v, C, nout, static_cast<size_t>(N));
            StoreTile(d, b, p.act, o + v + ldo, C, nout, static_cast<size_t>(N));
          }
        }
      }
    }
  }
}

// The compact path, compiled apart for the same reason as the next function.
HWY_NOINLINE void DwRowsCompactAny(const DwPlan& p, const float* src, float* out, int64_t ldo,
                                   int64_t n, int64_t oy, int64_t nrows) {
  const int k = static_cast<int>(p.c.kw) * 2 + static_cast<int>(p.c.sw);
  switch (k) {
    case 3: return DwRowsCompact<1, 1>(p, src, out, ldo, n, oy, nrows);
    case 4: return DwRowsCompact<1, 2>(p, src, out, ldo, n, oy, nrows);
    case 5: return DwRowsCompact<2, 1>(p, src, out, ldo, n, oy, nrows);
    case 6: return DwRowsCompact<2, 2>(p, src, out, ldo, n, oy, nrows);
    case 7: return DwRowsCompact<3, 1>(p, src, out, ldo, n, oy, nrows);
    default: return DwRowsCompact<3, 2>(p, src, out, ldo, n, oy, nrows);
  }
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
  if (p.compact) return DwRowsCompactAny(p, src, out, ldo, n, oy, nrows);
  if (p.streamed) {
    if (p.c.sw == 1) DwRowsStreamed<1>(p, src, out, ldo, n, oy, nrows);
    else DwRowsStreamed<2>(p, src, out, ldo, n, oy, nrows);
    return;
  }
  DwRowsHeldAndGeneric(p, src, out, ldo, n, oy, nrows);
}

void RunDw(const DwPlan& p, const float* src, float* dst) {
  const int64_t ld = p.c.ow * p.c.oc;
  // Blocks of up to 4 rows (see DwRowsSliding); the compact path takes a
  // thread's share of an image at once, its bands as tall as the scratch allows.
  // (Splitting channel blocks between two threads instead, each whole images,
  // was 1.5x slower on 14x14x512.)
  const int64_t block = p.compact ? p.c.oh : 4;
  Parallel([&] {
    ForThreadRows(p.c.mb, p.c.oh, block, [&](int64_t n, int64_t oy, int64_t rr) {
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
