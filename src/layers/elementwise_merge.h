#pragma once
// Keras's element-wise merge layers, one class for the family because they differ in one
// expression each and share everything else (the shape rule, the loops, the fused relu):
//   Add       y = x_0 + x_1 + ...            dx_k = dy
//   Subtract  y = x_0 - x_1 (two inputs)      dx_0 = dy, dx_1 = -dy
//   Multiply  y = x_0 * x_1 * ...            dx_k = dy * prod_{j != k} x_j
//   Average   y = (x_0 + x_1 + ...) / n       dx_k = dy / n
//   Maximum   y = max(x_0, x_1, ...)          dx_k = dy where x_k is the first maximum, else 0
//                                             (ties go to the earlier input, as tf.maximum's)
// Every input has the same shape, which is the output's (Keras's broadcasting of 1-sized axes
// is not supported). Tensors are [batch, elements].
#include <cstdint>
#include <vector>

#include "layers/layer.h"

namespace mnistnet {

enum class MergeKind { add, subtract, multiply, average, maximum };

class ElementwiseMerge final : public MergeLayer {
 public:
  explicit ElementwiseMerge(MergeKind kind) : kind_(kind) {}

  const char* type() const override;
  MergeKind kind() const { return kind_; }
  Shape build_merge(const std::vector<Shape>& inputs) override;
  void forward_merge(std::span<const float* const> xs, float* y, int64_t batch,
                     bool training) override;
  void backward_merge(std::span<const float* const> xs, const float* y, const float* dy,
                      std::span<const MergeGrad> dxs, int64_t batch) override;
  int64_t forward_flops() const override { return size_ * (inputs_ - 1); }
  // The residual block's "Add, then relu" runs as one pass each way.
  bool absorb_relu() override {
    relu_ = true;
    return true;
  }
  BackwardReads backward_reads() const override {
    const bool needs_inputs = kind_ == MergeKind::multiply || kind_ == MergeKind::maximum;
    return {needs_inputs, relu_};
  }

 private:
  MergeKind kind_;
  bool relu_ = false;  // the output is relu(merge), see absorb_relu()
  int64_t size_ = 0;   // elements per example
  int64_t inputs_ = 0;
};

}  // namespace mnistnet
