#pragma once
// Element-wise activations and softmax (over the last axis), Keras's keras.activations by name,
// plus the argument forms of Keras's ReLU and LeakyReLU layers.
//
//   relu        max(x, 0)                    relu6       min(max(x, 0), 6)
//   leaky_relu  x >= 0 ? x : slope * x       elu         x > 0 ? x : alpha * (e^x - 1)
//   selu        1.0507 * elu(x, 1.6733)      gelu        x * Phi(x) (exact, erf form)
//   swish/silu  x * sigmoid(x)               hard_swish  x * relu6(x + 3) / 6 (= hard_silu)
//   softplus    log(1 + e^x)                 sigmoid, tanh, softmax, linear
//   relu_options  Keras's ReLU(max_value, negative_slope, threshold):
//                 x >= max_value ? max_value : x >= threshold ? x : slope * (x - threshold)
//
// Backward of the original five uses the output y; the others recompute from the input x.
#include <limits>
#include <string>

#include "layers/layer.h"

namespace mnistnet {

enum class ActivationKind {
  linear,
  relu,
  sigmoid,
  tanh,
  softmax,
  relu6,
  leaky_relu,
  elu,
  selu,
  gelu,
  swish,
  hard_swish,
  softplus,
  relu_options,
};

// The names `activation` accepts, as Keras spells them (silu = swish, hard_silu = hard_swish).
#define MNISTNET_ACTIVATION_NAMES                                                               \
  "linear", "relu", "sigmoid", "tanh", "softmax", "relu6", "leaky_relu", "elu", "selu", "gelu", \
      "swish", "silu", "hard_swish", "hard_silu", "softplus"

ActivationKind activation_from_name(const std::string& name);

// Arguments of the parametrised kinds; the defaults are keras.activations' own.
struct ActivationArgs {
  float negative_slope = 0.2f;  // leaky_relu (the LeakyReLU layer passes its 0.3), relu_options
  float alpha = 1.0f;           // elu
  float max_value = std::numeric_limits<float>::infinity();  // relu_options
  float threshold = 0.0f;                                    // relu_options
};

class Activation final : public Layer {
 public:
  explicit Activation(ActivationKind kind, ActivationArgs args = {}) : kind_(kind), args_(args) {}

  const char* type() const override { return "Activation"; }
  ActivationKind kind() const { return kind_; }
  Shape build(const Shape& input) override;
  void forward(const float* x, float* y, int64_t batch, bool training) override;
  void backward(const float* x, const float* y, const float* dy, float* dx, int64_t batch) override;
  // These kinds differentiate from y alone; any other reads x as well.
  BackwardReads backward_reads() const override {
    const bool from_output = kind_ == ActivationKind::linear || kind_ == ActivationKind::relu ||
                             kind_ == ActivationKind::sigmoid || kind_ == ActivationKind::tanh ||
                             kind_ == ActivationKind::softmax;
    return {!from_output, true};
  }

 private:
  ActivationKind kind_;
  ActivationArgs args_;
  int64_t size_ = 0;     // elements per example
  int64_t classes_ = 0;  // softmax axis length (the last dimension)
};

}  // namespace mnistnet
