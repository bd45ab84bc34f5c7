#pragma once
// Conv2D, NHWC: y [B, Ho, Wo, Cout] = x [B, H, W, Cin] convolved with Keras's kernel
// [kh, kw, Cin, Cout], computed by the direct kernels of conv_kernels.h (the im2col GEMM
// without the column matrix). Forward keeps the zero-padded input for the kernel gradient;
// every buffer is planned in reserve().
#include <vector>

#include "layers/conv_kernels.h"
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
  // The kernel's parameter name: SeparableConv2D's 1x1 op holds Keras's "pointwise_kernel".
  const char* kernel_name = "kernel";
  Regularizer kernel_regularizer, bias_regularizer;  // Keras's kernel_/bias_regularizer
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
  void backward(const float* x, const float* y, const float* dy, float* dx, int64_t batch) override;
  int64_t forward_flops() const override { return 2 * g_.pixels() * g_.patch() * o_.filters; }
  // A following relu is applied as the outputs are stored; backward masks dy with y > 0.
  bool absorb_relu() override {
    relu_ = true;
    capacity_ = 0;  // the masked dy buffer is planned with the others
    return true;
  }
  // Inference with a following batch norm folded in: the kernel scaled per filter, the bias
  // (b - mean) * scale + shift, the batch norm's relu applied as the outputs are stored.
  bool can_fold_affine() const override { return !relu_; }
  void forward_folded(const float* x, float* y, int64_t batch,
                      const ChannelAffine& affine) override;
  // The kernel gradient reads the padded copy of x kept by forward; the input gradient only W;
  // the fused relu's mask reads y.
  BackwardReads backward_reads() const override { return {false, relu_}; }

 private:
  void ensure_capacity(int64_t images);
  // y = relu?(conv(x, packed) + bias), in chunks of padded input as forward() explains.
  // Scales and packs the kernel and bias of forward_folded for this batch norm map.
  void fold(const ChannelAffine& affine);
  void run(const float* x, float* y, int64_t batch, bool training, const float* packed,
           const float* bias, bool relu);

  // Images per padded-input chunk in inference (training always takes the whole batch).
  static constexpr int64_t kInferenceChunk = 64;

  Conv2DOptions o_;
  conv_kernels::Geometry g_;
  std::vector<float> kernel_, bias_, kernel_grad_, bias_grad_;
  // Layouts of conv_kernels.h, refreshed from kernel_ and bias_ every training call.
  std::vector<float> packed_kernel_, packed_transposed_, packed_grad_, padded_bias_;
  // The weights (and a folded batch norm's map) that the packed kernels were last built from
  // for inference; inference repacks only when they changed (see refresh_key in conv2d.cpp).
  std::vector<float> packed_key_, folded_key_;
  bool packed_key_valid_ = false, folded_key_valid_ = false;
  int64_t capacity_ = 0;         // images the per-batch buffers hold
  std::vector<float> padded_x_;  // [images, image_stride]: this batch's input, kept for backward
  std::vector<float> dy_transposed_;  // transposed_dy_size(images): input-gradient scratch
  std::vector<float> dy_scratch_;     // dy with whole vectors of filters, when F needs padding
  bool relu_ = false;                 // the output is relu(conv), see absorb_relu()
  std::vector<float> relu_dy_;        // [images, pixels, filters]: dy where y > 0, else 0
  // forward_folded's kernel [patch, filters] and bias [padded filters], and the packed kernel,
  // rebuilt from the weights and the map when folded_key_ says they changed (the weights
  // themselves never change).
  std::vector<float> folded_kernel_, folded_bias_, folded_packed_;
};

}  // namespace mnistnet
