#include "layers/channel_affine.h"

#include "core/parallel_for.h"

namespace mnistnet {
namespace {

// x and y are not restrict-qualified, as y may be x; the coefficients are, since nothing
// writes them here, so the compiler need only check x against y to vectorise.
template <class Output>
void apply_rows(const float* x, float* y, int64_t begin, int64_t end, int64_t cols,
                const ChannelAffine& affine, Output output) {
  const float* __restrict mean = affine.mean;
  const float* __restrict scale = affine.scale;
  const float* __restrict shift = affine.shift;
  for (int64_t r = begin; r < end; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    for (int64_t c = 0; c < cols; ++c) yr[c] = output((xr[c] - mean[c]) * scale[c] + shift[c]);
  }
}

}  // namespace

void apply_channel_affine(const float* x, float* y, int64_t rows, int64_t cols,
                          const ChannelAffine& affine) {
  parallel_for(
      rows,
      [&](int64_t begin, int64_t end) {
        if (affine.relu) {
          apply_rows(x, y, begin, end, cols, affine, [](float v) { return v > 0.0f ? v : 0.0f; });
        } else {
          apply_rows(x, y, begin, end, cols, affine, [](float v) { return v; });
        }
      },
      256);
}

}  // namespace mnistnet
