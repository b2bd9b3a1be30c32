// Hand-written kernels, one source for every SIMD target (Highway's
// foreach_target re-includes this file once per target).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/hand/kernels.cc"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <omp.h>

#include <algorithm>
#include <cstdlib>

#include "kernels/hand/kernels.hpp"

HWY_BEFORE_NAMESPACE();
namespace convbench::hand {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
using D = hn::ScalableTag<float>;
using V = hn::Vec<D>;

// 16 vector registers (SSE4/AVX2): 6x2 accumulators; 32 (AVX-512, NEON, SVE): 6x4.
#if HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_SSE4 || HWY_TARGET == HWY_SSSE3 || \
    HWY_TARGET == HWY_EMU128 || HWY_TARGET == HWY_SCALAR
constexpr int kMR = 6, kNV = 2, kRegs = 16;
#else
constexpr int kMR = 6, kNV = 4, kRegs = 32;
#endif

int TileMR() { return kMR; }
int TileNV() { return kNV; }
int Lanes() { return static_cast<int>(hn::Lanes(D())); }

// The first n (< Lanes) elements at p, the rest zero; and the matching store.
// AVX2 and AVX-512 mask in hardware without touching the other lanes' memory;
// the 128-bit targets' MaskedLoad/BlendedStore read or write the whole vector,
// which faults past the end of a buffer and races with a neighbouring thread,
// so those go through a stack copy.
#if HWY_TARGET == HWY_SSE4 || HWY_TARGET == HWY_SSSE3 || HWY_TARGET == HWY_EMU128 || \
    HWY_TARGET == HWY_SCALAR
HWY_INLINE V LoadPart(D d, const float* p, size_t n) {
  HWY_ALIGN float buf[hn::MaxLanes(D())] = {};
  std::copy(p, p + n, buf);
  return hn::Load(d, buf);
}
HWY_INLINE void StorePart(V v, D d, float* p, size_t n) {
  HWY_ALIGN float buf[hn::MaxLanes(D())];
  hn::Store(v, d, buf);
  std::copy(buf, buf + n, p);
}
#else
HWY_INLINE V LoadPart(D d, const float* p, size_t n) { return hn::MaskedLoad(hn::FirstN(d, n), d, p); }
HWY_INLINE void StorePart(V v, D d, float* p, size_t n) { hn::BlendedStore(v, hn::FirstN(d, n), d, p); }
#endif

// expm1(x) for x in [-17.5, 18.5] (callers clamp; beyond, float ELU is -1 and
// float tanh is 1 anyway). x = n ln2 + r with |r| <= ln2/2, and
// expm1(x) = 2^n expm1(r) + (2^n - 1): one FMA, which for n = 0 returns expm1(r)
// itself, so small x keep their relative accuracy. Adding 1.5 * 2^23 + 127
// rounds x/ln2 to n and leaves n + 127 in the low mantissa bits, so one shift
// makes 2^n. expm1(r) = r + r^2 q(r), q of degree 4 fitted (Lawson's weighted
// least squares, in double) for minimum relative error on |r| <= ln2/2: 0.22 ulp
// before float rounding. 14 instructions; Highway's Expm1, which covers the
// whole float range, takes about twice that.
HWY_INLINE V Expm1Bounded(D d, V x) {
  const V kRound = hn::Set(d, 12582912.0f + 127.0f);
  const V t = hn::MulAdd(x, hn::Set(d, 1.44269504088896341f), kRound);
  const V n = hn::Sub(t, kRound);
  const V s = hn::BitCast(d, hn::ShiftLeft<23>(hn::BitCast(hn::RebindToSigned<D>(), t)));
  // ln2 split in two (Cody and Waite): x - n * ln2hi is exact in one FMA.
  V r = hn::NegMulAdd(n, hn::Set(d, 0.693147182464599609375f), x);
  r = hn::NegMulAdd(n, hn::Set(d, -1.904654299957768e-09f), r);
  V q = hn::Set(d, 0.0013882522471249104f);
  q = hn::MulAdd(q, r, hn::Set(d, 0.00836651399731636f));
  q = hn::MulAdd(q, r, hn::Set(d, 0.04166720062494278f));
  q = hn::MulAdd(q, r, hn::Set(d, 0.1666654348373413f));
  q = hn::MulAdd(q, r, hn::Set(d, 0.4999999701976776f));
  const V p = hn::MulAdd(hn::Mul(r, r), q, r);
  return hn::MulAdd(s, p, hn::Sub(s, hn::Set(d, 1.0f)));
}

// Operand order matters on x86: min/max return their second operand when
// either is NaN, so a NaN x, always second, flows through the arithmetic.
HWY_INLINE V Elu(D d, V x) {
  const V e = Expm1Bounded(d, hn::Max(hn::Set(d, -17.5f), hn::Min(hn::Zero(d), x)));
  return hn::IfThenElse(hn::Gt(x, hn::Zero(d)), x, e);
}

// tanh|x| = y / (y + 2) with y = expm1(2|x|), which keeps the relative accuracy
// of small x; tanh rounds to 1 in float from |x| = 9.01 on.
HWY_INLINE V Tanh(D d, V x) {
  const V a = hn::Min(hn::Set(d, 9.25f), hn::Abs(x));
  const V y = Expm1Bounded(d, hn::Add(a, a));
  const V t = hn::Div(y, hn::Add(y, hn::Set(d, 2.0f)));
  return hn::CopySignToAbs(t, x);
}

// NaN goes through every activation unchanged, as in std::. The template form
// lets the register-tile epilogues compile without a branch per vector.
template <Act A>
HWY_INLINE V ActivateT(D d, V x) {
  // x86 max returns its second operand when either is NaN: one instruction.
  if constexpr (A == Act::relu) return hn::Max(hn::Zero(d), x);
  if constexpr (A == Act::elu) return Elu(d, x);
  if constexpr (A == Act::tanh) return Tanh(d, x);
  return x;
}

HWY_INLINE V Activate(D d, V x, Act a) {
  switch (a) {
    case Act::none: return x;
    case Act::relu: return hn::IfThenElse(hn::Lt(x, hn::Zero(d)), hn::Zero(d), x);
    case Act::elu: return Elu(d, x);
    case Act::tanh: return Tanh(d, x);
  }
  return x;
}

HWY_NOINLINE void ActInplace(Act a, float* x, int64_t n) {
  const D d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  int64_t i = 0;
  for (; i + N <= n; i += N) hn::StoreU(Activate(d, hn::LoadU(d, x + i), a), d, x + i);
  if (i < n) {
    const size_t rest = static_cast<size_t>(n - i);
    StorePart(Activate(d, LoadPart(d, x + i, rest), a), d, x + i, rest);
  }
}

// Runs f on every thread of a parallel region; f splits its work with orphaned
// `omp for` constructs, which bind to the region or, outside one, to the calling
// thread alone. A one-thread libgomp region costs more than a tiny layer, so one
// thread skips it, as oneDNN's own parallel() does.
template <typename F>
HWY_INLINE void Parallel(const F& f) {
  if (omp_get_max_threads() == 1) return f();
#pragma omp parallel
  f();
}

// The epilogue of library GEMMs (see bias_act_rows); the activation and the
// biases are template parameters so that the row loop holds no branch.
template <Act A, bool kColBias, bool kRowBias>
HWY_INLINE void BiasActRowsT(float* y, int64_t rows, int64_t cols, int64_t ld,
                             const float* col_bias, const float* row_bias) {
  const D d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  Parallel([&] {
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      float* p = y + r * ld;
      const V rb = hn::Set(d, kRowBias ? row_bias[r] : 0.0f);
      int64_t j = 0;
      for (; j + N <= cols; j += N) {
        V v = hn::LoadU(d, p + j);
        if constexpr (kRowBias) v = hn::Add(v, rb);
        if constexpr (kColBias) v = hn::Add(v, hn::LoadU(d, col_bias + j));
        hn::StoreU(ActivateT<A>(d, v), d, p + j);
      }
      if (j < cols) {
        const size_t n = static_cast<size_t>(cols - j);
        V v = LoadPart(d, p + j, n);
        if constexpr (kRowBias) v = hn::Add(v, rb);
        if constexpr (kColBias) v = hn::Add(v, LoadPart(d, col_bias + j, n));
        StorePart(ActivateT<A>(d, v), d, p + j, n);
      }
    }
  });
}

