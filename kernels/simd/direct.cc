// The direct convolution: an implicit GEMM over an indirection table, and the
// pointwise GEMM (the same register tile reading input rows in place).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/simd/direct.cc"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>
#include <omp.h>

#include <algorithm>
#include <vector>

#include "kernels/simd/gemm_tile-inl.h"
#include "kernels/simd/kernels.hpp"
#include "kernels/simd/threads-inl.h"

HWY_BEFORE_NAMESPACE();
namespace convbench::simd {
namespace HWY_NAMESPACE {

// A kernel row that padding clips, copied into `r` with zeros where it is.
HWY_NOINLINE const float* ClipRow(const ConvDesc& c, const float* src, int64_t g,
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

template <int MR, int NV>
void RunDirectT(const DirectPlan& p, const float* src, float* dst) {
  const ConvDesc& c = p.c;
  const int64_t NR = p.nr;
  const int64_t P = c.mb * c.oh * c.ow;
  const int64_t ptiles = (P + MR - 1) / MR;
  const int64_t icg = c.icg(), ocg = c.ocg();
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
  // Passes: tap chunks, or for a pointwise layer chunks of its input channels;
  // each pass adds its partial sums to the previous ones in dst.
  const int64_t steps = p.pointwise ? icg : p.taps;
  const int64_t chunk = p.pointwise ? p.k_chunk : p.tap_chunk;
  for (int64_t s0 = 0; s0 < steps; s0 += chunk) {
    const int64_t ns = std::min(chunk, steps - s0);
    const bool first = s0 == 0, last = s0 + ns == steps;
    const int64_t t0 = p.pointwise ? 0 : s0, nt = p.pointwise ? 1 : ns;
    const int64_t k0 = p.pointwise ? s0 : 0;
    Parallel([&] {
      alignas(64) const float* a[kMaxTapChunk * MR];
      int64_t lda[kMaxTapChunk];
      int64_t boff[kMaxTapChunk];  // the table path's taps' weights, within the block
      // Clipped kernel rows of a row-tap plan, copied with their zeros; and the
      // input windows of a row-tap tile that the padding clips, one per tap.
      static thread_local std::vector<float> clipped;
      const int64_t win = ((MR - 1) * c.sw + c.kw) * icg;
      if (p.row_taps && clipped.size() < static_cast<size_t>(MR * c.kh * c.kw * icg + c.kh * win))
        clipped.resize(static_cast<size_t>(MR * c.kh * c.kw * icg + c.kh * win));
#pragma omp for schedule(static)
      for (int64_t u = 0; u < units; ++u) {
        const int64_t pt = u % ptiles, gb = u / ptiles;
        const int64_t g = gb / blocks;
        const int64_t p0 = pt * MR;
        const int nrows = static_cast<int>(std::min<int64_t>(MR, P - p0));
        int64_t taps = nt, K = p.pointwise ? ns : icg;
        // Row pointers: the plan's members copied to locals first, since the
        // stores into a[] may alias them and were reloading them every time.
        const int64_t* offs = p.off.data();
        const float* zeros = p.zeros.data();
        const float* srcg = src + g * icg;
        const int64_t last_px = P - 1;
        // A last tile of at most kMRTail rows runs the tile of that many (its
        // row pointers kMRTail apart): a 7x7 image's 49 pixels end in one row.
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
          for (int64_t y = 0; strided && y < kh; ++y) {
            // One output row has one input row per tap: all in it, or all padding.
            if (o0[y] >= 0 && o1[y] >= 0) {
              a[y] = srcg + o0[y];
              lda[y] = c.sw * c.ic;
            } else if (o0[y] == -1) {
              a[y] = zeros;
              lda[y] = 0;
            } else {
              // The padding clips the row's first or last pixels: the tile's
              // window of the input row, copied with zeros, keeps the fixed step
              // (per-pixel clipped rows made a quarter of a stem's tiles cost
              // twice a full one).
              const DirectPlan::Clip& at = p.clips[-2 - (o0[y] <= -2 ? o0[y] : o1[y])];
              const int64_t ix0 = (p0 % c.ow) * c.sw - c.pw;
              // Row-tap plans have one group: the inside pixels are one run.
              float* w = clipped.data() + MR * c.kh * c.kw * icg + y * win;
              const int64_t lo = std::max<int64_t>(ix0, 0) - ix0;
              const int64_t hi = std::min<int64_t>(ix0 + win / icg, c.iw) - ix0;
              std::fill(w, w + lo * icg, 0.f);
              std::copy(src + at.row + (ix0 + lo) * c.ic, src + at.row + (ix0 + hi) * c.ic,
                        w + lo * icg);
              std::fill(w + hi * icg, w + win, 0.f);
              a[y] = w;
              lda[y] = c.sw * icg;
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
                                                  clipped.data() + (y * MR + i) * K);
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
        // Every channel block of the tile while its input rows are in L1 (the tap
        // chunk is sized so that all blocks' weights stay in L2 together), or the
        // unit's one block.
        const int64_t ob0 = by_block ? gb % blocks : 0;
        const int64_t ob1 = by_block ? ob0 + 1 : p.ocb;
        for (int64_t ob = ob0; ob < ob1; ++ob) {
          const float* b = p.wpack.data() + (((g * p.ocb + ob) * p.taps + t0) * icg + k0) * NR;
          const int64_t col0 = ob * NR;
          float* out = dst + p0 * c.oc + g * ocg + col0;
          const int64_t cols = std::min(NR, ocg - col0);
          const float* bias = p.bias.data() + (g * p.ocb + ob) * NR;
          if (strided) {
            if constexpr (kStrideTile)
              GemmTileCols<MR, NV, true>(nrows, a, taps, K, b, out, c.oc, cols, bias, p.act,
                                         first, last, lda);
          } else {
            const int64_t* bo = p.pointwise || p.row_taps ? nullptr : boff;
            if (ar < MR)  // once per image: the whole block width costs little
              GemmTileRows<kMRTail, NV>(nrows, a, taps, K, b, out, c.oc, cols, bias, p.act, first,
                                        last, nullptr, bo);
            else
              GemmTileCols<MR, NV>(nrows, a, taps, K, b, out, c.oc, cols, bias, p.act, first, last,
                                   nullptr, bo);
          }
        }
      }
    });
  }
}

void RunDirect(const DirectPlan& p, const float* src, float* dst) {
  if constexpr (kMRRowTaps > 0)
    if (p.mr == kMRRowTaps && p.nv == kNVNarrow)
      return RunDirectT<kMRRowTaps, kNVNarrow>(p, src, dst);
  if constexpr (kMR3 > 0)
    if (p.mr == kMR3 && p.nv == 3) return RunDirectT<kMR3, 3>(p, src, dst);
  if (p.mr == kMRNarrow && p.nv == kNVNarrow)
    return RunDirectT<kMRNarrow, kNVNarrow>(p, src, dst);
  RunDirectT<kMR, kNV>(p, src, dst);
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
