#pragma once
// DepthwiseConv2D (Keras), NHWC: each input channel convolved with its own depth_multiplier
// filters, y [B, Ho, Wo, C*M] from x [B, H, W, C] and depthwise_kernel [kh, kw, C, M]; output
// channel c*M + m. Padding "valid" or "same" (TensorFlow's rule, same_padding.h). The maths is
// in depthwise_kernels.h; every buffer is planned in reserve().
#include <vector>

#include "layers/depthwise_kernels.h"
#include "layers/initializer.h"
#include "layers/layer.h"

namespace mnistnet {

struct DepthwiseConv2DOptions {
  int64_t kernel_h = 3, kernel_w = 3;
  int64_t stride_h = 1, stride_w = 1;
  bool same = false;  // padding "same" or "valid"
  int64_t depth_multiplier = 1;
  bool use_bias = true;
  Initializer depthwise_init = Initializer::glorot_uniform;
  Initializer bias_init = Initializer::zeros;
};

class DepthwiseConv2D final : public Layer {
 public:
  explicit DepthwiseConv2D(const DepthwiseConv2DOptions& options) : o_(options) {}

  const char* type() const override { return "DepthwiseConv2D"; }
  Shape build(const Shape& input) override;
  void initialize(Rng& rng) override;
  // depthwise_kernel [kh, kw, C, M], then bias [C*M] (Keras's names and order).
  std::vector<ParamRef> params() override;
  void reserve(int64_t max_batch) override;
  void forward(const float* x, float* y, int64_t batch, bool training) override;
  void backward(const float* x, const float* y, const float* dy, float* dx, int64_t batch) override;
  int64_t forward_flops() const override { return 2 * g_.pixels() * g_.taps() * g_.out_channels(); }

 private:
  void ensure_capacity(int64_t images);

  // Images per padded-input chunk in inference (training keeps the whole batch for backward).
  static constexpr int64_t kInferenceChunk = 64;

  DepthwiseConv2DOptions o_;
  depthwise_kernels::Geometry g_;
  std::vector<float> kernel_, bias_, kernel_grad_, bias_grad_;  // Keras layouts
  std::vector<float> packed_kernel_, packed_bias_;              // [taps, Cp], [Cp]
  std::vector<float> partial_;    // [kBlocks, (taps + 1) * Cp]: gradient partial sums
  int64_t capacity_ = 0;          // images the per-batch buffers hold
  std::vector<float> padded_x_;   // [images, image_stride]: this batch's input, for backward
  std::vector<float> padded_dx_;  // [images, image_stride]: input-gradient scratch
};

}  // namespace mnistnet
