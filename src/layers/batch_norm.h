#pragma once
// BatchNormalization over the last axis (Keras's axis=-1), the channels of an NHWC image or the
// units after a Dense: an input of shape {..., C} is viewed as rows = batch * (elements / C),
// columns = C, and every column is normalised with its own statistics.
//
// Training:  y = gamma * (x - mean) / sqrt(var + epsilon) + beta with the batch mean and biased
//            variance of each column (tf.nn.moments); then
//            moving_mean = momentum * moving_mean + (1 - momentum) * mean, and likewise
//            moving_variance with the biased batch variance (no Bessel correction, as Keras).
// Inference: the same with moving_mean and moving_variance instead of the batch statistics.
//
// Parameters, in Keras's order: gamma [C] (if scale), beta [C] (if center), both trainable;
// moving_mean [C], moving_variance [C], non-trainable.
#include <cstdint>
#include <vector>

#include "layers/initializer.h"
#include "layers/layer.h"

namespace mnistnet {

struct BatchNormOptions {
  double momentum = 0.99;
  double epsilon = 1e-3;
  bool center = true;  // learn beta
  bool scale = true;   // learn gamma
  Initializer beta_initializer = Initializer::zeros;
  Initializer gamma_initializer = Initializer::ones;
  Initializer moving_mean_initializer = Initializer::zeros;
  Initializer moving_variance_initializer = Initializer::ones;
};

class BatchNormalization final : public Layer {
 public:
  explicit BatchNormalization(BatchNormOptions options = {});

  const char* type() const override { return "BatchNormalization"; }
  const BatchNormOptions& options() const { return o_; }
  Shape build(const Shape& input) override;
  void initialize(Rng& rng) override;
  std::vector<ParamRef> params() override;
  // training=true uses and records batch statistics (and updates the moving ones);
  // training=false uses the moving statistics and changes nothing.
  void forward(const float* x, float* y, int64_t batch, bool training) override;
  // After a training forward: the full gradient through the batch statistics. After an
  // inference forward: the gradient of that affine map (moving statistics are constants).
  void backward(const float* x, const float* y, const float* dy, float* dx, int64_t batch) override;
  int64_t forward_flops() const override { return 2 * rows_per_example_ * channels_; }
  // conv_bn's "BatchNormalization, then relu": bit-identical to the two ops, one pass fewer.
  bool absorb_relu() override {
    relu_ = true;
    return true;
  }
  // Inference is (x - moving_mean) * gamma / sqrt(moving_variance + epsilon) + beta, then the
  // fused relu: the model folds it into a Conv2D or Dense before it.
  bool is_channel_affine() const override { return true; }
  ChannelAffine channel_affine() const override;
  // x_hat and the fused relu's mask are recomputed from x.
  BackwardReads backward_reads() const override { return {true, false}; }

 private:
  BatchNormOptions o_;
  bool relu_ = false;             // the output is relu(batch norm), see absorb_relu()
  int64_t channels_ = 0;          // C, the last dimension
  int64_t rows_per_example_ = 0;  // elements per example / C (H * W for an image)
  std::vector<float> gamma_, beta_, moving_mean_, moving_variance_;  // [C] each
  std::vector<float> gamma_grad_, beta_grad_;                        // [C]
  // The statistics of the last forward, for backward, which recomputes
  // x_hat = (x - mean) * inv_std from x rather than keeping a batch-sized copy: so there is no
  // per-batch workspace, and inference (run by the model in chunks larger than reserve()'s
  // batch) is safe at any batch size.
  std::vector<double> mean_;                   // [C]
  std::vector<float> inv_std_;                 // [C]: 1 / sqrt(var + epsilon)
  std::vector<double> sum_, sum2_;             // [C]: per-column accumulators
  std::vector<double> partial_, partial_dyx_;  // [blocks, C]: per-block partial sums
  std::vector<float> scale_, shift_, mean_f_, mean_dy_, mean_dyx_;  // [C]: per-column coefficients
  // channel_affine()'s map, [C] each: its own buffers, so that asking for it leaves the last
  // forward's statistics, which backward reads, as they were.
  mutable std::vector<float> inference_mean_, inference_scale_, inference_shift_;
  void sum_columns_into(std::vector<double>& out) const;
  float moving_inv_std(size_t c) const;  // 1 / sqrt(moving_variance + epsilon) of column c
  float column_scale(size_t c, float inv_std) const;  // gamma * inv_std (inv_std without scale)
  float column_shift(size_t c) const;                 // beta (0 without center)
  void use_moving_statistics();  // mean_ and inv_std_ from the moving statistics
  void set_coefficients();       // scale_, mean_f_, shift_ from mean_ and inv_std_
  bool last_training_ = false;
};

}  // namespace mnistnet
