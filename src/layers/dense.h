#pragma once
// Dense: y = x W + b, W [in, units] as Keras stores its kernel. The activation argument of
// Keras's Dense becomes a separate Activation layer (see registry.cpp).
#include <vector>

#include "layers/initializer.h"
#include "layers/layer.h"

namespace mnistnet {

class Dense final : public Layer {
 public:
  Dense(int64_t units, bool use_bias, Initializer kernel_init, Initializer bias_init);
  // Keras's kernel_regularizer / bias_regularizer, handed on in params().
  void set_regularizers(const Regularizer& kernel, const Regularizer& bias) {
    kernel_regularizer_ = kernel, bias_regularizer_ = bias;
  }

  const char* type() const override { return "Dense"; }
  Shape build(const Shape& input) override;
  void initialize(Rng& rng) override;
  std::vector<ParamRef> params() override;
  void forward(const float* x, float* y, int64_t batch, bool training) override;
  void backward(const float* x, const float* y, const float* dy, float* dx, int64_t batch) override;
  int64_t forward_flops() const override { return 2 * in_ * units_; }
  BackwardReads backward_reads() const override { return {true, false}; }  // dW = x^T dy
  // Inference with a following batch norm folded in: y = (x W - (mean - b)) * scale + shift,
  // then the batch norm's relu, in one pass over y after the GEMM (the bias's own pass).
  bool can_fold_affine() const override { return true; }
  void forward_folded(const float* x, float* y, int64_t batch,
                      const ChannelAffine& affine) override;

 private:
  int64_t units_, in_ = 0;
  bool use_bias_;
  Initializer kernel_init_, bias_init_;
  Regularizer kernel_regularizer_, bias_regularizer_;
  std::vector<float> kernel_, bias_, kernel_grad_, bias_grad_;
  std::vector<float> folded_mean_;  // [units]: forward_folded's mean - b, per call
};

}  // namespace mnistnet
