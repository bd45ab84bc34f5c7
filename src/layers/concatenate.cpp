#include "layers/concatenate.h"

#include <algorithm>

namespace mnistnet {

Shape Concatenate::build_merge(const std::vector<Shape>& inputs) {
  const auto rank = static_cast<int64_t>(inputs[0].size());
  // Keras's axis counts the batch axis; ours index an example's shape.
  const int64_t a = axis_ > 0 ? axis_ - 1 : rank + axis_;
  if (axis_ == 0 || a < 0 || a >= rank) {
    throw ShapeError("axis " + std::to_string(axis_) + " is not an axis of inputs of shape " +
                     keras_shape_string(inputs[0]) + (axis_ == 0 ? " (0 is the batch axis)" : ""));
  }
  const auto at = static_cast<size_t>(a);
  Shape out = inputs[0];
  for (size_t k = 1; k < inputs.size(); ++k) {
    bool fits = inputs[k].size() == inputs[0].size();
    for (size_t d = 0; fits && d < out.size(); ++d) fits = d == at || inputs[k][d] == out[d];
    if (!fits) {
      throw MergeShapeError(
          0, k, "Concatenate needs inputs of one shape but for axis " + std::to_string(axis_));
    }
    out[at] += inputs[k][at];
  }
  rows_per_example_ = 1;
  for (size_t d = 0; d < at; ++d) rows_per_example_ *= out[d];
  inner_.clear();
  for (const Shape& s : inputs) inner_.push_back(element_count(s) / rows_per_example_);
  out_inner_ = element_count(out) / rows_per_example_;
  return out;
}

void Concatenate::forward_merge(std::span<const float* const> xs, float* y, int64_t batch,
                                bool /*training*/) {
  const int64_t rows = batch * rows_per_example_;
  for (int64_t r = 0; r < rows; ++r) {
    float* out = y + r * out_inner_;
    for (size_t k = 0; k < xs.size(); ++k) {
      const float* in = xs[k] + r * inner_[k];
      out = std::copy(in, in + inner_[k], out);
    }
  }
}

void Concatenate::backward_merge(std::span<const float* const> /*xs*/, const float* /*y*/,
                                 const float* dy, std::span<const MergeGrad> dxs, int64_t batch) {
  const int64_t rows = batch * rows_per_example_;
  int64_t offset = 0;  // input k's first column in y
  for (size_t k = 0; k < dxs.size(); ++k) {
    const int64_t n = inner_[k];
    if (float* dx = dxs[k].dx) {
      for (int64_t r = 0; r < rows; ++r) {
        const float* g = dy + r * out_inner_ + offset;
        float* d = dx + r * n;
        if (dxs[k].accumulate) {
          for (int64_t j = 0; j < n; ++j) d[j] += g[j];
        } else {
          std::copy(g, g + n, d);
        }
      }
    }
    offset += n;
  }
}

}  // namespace mnistnet
