#include "layers/activation.h"

#include <algorithm>
#include <cmath>

#include "core/parallel_for.h"

namespace mnistnet {
namespace {

// Element-wise maps run on both cores (bit-identical however they are split); below this many
// elements per share a wake-up costs more than it saves.
constexpr int64_t kMinElementsPerThread = 16384;

template <class Body>
void for_elements(int64_t n, Body&& body) {
  parallel_for(n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) body(i);
  }, kMinElementsPerThread);
}

}  // namespace

ActivationKind activation_from_name(const std::string& name) {
  if (name == "relu") return ActivationKind::relu;
  if (name == "sigmoid") return ActivationKind::sigmoid;
  if (name == "tanh") return ActivationKind::tanh;
  if (name == "softmax") return ActivationKind::softmax;
  return ActivationKind::linear;
}

Shape Activation::build(const Shape& input) {
  size_ = element_count(input);
  classes_ = input.empty() ? 1 : input.back();
  return input;
}

void Activation::forward(const float* x, float* y, int64_t batch, bool /*training*/) {
  const int64_t n = batch * size_;
  switch (kind_) {
    case ActivationKind::linear: std::copy(x, x + n, y); break;
    case ActivationKind::relu: for_elements(n, [&](int64_t i) { y[i] = x[i] > 0.0f ? x[i] : 0.0f; }); break;
    case ActivationKind::sigmoid:
      for_elements(n, [&](int64_t i) { y[i] = 1.0f / (1.0f + std::exp(-x[i])); });
      break;
    case ActivationKind::tanh: for_elements(n, [&](int64_t i) { y[i] = std::tanh(x[i]); }); break;
    case ActivationKind::softmax:
      // Subtracting the row maximum keeps exp() finite for any logits.
      for (int64_t r = 0; r < n / classes_; ++r) {
        const float* in = x + r * classes_;
        float* out = y + r * classes_;
        const float m = *std::max_element(in, in + classes_);
        float sum = 0.0f;
        for (int64_t j = 0; j < classes_; ++j) sum += (out[j] = std::exp(in[j] - m));
        for (int64_t j = 0; j < classes_; ++j) out[j] /= sum;
      }
      break;
  }
}

void Activation::backward(const float* /*x*/, const float* y, const float* dy, float* dx,
                          int64_t batch) {
  if (!dx) return;
  const int64_t n = batch * size_;
  switch (kind_) {
    case ActivationKind::linear: std::copy(dy, dy + n, dx); break;
    case ActivationKind::relu: for_elements(n, [&](int64_t i) { dx[i] = y[i] > 0.0f ? dy[i] : 0.0f; }); break;
    case ActivationKind::sigmoid:
      for_elements(n, [&](int64_t i) { dx[i] = dy[i] * y[i] * (1.0f - y[i]); });
      break;
    case ActivationKind::tanh:
      for_elements(n, [&](int64_t i) { dx[i] = dy[i] * (1.0f - y[i] * y[i]); });
      break;
    case ActivationKind::softmax:
      // dx_j = y_j * (dy_j - sum_k dy_k y_k)
      for (int64_t r = 0; r < n / classes_; ++r) {
        const float* yr = y + r * classes_;
        const float* dyr = dy + r * classes_;
        float dot = 0.0f;
        for (int64_t j = 0; j < classes_; ++j) dot += dyr[j] * yr[j];
        for (int64_t j = 0; j < classes_; ++j) dx[r * classes_ + j] = yr[j] * (dyr[j] - dot);
      }
      break;
  }
}

}  // namespace mnistnet
