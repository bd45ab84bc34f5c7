#include "layers/zero_padding.h"

namespace mnistnet {

Shape ZeroPadding2D::build(const Shape& input) {
  if (input.size() != 3) {
    throw ShapeError("ZeroPadding2D needs an image input [height, width, channels], got " +
                     shape_string(input) + "; add a Reshape");
  }
  const auto [top, bottom, left, right] = padding_;
  frame_ = {input[0], input[1], input[0] + top + bottom, input[1] + left + right, top,
            left,     input[2]};
  return {frame_.outer_h, frame_.outer_w, frame_.channels};
}

void ZeroPadding2D::forward(const float* x, float* y, int64_t batch, bool /*training*/) {
  spatial_window::embed(frame_, x, y, batch);
}

void ZeroPadding2D::backward(const float* /*x*/, const float* /*y*/, const float* dy, float* dx,
                             int64_t batch) {
  if (dx) spatial_window::extract(frame_, dy, dx, batch);
}

}  // namespace mnistnet
