#pragma once
// Sums over parameter tensors (gradient norms for clipping, regulariser penalties) on the
// thread pool with the same bits for any thread count: the values are cut into fixed chunks,
// each chunk is summed on whichever thread gets it, and the chunk sums are added in order.
#include <algorithm>
#include <cstdint>

#include "core/parallel_for.h"

namespace mnistnet {

constexpr int64_t kSumChunk = 16384;

inline int64_t sum_chunks(int64_t n) { return (n + kSumChunk - 1) / kSumChunk; }

// Sums term(x[i]) over x[0..n) in chunks; partial holds sum_chunks(n) doubles (scratch sized by
// the caller once, so the step allocates nothing). term is element-wise (x*x, |x|).
template <class Term>
double chunked_sum(const float* x, int64_t n, double* partial, Term term) {
  const int64_t chunks = sum_chunks(n);
  parallel_for(
      chunks,
      [=](int64_t first, int64_t last) {
        for (int64_t c = first; c < last; ++c) {
          const float* __restrict v = x + c * kSumChunk;
          const int64_t m = std::min(kSumChunk, n - c * kSumChunk);
          // Sixteen float lanes GCC can keep in vector registers; added in double at the end.
          float lanes[16] = {};
          int64_t i = 0;
          for (; i + 16 <= m; i += 16)
            for (int j = 0; j < 16; ++j) lanes[j] += term(v[i + j]);
          double s = 0.0;
          for (; i < m; ++i) s += static_cast<double>(term(v[i]));
          for (float lane : lanes) s += static_cast<double>(lane);
          partial[c] = s;
        }
      },
      2);
  double total = 0.0;
  for (int64_t c = 0; c < chunks; ++c) total += partial[c];
  return total;
}

}  // namespace mnistnet
