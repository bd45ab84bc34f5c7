#include "layers/dropout.h"

#include <algorithm>
#include <cmath>

namespace mnistnet {

Dropout::Dropout(double rate, std::optional<uint64_t> seed)
    : rate_(rate), scale_(static_cast<float>(1.0 / (1.0 - rate))), seed_(seed) {}

Shape Dropout::build(const Shape& input) {
  size_ = element_count(input);
  drawn_ = 0;
  return input;
}

void Dropout::initialize(Rng& rng) {
  // Draw from the model's stream even when seeded, so the stream's use does not depend on it.
  const uint64_t from_model = rng.next_u64();
  rng_ = Rng(seed_ ? *seed_ : from_model);
  drawn_ = 0;
}

void Dropout::reserve(int64_t max_batch) { mask_.resize(static_cast<size_t>(max_batch * size_)); }

void Dropout::forward(const float* x, float* y, int64_t batch, bool training) {
  const int64_t n = batch * size_;
  masked_ = training && rate_ > 0.0;
  if (!masked_) {
    std::copy(x, x + n, y);
    return;
  }
  // Keep where uniform >= rate, as TensorFlow's dropout does: probability 1 - rate. The same
  // test on uniform()'s 24 bits: uniform() = bits * 2^-24 >= rate  <=>  bits >= ceil(rate * 2^24).
  const double rate = static_cast<float>(rate_);  // the float uniform() was compared with
  const auto keep_from = static_cast<uint32_t>(std::ceil(rate * 0x1.0p24));
  Rng rng = rng_;  // a local copy stays in registers
  uint8_t* __restrict mask = mask_.data();
  for (int64_t i = frozen_ ? std::min(drawn_, n) : 0; i < n; ++i)
    mask[i] = rng.uniform_bits() >= keep_from ? 1 : 0;
  rng_ = rng;
  drawn_ = frozen_ ? std::max(drawn_, n) : n;
  const float scale = scale_;
  // Both operands are computed before the select: a load under the condition is a branch.
  for (int64_t i = 0; i < n; ++i) {
    const float kept = x[i] * scale;
    y[i] = mask[i] ? kept : 0.0f;
  }
}

void Dropout::backward(const float* /*x*/, const float* /*y*/, const float* dy, float* dx,
                       int64_t batch) {
  if (!dx) return;
  const int64_t n = batch * size_;
  if (!masked_) {
    std::copy(dy, dy + n, dx);
    return;
  }
  const uint8_t* __restrict mask = mask_.data();
  const float scale = scale_;
  for (int64_t i = 0; i < n; ++i) {
    const float kept = dy[i] * scale;
    dx[i] = mask[i] ? kept : 0.0f;
  }
}

}  // namespace mnistnet
