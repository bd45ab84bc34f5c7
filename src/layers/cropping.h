#pragma once
// Cropping2D (Keras): drops rows at the top and bottom and columns at the left and right of an
// NHWC image. Example {28, 28, 1} with cropping ((2, 2), (4, 4)) -> {24, 20, 1}.
#include "layers/layer.h"
#include "layers/spatial_window.h"
#include "layers/zero_padding.h"  // Padding2D: {top, bottom, left, right}

namespace mnistnet {

class Cropping2D final : public Layer {
 public:
  explicit Cropping2D(Padding2D cropping) : cropping_(cropping) {}

  const char* type() const override { return "Cropping2D"; }
  // Throws ShapeError unless the input is an image that keeps at least one row and column.
  Shape build(const Shape& input) override;
  void forward(const float* x, float* y, int64_t batch, bool training) override;
  // dx = dy in the kept window, zero where the crop cut.
  void backward(const float* x, const float* y, const float* dy, float* dx, int64_t batch) override;

 private:
  Padding2D cropping_;
  spatial_window::Frame frame_{};
};

}  // namespace mnistnet
