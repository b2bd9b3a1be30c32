// One pass of the direct kernel over one pixel tile, for the kernels that run
// it (direct.cc, and fused.cc's convolution-then-depthwise rows).
// Shared SIMD code, re-included once per target (Highway's -inl.h pattern).
#if defined(CONVBENCH_SIMD_DIRECT_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef CONVBENCH_SIMD_DIRECT_INL_H_
#undef CONVBENCH_SIMD_DIRECT_INL_H_
#else
#define CONVBENCH_SIMD_DIRECT_INL_H_
#endif

#include <hwy/highway.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "kernels/simd/gemm_tile-inl.h"
#include "kernels/simd/kernels.hpp"

HWY_BEFORE_NAMESPACE();
namespace convbench::simd {
namespace HWY_NAMESPACE {

// A kernel row that padding clips, copied into `r` with zeros where it is.
inline HWY_NOINLINE const float* ClipRow(const ConvDesc& c, const float* src, int64_t g,
                                  const DirectPlan::Clip& at, float* r) {
  const int64_t icg = c.icg();
  float* w = r;
  // Plain loops: icg is under 16, too short for a library call per pixel.
  for (int64_t x = 0; x < c.kw; ++x, w += icg) {
    const int64_t ix = at.ix0 + x;
    if (ix < 0 || ix >= c.iw) {
      for (int64_t i = 0; i < icg; ++i) w[i] = 0.f;
    } else {
      const float* from = src + at.row + ix * c.ic + g * icg;
      for (int64_t i = 0; i < icg; ++i) w[i] = from[i];
    }
  }
  return r;
}

// A row-tap tile's window of one input row (`row` at column 0): the MR outputs'
// (MR - 1) * sw + kw pixels from column ix0, copied into w with zeros where the
// padding clips them, so that the tile keeps its fixed step. Row-tap plans have
// one group: the pixels inside are one run.
template <int MR>
HWY_INLINE const float* RowWindow(const ConvDesc& c, const float* row, int64_t ix0, float* w) {
  const int64_t span = (MR - 1) * c.sw + c.kw;
  const int64_t lo = std::clamp<int64_t>(-ix0, 0, span);
  const int64_t hi = std::clamp<int64_t>(c.iw - ix0, lo, span);
  std::fill(w, w + lo * c.ic, 0.f);
  std::copy(row + (ix0 + lo) * c.ic, row + (ix0 + hi) * c.ic, w + lo * c.ic);
  std::fill(w + hi * c.ic, w + span * c.ic, 0.f);
  return w;
}

// A plan's passes: its taps, or a pointwise layer's input channels, `steps` of
// them in chunks of `chunk`; each pass adds its partial sums to the previous
// ones in the output.
struct Passes {
  int64_t steps, chunk;
};
HWY_INLINE Passes PassesOf(const DirectPlan& p) {
  return p.pointwise ? Passes{p.c.icg(), p.k_chunk} : Passes{p.taps, p.tap_chunk};
}

// One pass's values: taps (or input channels) from s0, ns of them; `first`
// starts from the bias, `last` activates.
struct Pass {
  int64_t t0, nt, k0, ns;
  bool first, last;
};
HWY_INLINE Pass PassAt(const DirectPlan& p, int64_t s0) {
  const Passes ps = PassesOf(p);
  const int64_t ns = std::min(ps.chunk, ps.steps - s0);
  return {p.pointwise ? 0 : s0, p.pointwise ? 1 : ns, p.pointwise ? s0 : 0, ns, s0 == 0,
          s0 + ns == ps.steps};
}

// Calls f(MR, NV), two std::integral_constant values, for the plan's register
// tile: the one list of the tiles each target compiles. kRowTaps: the stems'
// tile too (pointwise plans never have it).
template <bool kRowTaps = true, class F>
HWY_INLINE void WithTile(const DirectPlan& p, F&& f) {
  using std::integral_constant;
  if constexpr (kRowTaps && kMRRowTaps > 0)
    if (p.mr == kMRRowTaps && p.nv == kNVNarrow)
      return f(integral_constant<int, kMRRowTaps>(), integral_constant<int, kNVNarrow>());
  if constexpr (kMR3 > 0)
    if (p.mr == kMR3 && p.nv == 3)
      return f(integral_constant<int, kMR3>(), integral_constant<int, 3>());
  if (p.mr == kMRNarrow && p.nv == kNVNarrow)
    return f(integral_constant<int, kMRNarrow>(), integral_constant<int, kNVNarrow>());
  f(integral_constant<int, kMR>(), integral_constant<int, kNV>());
}

// A thread's row pointers and copies for one tile.
template <int MR>
struct TileScratch {
  alignas(64) const float* a[kMaxTapChunk * MR];
  int64_t boff[kMaxTapChunk];  // the table path's taps' weights, within the block
  // Clipped kernel rows of a row-tap plan, copied with their zeros; and the
  // input windows of a row-tap tile that the padding clips, one per tap.
  float* clipped = nullptr;
  int64_t win = 0;
  explicit TileScratch(const ConvDesc& c) {
    static thread_local std::vector<float> buf;
    win = ((MR - 1) * c.sw + c.kw) * c.icg();
    const auto n = static_cast<size_t>(MR * c.kh * c.kw * c.icg() + c.kh * win);
    if (buf.size() < n) buf.resize(n);
    clipped = buf.data();
  }
};

// One pass over pixel tile pt of group g, channel blocks ob0 .. ob1-1; out0
// points at the tile's first pixel in the output.
template <int MR, int NV>
HWY_INLINE void DirectTile(const DirectPlan& p, const float* src, float* out0, int64_t pt,
                           int64_t g, int64_t ob0, int64_t ob1, const Pass& ps,
                           TileScratch<MR>& ts) {
  const ConvDesc& c = p.c;
  const int64_t NR = p.nr;
  const int64_t P = c.mb * c.oh * c.ow;
  const int64_t icg = c.icg(), ocg = c.ocg();
  const int64_t t0 = ps.t0, nt = ps.nt, k0 = ps.k0, ns = ps.ns;
  const bool first = ps.first, last = ps.last;
  const float** a = ts.a;
  int64_t* boff = ts.boff;
  const int64_t win = ts.win;
  float* clipped = ts.clipped;
  const int64_t p0 = pt * MR;
  const int nrows = static_cast<int>(std::min<int64_t>(MR, P - p0));
  int64_t taps = nt, K = p.pointwise ? ns : icg;
  int64_t y0 = 0, y1 = 0;  // a strided row-tap tile's taps that read the input
  // Row pointers: the plan's members copied to locals first, since the
  // stores into a[] may alias them and were reloading them every time.
  const int64_t* offs = p.off.data();
  const float* zeros = p.zeros.data();
  const float* srcg = src + g * icg;
  const int64_t last_px = P - 1;
  // A last tile of one row (kMRTail) runs the one-row tile: a 7x7 image's 49
  // pixels end in one row.
  const int ar = MR > kMRTail && nrows <= kMRTail ? kMRTail : MR;
  // A row-tap tile inside one output row and clear of the left and right
  // padding reads each kernel row at a fixed step: one pointer per tap.
  // Only the row-tap tile's kernel takes that path where the target has
  // one: the other tiles never run row-tap plans, and their strided
  // variants would be compile time for every target and no run.
  constexpr bool kStrideTile = kMRRowTaps == 0 || MR == kMRRowTaps;
  bool strided = false;
  if (p.row_taps) {
    // A tap is a kernel row: kw x icg values, contiguous in NHWC.
    const int64_t kh = c.kh;
    K = c.kw * icg;
    taps = kh;
    strided = kStrideTile && p0 % c.ow + MR <= c.ow;
    const int64_t* o0 = offs + p0 * kh;
    const int64_t* o1 = offs + (p0 + MR - 1) * kh;
    // One output row has one input row per tap: all in it, or all padding.
    // The rows wholly in the padding are the first y0 and those from y1: skipped.
    if (strided) {
      while (y0 < kh && o0[y0] == -1) ++y0;
      y1 = kh;
      while (y1 > y0 && o0[y1 - 1] == -1) --y1;
      taps = y1 - y0;
    }
    for (int64_t y = y0; strided && y < y1; ++y) {
      if (o0[y] >= 0 && o1[y] >= 0) {
        a[y - y0] = srcg + o0[y];
      } else {
        // The padding clips the row's first or last pixels: the tile's
        // window of the input row, copied with zeros, keeps the fixed step
        // (per-pixel clipped rows made a quarter of a stem's tiles cost
        // twice a full one).
        const DirectPlan::Clip& at = p.clips[-2 - (o0[y] <= -2 ? o0[y] : o1[y])];
        a[y - y0] = RowWindow<MR>(c, src + at.row, (p0 % c.ow) * c.sw - c.pw,
                              clipped + MR * c.kh * c.kw * icg + y * win);
      }
    }
    for (int i = 0; i < ar && !strided; ++i) {
      const int64_t px = std::min(p0 + i, last_px);
      const int64_t* o = offs + px * kh;
      for (int64_t y = 0; y < kh; ++y) {
        const int64_t v = o[y];
        a[y * ar + i] = v >= 0    ? srcg + v
                        : v == -1 ? zeros
                                  : ClipRow(c, src, g, p.clips[-2 - v],
                                            clipped + (y * MR + i) * K);
      }
    }
  } else if (p.pointwise) {
    for (int i = 0; i < MR; ++i) a[i] = srcg + std::min(p0 + i, last_px) * c.ic + k0;
  } else {
    // Only the pass's taps that read the input for some pixel of the tile.
    const int64_t ptaps = p.taps;
    const int32_t* tl = p.tile_taps.data() + p.tile_first[pt];
    const int32_t* tl_end = p.tile_taps.data() + p.tile_first[pt + 1];
    taps = 0;
    for (; tl < tl_end && *tl < t0 + nt; ++tl) {
      const int64_t t = *tl;
      if (t < t0) continue;
      for (int i = 0; i < ar; ++i) {
        const int64_t o = offs[std::min(p0 + i, last_px) * ptaps + t];
        a[taps * ar + i] = o < 0 ? zeros : srcg + o;
      }
      boff[taps++] = (t - t0) * icg * NR;
    }
  }
  for (int64_t ob = ob0; ob < ob1; ++ob) {
    const float* b = p.wpack.data() + (((g * p.ocb + ob) * p.taps + t0) * icg + k0) * NR;
    const int64_t col0 = ob * NR;
    float* out = out0 + g * ocg + col0;
    const int64_t cols = std::min(NR, ocg - col0);
    const float* bias = p.bias.data() + (g * p.ocb + ob) * NR;
    if (strided) {
      if constexpr (kStrideTile)
        GemmTileCols<MR, NV, true>(nrows, a, taps, K, b + y0 * K * NR, out, c.oc, cols, bias,
                                   p.act, first, last, c.sw * c.ic);
    } else {
      const int64_t* bo = p.pointwise || p.row_taps ? nullptr : boff;
      // A last tile of one row, once per image: the whole block width costs
      // little. After full tiles its weights are in cache (see kMRTail); alone
      // (a fully connected layer) they stream from memory and are prefetched.
      if (ar < MR && P > MR)
        GemmTileRows<kMRTail, NV, false, NV, false>(nrows, a, taps, K, b, out, c.oc, cols, bias,
                                                    p.act, first, last, 0, bo);
      else if (ar < MR)
        GemmTileRows<kMRTail, NV>(nrows, a, taps, K, b, out, c.oc, cols, bias, p.act, first,
                                  last, 0, bo);
      else
        GemmTileCols<MR, NV>(nrows, a, taps, K, b, out, c.oc, cols, bias, p.act, first, last,
                             0, bo);
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace convbench::simd
HWY_AFTER_NAMESPACE();

#endif  // CONVBENCH_SIMD_DIRECT_INL_H_
