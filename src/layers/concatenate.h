#pragma once
// Keras's Concatenate(axis=-1): the inputs side by side along one axis. Keras counts axes with
// the batch axis as 0, so axis 1 is the first axis of an example and -1 the last (the channels
// of an NHWC image); the batch axis cannot be concatenated. Every other axis must agree.
//
// Viewing input k as [rows, inner_k] with rows = batch * (product of the axes before `axis`)
// and inner_k = its elements from `axis` on, y [rows, sum inner_k] holds the inputs' rows
// side by side; backward hands each input its columns of dy.
#include <cstdint>
#include <vector>

#include "layers/layer.h"

namespace mnistnet {

class Concatenate final : public MergeLayer {
 public:
  explicit Concatenate(int64_t axis) : axis_(axis) {}

  const char* type() const override { return "Concatenate"; }
  Shape build_merge(const std::vector<Shape>& inputs) override;
  void forward_merge(std::span<const float* const> xs, float* y, int64_t batch,
                     bool training) override;
  void backward_merge(std::span<const float* const> xs, const float* y, const float* dy,
                      std::span<const MergeGrad> dxs, int64_t batch) override;
  BackwardReads backward_reads() const override { return {false, false}; }

 private:
  int64_t axis_;
  int64_t rows_per_example_ = 0;  // product of the axes before the concatenation axis
  std::vector<int64_t> inner_;    // per input: its elements per row
  int64_t out_inner_ = 0;         // sum of inner_
};

}  // namespace mnistnet
