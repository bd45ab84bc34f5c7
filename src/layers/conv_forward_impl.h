// The forward convolution, per instruction set.
// Part of the conv kernels' per-ISA source (conv_kernels_impl.h includes it, once per
// instruction set): not a header to include anywhere else.
#pragma once

#include "layers/conv_vectors_impl.h"
namespace mnistnet::conv_kernels::MNISTNET_CONV_ISA {
namespace {
// ---------------------------------------------------------------------------- forward

// Output pixels [p_begin, p_end) x one filter block of NV vectors:
//   y[p, f0 + f] = bias[f0 + f] + sum_{ky, j} padded[offset(p) + ky*row_stride + j] * W[ky*run + j,
//   f]
template <int L, int NV>
void forward_block(const Geometry& g, const float* padded, const float* w, const float* bias,
                   bool relu, int64_t f0, float* y, int64_t p_begin, int64_t p_end) {
  constexpr int R = tile_rows<L, NV, kForwardMaxRows>();
  const int64_t run = g.run(), row_stride = g.row_stride();
  const int64_t valid = std::min<int64_t>(NV * L, g.filters - f0);
  // With one filter block padded (by at most its filter count), every pixel but the tile's last
  // stores whole vectors: its padding lanes land on the next pixel's first filters, which
  // that pixel's own store then writes (the stores go in pixel order). 12 filters took 12
  // scalar stores a pixel, more time than the 3x3x1 layer's multiply-adds. The last pixel
  // stores its valid lanes: nothing is written past the tile, where other threads write.
  const bool spill_fits =
      valid < NV * L && g.padded_filters() <= kFilterBlock && NV * L - valid <= g.filters;
  Vec<L> b[NV];
  for (int v = 0; v < NV; ++v) b[v] = bias ? load<L>(bias + v * L) : Vec<L>{};
  for (int64_t p = p_begin; p < p_end; p += R) {
    const int n = static_cast<int>(std::min<int64_t>(R, p_end - p));
    int64_t offsets[R];
    pixel_offsets(g, p, n, offsets);
    const float* in[R];
    for (int r = 0; r < R; ++r) in[r] = padded + offsets[std::min(r, n - 1)];
    Vec<L> acc[R][NV];
#pragma GCC unroll 12
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[r][v] = b[v];
    const float* wk = w;
    for (int64_t ky = 0; ky < g.kernel_h; ++ky) {
      const int64_t row = ky * row_stride;
      for (int64_t j = 0; j < run; ++j, wk += NV * L) {
        Vec<L> wv[NV];
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) wv[v] = load<L>(wk + v * L);
#pragma GCC unroll 12
        for (int r = 0; r < R; ++r) {
          const float xv = in[r][row + j];
#pragma GCC unroll 8
          for (int v = 0; v < NV; ++v) acc[r][v] += xv * wv[v];
        }
      }
    }
    if (relu) {
      // v > 0 ? v : 0 lane by lane, as Activation's relu (NaN and -0 give +0).
      const Vec<L> zero{};
      for (int r = 0; r < R; ++r)
        for (int v = 0; v < NV; ++v) acc[r][v] = acc[r][v] > zero ? acc[r][v] : zero;
    }
    for (int r = 0; r < n; ++r)
      store_valid_lanes<L, NV>(y + (p + r) * g.filters + f0, acc[r],
                               spill_fits && r + 1 < n ? NV * L : valid);
  }
}

}  // namespace

void forward(const Geometry& g, const float* padded, int64_t batch, const float* packed_kernel,
             const float* bias, bool relu, float* y) {
  const int64_t total = batch * g.pixels();
  const int lanes = filter_lanes(g.filters);
  const auto output_pixels = [&](int64_t p_begin, int64_t p_end) {
    for_each_filter_block(g, [&](int64_t f0, int64_t width) {
      const float* b = bias ? bias + f0 : nullptr;
      const float* w = packed_kernel + g.patch() * f0;
      with_count<8>(width / lanes, [&]<int NV>() {
        if (lanes == 16) {
          if constexpr (NV <= 4)
            forward_block<16, NV>(g, padded, w, b, relu, f0, y, p_begin, p_end);
        } else {
          forward_block<8, NV>(g, padded, w, b, relu, f0, y, p_begin, p_end);
        }
      });
    });
  };
  // Every output pixel is computed whole by one share: small shares are safe and batch 1 gains.
  parallel_for_work(total, g.patch() * g.padded_filters(), output_pixels, kMinOutputWorkPerShare);
}

}  // namespace mnistnet::conv_kernels::MNISTNET_CONV_ISA
