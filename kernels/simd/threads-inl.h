// How the kernels split their work over OpenMP threads.
// Shared SIMD code, re-included once per target (Highway's -inl.h pattern).
#if defined(CONVBENCH_SIMD_THREADS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef CONVBENCH_SIMD_THREADS_INL_H_
#undef CONVBENCH_SIMD_THREADS_INL_H_
#else
#define CONVBENCH_SIMD_THREADS_INL_H_
#endif

#include <hwy/highway.h>
#include <omp.h>

#include <algorithm>
#include <cstdint>

HWY_BEFORE_NAMESPACE();
namespace convbench::simd {
namespace HWY_NAMESPACE {

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

}  // namespace HWY_NAMESPACE
}  // namespace convbench::simd
HWY_AFTER_NAMESPACE();

#endif  // CONVBENCH_SIMD_THREADS_INL_H_
