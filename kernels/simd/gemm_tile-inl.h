// The MR x NV register tile of the GEMM-shaped kernels (direct, pointwise, fused).
// Shared SIMD code, re-included once per target (Highway's -inl.h pattern).
#if defined(CONVBENCH_SIMD_GEMM_TILE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef CONVBENCH_SIMD_GEMM_TILE_INL_H_
#undef CONVBENCH_SIMD_GEMM_TILE_INL_H_
#else
#define CONVBENCH_SIMD_GEMM_TILE_INL_H_
#endif

#include <hwy/cache_control.h>
#include <hwy/highway.h>

#include <algorithm>

#include "kernels/simd/activations-inl.h"
#include "kernels/simd/vec-inl.h"

HWY_BEFORE_NAMESPACE();
namespace convbench::simd {
namespace HWY_NAMESPACE {

// MR x NV register tile (the plan's choice, see DirectPlan):
// C[i][j-block] (+)= sum_t sum_k A[t][i][k] * B[t][k][j]. a[t*MR + i] points at
// row i's K values for tap t, or with kStrided row i of tap t is a[t] + i * lda
// (a tile of one output row: no table to read, one step for every tap); rows >=
// `rows` are computed (on clamped pointers) but never loaded or stored. B's rows are NVB vectors apart
// (the packed block's width: a last block's tile may be narrower); tap t's
// weights start at b + boff[t], or without boff at b + t*K*NVB*N. `first`:
// start from the bias (zero-padded to whole vectors: the loads stay inside it);
// `last`: activate and store; otherwise store partial sums. kPrefetch: fetch the
// weights ahead (they stream from memory), not where they are in cache already.
template <int MR, int NV, Act A, bool kStrided, int NVB = NV, bool kPrefetch = !kStrided>
HWY_INLINE void GemmTile(int rows, const float* const* a, int64_t lda, int64_t taps,
                         int64_t K, const float* b, const int64_t* boff, float* c, int64_t ldc,
                         int64_t cols, const float* bias, bool first, bool last) {
  const D d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  V acc[MR][NV];
  // Every access to acc is in a loop with constant bounds and no condition, so
  // the compiler keeps it in registers; with per-element conditions it spilled
  // all 24 of them to the stack around the K loop. A tile of whole rows whose
  // last vector is partly past `cols` masks that vector; other edge tiles go
  // through a stack copy.
  const int64_t tail = cols - (NV - 1) * N;  // columns in the last vector
  const bool full = rows == MR && tail >= N;
  const bool masked = rows == MR && tail > 0 && tail < N;
  HWY_ALIGN float edge[MR * NV * hn::MaxLanes(D())];
  if (first) {
    // The bias starts the sums: MR*NV adds fewer in the epilogue.
    for (int j = 0; j < NV; ++j) {
      const V bj = hn::LoadU(d, bias + j * N);
      for (int i = 0; i < MR; ++i) acc[i][j] = bj;
    }
  } else if (masked) {
    for (int i = 0; i < MR; ++i) {
      for (int j = 0; j < NV - 1; ++j) acc[i][j] = hn::LoadU(d, c + i * ldc + j * N);
      acc[i][NV - 1] = LoadPart(d, c + i * ldc + (NV - 1) * N, static_cast<size_t>(tail));
    }
  } else {
    const float* from = c;
    int64_t ld = ldc;
    if (!full) {
      std::fill(edge, edge + MR * NV * N, 0.0f);
      for (int i = 0; i < rows; ++i)
        std::copy(c + i * ldc, c + i * ldc + std::min(cols, NV * N), edge + i * NV * N);
      from = edge;
      ld = NV * N;
    }
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NV; ++j) acc[i][j] = hn::LoadU(d, from + i * ld + j * N);
  }
  // One row: each k's FMAs wait for the previous k's (4 cycles of latency);
  // odd k go into sums of their own, twice the chains in flight.
  V odd[MR == 1 ? NV : 1];
  if constexpr (MR == 1)
    for (int j = 0; j < NV; ++j) odd[j] = hn::Zero(d);
  for (int64_t t = 0; t < taps; ++t) {
    const float* ap[MR];
    if constexpr (kStrided) {
      for (int i = 0; i < MR; ++i) ap[i] = a[t] + i * lda;
    } else {
      for (int i = 0; i < MR; ++i) ap[i] = a[t * MR + i];
    }
    const float* bt = b + (boff ? boff[t] : t * K * NVB * N);
    int64_t k = 0;
    if constexpr (MR == 1) {
      for (; k + 1 < K; k += 2) {
        if constexpr (kPrefetch)
          for (int64_t r = k + 8; r < k + 10; ++r)
            for (int j = 0; j < NV; ++j) hwy::Prefetch(bt + (r * NVB + j) * N);
        const V a0 = hn::Set(d, ap[0][k]), a1 = hn::Set(d, ap[0][k + 1]);
        for (int j = 0; j < NV; ++j)
          acc[0][j] = hn::MulAdd(a0, hn::LoadU(d, bt + (k * NVB + j) * N), acc[0][j]);
        for (int j = 0; j < NV; ++j)
          odd[j] = hn::MulAdd(a1, hn::LoadU(d, bt + ((k + 1) * NVB + j) * N), odd[j]);
      }
    }
    for (; k < K; ++k) {
      V bv[NV];
      // The weights stream from memory in layers used once per tile (a fully
      // connected layer): fetch them 8 rows ahead, one cache line per vector.
      // Not on the fixed-step stem tiles, whose weights are a few KiB.
      if constexpr (kPrefetch)
        for (int j = 0; j < NV; ++j) hwy::Prefetch(bt + ((k + 8) * NVB + j) * N);
      for (int j = 0; j < NV; ++j) bv[j] = hn::LoadU(d, bt + (k * NVB + j) * N);
      for (int i = 0; i < MR; ++i) {
        const V av = hn::Set(d, ap[i][k]);
        for (int j = 0; j < NV; ++j) acc[i][j] = hn::MulAdd(av, bv[j], acc[i][j]);
      }
    }
  }
  if constexpr (MR == 1)
    for (int j = 0; j < NV; ++j) acc[0][j] = hn::Add(acc[0][j], odd[j]);
  if (last)
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NV; ++j) acc[i][j] = ActivateT<A>(d, acc[i][j]);
  if (masked) {
    float* to = c;
    for (int i = 0; i < MR; ++i, to += ldc) {
      for (int j = 0; j < NV - 1; ++j) hn::StoreU(acc[i][j], d, to + j * N);
      StorePart(acc[i][NV - 1], d, to + (NV - 1) * N, static_cast<size_t>(tail));
    }
    return;
  }
  float* to = full ? c : edge;
  const int64_t ld = full ? ldc : NV * N;
  // The row pointer is walked: with i * ld GCC kept 24 store offsets in vector
  // registers and moved each one out before its store.
  for (int i = 0; i < MR; ++i, to += ld)
    for (int j = 0; j < NV; ++j) hn::StoreU(acc[i][j], d, to + j * N);
  if (!full)
    for (int i = 0; i < rows; ++i)
      std::copy(edge + i * NV * N, edge + i * NV * N + std::min(cols, NV * N), c + i * ldc);
}

