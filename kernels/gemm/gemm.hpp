// Row-major single-precision GEMM, C[M x N] = A[M x K] * B[K x N], from a library.
#pragma once

#include <string>

namespace convbench {

struct Sgemm {
  void (*fn)(long M, long N, long K, const float* A, long lda, const float* B, long ldb,
             float* C, long ldc);
  std::string version;  // library, version, kernel set and threading as it runs here
};

Sgemm openblas_sgemm();
Sgemm eigen_sgemm();  // the widest ISA level this CPU runs

}  // namespace convbench
