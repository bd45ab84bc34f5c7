#include "layers/activation.h"

#include <algorithm>
#include <cmath>

#include "core/parallel_for.h"
#include "layers/activation_math.h"

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
        const Map f = map;  // a local copy: its captured arguments stay in registers
        const float* __restrict x = in + begin;
        float* __restrict y = out + begin;
        for (int64_t i = 0; i < end - begin; ++i) y[i] = f(x[i]);
      },
      kMinElementsPerThread);
}

// out[i] = map(a[i], b[i]).
template <class Map>
void map_elements(int64_t n, const float* a, const float* b, float* out, Map map) {
  parallel_for(
      n,
      [&](int64_t begin, int64_t end) {
        const Map f = map;
        const float* __restrict pa = a + begin;
        const float* __restrict pb = b + begin;
        float* __restrict y = out + begin;
        for (int64_t i = 0; i < end - begin; ++i) y[i] = f(pa[i], pb[i]);
      },
      kMinElementsPerThread);
}

// keras.activations.selu's constants.
constexpr float kSeluAlpha = 1.67326324f;
constexpr float kSeluScale = 1.05070098f;
constexpr float kInvSqrt2Pi = 0.398942280f;  // the normal density's 1 / sqrt(2 pi)

}  // namespace

ActivationKind activation_from_name(const std::string& name) {
  if (name == "relu") return ActivationKind::relu;
  if (name == "sigmoid") return ActivationKind::sigmoid;
  if (name == "tanh") return ActivationKind::tanh;
  if (name == "softmax") return ActivationKind::softmax;
  if (name == "relu6") return ActivationKind::relu6;
  if (name == "leaky_relu") return ActivationKind::leaky_relu;
  if (name == "elu") return ActivationKind::elu;
  if (name == "selu") return ActivationKind::selu;
  if (name == "gelu") return ActivationKind::gelu;
  if (name == "swish" || name == "silu") return ActivationKind::swish;
  if (name == "hard_swish" || name == "hard_silu") return ActivationKind::hard_swish;
  if (name == "softplus") return ActivationKind::softplus;
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
    case ActivationKind::relu6:
      map_elements(n, x, y, [](float v) {
        const float r = v > 0.0f ? v : 0.0f;
        return r < 6.0f ? r : 6.0f;
      });
      break;
    case ActivationKind::leaky_relu:
      map_elements(n, x, y, [s = args_.negative_slope](float v) { return v >= 0.0f ? v : s * v; });
      break;
    case ActivationKind::elu:
      map_elements(n, x, y, [a = args_.alpha](float v) {
        const float neg = a * activation_math::expm1(v);
        return v > 0.0f ? v : neg;
      });
      break;
    case ActivationKind::selu:
      map_elements(n, x, y, [](float v) {
        const float neg = kSeluAlpha * activation_math::expm1(v);
        return kSeluScale * (v > 0.0f ? v : neg);
      });
      break;
    case ActivationKind::gelu:
      map_elements(n, x, y, [](float v) { return v * activation_math::normal_cdf(v); });
      break;
    case ActivationKind::swish:
      map_elements(n, x, y, [](float v) { return v * activation_math::sigmoid(v); });
      break;
    case ActivationKind::hard_swish:
      map_elements(n, x, y, [](float v) {
        float r = v + 3.0f;
        r = r > 0.0f ? r : 0.0f;
        r = r < 6.0f ? r : 6.0f;
        return v * r * (1.0f / 6.0f);
      });
      break;
    case ActivationKind::softplus:
      // max(x, 0) + log(1 + e^-|x|): never overflows, and exact in form for large |x|.
      map_elements(n, x, y, [](float v) {
        const float a = v < 0.0f ? -v : v;
        return (v > 0.0f ? v : 0.0f) + activation_math::log1p_unit(activation_math::exp(-a));
      });
      break;
    case ActivationKind::relu_options:
      map_elements(n, x, y, [o = args_](float v) {
        const float below = o.negative_slope * (v - o.threshold);
        const float r = v >= o.threshold ? v : below;
        return v >= o.max_value ? o.max_value : r;
      });
      break;
  }
}

void Activation::backward(const float* x, const float* y, const float* dy, float* dx,
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
    // The kinds below differentiate at the input x; at a kink they take the right-hand side's
    // slope where Keras's formula's comparison does (relu6 and relu_options: 0 at the clip).
    case ActivationKind::relu6:
      map_elements(n, x, dy, dx, [](float v, float g) {
        const bool inside = (v > 0.0f) & (v < 6.0f);
        return inside ? g : 0.0f;
      });
      break;
    case ActivationKind::leaky_relu:
      map_elements(n, x, dy, dx,
                   [s = args_.negative_slope](float v, float g) { return v >= 0.0f ? g : s * g; });
      break;
    case ActivationKind::elu:
      map_elements(n, x, dy, dx, [a = args_.alpha](float v, float g) {
        const float neg = g * a * activation_math::exp(v);
        return v > 0.0f ? g : neg;
      });
      break;
    case ActivationKind::selu:
      map_elements(n, x, dy, dx, [](float v, float g) {
        const float neg = kSeluAlpha * activation_math::exp(v);
        return g * kSeluScale * (v > 0.0f ? 1.0f : neg);
      });
      break;
    case ActivationKind::gelu:
      // d/dx x Phi(x) = Phi(x) + x phi(x).
      map_elements(n, x, dy, dx, [](float v, float g) {
        const float density = kInvSqrt2Pi * activation_math::exp(-0.5f * v * v);
        return g * (activation_math::normal_cdf(v) + v * density);
      });
      break;
    case ActivationKind::swish:
      // d/dx x s(x) = s + x s (1 - s).
      map_elements(n, x, dy, dx, [](float v, float g) {
        const float s = activation_math::sigmoid(v);
        return g * (s + v * s * (1.0f - s));
      });
      break;
    case ActivationKind::hard_swish:
      // 0 below -3, 1 above 3, (2x + 3) / 6 between.
      map_elements(n, x, dy, dx, [](float v, float g) {
        const float mid = (2.0f * v + 3.0f) * (1.0f / 6.0f);
        const float slope = v <= -3.0f ? 0.0f : (v >= 3.0f ? 1.0f : mid);
        return g * slope;
      });
      break;
    case ActivationKind::softplus:
      map_elements(n, x, dy, dx, [](float v, float g) { return g * activation_math::sigmoid(v); });
      break;
    case ActivationKind::relu_options:
      map_elements(n, x, dy, dx, [o = args_](float v, float g) {
        const float r = v >= o.threshold ? g : o.negative_slope * g;
        return v >= o.max_value ? 0.0f : r;
      });
      break;
  }
}

}  // namespace mnistnet
