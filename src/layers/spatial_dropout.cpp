#include "layers/spatial_dropout.h"

#include <algorithm>
#include <cmath>

namespace mnistnet {

SpatialDropout2D::SpatialDropout2D(double rate, std::optional<uint64_t> seed)
    : rate_(rate), scale_(static_cast<float>(1.0 / (1.0 - rate))), seed_(seed) {}

Shape SpatialDropout2D::build(const Shape& input) {
  if (input.size() != 3) {
    throw ShapeError("SpatialDropout2D needs an image input [height, width, channels], got " +
                     shape_string(input) + "; use Dropout for other shapes");
  }
  pixels_ = input[0] * input[1];
  channels_ = input[2];
  drawn_ = 0;
  return input;
}

void SpatialDropout2D::initialize(Rng& rng) {
  // Draw from the model's stream even when seeded, as Dropout does.
  const uint64_t from_model = rng.next_u64();
  rng_ = Rng(seed_ ? *seed_ : from_model);
  drawn_ = 0;
}

void SpatialDropout2D::reserve(int64_t max_batch) {
  mask_.resize(static_cast<size_t>(max_batch * channels_));
}

void SpatialDropout2D::forward(const float* x, float* y, int64_t batch, bool training) {
  masked_ = training && rate_ > 0.0;
  if (!masked_) {
    std::copy(x, x + batch * pixels_ * channels_, y);
    return;
  }
  // Dropout's rule on 24 random bits: keep when uniform() >= rate, probability 1 - rate.
  const double rate = static_cast<float>(rate_);
  const auto keep_from = static_cast<uint32_t>(std::ceil(rate * 0x1.0p24));
  const int64_t n = batch * channels_;
  for (int64_t i = frozen_ ? std::min(drawn_, n) : 0; i < n; ++i)
    mask_[static_cast<size_t>(i)] = rng_.uniform_bits() >= keep_from ? 1 : 0;
  drawn_ = frozen_ ? std::max(drawn_, n) : n;
  apply(x, y, batch);
}

void SpatialDropout2D::backward(const float* /*x*/, const float* /*y*/, const float* dy, float* dx,
                                int64_t batch) {
  if (!dx) return;
  if (!masked_) {
    std::copy(dy, dy + batch * pixels_ * channels_, dx);
    return;
  }
  apply(dy, dx, batch);  // the same mask and scale: the map is linear and diagonal
}

void SpatialDropout2D::apply(const float* in, float* out, int64_t batch) const {
  const int64_t cols = channels_;
  for (int64_t b = 0; b < batch; ++b) {
    const uint8_t* __restrict mask = mask_.data() + b * cols;
    for (int64_t p = 0; p < pixels_; ++p) {
      const float* __restrict xr = in + (b * pixels_ + p) * cols;
      float* __restrict yr = out + (b * pixels_ + p) * cols;
      for (int64_t c = 0; c < cols; ++c) {
        const float kept = xr[c] * scale_;
        yr[c] = mask[c] ? kept : 0.0f;
      }
    }
  }
}

}  // namespace mnistnet
