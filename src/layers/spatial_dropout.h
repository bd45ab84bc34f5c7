#pragma once
// SpatialDropout2D (Keras): Dropout of whole feature maps. In training each (example, channel)
// of an NHWC image {H, W, C} is kept with probability 1 - rate, all its H*W values together, and
// scaled by 1 / (1 - rate); in inference it is the identity. Keras's noise_shape (B, 1, 1, C).
//
// The mask comes from the layer's own Rng, seeded as Dropout's is (initialize() from the model's
// stream, or the Keras "seed" argument), and exposed through training_rngs() so a resumed run
// draws the same masks.
#include <cstdint>
#include <optional>
#include <vector>

#include "layers/layer.h"

namespace mnistnet {

class SpatialDropout2D final : public Layer {
 public:
  // rate in [0, 1) (the registry checks it); seed: Keras's seed argument, or none.
  explicit SpatialDropout2D(double rate, std::optional<uint64_t> seed = std::nullopt);

  const char* type() const override { return "SpatialDropout2D"; }
  // Throws ShapeError unless the input is an image {H, W, C}.
  Shape build(const Shape& input) override;
  void initialize(Rng& rng) override;
  void reserve(int64_t max_batch) override;
  void forward(const float* x, float* y, int64_t batch, bool training) override;
  void backward(const float* x, const float* y, const float* dy, float* dx, int64_t batch) override;
  std::vector<Rng*> training_rngs() override { return {&rng_}; }

  // Test hook, as Dropout's: while frozen a training forward reuses the last mask.
  void freeze_mask(bool frozen) { frozen_ = frozen; }
  // The last mask, [batch, C] with 1 = kept (for tests).
  const std::vector<uint8_t>& mask() const { return mask_; }

 private:
  void apply(const float* in, float* out, int64_t batch) const;

  double rate_;
  float scale_;  // 1 / (1 - rate)
  std::optional<uint64_t> seed_;
  Rng rng_{0};
  int64_t pixels_ = 0, channels_ = 0;
  std::vector<uint8_t> mask_;  // [max_batch, C]
  int64_t drawn_ = 0;          // leading entries of mask_ that hold drawn values
  bool masked_ = false;        // the last forward applied mask_
  bool frozen_ = false;
};

}  // namespace mnistnet
