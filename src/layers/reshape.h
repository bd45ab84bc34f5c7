#pragma once
// Flatten and Reshape: the data is contiguous, so both only change the recorded shape and copy.
#include "layers/layer.h"

namespace mnistnet {

class Reshape final : public Layer {
 public:
  // An empty target flattens (Keras's Flatten); otherwise the target per-example shape,
  // where one dimension may be -1 (inferred), as in Keras's Reshape.
  explicit Reshape(Shape target) : target_(std::move(target)) {}

  const char* type() const override { return target_.empty() ? "Flatten" : "Reshape"; }
  Shape build(const Shape& input) override;
  void forward(const float* x, float* y, int64_t batch, bool training) override;
  void backward(const float* x, const float* y, const float* dy, float* dx, int64_t batch) override;

 private:
  Shape target_;
  int64_t size_ = 0;
};

}  // namespace mnistnet