template <Act A>
HWY_INLINE void BiasActRowsA(float* y, int64_t rows, int64_t cols, int64_t ld,
                             const float* col_bias, const float* row_bias) {
  if (col_bias) return BiasActRowsT<A, true, false>(y, rows, cols, ld, col_bias, row_bias);
  if (row_bias) return BiasActRowsT<A, false, true>(y, rows, cols, ld, col_bias, row_bias);
  return BiasActRowsT<A, false, false>(y, rows, cols, ld, col_bias, row_bias);
}

void BiasActRows(Act a, float* y, int64_t rows, int64_t cols, int64_t ld, const float* col_bias,
                 const float* row_bias) {
  switch (a) {
    case Act::none: return BiasActRowsA<Act::none>(y, rows, cols, ld, col_bias, row_bias);
    case Act::relu: return BiasActRowsA<Act::relu>(y, rows, cols, ld, col_bias, row_bias);
    case Act::elu: return BiasActRowsA<Act::elu>(y, rows, cols, ld, col_bias, row_bias);
    case Act::tanh: return BiasActRowsA<Act::tanh>(y, rows, cols, ld, col_bias, row_bias);
  }
}

// MR x NV register tile: C[i][j-block] (+)= sum_t sum_k A[t][i][k] * B[t][k][j].
// a[t*MR + i] points at row i's K values for tap t; rows >= `rows` are computed
// (on clamped pointers) but never loaded or stored. `first`: start from the
// bias (zero-padded to whole vectors: the loads stay inside it); `last`:
// activate and store; otherwise store partial sums.
template <int MR, Act A>
HWY_INLINE void GemmTile(int rows, const float* const* a, int64_t taps, int64_t K,
                         const float* b, float* c, int64_t ldc, int64_t cols, const float* bias,
                         bool first, bool last) {
  const D d;
  constexpr int NV = kNV;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  V acc[MR][NV];
  // Every access to acc is in a loop with constant bounds and no condition, so
  // the compiler keeps it in registers; with per-element conditions it spilled
  // all 24 of them to the stack around the K loop. Edge tiles go through a stack
  // copy instead.
  const bool full = rows == MR && cols >= NV * N;
  HWY_ALIGN float edge[MR * NV * hn::MaxLanes(D())];
  if (first) {
    // The bias starts the sums: MR*NV adds fewer in the epilogue.
    for (int j = 0; j < NV; ++j) {
      const V bj = hn::LoadU(d, bias + j * N);
      for (int i = 0; i < MR; ++i) acc[i][j] = bj;
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
  for (int64_t t = 0; t < taps; ++t) {
    const float* ap[MR];
    for (int i = 0; i < MR; ++i) ap[i] = a[t * MR + i];
    const float* bt = b + t * K * NV * N;
    for (int64_t k = 0; k < K; ++k) {
      V bv[NV];
      for (int j = 0; j < NV; ++j) bv[j] = hn::LoadU(d, bt + (k * NV + j) * N);
      for (int i = 0; i < MR; ++i) {
        const V av = hn::Set(d, ap[i][k]);
        for (int j = 0; j < NV; ++j) acc[i][j] = hn::MulAdd(av, bv[j], acc[i][j]);
      }
    }
  }
  if (last)
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NV; ++j) acc[i][j] = ActivateT<A>(d, acc[i][j]);
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

HWY_INLINE void GemmTileRows(int rows, const float* const* a, int64_t taps, int64_t K,
                             const float* b, float* c, int64_t ldc, int64_t cols,
                             const float* bias, Act act, bool first, bool last) {
  switch (act) {
    case Act::none: return GemmTile<kMR, Act::none>(rows, a, taps, K, b, c, ldc, cols, bias, first, last);
    case Act::relu: return GemmTile<kMR, Act::relu>(rows, a, taps, K, b, c, ldc, cols, bias, first, last);
    case Act::elu: return GemmTile<kMR, Act::elu>(rows, a, taps, K, b, c, ldc, cols, bias, first, last);
    case Act::tanh: return GemmTile<kMR, Act::tanh>(rows, a, taps, K, b, c, ldc, cols, bias, first, last);
  }
}

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
// chain of three multiplies in front of every row's loads. Only the first nout
// outputs are stored; cn: channels in the vector (N when full). Two channel
// vectors per tile (16 accumulators) or 14 outputs spilled and were 60-80 %
// slower on the 3x3 stage; 7 outputs were no faster than 8.
template <int KW, int S>
HWY_INLINE void DwTile(const DwPlan& p, const float* row, int64_t rstride, int64_t nky,
                       int64_t ky0, float* out, int64_t c0, int64_t xs, bool inside,
                       int64_t nout, size_t cn) {
  constexpr int XT = DwTileWidth<KW, S>();
  constexpr int NIN = (XT - 1) * S + KW;
  const ConvDesc& c = p.c;
  const D d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  const int64_t C = c.ic;
  const bool full = cn == static_cast<size_t>(N);
  const float* w = p.wpack.data() + ky0 * KW * p.cpad + c0;
  V acc[XT];
  const V bias = hn::LoadU(d, p.bias.data() + c0);
  for (int j = 0; j < XT; ++j) acc[j] = bias;
  for (int64_t ky = 0; ky < nky; ++ky, row += rstride, w += KW * p.cpad) {
    V in[NIN];
    if (inside && full) {
      for (int q = 0; q < NIN; ++q) in[q] = hn::LoadU(d, row + q * C);
    } else {
      for (int q = 0; q < NIN; ++q) in[q] = DwLoad(d, row, q, C, xs, c.iw, full, cn);
    }
    for (int kx = 0; kx < KW; ++kx) {
      const V wv = hn::LoadU(d, w + kx * p.cpad);
      for (int j = 0; j < XT; ++j) acc[j] = hn::MulAdd(in[j * S + kx], wv, acc[j]);
    }
  }
  StoreTile(d, acc, p.act, out, C, nout, cn);
}

// The pair's sums when all KW + S input rows lie inside the input (KH == KW):
// rows and taps are compile-time, so the whole tile unrolls. kPlain: every
// column inside and full channel vectors; otherwise each load is masked, to
// nothing in the padding (LoadPart with n = 0 reads no memory on any target, so
// a padding column's address may lie before the tensor). Rows in the padding
// or KH != KW take DwTilePair's general loop.
template <int KW, int S, bool kPlain, int XT>
HWY_INLINE void DwPairAllRows(const DwPlan& p, const float* row, const float* w, int64_t xs,
                              size_t cn, V (&a)[XT], V (&b)[XT]) {
  constexpr int NIN = (XT - 1) * S + KW;
  const D d;
  const int64_t C = p.c.ic, rstride = p.c.iw * C, wstride = KW * p.cpad;
#pragma GCC unroll 16
  for (int t = 0; t < KW + S; ++t, row += rstride) {
    V in[NIN];
    // The columns by a pointer stepped C at a time and hidden from the
    // optimiser: otherwise GCC may precompute all NIN x (KW+S) addresses, which
    // do not fit in the general registers, and reload them from the stack.
    const float* col = row;
    for (int q = 0; q < NIN; ++q, col += C) {
      asm("" : "+r"(col));
      if constexpr (kPlain) {
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
HWY_INLINE void DwTilePair(const DwPlan& p, const float* img, int64_t iy0, float* out,
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
    if (inside && full) DwPairAllRows<KW, S, true>(p, row, w, xs, cn, a, b);
    else DwPairAllRows<KW, S, false>(p, row, w, xs, cn, a, b);
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
    DwTilePair<KW, S>(p, img + c0, iy0, out + c0, ldo, c0, xs, inside, nout,
                      static_cast<size_t>(std::min(N, C - c0)));
}

// A streamed tile (KW > 3): outputs x0 .. x0+XT-1 of an output row, one channel
// vector from c0. `row` points at input column xs, channel c0, of input row
// ky0; kernel rows ky0 .. ky1-1 follow, rstride apart. Each input is loaded
// once and feeds the up to KW outputs it touches. Without kMasked the vector
// is full and the first QLO and last QHI of the NIN input columns lie in the
// padding and are skipped at compile time, the rest inside; with kMasked each
// column is tested. Two channel vectors per tile (8 outputs, 16 sums) were
// slower.
template <int KW, int S, bool kMasked, int QLO, int QHI>
HWY_INLINE void DwStreamTile(const DwPlan& p, const float* row, int64_t rstride, int64_t ky0,
                             int64_t ky1, float* out, int64_t c0, int64_t xs, int64_t nout,
                             size_t cn) {
  constexpr int XT = DwTileWidth<KW, S>();
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
    for (int q = QLO; q < NIN - QHI; ++q) {
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

// The streamed tiles of one output row from input column xs, one per channel
// vector. An edge tile whose padding is exactly the "same" padding on one side,
// PL = (KW-1)/2 columns on the left or PR = KW/2 on the right (the first and
// last tile of a row whose width the tile divides), skips it at compile time;
// other edge tiles and channel tails test each column, which cost the 5x5
// stage a fifth of its time when half its tiles (56 wide, 14 per tile) did.
template <int KW, int S>
HWY_INLINE void DwStreamRow(const DwPlan& p, const float* row, int64_t rstride, int64_t ky0,
                            int64_t ky1, float* out, int64_t xs, int64_t nout) {
  constexpr int XT = DwTileWidth<KW, S>();
  constexpr int NIN = (XT - 1) * S + KW;
  constexpr int PL = (KW - 1) / 2, PR = KW / 2;
  const int64_t N = static_cast<int64_t>(hn::Lanes(D()));
  const int64_t C = p.c.ic, iw = p.c.iw, cfull = C / N * N;
  const size_t n = static_cast<size_t>(N);
  int64_t c0 = 0;
  if (xs >= 0 && xs + NIN <= iw) {
    for (; c0 < cfull; c0 += N)
      DwStreamTile<KW, S, false, 0, 0>(p, row + c0, rstride, ky0, ky1, out + c0, c0, xs, nout, n);
  } else if (xs == -PL && NIN - PL <= iw) {
    for (; c0 < cfull; c0 += N)
      DwStreamTile<KW, S, false, PL, 0>(p, row + c0, rstride, ky0, ky1, out + c0, c0, xs, nout,
                                        n);
  } else if (xs >= 0 && xs + NIN - PR == iw) {
    for (; c0 < cfull; c0 += N)
      DwStreamTile<KW, S, false, 0, PR>(p, row + c0, rstride, ky0, ky1, out + c0, c0, xs, nout,
                                        n);
  }
  for (; c0 < C; c0 += N)
    DwStreamTile<KW, S, true, 0, 0>(p, row + c0, rstride, ky0, ky1, out + c0, c0, xs, nout,
                                    static_cast<size_t>(std::min(N, C - c0)));
}

// Output rows oy0 .. oy0+nrows-1 of a depthwise convolution, stride S and no
// horizontal dilation, row r at out0 + r*ldo; XT outputs x one channel vector
// per tile, with up to KW FMAs per input load. Each column of tiles is done for
// all the rows before the next, while its input columns are still in L1. Loops over a tile have
// constant bounds and no early exit, so the accumulators stay in registers.
template <int KW, int S>
HWY_INLINE void DwRowsSliding(const DwPlan& p, const float* src, float* out0, int64_t ldo,
                              int64_t n, int64_t oy0, int64_t nrows) {
  constexpr int XT = DwTileWidth<KW, S>();
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
          DwTile<KW, S>(p, row + c0, rstride, ky1 - ky0, ky0, out + x0 * C + c0, c0, xs,
                        inside, nout, static_cast<size_t>(std::min(N, C - c0)));
        continue;
      }
      const float* row = src + ((n * c.ih + iy0 + ky0 * ystep) * c.iw + xs) * C;
      DwStreamRow<KW, S>(p, row, rstride, ky0, ky1, out + x0 * C, xs,
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
HWY_INLINE bool DwRowsHeld(const DwPlan& p, const float* src, float* out, int64_t ldo,
                           int64_t n, int64_t oy, int64_t nrows) {
  switch (p.c.kw) {
    case 1: DwRowsSliding<1, S>(p, src, out, ldo, n, oy, nrows); return true;
    case 2: DwRowsSliding<2, S>(p, src, out, ldo, n, oy, nrows); return true;
    case 3: DwRowsSliding<3, S>(p, src, out, ldo, n, oy, nrows); return true;
    default: return false;
  }
}

// Streamed kernels (KW 4..9) at horizontal stride S.
template <int S>
HWY_NOINLINE void DwRowsStreamed(const DwPlan& p, const float* src, float* out, int64_t ldo,
                                 int64_t n, int64_t oy, int64_t nrows) {
  switch (p.c.kw) {
    case 4: DwRowsSliding<4, S>(p, src, out, ldo, n, oy, nrows); return;
    case 5: DwRowsSliding<5, S>(p, src, out, ldo, n, oy, nrows); return;
    case 6: DwRowsSliding<6, S>(p, src, out, ldo, n, oy, nrows); return;
    case 7: DwRowsSliding<7, S>(p, src, out, ldo, n, oy, nrows); return;
    case 8: DwRowsSliding<8, S>(p, src, out, ldo, n, oy, nrows); return;
    default: DwRowsSliding<9, S>(p, src, out, ldo, n, oy, nrows); return;
  }
}

// The held-input and generic kernels, compiled apart from the streamed ones.
// The 3x3 pair tile uses 28 of the 32 vector registers and most general ones,
// and how GCC allocated them moved with unrelated code in the same function
// (with the streamed tiles' edge variants beside it, the 3x3 stage slowed by a
// tenth); this split and the hidden column pointer in DwPairAllRows prevent it.
HWY_NOINLINE void DwRowsOther(const DwPlan& p, const float* src, float* out, int64_t ldo,
                              int64_t n, int64_t oy, int64_t nrows) {
  if (p.c.dw == 0 && p.c.sw == 1 && DwRowsHeld<1>(p, src, out, ldo, n, oy, nrows)) return;
  if (p.c.dw == 0 && p.c.sw == 2 && DwRowsHeld<2>(p, src, out, ldo, n, oy, nrows)) return;
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
  DwRowsOther(p, src, out, ldo, n, oy, nrows);
}

// Calls f(n, oy0, rows) on this thread's share of the mb*oh output rows: an
// equal, contiguous run of rows, in blocks of up to R that stay inside one
// image. Blocks dealt out whole were uneven: 56 rows in blocks of 6 gave two
// threads 30 and 26 rows.
template <typename F>
HWY_INLINE void ForThreadRows(int64_t mb, int64_t oh, int64_t R, const F& f) {
  const int64_t nt = omp_get_num_threads(), tid = omp_get_thread_num();
  const int64_t total = mb * oh;
  const int64_t hi = total * (tid + 1) / nt;
  for (int64_t row = total * tid / nt; row < hi;) {
    const int64_t n = row / oh, oy0 = row % oh;
    const int64_t rr = std::min({R, oh - oy0, hi - row});
    f(n, oy0, rr);
    row += rr;
  }
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

void RunDwPwFused(const DwPlan& dw, const DirectPlan& pw, FusedPlan& f, const float* src,
                  float* dst) {
  const ConvDesc& c = dw.c;
  const D d;
  const int64_t NR = kNV * static_cast<int64_t>(hn::Lanes(d));
  const int64_t oc = pw.c.oc;
  const int64_t R = f.rows;
  Parallel([&] {
    float* buf = f.scratch.get();
    const float* a[kMR];
    ForThreadRows(c.mb, c.oh, R, [&](int64_t n, int64_t oy0, int64_t rr) {
      DwRows(dw, src, buf, c.ow * c.ic, n, oy0, rr);
      const int64_t P = rr * c.ow;
      float* out = dst + ((n * c.oh + oy0) * c.ow) * oc;
      for (int64_t x0 = 0; x0 < P; x0 += kMR) {
        const int rows = static_cast<int>(std::min<int64_t>(kMR, P - x0));
        for (int i = 0; i < kMR; ++i) a[i] = buf + std::min<int64_t>(x0 + i, P - 1) * c.ic;
        for (int64_t ob = 0; ob < pw.ocb; ++ob)
          GemmTileRows(rows, a, 1, c.ic, pw.wpack.data() + ob * c.ic * NR,
                       out + x0 * oc + ob * NR, oc, std::min(NR, oc - ob * NR),
                       pw.bias.data() + ob * NR, pw.act, true, true);
      }
    });
  });
}

}  // namespace HWY_NAMESPACE
}  // namespace convbench::hand
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace convbench::hand {

HWY_EXPORT(TileMR);
HWY_EXPORT(TileNV);
HWY_EXPORT(Lanes);
HWY_EXPORT(ActInplace);
HWY_EXPORT(BiasActRows);
HWY_EXPORT(RunDirect);
HWY_EXPORT(RunDw);
HWY_EXPORT(RunDwPwFused);

namespace {
int64_t g_target = 0;  // the dispatched target, fixed by apply_isa_cap()
}

void apply_isa_cap() {
  static const bool done = [] {
    if (const char* cap = std::getenv("CONVBENCH_MAX_ISA")) {
      const std::string s(cap);
      int64_t disable = 0;
      if (s == "avx2") disable = HWY_AVX3 | HWY_AVX3_DL;
      else if (s == "sse4") disable = HWY_AVX3 | HWY_AVX3_DL | HWY_AVX2;
      else if (s == "scalar") disable = HWY_AVX3 | HWY_AVX3_DL | HWY_AVX2 | HWY_SSE4 | HWY_SSSE3;
      hwy::DisableTargets(disable);
    }
    // In this Highway, SupportedTargets() re-detects the CPU and points the
    // dispatch tables at the best target it finds, ignoring DisableTargets: call
    // it here once, then point them at the capped set. isa() must not call it.
    const int64_t supported = hwy::SupportedTargets();
    hwy::GetChosenTarget().Update(supported);
    const int64_t usable = supported & HWY_TARGETS;
    g_target = usable & -usable;  // lower bits are better targets
    return true;
  }();
  (void)done;
}

Tile gemm_tile() {
  apply_isa_cap();
  return {HWY_DYNAMIC_DISPATCH(TileMR)(), HWY_DYNAMIC_DISPATCH(TileNV)(), lanes()};
}

int lanes() {
  apply_isa_cap();
  return HWY_DYNAMIC_DISPATCH(Lanes)();
}

std::string isa() {
  apply_isa_cap();
  return hwy::TargetName(g_target);
}

void act_inplace(Act a, float* x, int64_t n) {
  apply_isa_cap();
  HWY_DYNAMIC_DISPATCH(ActInplace)(a, x, n);
}
void bias_act_rows(Act a, float* y, int64_t rows, int64_t cols, int64_t ld,
                   const float* col_bias, const float* row_bias) {
  apply_isa_cap();
  HWY_DYNAMIC_DISPATCH(BiasActRows)(a, y, rows, cols, ld, col_bias, row_bias);
}
void run_direct(const DirectPlan& p, const float* src, float* dst) {
  apply_isa_cap();
  HWY_DYNAMIC_DISPATCH(RunDirect)(p, src, dst);
}
void run_dw(const DwPlan& p, const float* src, float* dst) {
  apply_isa_cap();
  HWY_DYNAMIC_DISPATCH(RunDw)(p, src, dst);
}
void run_dw_pw_fused(const DwPlan& dw, const DirectPlan& pw, FusedPlan& f, const float* src,
                     float* dst) {
  apply_isa_cap();
  HWY_DYNAMIC_DISPATCH(RunDwPwFused)(dw, pw, f, src, dst);
}

}  // namespace convbench::hand
#endif  // HWY_ONCE
