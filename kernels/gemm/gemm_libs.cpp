#include <cblas.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <string>

#include "convbench/backend.hpp"

#include "gemm.hpp"

// Exported by the per-ISA Eigen libraries (eigen_gemm.cpp).
extern "C" {
#define CB_DECLARE(isa)                                                                      \
  void convbench_eigen_sgemm_##isa(long, long, long, const float*, long, const float*, long, \
                                   float*, long);                                            \
  const char* convbench_eigen_simd_##isa();
CB_DECLARE(sse2)
CB_DECLARE(avx2)
CB_DECLARE(avx512)
#undef CB_DECLARE
}

#include <Eigen/Core>  // version macros only; no Eigen code is instantiated here

namespace convbench {
namespace {

void openblas_fn(long M, long N, long K, const float* A, long lda, const float* B, long ldb,
                 float* C, long ldc) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<blasint>(M),
              static_cast<blasint>(N), static_cast<blasint>(K), 1.f, A, static_cast<blasint>(lda),
              B, static_cast<blasint>(ldb), 0.f, C, static_cast<blasint>(ldc));
}

}  // namespace

Sgemm openblas_sgemm() {
  static const char* parallel[] = {"sequential", "pthreads", "OpenMP"};
  const int p = openblas_get_parallel();
  const char* chosen = std::getenv("CONVBENCH_OPENBLAS_CHOSEN");
  std::string v = std::string(openblas_get_config()) + "; core " + openblas_get_corename() +
                  (chosen ? " (set by convbench: OpenBLAS detected a lesser core)" : "") +
                  "; threading " + (p >= 0 && p <= 2 ? parallel[p] : "?");
  return {openblas_fn, v};
}

namespace {

// OpenBLAS's x86 cores by how wide and how recent their kernels are.
int core_rank(std::string core) {
  std::transform(core.begin(), core.end(), core.begin(), [](unsigned char c) { return std::tolower(c); });
  if (core == "cooperlake" || core == "sapphirerapids") return 4;
  if (core == "skylakex") return 3;
  if (core == "haswell" || core == "zen") return 2;
  if (core == "sandybridge") return 1;
  return 0;  // prescott, core2, nehalem, atom, ... : SSE kernels
}

const char* best_core_for_cpu() {
  __builtin_cpu_init();
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
  if (avx512 && __builtin_cpu_supports("avx512bf16")) return "Cooperlake";
  if (avx512) return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
  return nullptr;
}

}  // namespace

void use_best_openblas_core(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE") || std::getenv("CONVBENCH_OPENBLAS_CHOSEN")) return;
  const char* best = best_core_for_cpu();
  if (!best || core_rank(openblas_get_corename()) >= core_rank(best)) return;
  setenv("OPENBLAS_CORETYPE", best, 1);
  setenv("CONVBENCH_OPENBLAS_CHOSEN", best, 1);  // no second re-execution
  execv("/proc/self/exe", argv);
}

Sgemm eigen_sgemm() {
  const std::string ver = "Eigen " + std::to_string(EIGEN_WORLD_VERSION) + "." +
                          std::to_string(EIGEN_MAJOR_VERSION) + "." +
                          std::to_string(EIGEN_MINOR_VERSION) + "; SIMD ";
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
    return {convbench_eigen_sgemm_avx512, ver + convbench_eigen_simd_avx512()};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return {convbench_eigen_sgemm_avx2, ver + convbench_eigen_simd_avx2()};
  return {convbench_eigen_sgemm_sse2, ver + convbench_eigen_simd_sse2()};
}

}  // namespace convbench
