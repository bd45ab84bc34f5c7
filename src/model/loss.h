#pragma once
// Softmax + categorical cross-entropy fused, from logits and integer labels.
// Fusing is what keeps it finite: log_softmax(z)_y = z_y - max(z) - log(sum(exp(z - max(z)))),
// so logits of +-1000 give a large but finite loss instead of log(0).
#include <cstdint>

namespace mnistnet {

struct LossSums {
  double loss = 0.0;    // sum over the batch of -log p(label) (smoothed: -sum_j y_j log p_j)
  int64_t correct = 0;  // examples whose arg-max is the label
};

// logits: [batch, classes]; labels: [batch], each in [0, classes).
// When dlogits is not null, writes d(mean loss)/d(logits) = (softmax - y) / batch, where y is
// the one-hot label, or with label_smoothing s as Keras's CategoricalCrossentropy smooths it:
// y = onehot * (1 - s) + s / classes.
LossSums softmax_cross_entropy(const float* logits, const int32_t* labels, int64_t batch,
                               int64_t classes, float* dlogits, float label_smoothing = 0.0f);

}  // namespace mnistnet
