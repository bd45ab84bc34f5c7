#pragma once
// A test adapter that moves the gradient checker's inputs (drawn in [-1, 1)) to where a layer's
// interesting region lies: inner(scale * x + offset_i). dz/dx = scale, so the checked gradients
// are the inner layer's, scaled. With `spread`, offset_i is a fixed random permutation of
// values 2.5 apart, so no two elements come within 0.5 of each other and a finite-difference
// step cannot change an arg-max (global max pooling's kink).
#include <algorithm>
#include <numeric>
#include <vector>

#include "core/rng.h"
#include "layers/layer.h"

namespace mnistnet::testing {

class ShiftedInput final : public Layer {
 public:
  ShiftedInput(Layer& inner, float scale, float offset, bool spread = false)
      : inner_(inner), scale_(scale), offset_(offset), spread_(spread) {}
  const char* type() const override { return inner_.type(); }
  Shape build(const Shape& input) override {
    size_ = element_count(input);
    return inner_.build(input);
  }
  void initialize(Rng& rng) override { inner_.initialize(rng); }
  std::vector<ParamRef> params() override { return inner_.params(); }
  void reserve(int64_t max_batch) override {
    inner_.reserve(max_batch);
    const auto n = static_cast<size_t>(max_batch * size_);
    offsets_.assign(n, offset_);
    if (spread_) {
      std::vector<size_t> order(n);
      std::iota(order.begin(), order.end(), size_t{0});
      Rng rng(99);
      for (size_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
      for (size_t i = 0; i < n; ++i) offsets_[i] += 2.5f * static_cast<float>(order[i]);
    }
    shifted_.resize(n);
    dshifted_.resize(n);
  }
  void forward(const float* x, float* y, int64_t batch, bool training) override {
    for (size_t i = 0; i < static_cast<size_t>(batch * size_); ++i)
      shifted_[i] = scale_ * x[i] + offsets_[i];
    inner_.forward(shifted_.data(), y, batch, training);
  }
  void backward(const float*, const float* y, const float* dy, float* dx, int64_t batch) override {
    inner_.backward(shifted_.data(), y, dy, dx ? dshifted_.data() : nullptr, batch);
    if (!dx) return;
    for (size_t i = 0; i < static_cast<size_t>(batch * size_); ++i) dx[i] = scale_ * dshifted_[i];
  }
  std::vector<Rng*> training_rngs() override { return inner_.training_rngs(); }

 private:
  Layer& inner_;
  float scale_, offset_;
  bool spread_;
  int64_t size_ = 0;
  std::vector<float> offsets_, shifted_, dshifted_;
};

}  // namespace mnistnet::testing
