// Depthwise register tiles that hold a kernel row's weights and stream the
// inputs (KW >= 4).
// Shared SIMD code, re-included once per target (Highway's -inl.h pattern).
#if defined(CONVBENCH_SIMD_DW_STREAMED_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef CONVBENCH_SIMD_DW_STREAMED_INL_H_
#undef CONVBENCH_SIMD_DW_STREAMED_INL_H_
#else
#define CONVBENCH_SIMD_DW_STREAMED_INL_H_
#endif

#include <hwy/highway.h>

#include <algorithm>

#include "kernels/simd/dw_tiles-inl.h"
#include "kernels/simd/vec-inl.h"

HWY_BEFORE_NAMESPACE();
namespace convbench::simd {
namespace HWY_NAMESPACE {

// A streamed tile (KW > 3): outputs x0 .. x0+XT-1 of an output row, one channel
// vector from c0. `row` points at input column xs, channel c0, of input row
// ky0; kernel rows ky0 .. ky1-1 follow, rstride apart. Each input is loaded
// once and feeds the up to KW outputs it touches. Without kMasked the vector
// is full and the first kPadLeft and last kPadRight of the NIN input columns lie in the
// padding and are skipped at compile time, the rest inside; with kMasked each
// column is tested. Two channel vectors per tile (8 outputs, 16 sums) were
// slower. XT: outputs per tile.
template <int KW, int S, int XT, bool kMasked, int kPadLeft, int kPadRight>
HWY_INLINE void DwStreamedTile(const DwPlan& p, const float* row, int64_t rstride, int64_t ky0,
                             int64_t ky1, float* out, int64_t c0, int64_t xs, int64_t nout,
                             size_t cn) {
  constexpr int NIN = (XT - 1) * S + KW;
  const D d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  const int64_t C = p.c.ic;
  const bool full = !kMasked || cn == static_cast<size_t>(N);
  V acc[XT];
  const V bias = hn::LoadU(d, p.bias.data() + c0);
  for (int j = 0; j < XT; ++j) acc[j] = bias;
  const float* w = p.wpack.data() + ky0 * KW * p.cpad + c0;
  for (int64_t ky = ky0; ky < ky1; ++ky, row += rstride, w += KW * p.cpad) {
    V wv[KW];
    for (int kx = 0; kx < KW; ++kx) wv[kx] = hn::LoadU(d, w + kx * p.cpad);
#pragma GCC unroll 64
    for (int q = kPadLeft; q < NIN - kPadRight; ++q) {
      const V v = kMasked ? DwLoad(d, row, q, C, xs, p.c.iw, full, cn)
                          : hn::LoadU(d, row + q * C);
#pragma GCC unroll 16
      for (int kx = 0; kx < KW; ++kx) {
        const int jj = q - kx;  // column q feeds output jj/S through tap kx
        if (jj < 0 || jj % S != 0 || jj / S >= XT) continue;
        acc[jj / S] = hn::MulAdd(v, wv[kx], acc[jj / S]);
      }
    }
  }
  StoreTile(d, acc, p.act, out, C, nout, cn);
}

// A streamed row whose edge tile has PyTorch's stride-2 padding of (KW - 1) / 2
// on an even input: PR columns on the left, PL on the right (TensorFlow's "same"
// pads the other way), skipped at compile time. Compiled apart: beside the other
// edge tiles in one function it slowed every streamed row by 5-15 %.
template <int KW, int S, int XT>
HWY_NOINLINE void DwStreamedRowSwapped(const DwPlan& p, const float* row, int64_t rstride,
                                       int64_t ky0, int64_t ky1, float* out, int64_t xs,
                                       int64_t nout) {
  constexpr int NIN = (XT - 1) * S + KW;
  constexpr int PL = (KW - S) / 2, PR = KW - S - PL;
  const int64_t N = static_cast<int64_t>(hn::Lanes(D()));
  const int64_t C = p.c.ic, iw = p.c.iw, cfull = C / N * N;
  const size_t n = static_cast<size_t>(N);
  int64_t c0 = 0;
  if (xs == -PR && xs + NIN <= iw) {
    for (; c0 < cfull; c0 += N)
      DwStreamedTile<KW, S, XT, false, PR, 0>(p, row + c0, rstride, ky0, ky1, out + c0, c0, xs,
                                              nout, n);
  } else if (xs >= 0 && xs + NIN - PL == iw) {
    for (; c0 < cfull; c0 += N)
      DwStreamedTile<KW, S, XT, false, 0, PL>(p, row + c0, rstride, ky0, ky1, out + c0, c0, xs,
                                              nout, n);
  } else {
    for (; c0 < cfull; c0 += N)
      DwStreamedTile<KW, S, XT, false, PR, PL>(p, row + c0, rstride, ky0, ky1, out + c0, c0, xs,
                                               nout, n);
  }
  for (; c0 < C; c0 += N)
    DwStreamedTile<KW, S, XT, true, 0, 0>(p, row + c0, rstride, ky0, ky1, out + c0, c0, xs, nout,
                                        static_cast<size_t>(std::min(N, C - c0)));
}

// The streamed tiles of one output row from input column xs, one per channel
// vector. An edge tile whose padding is exactly the "same" padding, PL = (KW-S)/2
// columns on the left or PR = KW-S-PL on the right (the first and last tile of a
// row whose width the tile divides; both when one tile is the whole row, as on
// 7x7 images), skips it at compile time; other edge tiles and channel tails test
// each column, which cost the 5x5 stage a fifth of its time when half its tiles
// (56 wide, 14 per tile) did.
template <int KW, int S, int XT>
HWY_INLINE void DwStreamedRow(const DwPlan& p, const float* row, int64_t rstride, int64_t ky0,
                            int64_t ky1, float* out, int64_t xs, int64_t nout) {
  constexpr int NIN = (XT - 1) * S + KW;
  constexpr int PL = (KW - S) / 2, PR = KW - S - PL;
  const int64_t N = static_cast<int64_t>(hn::Lanes(D()));
  const int64_t C = p.c.ic, iw = p.c.iw, cfull = C / N * N;
  const size_t n = static_cast<size_t>(N);
  int64_t c0 = 0;
  if (xs >= 0 && xs + NIN <= iw) {
    for (; c0 < cfull; c0 += N)
      DwStreamedTile<KW, S, XT, false, 0, 0>(p, row + c0, rstride, ky0, ky1, out + c0, c0, xs,
                                             nout, n);
  } else if (xs == -PL && xs + NIN <= iw) {
    for (; c0 < cfull; c0 += N)
      DwStreamedTile<KW, S, XT, false, PL, 0>(p, row + c0, rstride, ky0, ky1, out + c0, c0, xs,
                                              nout, n);
  } else if (xs >= 0 && xs + NIN - PR == iw) {
    for (; c0 < cfull; c0 += N)
      DwStreamedTile<KW, S, XT, false, 0, PR>(p, row + c0, rstride, ky0, ky1, out + c0, c0, xs,
                                              nout, n);
  } else if (xs == -PL && xs + NIN - PR == iw) {
    for (; c0 < cfull; c0 += N)
      DwStreamedTile<KW, S, XT, false, PL, PR>(p, row + c0, rstride, ky0, ky1, out + c0, c0, xs,
                                               nout, n);
  } else if constexpr (PL != PR) {
    if ((xs == -PR && xs + NIN <= iw) || ((xs >= 0 || xs == -PR) && xs + NIN - PL == iw))
      return DwStreamedRowSwapped<KW, S, XT>(p, row, rstride, ky0, ky1, out, xs, nout);
  }
  for (; c0 < C; c0 += N)
    DwStreamedTile<KW, S, XT, true, 0, 0>(p, row + c0, rstride, ky0, ky1, out + c0, c0, xs, nout,
                                        static_cast<size_t>(std::min(N, C - c0)));
}

}  // namespace HWY_NAMESPACE
}  // namespace convbench::simd
HWY_AFTER_NAMESPACE();

#endif  // CONVBENCH_SIMD_DW_STREAMED_INL_H_
