#include "train/sgemm_peak.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "core/blas.h"

namespace mnistnet {

double measure_sgemm_peak_gflops(int size, int repeats) {
  const auto n = static_cast<size_t>(size) * static_cast<size_t>(size);
  std::vector<float> a(n, 0.5f), b(n, 0.25f), c(n, 0.0f);
  double best = 0.0;
  for (int r = 0; r < repeats + 1; ++r) {  // the first call warms threads and caches
    const auto start = std::chrono::steady_clock::now();
    gemm(Trans::no, Trans::no, size, size, size, 1.0f, a.data(), size, b.data(), size, 0.0f,
         c.data(), size);
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (r > 0) best = std::max(best, 2.0 * size * static_cast<double>(size) * size / s / 1e9);
  }
  return best;
}

}  // namespace mnistnet
