#include "layers/activation.h"

#include <algorithm>
#include <cmath>

#include "core/parallel_for.h"

namespace mnistnet {
namespace {

// Element-wise maps run on both cores (bit-identical however they are split); below this many
// elements per share a wake-up costs more than it saves.
constexpr int64_t kMinElementsPerThread = 16384;

// Each share is a plain loop over restrict-qualified pointers. Without them GCC must assume the
// output aliases the captured pointers, reloads them every element and does not vectorise: relu's
// backward then branched on every sign and took a tenth of a conv_bn step. Inputs and outputs
// never overlap (the model gives every op its own buffers).
template <class Map>
void map_elements(int64_t n, const float* in, float* out, Map map) {
  parallel_for(
      n,
      [&](int64_t begin, int64_t end) {
        const float* __restrict x = in + begin;
        float* __restrict y = out + begin;
        for (int64_t i = 0; i < end - begin; ++i) y[i] = map(x[i]);
      },
      kMinElementsPerThread);
}

// out[i] = map(a[i], b[i]).
template <class Map>
void map_elements(int64_t n, const float* a, const float* b, float* out, Map map) {
  parallel_for(
      n,
      [&](int64_t begin, int64_t end) {
        const float* __restrict pa = a + begin;
        const float* __restrict pb = b + begin;
        float* __restrict y = out + begin;
        for (int64_t i = 0; i < end - begin; ++i) y[i] = map(pa[i], pb[i]);
      },
      kMinElementsPerThread);
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
    case ActivationKind::linear:
      std::copy(x, x + n, y);
      break;
    case ActivationKind::relu:
      map_elements(n, x, y, [](float v) { return v > 0.0f ? v : 0.0f; });
      break;
    case ActivationKind::sigmoid:
      map_elements(n, x, y, [](float v) { return 1.0f / (1.0f + std::exp(-v)); });
      break;
    case ActivationKind::tanh:
      map_elements(n, x, y, [](float v) { return std::tanh(v); });
      break;
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
    case ActivationKind::linear:
      std::copy(dy, dy + n, dx);
      break;
    case ActivationKind::relu:
      map_elements(n, y, dy, dx, [](float out, float g) { return out > 0.0f ? g : 0.0f; });
      break;
    case ActivationKind::sigmoid:
      map_elements(n, y, dy, dx, [](float out, float g) { return g * out * (1.0f - out); });
      break;
    case ActivationKind::tanh:
      map_elements(n, y, dy, dx, [](float out, float g) { return g * (1.0f - out * out); });
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
