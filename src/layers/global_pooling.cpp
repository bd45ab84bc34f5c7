#include "layers/global_pooling.h"

#include <algorithm>
#include <string>

namespace mnistnet {

namespace {

void check_image(const char* type, const Shape& input) {
  if (input.size() != 3) {
    throw ShapeError(std::string(type) + " needs an image input [height, width, channels], got " +
                     shape_string(input) + "; add a Reshape");
  }
}

}  // namespace

Shape GlobalAveragePooling2D::build(const Shape& input) {
  check_image(type(), input);
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

namespace mnistnet {

Shape GlobalMaxPooling2D::build(const Shape& input) {
  check_image(type(), input);
  pixels_ = input[0] * input[1];
  channels_ = input[2];
  ties_.assign(static_cast<size_t>(channels_), 0.0f);
  return keepdims_ ? Shape{1, 1, channels_} : Shape{channels_};
}

void GlobalMaxPooling2D::forward(const float* x, float* y, int64_t batch, bool /*training*/) {
  for (int64_t b = 0; b < batch; ++b) {
    // x[b] is [pixels, C]: a running maximum over the rows, vectorised over the channels.
    const float* xb = x + b * pixels_ * channels_;
    float* __restrict yb = y + b * channels_;
    std::copy(xb, xb + channels_, yb);
    for (int64_t p = 1; p < pixels_; ++p) {
      const float* __restrict row = xb + p * channels_;
      for (int64_t c = 0; c < channels_; ++c) yb[c] = row[c] > yb[c] ? row[c] : yb[c];
    }
  }
}

void GlobalMaxPooling2D::backward(const float* x, const float* y, const float* dy, float* dx,
                                  int64_t batch) {
  if (!dx) return;
  float* __restrict ties = ties_.data();
  for (int64_t b = 0; b < batch; ++b) {
    const float* xb = x + b * pixels_ * channels_;
    const float* __restrict yb = y + b * channels_;
    const float* __restrict dyb = dy + b * channels_;
    float* dxb = dx + b * pixels_ * channels_;
    std::fill(ties, ties + channels_, 0.0f);
    for (int64_t p = 0; p < pixels_; ++p) {
      const float* __restrict row = xb + p * channels_;
      for (int64_t c = 0; c < channels_; ++c) ties[c] += row[c] == yb[c] ? 1.0f : 0.0f;
    }
    for (int64_t c = 0; c < channels_; ++c) ties[c] = dyb[c] / ties[c];
    for (int64_t p = 0; p < pixels_; ++p) {
      const float* __restrict row = xb + p * channels_;
      float* __restrict out = dxb + p * channels_;
      for (int64_t c = 0; c < channels_; ++c) out[c] = row[c] == yb[c] ? ties[c] : 0.0f;
    }
  }
}

}  // namespace mnistnet
