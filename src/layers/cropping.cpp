#include "layers/cropping.h"

#include <string>

namespace mnistnet {

Shape Cropping2D::build(const Shape& input) {
  if (input.size() != 3) {
    throw ShapeError("Cropping2D needs an image input [height, width, channels], got " +
                     shape_string(input) + "; add a Reshape");
  }
  const auto [top, bottom, left, right] = cropping_;
  const int64_t h = input[0] - top - bottom, w = input[1] - left - right;
  if (h < 1 || w < 1) {
    throw ShapeError("cropping ((" + std::to_string(top) + ", " + std::to_string(bottom) + "), (" +
                     std::to_string(left) + ", " + std::to_string(right) +
                     ")) leaves nothing of an input " + shape_string(input));
  }
  frame_ = {h, w, input[0], input[1], top, left, input[2]};
  return {h, w, input[2]};
}

void Cropping2D::forward(const float* x, float* y, int64_t batch, bool /*training*/) {
  spatial_window::extract(frame_, x, y, batch);
}

void Cropping2D::backward(const float* /*x*/, const float* /*y*/, const float* dy, float* dx,
                          int64_t batch) {
  if (dx) spatial_window::embed(frame_, dy, dx, batch);
}

}  // namespace mnistnet
