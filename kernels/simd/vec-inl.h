// Vector types, register-tile sizes and partial loads and stores.
// Shared SIMD code, re-included once per target (Highway's -inl.h pattern).
#if defined(CONVBENCH_SIMD_VEC_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef CONVBENCH_SIMD_VEC_INL_H_
#undef CONVBENCH_SIMD_VEC_INL_H_
#else
#define CONVBENCH_SIMD_VEC_INL_H_
#endif

#include <hwy/highway.h>

#include <algorithm>
#include <cstddef>

HWY_BEFORE_NAMESPACE();
namespace convbench::simd {
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
// Row-tap plans (stems) with 32 registers: 14 pixels x kNV/2 vectors, 28
// accumulators. Their rows need no table, only a pointer register each, and 14
// divides the usual output widths (112, 56, 28), so tiles rarely cross a row.
// 0: the usual tile.
constexpr int kMRRowTaps = kRegs == 32 ? 14 : 0;
// With 32 registers, also 8 pixels x 3 vectors (24 accumulators, 11 loads per 24
// FMAs): blocks of 48 channels fit channel counts such as 72, 96 and 144, where
// blocks of 64 pad a quarter or more and blocks of 32 need 14 loads.
constexpr int kMR3 = kRegs == 32 ? 8 : 0;

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

}  // namespace HWY_NAMESPACE
}  // namespace convbench::simd
HWY_AFTER_NAMESPACE();

#endif  // CONVBENCH_SIMD_VEC_INL_H_
