#include "layers/channel_affine.h"

#include "core/cpu_dispatch.h"
#include "core/parallel_for.h"

namespace mnistnet {
namespace {

// Compiled per instruction set (MNISTNET_ISA_CLONES), with the SSE2 loop's bits (contraction is
// off in this file). x and y are not restrict-qualified, as y may be x; the coefficients
// are, since nothing writes them here, so the compiler need only check x against y to
// vectorise.
MNISTNET_ISA_CLONES void apply_rows(const float* x, float* y, int64_t rows, int64_t cols,
                                    const ChannelAffine& affine) {
  const float* __restrict mean = affine.mean;
  const float* __restrict scale = affine.scale;
  const float* __restrict shift = affine.shift;
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    if (affine.relu) {
      for (int64_t c = 0; c < cols; ++c) {
        const float v = channel_affine_value(xr[c], mean[c], scale[c], shift[c]);
        yr[c] = v > 0.0f ? v : 0.0f;
      }
    } else {
      for (int64_t c = 0; c < cols; ++c)
        yr[c] = channel_affine_value(xr[c], mean[c], scale[c], shift[c]);
    }
  }
}

}  // namespace

void apply_channel_affine(const float* x, float* y, int64_t rows, int64_t cols,
                          const ChannelAffine& affine) {
  parallel_for(
      rows,
      [&](int64_t begin, int64_t end) {
        apply_rows(x + begin * cols, y + begin * cols, end - begin, cols, affine);
      },
      256);
}

}  // namespace mnistnet
