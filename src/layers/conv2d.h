#pragma once
// Conv2D, NHWC, lowered to one GEMM per batch (im2col over the whole batch):
//   x [B, H, W, Cin] --im2col--> cols [B*Ho*Wo, kh*kw*Cin]
//   y [B*Ho*Wo, Cout] = cols * W [kh*kw*Cin, Cout]   (W is Keras's kernel [kh, kw, Cin, Cout])
// Backward is two more GEMMs: dW = cols^T dy and dcols = dy W^T, then col2im adds dcols into dx.
// The column buffer is planned in reserve() and kept from forward for the weight gradient.
#include <vector>

#include "layers/initializer.h"
#include "layers/layer.h"
#include "layers/same_padding.h"

namespace mnistnet {

struct Conv2DOptions {
  int64_t filters = 1;
  int64_t kernel_h = 3, kernel_w = 3;
  int64_t stride_h = 1, stride_w = 1;
  bool same = false;  // padding "same" (TensorFlow's rule) or "valid"
  bool use_bias = true;
  Initializer kernel_init = Initializer::glorot_uniform;
  Initializer bias_init = Initializer::zeros;
};

class Conv2D final : public Layer {
 public:
  explicit Conv2D(const Conv2DOptions& options) : o_(options) {}

  const char* type() const override { return "Conv2D"; }
  Shape build(const Shape& input) override;
  void initialize(Rng& rng) override;
  std::vector<ParamRef> params() override;
  void reserve(int64_t max_batch) override;
  void forward(const float* x, float* y, int64_t batch, bool training) override;
  void backward(const float* x, const float* y, const float* dy, float* dx,
                int64_t batch) override;
  int64_t forward_flops() const override { return 2 * out_h_ * out_w_ * patch_ * o_.filters; }

 private:
  void im2col(const float* x, int64_t batch);
  void col2im(float* dx, int64_t batch) const;
  void ensure_column_capacity(int64_t images);

  // Images per column-buffer chunk in inference (training always takes the whole batch).
  static constexpr int64_t kInferenceChunk = 64;

  Conv2DOptions o_;
  int64_t in_h_ = 0, in_w_ = 0, in_c_ = 0, out_h_ = 0, out_w_ = 0;
  int64_t pad_top_ = 0, pad_left_ = 0;
  int64_t patch_ = 0;  // kh * kw * Cin: one row of the column buffer
  std::vector<float> kernel_, bias_, kernel_grad_, bias_grad_;
  int64_t column_images_ = 0;  // images the column buffer holds
  std::vector<float> cols_;    // [images * Ho * Wo, patch]; dcols reuses it in backward
};

}  // namespace mnistnet
