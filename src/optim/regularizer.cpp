#include "optim/regularizer.h"

#include <algorithm>
#include <cmath>

#include "core/parallel_for.h"
#include "optim/chunked_sum.h"

namespace mnistnet {
namespace {
constexpr int64_t kMinParallelValues = 32768;
}  // namespace

int64_t regularizer_scratch_size(const std::vector<ParamRef>& params) {
  int64_t most = 0;
  for (const ParamRef& p : params) most = std::max(most, sum_chunks(p.size()));
  return most;
}

double apply_regularizers(const std::vector<ParamRef>& params, bool add_gradient, double* scratch) {
  double penalty = 0.0;
  for (const ParamRef& p : params) {
    const Regularizer& r = p.regularizer;
    if (!r.active()) continue;
    const int64_t n = p.size();
    // Keras's L1L2.__call__: l1 * sum(|x|) + l2 * sum(x^2), each term only when its factor is set.
    if (r.l1 != 0.0)
      penalty += r.l1 * chunked_sum(p.value, n, scratch, [](float x) { return std::abs(x); });
    if (r.l2 != 0.0)
      penalty += r.l2 * chunked_sum(p.value, n, scratch, [](float x) { return x * x; });
    if (!add_gradient || p.grad == nullptr) continue;
    const auto l1 = static_cast<float>(r.l1), two_l2 = static_cast<float>(2.0 * r.l2);
    const float* w = p.value;
    float* g = p.grad;
    parallel_for(
        n,
        [=](int64_t begin, int64_t end) {
          const float* __restrict wr = w + begin;
          float* __restrict gr = g + begin;
          for (int64_t i = 0; i < end - begin; ++i) {
            // d|w|/dw = sign(w), 0 at 0 (as TensorFlow's abs gradient).
            const float sign = static_cast<float>(wr[i] > 0.0f) - static_cast<float>(wr[i] < 0.0f);
            gr[i] += l1 * sign + two_l2 * wr[i];
          }
        },
        kMinParallelValues);
  }
  return penalty;
}

double regularization_penalty(const std::vector<ParamRef>& params) {
  std::vector<double> scratch(static_cast<size_t>(regularizer_scratch_size(params)));
  return apply_regularizers(params, false, scratch.data());
}

}  // namespace mnistnet
