#pragma once
// ZeroPadding2D (Keras): zero rows above and below, zero columns left and right of an NHWC
// image. Example {28, 28, 1} with padding ((1, 2), (3, 4)) -> {31, 35, 1}.
#include <array>

#include "layers/layer.h"
#include "layers/spatial_window.h"

namespace mnistnet {

// {top, bottom, left, right}, each >= 0: Keras's ((top, bottom), (left, right)).
using Padding2D = std::array<int64_t, 4>;

class ZeroPadding2D final : public Layer {
 public:
  explicit ZeroPadding2D(Padding2D padding) : padding_(padding) {}

  const char* type() const override { return "ZeroPadding2D"; }
  // Throws ShapeError unless the input is an image {H, W, C}.
  Shape build(const Shape& input) override;
  void forward(const float* x, float* y, int64_t batch, bool training) override;
  // dx = dy without its border.
  void backward(const float* x, const float* y, const float* dy, float* dx, int64_t batch) override;

 private:
  Padding2D padding_;
  spatial_window::Frame frame_{};
};

}  // namespace mnistnet
