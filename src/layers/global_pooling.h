#pragma once
// GlobalAveragePooling2D and GlobalMaxPooling2D: the mean or the maximum over height and width,
// per channel. Example {H, W, C} -> {C} (or {1, 1, C} with Keras's keepdims=true).
#include <vector>

#include "layers/layer.h"

namespace mnistnet {

class GlobalAveragePooling2D final : public Layer {
 public:
  explicit GlobalAveragePooling2D(bool keepdims = false) : keepdims_(keepdims) {}

  const char* type() const override { return "GlobalAveragePooling2D"; }
  // Throws ShapeError unless the input is an image {H, W, C}.
  Shape build(const Shape& input) override;
  void forward(const float* x, float* y, int64_t batch, bool training) override;
  void backward(const float* x, const float* y, const float* dy, float* dx, int64_t batch) override;
  BackwardReads backward_reads() const override { return {false, false}; }

 private:
  bool keepdims_;
  int64_t pixels_ = 0, channels_ = 0;  // H * W, C
};

// Backward follows TensorFlow's gradient of reduce_max (Keras 3's op): dy goes to every pixel
// equal to the maximum, split evenly when several tie.
class GlobalMaxPooling2D final : public Layer {
 public:
  explicit GlobalMaxPooling2D(bool keepdims = false) : keepdims_(keepdims) {}

  const char* type() const override { return "GlobalMaxPooling2D"; }
  // Throws ShapeError unless the input is an image {H, W, C}.
  Shape build(const Shape& input) override;
  void forward(const float* x, float* y, int64_t batch, bool training) override;
  void backward(const float* x, const float* y, const float* dy, float* dx, int64_t batch) override;

 private:
  bool keepdims_;
  int64_t pixels_ = 0, channels_ = 0;  // H * W, C
  std::vector<float> ties_;            // [C]: pixels equal to the maximum, per channel
};

}  // namespace mnistnet
