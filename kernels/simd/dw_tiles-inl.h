// Depthwise register tiles that hold a kernel row's inputs (KW <= 3), alone
// and in pairs of output rows, and what every depthwise tile shares.
// Shared SIMD code, re-included once per target (Highway's -inl.h pattern).
#if defined(CONVBENCH_SIMD_DW_TILES_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef CONVBENCH_SIMD_DW_TILES_INL_H_
#undef CONVBENCH_SIMD_DW_TILES_INL_H_
#else
#define CONVBENCH_SIMD_DW_TILES_INL_H_
#endif

#include <hwy/highway.h>

#include <algorithm>

#include "kernels/simd/activations-inl.h"
#include "kernels/simd/kernels.hpp"
#include "kernels/simd/vec-inl.h"

HWY_BEFORE_NAMESPACE();
namespace convbench::simd {
namespace HWY_NAMESPACE {

// Input column q of a depthwise tile starting at input column xs: zeros in the
// padding, the first cn channels of a channel tail.
HWY_INLINE V DwLoad(D d, const float* row, int q, int64_t C, int64_t xs, int64_t iw,
                    bool full, size_t cn) {
  const int64_t ix = xs + q;
  return ix < 0 || ix >= iw ? hn::Zero(d)
         : full             ? hn::LoadU(d, row + q * C)
                            : LoadPart(d, row + q * C, cn);
}

// Depthwise register tiles, two shapes. Short kernel rows (KW <= 3) hold the
// (XT-1)*S + KW inputs of a kernel row in registers and apply one weight at a
// time to all XT outputs: 8 outputs. Longer rows keep the KW weights in registers
// and stream the inputs, each loaded once and feeding every output it touches:
// up to 14 outputs (14 divides the usual widths 112, 56, 28, 14). Streaming
// is slower at 3x3, so short rows keep the first shape.
template <int KW>
constexpr bool DwHoldsInputs() {
  return KW <= 3;
}
template <int KW, int S>
constexpr int DwTileWidth() {
  if constexpr (DwHoldsInputs<KW>()) return (kRegs == 32 ? 8 : 4) / S;
  return std::max(2, std::min(14, kRegs - KW - 2));
}

// The activation of a depthwise tile, one branch per tile. ReLU is inline; ELU
// and tanh go through a call on a stack copy, so that their polynomial constants
// are not hoisted into registers the tile loop needs (inline, they made the ReLU
// 3x3 stage 20 % slower). A template parameter instead compiled every depthwise
// tile once per activation: 4x the code, and kernels.cc took 3 minutes, not 40 s.
template <int XT>
HWY_INLINE void ActivateTile(D d, V (&acc)[XT], Act a) {
  if (a == Act::none) return;
  if (a == Act::relu) {
    for (int j = 0; j < XT; ++j) acc[j] = ActivateT<Act::relu>(d, acc[j]);
    return;
  }
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  HWY_ALIGN float buf[XT * hn::MaxLanes(D())];
  for (int j = 0; j < XT; ++j) hn::Store(acc[j], d, buf + j * N);
  ActInplace(a, buf, XT * N);
  for (int j = 0; j < XT; ++j) acc[j] = hn::Load(d, buf + j * N);
}

// Activates a tile and stores its first nout outputs (pixel stride C), cn
// channels each.
template <int XT>
HWY_INLINE void StoreTile(D d, V (&acc)[XT], Act a, float* out, int64_t C, int64_t nout,
                          size_t cn) {
  ActivateTile(d, acc, a);
  const bool full = cn == hn::Lanes(d);
  if (nout == XT && full) {
    for (int j = 0; j < XT; ++j) hn::StoreU(acc[j], d, out + j * C);
    return;
  }
  for (int j = 0; j < XT; ++j) {
    if (j >= nout) continue;
    if (full) hn::StoreU(acc[j], d, out + j * C);
    else StorePart(acc[j], d, out + j * C, cn);
  }
}

// A held-input tile (KW <= 3): outputs x0 .. x0+XT-1 of an output row, one
// channel vector from c0. `row` points at input column xs, channel c0, of the
// first kernel row inside the input (ky0); nky rows follow, rstride apart, and
// are walked by pointer: recomputing each row's address from (n, iy, xs) put a
// chain of three multiplies in front of every row's loads; columns are ldi
// apart. Only the first nout outputs are stored; cn: channels in the vector (N
// when full). Two channel vectors per tile (16 accumulators) or 14 outputs
// spilled and were 60-80 % slower on the 3x3 stage; 7 outputs were no faster
// than 8.
template <int KW, int S>
HWY_INLINE void DwHeldInputTile(const DwPlan& p, const float* row, int64_t ldi, int64_t rstride,
                       int64_t nky, int64_t ky0, float* out, int64_t c0, int64_t xs, bool inside,
                       int64_t nout, size_t cn) {
  constexpr int XT = DwTileWidth<KW, S>();
  constexpr int NIN = (XT - 1) * S + KW;
  const ConvDesc& c = p.c;
  const D d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  const bool full = cn == static_cast<size_t>(N);
  const float* w = p.wpack.data() + ky0 * KW * p.cpad + c0;
  V acc[XT];
  const V bias = hn::LoadU(d, p.bias.data() + c0);
  for (int j = 0; j < XT; ++j) acc[j] = bias;
  for (int64_t ky = 0; ky < nky; ++ky, row += rstride, w += KW * p.cpad) {
    V in[NIN];
    if (inside && full) {
      for (int q = 0; q < NIN; ++q) in[q] = hn::LoadU(d, row + q * ldi);
    } else {
      for (int q = 0; q < NIN; ++q) in[q] = DwLoad(d, row, q, ldi, xs, c.iw, full, cn);
    }
    for (int kx = 0; kx < KW; ++kx) {
      const V wv = hn::LoadU(d, w + kx * p.cpad);
      for (int j = 0; j < XT; ++j) acc[j] = hn::MulAdd(in[j * S + kx], wv, acc[j]);
    }
  }
  StoreTile(d, acc, p.act, out, c.ic, nout, cn);
}

// The pair's sums when all KW + S input rows lie inside the input (KH == KW):
// rows and taps are compile-time, so the whole tile unrolls. kAllInside: every
// column inside and full channel vectors; otherwise each load is masked, to
// nothing in the padding (LoadPart with n = 0 reads no memory on any target, so
// a padding column's address may lie before the tensor). Rows in the padding
// or KH != KW take DwRowPairTile's general loop. Input columns are ldi apart,
// rows rstride.
template <int KW, int S, bool kAllInside, int XT>
HWY_INLINE void DwPairAllRows(const DwPlan& p, const float* row, int64_t ldi, int64_t rstride,
                              const float* w, int64_t xs, size_t cn, V (&a)[XT], V (&b)[XT]) {
  constexpr int NIN = (XT - 1) * S + KW;
  const D d;
  const int64_t wstride = KW * p.cpad;
#pragma GCC unroll 16
  for (int t = 0; t < KW + S; ++t, row += rstride) {
    V in[NIN];
    // The columns by a pointer stepped C at a time and hidden from the
    // optimiser: otherwise GCC may precompute all NIN x (KW+S) addresses, which
    // do not fit in the general registers, and reload them from the stack.
    const float* col = row;
    for (int q = 0; q < NIN; ++q, col += ldi) {
      asm("" : "+r"(col));
      if constexpr (kAllInside) {
        in[q] = hn::LoadU(d, col);
      } else {
        const bool inside = xs + q >= 0 && xs + q < p.c.iw;
        in[q] = LoadPart(d, col, inside ? cn : 0);
      }
    }
    for (int kx = 0; kx < KW; ++kx) {
      if (t < KW) {
        const V wa = hn::LoadU(d, w + t * wstride + kx * p.cpad);
        for (int j = 0; j < XT; ++j) a[j] = hn::MulAdd(in[j * S + kx], wa, a[j]);
      }
      if (t >= S) {
        const V wb = hn::LoadU(d, w + (t - S) * wstride + kx * p.cpad);
        for (int j = 0; j < XT; ++j) b[j] = hn::MulAdd(in[j * S + kx], wb, b[j]);
      }
    }
  }
}

// Two held-input tiles on output rows A and B = A + 1 (vertical stride sh, no
// vertical dilation): the input rows both read are loaded once, and 16
// independent sums instead of 8 leave the FMA latency room. `img` points at image n, input
// row 0, column xs, channel c0; iy0: the input row of A's first kernel row (may
// lie in the padding).
template <int KW, int S>
HWY_INLINE void DwRowPairTile(const DwPlan& p, const float* img, int64_t iy0, float* out,
                           int64_t ldo, int64_t c0, int64_t xs, bool inside, int64_t nout,
                           size_t cn) {
  constexpr int XT = DwTileWidth<KW, S>();
  constexpr int NIN = (XT - 1) * S + KW;
  const ConvDesc& c = p.c;
  const D d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  const int64_t C = c.ic, rstride = c.iw * C, wstride = KW * p.cpad;
  const bool full = cn == static_cast<size_t>(N);
  V a[XT], b[XT];
  const V bias = hn::LoadU(d, p.bias.data() + c0);
  for (int j = 0; j < XT; ++j) a[j] = b[j] = bias;
  if (c.kh == KW && c.sh == S && iy0 >= 0 && iy0 + KW + S <= c.ih) {
    const float* row = img + iy0 * rstride;
    const float* w = p.wpack.data() + c0;
    if (inside && full) DwPairAllRows<KW, S, true>(p, row, C, rstride, w, xs, cn, a, b);
    else DwPairAllRows<KW, S, false>(p, row, C, rstride, w, xs, cn, a, b);
    StoreTile(d, a, p.act, out, C, nout, cn);
    StoreTile(d, b, p.act, out + ldo, C, nout, cn);
    return;
  }
  const int64_t t0 = std::max<int64_t>(0, -iy0);
  const int64_t t1 = std::min<int64_t>(c.kh + c.sh, c.ih - iy0);
  const float* row = img + (iy0 + t0) * rstride;
  const float* w = p.wpack.data() + c0;
  for (int64_t t = t0; t < t1; ++t, row += rstride) {
    V in[NIN];
    if (inside && full) {
      for (int q = 0; q < NIN; ++q) in[q] = hn::LoadU(d, row + q * C);
    } else {
      for (int q = 0; q < NIN; ++q) in[q] = DwLoad(d, row, q, C, xs, c.iw, full, cn);
    }
    if (t < c.kh && t >= c.sh) {
      // Both rows: their FMAs alternate, 16 apart on each sum, twice the FMA
      // latency of slack.
      const float* wa = w + t * wstride;
      const float* wb = w + (t - c.sh) * wstride;
      for (int kx = 0; kx < KW; ++kx) {
        const V va = hn::LoadU(d, wa + kx * p.cpad);
        const V vb = hn::LoadU(d, wb + kx * p.cpad);
        for (int j = 0; j < XT; ++j) {
          a[j] = hn::MulAdd(in[j * S + kx], va, a[j]);
          b[j] = hn::MulAdd(in[j * S + kx], vb, b[j]);
        }
      }
      continue;
    }
    if (t < c.kh) {
      const float* wa = w + t * wstride;
      for (int kx = 0; kx < KW; ++kx) {
        const V wv = hn::LoadU(d, wa + kx * p.cpad);
        for (int j = 0; j < XT; ++j) a[j] = hn::MulAdd(in[j * S + kx], wv, a[j]);
      }
    }
    if (t >= c.sh) {
      const float* wb = w + (t - c.sh) * wstride;
      for (int kx = 0; kx < KW; ++kx) {
        const V wv = hn::LoadU(d, wb + kx * p.cpad);
        for (int j = 0; j < XT; ++j) b[j] = hn::MulAdd(in[j * S + kx], wv, b[j]);
      }
    }
  }
  StoreTile(d, a, p.act, out, C, nout, cn);
  StoreTile(d, b, p.act, out + ldo, C, nout, cn);
}

// The pair tiles of one tile column, one per channel vector.
template <int KW, int S>
HWY_INLINE void DwPairColumn(const DwPlan& p, const float* img, int64_t iy0, float* out,
                             int64_t ldo, int64_t xs, bool inside, int64_t nout) {
  const int64_t N = static_cast<int64_t>(hn::Lanes(D()));
  const int64_t C = p.c.ic;
  for (int64_t c0 = 0; c0 < C; c0 += N)
    DwRowPairTile<KW, S>(p, img + c0, iy0, out + c0, ldo, c0, xs, inside, nout,
                      static_cast<size_t>(std::min(N, C - c0)));
}

}  // namespace HWY_NAMESPACE
}  // namespace convbench::simd
HWY_AFTER_NAMESPACE();

#endif  // CONVBENCH_SIMD_DW_TILES_INL_H_
