// ReLU, ELU and tanh on vectors: ELU and tanh through one bounded expm1.
// Shared SIMD code, re-included once per target (Highway's -inl.h pattern).
#if defined(CONVBENCH_SIMD_ACTIVATIONS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef CONVBENCH_SIMD_ACTIVATIONS_INL_H_
#undef CONVBENCH_SIMD_ACTIVATIONS_INL_H_
#else
#define CONVBENCH_SIMD_ACTIVATIONS_INL_H_
#endif

#include <hwy/highway.h>

#include "convbench/layer.hpp"
#include "kernels/simd/vec-inl.h"

HWY_BEFORE_NAMESPACE();
namespace convbench::simd {
namespace HWY_NAMESPACE {

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

// min(max(x / 6 + 1/2, 0), 1) in one FMA and two clamps; x is the second
// operand of each, so a NaN passes through.
HWY_INLINE V HardSigmoid(D d, V x) {
  const V t = hn::MulAdd(hn::Set(d, 1.0f / 6), x, hn::Set(d, 0.5f));
  return hn::Min(hn::Set(d, 1.0f), hn::Max(hn::Zero(d), t));
}

// NaN goes through every activation unchanged, as in std::. The template form
// lets the register-tile epilogues compile without a branch per vector.
template <Act A>
HWY_INLINE V ActivateT(D d, V x) {
  // x86 max returns its second operand when either is NaN: one instruction.
  if constexpr (A == Act::relu) return hn::Max(hn::Zero(d), x);
  if constexpr (A == Act::elu) return Elu(d, x);
  if constexpr (A == Act::tanh) return Tanh(d, x);
  if constexpr (A == Act::hardsigmoid) return HardSigmoid(d, x);
  if constexpr (A == Act::hardswish) return hn::Mul(x, HardSigmoid(d, x));
  return x;
}

HWY_INLINE V Activate(D d, V x, Act a) {
  switch (a) {
    case Act::none: return x;
    case Act::relu: return hn::IfThenElse(hn::Lt(x, hn::Zero(d)), hn::Zero(d), x);
    case Act::elu: return Elu(d, x);
    case Act::tanh: return Tanh(d, x);
    case Act::hardswish: return hn::Mul(x, HardSigmoid(d, x));
    case Act::hardsigmoid: return HardSigmoid(d, x);
  }
  return x;
}

// In-place activation of n floats (activations.cc); a call, not inlined.
void ActInplace(Act a, float* x, int64_t n);

}  // namespace HWY_NAMESPACE
}  // namespace convbench::simd
HWY_AFTER_NAMESPACE();

#endif  // CONVBENCH_SIMD_ACTIVATIONS_INL_H_
