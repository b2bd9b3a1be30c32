// The depthwise row kernel, for the fused kernel to call (depthwise.cc).
// Shared SIMD code, re-included once per target (Highway's -inl.h pattern).
#if defined(CONVBENCH_SIMD_DEPTHWISE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef CONVBENCH_SIMD_DEPTHWISE_INL_H_
#undef CONVBENCH_SIMD_DEPTHWISE_INL_H_
#else
#define CONVBENCH_SIMD_DEPTHWISE_INL_H_
#endif

#include <hwy/highway.h>

#include <cstdint>

#include "kernels/simd/kernels.hpp"

HWY_BEFORE_NAMESPACE();
namespace convbench::simd {
namespace HWY_NAMESPACE {

// Output rows oy .. oy+nrows-1 of image n, row r at out + r*ldo.
void DwRows(const DwPlan& p, const float* src, float* out, int64_t ldo, int64_t n, int64_t oy,
            int64_t nrows);

}  // namespace HWY_NAMESPACE
}  // namespace convbench::simd
HWY_AFTER_NAMESPACE();

#endif  // CONVBENCH_SIMD_DEPTHWISE_INL_H_
