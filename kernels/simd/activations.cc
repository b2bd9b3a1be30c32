// Activations as passes of their own, and the bias + activation epilogue of
// library GEMMs.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/simd/activations.cc"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "kernels/simd/activations-inl.h"
#include "kernels/simd/kernels.hpp"
#include "kernels/simd/threads-inl.h"
#include "kernels/simd/vec-inl.h"

HWY_BEFORE_NAMESPACE();
namespace convbench::simd {
namespace HWY_NAMESPACE {

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
    case Act::hardswish: return BiasActRowsA<Act::hardswish>(y, rows, cols, ld, col_bias, row_bias);
    case Act::hardsigmoid: return BiasActRowsA<Act::hardsigmoid>(y, rows, cols, ld, col_bias, row_bias);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace convbench::simd
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace convbench::simd {

HWY_EXPORT(ActInplace);
HWY_EXPORT(BiasActRows);

void act_inplace(Act a, float* x, int64_t n) {
  apply_isa_cap();
  HWY_DYNAMIC_DISPATCH(ActInplace)(a, x, n);
}

void bias_act_rows(Act a, float* y, int64_t rows, int64_t cols, int64_t ld,
                   const float* col_bias, const float* row_bias) {
  apply_isa_cap();
  HWY_DYNAMIC_DISPATCH(BiasActRows)(a, y, rows, cols, ld, col_bias, row_bias);
}

}  // namespace convbench::simd
#endif  // HWY_ONCE
