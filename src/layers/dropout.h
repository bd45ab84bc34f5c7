#pragma once
// Dropout (Keras semantics, inverted dropout): in training each element is kept with
// probability 1 - rate and scaled by 1 / (1 - rate), so the expected output equals the input;
// in inference it is the identity. Any shape; the mask is per element.
//
// The mask comes from the layer's own Rng, seeded in initialize() from the model's stream or
// from the Keras "seed" argument when given: the same seed gives the same sequence of masks.
#include <cstdint>
#include <optional>
#include <vector>

#include "layers/layer.h"

namespace mnistnet {

class Dropout final : public Layer {
 public:
  // rate in [0, 1) (the registry checks it); seed: Keras's seed argument, or none.
  explicit Dropout(double rate, std::optional<uint64_t> seed = std::nullopt);

  const char* type() const override { return "Dropout"; }
  double rate() const { return rate_; }
  Shape build(const Shape& input) override;
  void initialize(Rng& rng) override;
  void reserve(int64_t max_batch) override;
  // Training: draws a fresh mask (unless frozen) and applies it. Inference: copies x.
  void forward(const float* x, float* y, int64_t batch, bool training) override;
  // dx = dy * mask / (1 - rate) for the mask of the last forward (dy itself after an
  // inference forward).
  void backward(const float* x, const float* y, const float* dy, float* dx, int64_t batch) override;
  std::vector<Rng*> training_rngs() override { return {&rng_}; }

  // Test hook for finite-difference checks, which need the same function on every forward:
  // while frozen, a training forward reuses the last mask instead of drawing a new one
  // (elements never drawn yet, e.g. a larger batch, are still drawn once).
  void freeze_mask(bool frozen) { frozen_ = frozen; }
  // The last mask, [batch, size] with 1 = kept (for tests).
  const std::vector<uint8_t>& mask() const { return mask_; }

 private:
  double rate_;
  float scale_;  // 1 / (1 - rate)
  std::optional<uint64_t> seed_;
  Rng rng_{0};
  int64_t size_ = 0;           // elements per example
  std::vector<uint8_t> mask_;  // [max_batch, size]
  int64_t drawn_ = 0;          // leading elements of mask_ that hold drawn values
  bool masked_ = false;        // the last forward applied mask_ (training, rate > 0)
  bool frozen_ = false;
};

}  // namespace mnistnet
