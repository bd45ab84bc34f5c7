#pragma once
// LayerNormalization (Keras, axis=-1): every example's last axis (the channels of each pixel, or
// the units after a Dense) is normalised with its own mean and biased variance, then scaled and
// shifted per channel:  y = gamma * (x - mean) / sqrt(var + epsilon) + beta.
// The same in training and inference (no moving statistics). Parameters, in Keras's order:
// gamma [C] (if scale), beta [C] (if center).
//
// No per-batch workspace: backward recomputes each row's statistics from x (C values), so
// inference runs at any batch size.
#include <cstdint>
#include <vector>

#include "layers/initializer.h"
#include "layers/layer.h"

namespace mnistnet {

struct LayerNormOptions {
  double epsilon = 1e-3;
  bool center = true;
  bool scale = true;
  Initializer beta_initializer = Initializer::zeros;
  Initializer gamma_initializer = Initializer::ones;
};

class LayerNormalization final : public Layer {
 public:
  explicit LayerNormalization(LayerNormOptions options = {}) : o_(options) {}

  const char* type() const override { return "LayerNormalization"; }
  Shape build(const Shape& input) override;
  void initialize(Rng& rng) override;
  std::vector<ParamRef> params() override;
  void forward(const float* x, float* y, int64_t batch, bool training) override;
  void backward(const float* x, const float* y, const float* dy, float* dx, int64_t batch) override;
  int64_t forward_flops() const override { return 4 * rows_per_example_ * channels_; }

 private:
  LayerNormOptions o_;
  int64_t channels_ = 0, rows_per_example_ = 0;
  std::vector<float> gamma_, beta_, gamma_grad_, beta_grad_;  // [C]
  std::vector<float> ones_, zeros_;                           // [C]: gamma / beta when absent
  std::vector<double> partial_;  // [kBlocks, 2 C]: per-block sums of dy * x_hat and dy
};

}  // namespace mnistnet
