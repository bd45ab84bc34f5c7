#pragma once
// MaxPooling2D and AveragePooling2D over NHWC images, with Keras's arguments:
// pool_size [h, w], strides [h, w] (Keras's strides=None means pool_size), padding "valid" or
// "same" (TensorFlow's rule, see same_padding.h). Example {H, W, C} -> {out_h, out_w, C}.
//
// Padded positions never take part: max-pool ignores them (TF pads with -inf) and average-pool
// divides by the number of real elements under the window, as TensorFlow does.
#include <array>
#include <cstdint>
#include <vector>

#include "layers/layer.h"

namespace mnistnet {

enum class PoolPadding { valid, same };

// The shared window geometry; MaxPooling2D and AveragePooling2D differ only in the reduction.
class Pooling2D : public Layer {
 public:
  Pooling2D(std::array<int64_t, 2> pool_size, std::array<int64_t, 2> strides, PoolPadding padding);

  // {H, W, C} -> {out_h, out_w, C}; throws ShapeError for a non-image input or, with "valid",
  // a pool larger than the image.
  Shape build(const Shape& input) override;

  const std::array<int64_t, 2>& pool_size() const { return pool_; }
  const std::array<int64_t, 2>& strides() const { return strides_; }
  PoolPadding padding() const { return padding_; }

 protected:
  // The input rows [h0, h1) and columns [w0, w1) under output position (oh, ow), padding
  // clipped away. Never empty: TF's "same" padding is always smaller than the window.
  struct Window {
    int64_t h0, h1, w0, w1;
  };
  Window window(int64_t oh, int64_t ow) const;

  int64_t in_h_ = 0, in_w_ = 0, channels_ = 0;
  int64_t out_h_ = 0, out_w_ = 0;
  int64_t pad_top_ = 0, pad_left_ = 0;
  int64_t in_size() const { return in_h_ * in_w_ * channels_; }
  int64_t out_size() const { return out_h_ * out_w_ * channels_; }

 private:
  std::array<int64_t, 2> pool_, strides_;
  PoolPadding padding_;
};

// y = the maximum under each window, per channel. Backward routes dy to the arg-max (the first
// maximum in row-major window order when several are equal), recorded by the last training
// forward; inference records nothing, so it may run any batch size (the model's inference
// chunks are not bounded by reserve()).
class MaxPooling2D final : public Pooling2D {
 public:
  using Pooling2D::Pooling2D;

  const char* type() const override { return "MaxPooling2D"; }
  Shape build(const Shape& input) override;
  void reserve(int64_t max_batch) override;
  void forward(const float* x, float* y, int64_t batch, bool training) override;
  void backward(const float* x, const float* y, const float* dy, float* dx, int64_t batch) override;

 private:
  template <bool kRecordArgmax>
  void pool(const float* x, float* y, int64_t batch);

  // [max_batch, out_h, out_w, C]: index of the arg-max within its example's input.
  std::vector<int32_t> argmax_;
};

// y = the mean of the real (non-padded) elements under each window, per channel.
class AveragePooling2D final : public Pooling2D {
 public:
  using Pooling2D::Pooling2D;

  const char* type() const override { return "AveragePooling2D"; }
  void forward(const float* x, float* y, int64_t batch, bool training) override;
  void backward(const float* x, const float* y, const float* dy, float* dx, int64_t batch) override;
};

}  // namespace mnistnet
