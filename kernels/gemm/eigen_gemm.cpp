// Eigen's matrix product behind a C interface. Eigen picks its SIMD at compile
// time, so this file is built once per ISA level into its own shared library
// with hidden symbols (no template instance can leak between levels), and the
// backend calls the best level the CPU runs. CONVBENCH_EIGEN_ISA names the level.
#include <Eigen/Core>

#define CB_CAT2(a, b) a##b
#define CB_CAT(a, b) CB_CAT2(a, b)
#define CB_FN(name) CB_CAT(name, CONVBENCH_EIGEN_ISA)

using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Stride = Eigen::OuterStride<>;

extern "C" __attribute__((visibility("default"))) void CB_FN(convbench_eigen_sgemm_)(
    long M, long N, long K, const float* A, long lda, const float* B, long ldb, float* C,
    long ldc) {
  Eigen::Map<const RowMajor, 0, Stride> a(A, M, K, Stride(lda));
  Eigen::Map<const RowMajor, 0, Stride> b(B, K, N, Stride(ldb));
  Eigen::Map<RowMajor, 0, Stride> c(C, M, N, Stride(ldc));
  c.noalias() = a * b;
}

extern "C" __attribute__((visibility("default"))) const char* CB_FN(convbench_eigen_simd_)() {
  return Eigen::SimdInstructionSetsInUse();
}
