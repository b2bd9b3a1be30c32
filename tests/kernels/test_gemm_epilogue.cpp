// The im2col backends' epilogue (bias and activation after the library GEMM) is
// the vectorised pass, not the reference's per-element function: measured once
// at a tenth of OpenBLAS's speed, the scalar epilogue must not come back.
#include <gtest/gtest.h>

#include <cstring>

#include "convbench/backend.hpp"
#include "convbench/reference.hpp"
#include "kernels/simd/kernels.hpp"

namespace convbench {
namespace {

TEST(GemmEpilogue, IsTheVectorisedPassNotTheReference) {
  for (const char* name : {"im2col_openblas", "im2col_eigen"})
    for (Layout layout : {Layout::nhwc, Layout::nchw}) {
      const Backend& b = find_backend(name);
      Layer l;
      l.shape = ConvDesc::parse("mb2ic16ih9oc24oh9kh1");
      l.bias = true;
      const uint64_t seed = 5;
      const LayerData data = make_layer_data(l, seed);
      const std::vector<float> src = make_input(l, layout, seed);
      const RunConfig cfg{layout, Precision::f32, true};
      auto run = [&](Act a) {
        l.act = a;
        std::vector<float> y(static_cast<size_t>(l.shape.dst_elems()));
        b.prepare(l, cfg, data)->run(src.data(), y.data());
        return y;
      };
      const std::vector<float> pre = run(Act::none), got = run(Act::tanh);
      std::vector<float> vec = pre, ref = pre;
      simd::act_inplace(Act::tanh, vec.data(), static_cast<int64_t>(vec.size()));
      act_ref(Act::tanh, ref.data(), static_cast<int64_t>(ref.size()));
      EXPECT_EQ(0, std::memcmp(got.data(), vec.data(), got.size() * sizeof(float)))
          << name << " " << to_string(layout) << " seed " << seed
          << ": the epilogue is not simd::act_inplace's tanh";
      EXPECT_NE(0, std::memcmp(got.data(), ref.data(), got.size() * sizeof(float)))
          << name << " " << to_string(layout) << " seed " << seed
          << ": the epilogue gives the reference's results bit for bit";
    }
}

}  // namespace
}  // namespace convbench
