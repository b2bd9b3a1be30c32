// Two stages on groups of output rows, the first's rows in a per-thread buffer
// that stays in L2: depthwise then pointwise (the depthwise rows feed the
// pointwise tile directly), and a convolution then a 1 x k depthwise.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/simd/fused.cc"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <algorithm>

#include "kernels/simd/depthwise-inl.h"
#include "kernels/simd/direct-inl.h"
#include "kernels/simd/gemm_tile-inl.h"
#include "kernels/simd/kernels.hpp"
#include "kernels/simd/threads-inl.h"

HWY_BEFORE_NAMESPACE();
namespace convbench::simd {
namespace HWY_NAMESPACE {

template <int MR, int NV>
void RunDwPwFusedT(const DwPlan& dw, const DirectPlan& pw, FusedPlan& f, const float* src,
                   float* dst) {
  const ConvDesc& c = dw.c;
  const int64_t NR = pw.nr;
  const int64_t oc = pw.c.oc;
  const int64_t R = f.rows;
  Parallel([&] {
    float* buf = f.scratch.get();
    const float* a[MR];
    ForThreadRows(c.mb, c.oh, R, [&](int64_t n, int64_t oy0, int64_t rr) {
      DwRows(dw, src, buf, c.ow * c.ic, n, oy0, rr);
      const int64_t P = rr * c.ow;
      float* out = dst + ((n * c.oh + oy0) * c.ow) * oc;
      for (int64_t x0 = 0; x0 < P; x0 += MR) {
        const int rows = static_cast<int>(std::min<int64_t>(MR, P - x0));
        for (int i = 0; i < MR; ++i) a[i] = buf + std::min<int64_t>(x0 + i, P - 1) * c.ic;
        for (int64_t ob = 0; ob < pw.ocb; ++ob)
          GemmTileRowsPw<MR, NV>(rows, a, c.ic, pw.wpack.data() + ob * c.ic * NR,
                       out + x0 * oc + ob * NR, oc, std::min(NR, oc - ob * NR),
                       pw.bias.data() + ob * NR, pw.act, true, true);
      }
    });
  });
}

void RunDwPwFused(const DwPlan& dw, const DirectPlan& pw, FusedPlan& f, const float* src,
                  float* dst) {
  WithTile<false>(pw, [&](auto mr, auto nv) {
    RunDwPwFusedT<decltype(mr)::value, decltype(nv)::value>(dw, pw, f, src, dst);
  });
}

template <int MR, int NV>
void RunConvDwFusedT(const DirectPlan& cp, ConvDwPlan& f, const float* src, float* dst) {
  const ConvDesc& c = cp.c;
  const int64_t R = f.rows;
  const Passes passes = PassesOf(cp);
  const int64_t ldo = f.dw.c.ow * f.dw.c.oc;
  Parallel([&] {
    TileScratch<MR> ts(c);
    float* buf = f.scratch.get();
    ForThreadRows(c.mb, c.oh, R, [&](int64_t n, int64_t oy0, int64_t rr) {
      // The step's pixels and the tiles that hold them; buf starts at the
      // first tile, which may begin before the step's first row.
      const int64_t p_first = (n * c.oh + oy0) * c.ow, p_end = p_first + rr * c.ow;
      const int64_t pt0 = p_first / MR, pt1 = (p_end + MR - 1) / MR;
      for (int64_t s0 = 0; s0 < passes.steps; s0 += passes.chunk) {
        const Pass ps = PassAt(cp, s0);
        for (int64_t pt = pt0; pt < pt1; ++pt)
          DirectTile<MR, NV>(cp, src, buf + (pt - pt0) * MR * c.oc, pt, 0, 0, cp.ocb, ps, ts);
      }
      DwRows(f.dw, buf + (p_first - pt0 * MR) * c.oc, dst + (n * c.oh + oy0) * ldo, ldo, 0, 0,
             rr);
    });
  });
}

void RunConvDwFused(const DirectPlan& cp, ConvDwPlan& f, const float* src, float* dst) {
  WithTile(cp, [&](auto mr, auto nv) {
    RunConvDwFusedT<decltype(mr)::value, decltype(nv)::value>(cp, f, src, dst);
  });
}

}  // namespace HWY_NAMESPACE
}  // namespace convbench::simd
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace convbench::simd {

HWY_EXPORT(RunDwPwFused);
HWY_EXPORT(RunConvDwFused);

void run_dw_pw_fused(const DwPlan& dw, const DirectPlan& pw, FusedPlan& f, const float* src,
                     float* dst) {
  apply_isa_cap();
  HWY_DYNAMIC_DISPATCH(RunDwPwFused)(dw, pw, f, src, dst);
}

void run_conv_dw_fused(const DirectPlan& conv, ConvDwPlan& f, const float* src, float* dst) {
  apply_isa_cap();
  HWY_DYNAMIC_DISPATCH(RunConvDwFused)(conv, f, src, dst);
}

}  // namespace convbench::simd
#endif  // HWY_ONCE
