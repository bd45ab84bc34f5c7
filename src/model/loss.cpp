#include "model/loss.h"

#include <algorithm>
#include <cmath>

namespace mnistnet {

LossSums softmax_cross_entropy(const float* logits, const int32_t* labels, int64_t batch,
                               int64_t classes, float* dlogits, float label_smoothing) {
  LossSums sums;
  const float inv_batch = 1.0f / static_cast<float>(batch);
  // Smoothed targets: off = s / classes everywhere, on = 1 - s + s / classes at the label.
  const double smoothing = label_smoothing;
  const double off = smoothing / static_cast<double>(classes), on = 1.0 - smoothing + off;
  for (int64_t r = 0; r < batch; ++r) {
    const float* z = logits + r * classes;
    const int64_t label = labels[r];
    const float* top = std::max_element(z, z + classes);
    const float m = *top;
    double sum = 0.0;
    for (int64_t j = 0; j < classes; ++j) sum += std::exp(static_cast<double>(z[j] - m));
    const double log_sum = std::log(sum);
    if (label_smoothing == 0.0f) {
      sums.loss += log_sum - static_cast<double>(z[label] - m);
    } else {
      // -sum_j y_j (z_j - m - log_sum), with sum_j y_j = 1.
      double weighted = 0.0;
      for (int64_t j = 0; j < classes; ++j)
        weighted += (j == label ? on : off) * static_cast<double>(z[j] - m);
      sums.loss += log_sum - weighted;
    }
    sums.correct += (top - z) == label;
    if (dlogits) {
      float* d = dlogits + r * classes;
      for (int64_t j = 0; j < classes; ++j) {
        const double p = std::exp(static_cast<double>(z[j] - m) - log_sum);
        const double y =
            label_smoothing == 0.0f ? (j == label ? 1.0 : 0.0) : (j == label ? on : off);
        d[j] = static_cast<float>(p - y) * inv_batch;
      }
    }
  }
  return sums;
}

}  // namespace mnistnet
