#include "core/blas.h"

#include <cblas.h>

#include <algorithm>

#include "core/parallel_for.h"

namespace mnistnet {
namespace {

void sgemm(Trans trans_a, Trans trans_b, int64_t m, int64_t n, int64_t k, float alpha,
           const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
           int64_t ldc) {
  cblas_sgemm(CblasRowMajor, trans_a == Trans::yes ? CblasTrans : CblasNoTrans,
              trans_b == Trans::yes ? CblasTrans : CblasNoTrans, static_cast<blasint>(m),
              static_cast<blasint>(n), static_cast<blasint>(k), alpha, a, static_cast<blasint>(lda),
              b, static_cast<blasint>(ldb), beta, c, static_cast<blasint>(ldc));
}

// OpenBLAS runs single-threaded: its own worker threads spin (calling sched_yield) for a long
// time after every call, and on two cores they fight the engine's parallel_for workers for
// the CPU. Multi-core GEMMs split their columns over the engine's pool instead.
const bool kOpenBlasSingleThreaded = [] {
  openblas_set_num_threads(1);
  return true;
}();

// Column blocks start at multiples of this (OpenBLAS's kernels work in strips of 16).
constexpr int64_t kColumnAlign = 16;

}  // namespace

void gemm(Trans trans_a, Trans trans_b, int64_t m, int64_t n, int64_t k, float alpha,
          const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
          int64_t ldc) {
  (void)kOpenBlasSingleThreaded;
  const int64_t strips = (n + kColumnAlign - 1) / kColumnAlign;
  if (m * n * k < 2 * kMinWorkPerShare || strips < 2) {
    sgemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  // Each share computes whole columns of C with the same k order as one big call, so the
  // result does not depend on the number of shares.
  parallel_for_work(strips, m * k * kColumnAlign, [&](int64_t first, int64_t last) {
    const int64_t col = first * kColumnAlign, cols = std::min(n, last * kColumnAlign) - col;
    const float* b_cols = trans_b == Trans::no ? b + col : b + col * ldb;
    sgemm(trans_a, trans_b, m, cols, k, alpha, a, lda, b_cols, ldb, beta, c + col, ldc);
  });
}

std::string blas_core_name() { return openblas_get_corename(); }
std::string blas_config() { return openblas_get_config(); }

}  // namespace mnistnet
