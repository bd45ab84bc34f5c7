#include "layers/reshape.h"

#include <algorithm>

namespace mnistnet {

Shape Reshape::build(const Shape& input) {
  size_ = element_count(input);
  if (target_.empty()) return {size_};
  Shape out = target_;
  int64_t known = 1;
  auto unknown = std::find(out.begin(), out.end(), -1);
  for (int64_t d : out)
    if (d != -1) known *= d;
  if (unknown != out.end() && known > 0 && size_ % known == 0) *unknown = size_ / known;
  if (element_count(out) != size_) {
    throw ShapeError("cannot reshape an input of shape " + shape_string(input) + " (" +
                     std::to_string(size_) + " values) to " + shape_string(target_));
  }
  return out;
}

void Reshape::forward(const float* x, float* y, int64_t batch, bool /*training*/) {
  std::copy(x, x + batch * size_, y);
}

void Reshape::backward(const float* /*x*/, const float* /*y*/, const float* dy, float* dx,
                       int64_t batch) {
  if (dx) std::copy(dy, dy + batch * size_, dx);
}

}  // namespace mnistnet
