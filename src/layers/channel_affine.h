#pragma once
// A ChannelAffine (layer.h) applied to a tensor: the one loop of batch norm's per-channel map,
// shared by BatchNormalization::forward and the Dense forward that has a batch norm folded in.
#include <cstdint>

#include "layers/layer.h"

namespace mnistnet {

// x, y: [rows, cols], cols the channels.
// y[r][c] = (x[r][c] - affine.mean[c]) * affine.scale[c] + affine.shift[c], then a relu when
// affine.relu is set (Activation's own expression, so a fused relu gives the same bits as the
// two ops). In place (y == x) or into a y that does not overlap x; rows are split over the cores,
// and each element's value does not depend on how.
void apply_channel_affine(const float* x, float* y, int64_t rows, int64_t cols,
                          const ChannelAffine& affine);

// One element of the map, before the relu: apply_channel_affine's expression, which batch norm's
// backward recomputes for the fused relu's mask. Both files are compiled without contraction
// (CMakeLists.txt), so both get the same bits on every instruction set.
inline float channel_affine_value(float x, float mean, float scale, float shift) {
  return (x - mean) * scale + shift;
}

}  // namespace mnistnet
