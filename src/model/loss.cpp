#include "model/loss.h"

#include <algorithm>
#include <cmath>

namespace mnistnet {

LossSums softmax_cross_entropy(const float* logits, const int32_t* labels, int64_t batch,
                               int64_t classes, float* dlogits) {
  LossSums sums;
  const float inv_batch = 1.0f / static_cast<float>(batch);
  for (int64_t r = 0; r < batch; ++r) {
    const float* z = logits + r * classes;
    const int64_t label = labels[r];
    const float* top = std::max_element(z, z + classes);
    const float m = *top;
    double sum = 0.0;
    for (int64_t j = 0; j < classes; ++j) sum += std::exp(static_cast<double>(z[j] - m));
    const double log_sum = std::log(sum);
    sums.loss += log_sum - static_cast<double>(z[label] - m);
    sums.correct += (top - z) == label;
    if (dlogits) {
      float* d = dlogits + r * classes;
      for (int64_t j = 0; j < classes; ++j) {
        const double p = std::exp(static_cast<double>(z[j] - m) - log_sum);
        d[j] = static_cast<float>(p - (j == label ? 1.0 : 0.0)) * inv_batch;
      }
    }
  }
  return sums;
}

}  // namespace mnistnet
