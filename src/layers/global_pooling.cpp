#include "layers/global_pooling.h"

#include <algorithm>

namespace mnistnet {

Shape GlobalAveragePooling2D::build(const Shape& input) {
  if (input.size() != 3) {
    throw ShapeError("GlobalAveragePooling2D needs an image input [height, width, channels], got " +
                     shape_string(input) + "; add a Reshape");
  }
  pixels_ = input[0] * input[1];
  channels_ = input[2];
  return keepdims_ ? Shape{1, 1, channels_} : Shape{channels_};
}

void GlobalAveragePooling2D::forward(const float* x, float* y, int64_t batch, bool /*training*/) {
  const float inv = 1.0f / static_cast<float>(pixels_);
  for (int64_t b = 0; b < batch; ++b) {
    // x[b] is [pixels, C] row-major: sum the rows into y[b] = [C].
    const float* xb = x + b * pixels_ * channels_;
    float* yb = y + b * channels_;
    std::fill(yb, yb + channels_, 0.0f);
    for (int64_t p = 0; p < pixels_; ++p) {
      const float* row = xb + p * channels_;
      for (int64_t c = 0; c < channels_; ++c) yb[c] += row[c];
    }
    for (int64_t c = 0; c < channels_; ++c) yb[c] *= inv;
  }
}

void GlobalAveragePooling2D::backward(const float* /*x*/, const float* /*y*/, const float* dy,
                                      float* dx, int64_t batch) {
  if (!dx) return;
  const float inv = 1.0f / static_cast<float>(pixels_);
  for (int64_t b = 0; b < batch; ++b) {
    const float* dyb = dy + b * channels_;
    float* dxb = dx + b * pixels_ * channels_;
    for (int64_t p = 0; p < pixels_; ++p) {
      float* row = dxb + p * channels_;
      for (int64_t c = 0; c < channels_; ++c) row[c] = dyb[c] * inv;
    }
  }
}

}  // namespace mnistnet
