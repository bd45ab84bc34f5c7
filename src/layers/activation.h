#pragma once
// Element-wise activations and softmax (over the last axis). Backward uses the output y only.
#include <string>

#include "layers/layer.h"

namespace mnistnet {

enum class ActivationKind { linear, relu, sigmoid, tanh, softmax };

#define MNISTNET_ACTIVATION_NAMES "linear", "relu", "sigmoid", "tanh", "softmax"

ActivationKind activation_from_name(const std::string& name);

class Activation final : public Layer {
 public:
  explicit Activation(ActivationKind kind) : kind_(kind) {}

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
  int64_t size_ = 0;     // elements per example
  int64_t classes_ = 0;  // softmax axis length (the last dimension)
};

}  // namespace mnistnet