template <int MR, int NV, bool kStrided = false, int NVB = NV, bool kPrefetch = !kStrided>
HWY_INLINE void GemmTileRows(int rows, const float* const* a, int64_t taps, int64_t K,
                             const float* b, float* c, int64_t ldc, int64_t cols,
                             const float* bias, Act act, bool first, bool last,
                             int64_t lda = 0, const int64_t* boff = nullptr) {
  switch (act) {
#define CONVBENCH_GEMM_TILE_CASE(ACT)                                                      \
  case Act::ACT:                                                                           \
    return GemmTile<MR, NV, Act::ACT, kStrided, NVB, kPrefetch>(rows, a, lda, taps, K, b, boff, \
                                                                c, ldc, cols, bias, first, last);
    CONVBENCH_GEMM_TILE_CASE(none)
    CONVBENCH_GEMM_TILE_CASE(relu)
    CONVBENCH_GEMM_TILE_CASE(elu)
    CONVBENCH_GEMM_TILE_CASE(tanh)
    CONVBENCH_GEMM_TILE_CASE(hardswish)
    CONVBENCH_GEMM_TILE_CASE(hardsigmoid)
#undef CONVBENCH_GEMM_TILE_CASE
  }
}

// A channel block's tile: as many vectors as the block has columns (72
// channels on 48-channel blocks end in 24, one and a half vectors: the 3-vector
// tile computed 48 there), reading B at the whole block's stride.
template <int MR, int NV, bool kStrided = false>
HWY_INLINE void GemmTileCols(int rows, const float* const* a, int64_t taps, int64_t K,
                             const float* b, float* c, int64_t ldc, int64_t cols,
                             const float* bias, Act act, bool first, bool last,
                             int64_t lda = 0, const int64_t* boff = nullptr) {
  const int64_t N = static_cast<int64_t>(hn::Lanes(D()));
  const int64_t nv = (cols + N - 1) / N;
  if constexpr (NV > 1)
    if (nv == 1)
      return GemmTileRows<MR, 1, kStrided, NV>(rows, a, taps, K, b, c, ldc, cols, bias, act,
                                               first, last, lda, boff);
  if constexpr (NV > 2)
    if (nv == 2)
      return GemmTileRows<MR, 2, kStrided, NV>(rows, a, taps, K, b, c, ldc, cols, bias, act,
                                               first, last, lda, boff);
  if constexpr (NV > 3)
    if (nv == 3)
      return GemmTileRows<MR, 3, kStrided, NV>(rows, a, taps, K, b, c, ldc, cols, bias, act,
                                               first, last, lda, boff);
  GemmTileRows<MR, NV, kStrided>(rows, a, taps, K, b, c, ldc, cols, bias, act, first, last, lda,
                                 boff);
}

// One tap (pointwise rows): a last tile of one row runs a one-row tile, not MR:
// the last tile of a 7x7 image (49 = 8 x 6 + 1 pixels) computed six rows for
// one, a ninth of the layer's FMAs. Its weights were just read by the full tiles,
// so it does not prefetch them: a one-row tile is bound by its loads, and the
// prefetches were as many as its weight loads.
constexpr int kMRTail = 1;
template <int MR, int NV>
HWY_INLINE void GemmTileRowsPw(int rows, const float* const* a, int64_t K, const float* b,
                               float* c, int64_t ldc, int64_t cols, const float* bias, Act act,
                               bool first, bool last) {
  if constexpr (MR > kMRTail)
    if (rows <= kMRTail)
      return GemmTileRows<kMRTail, NV, false, NV, false>(rows, a, 1, K, b, c, ldc, cols, bias,
                                                         act, first, last);
  GemmTileCols<MR, NV>(rows, a, 1, K, b, c, ldc, cols, bias, act, first, last);
}

// The narrow tile: twice the rows on half the vectors (same accumulator count).
constexpr int kMRNarrow = 2 * kMR, kNVNarrow = kNV / 2;

}  // namespace HWY_NAMESPACE
}  // namespace convbench::simd
HWY_AFTER_NAMESPACE();

#endif  // CONVBENCH_SIMD_GEMM_TILE_INL_H_
