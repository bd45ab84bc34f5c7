#pragma once
// The engine's one door to OpenBLAS: only blas.cpp includes cblas.h.
#include <cstdint>
#include <string>

namespace mnistnet {

enum class Trans { no, yes };

// Row-major C[m, n] = alpha * op(A)[m, k] * op(B)[k, n] + beta * C.
// lda/ldb/ldc are the row strides of A, B and C as stored. Large products are split by
// columns over parallel_for's threads (so, like parallel_for, not from inside a body).
void gemm(Trans trans_a, Trans trans_b, int64_t m, int64_t n, int64_t k, float alpha,
          const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
          int64_t ldc);

// The OpenBLAS core type whose kernels run ("Zen", "SkylakeX", "Prescott", ...).
std::string blas_core_name();
// OpenBLAS's build line ("OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64").
std::string blas_config();

}  // namespace mnistnet
