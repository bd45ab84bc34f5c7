// The input gradient, per instruction set.
// Part of the conv kernels' per-ISA source (conv_kernels_impl.h includes it, once per
// instruction set): not a header to include anywhere else.
#pragma once

#include "layers/conv_vectors_impl.h"
namespace mnistnet::conv_kernels::MNISTNET_CONV_ISA {
namespace {
// ----------------------------------------------------------------------- input gradient
//
// dx is computed pixel by pixel as a convolution of dy (no scatter into a padded dx): for the
// input pixel at padded coordinates (Y, X) only the taps ky = Y - s*oy, kx = X - s*ox reach it,
// so splitting the pixels of an input row by X mod stride ("phase"), the pixels of one phase
// X = qx + s*m meet tap kx = qx + s*t at dy column ox = m - t: consecutive pixels read
// consecutive dy columns. dy is first copied transposed per output row, [B, Ho, F, Wd] with
// zero columns left and right (dy_left, dy_width), so a tile's pixels read one contiguous run
// per filter. Each dx value is one chain of multiply-adds in a fixed order (ky, kx, f), whatever
// the threads.

// Pixels per input-gradient tile (at most 16): the R x CV accumulators take every vector
// register but the CV weights' (a tile's pixels share one pointer, and the broadcast dy is a
// memory operand of the multiply-add). 32 registers hold a 7 x 4 tile, resnet's 7 pixels of 64
// channels, and a 14 x 2 one, conv's 14 pixels per phase of 12 channels (lanes of 8).
constexpr int kVectorRegisters = kAccumulatorRegisters * 4 / 3;  // 32 or 16
template <int L, int CV>
constexpr int pixel_tile_rows() {
  constexpr int weights = CV * ((L + kRegisterFloats - 1) / kRegisterFloats);
  return std::clamp((kVectorRegisters - weights) / weights, 1, 16);
}

// Pixels m0 .. m0 + n of phase qx of input row iy of image b, channels [c0, c0 + CV*L):
//   dx[b, iy, X - pad_left, c] = sum_{ky, kx, f} dyt[b, oy, f, ox + left] * Wt[ky, kx, f, c]
// R >= n pixels are computed (the extra ones read past the run, into the next row or the
// slack, and are dropped).
// Walks what reaches the pixels m0 .. of phase qx of input row iy of image b, in the one order
// every dx value is summed in, (ky, kx, f): body(d, w) gets dyt at pixel m0's dy column in
// filter f's row, and the packed transposed weights of (ky, kx, f) from channel c0.
template <class Body>
inline void for_each_reaching_tap(const Geometry& g, const float* dyt, const float* wt, int64_t b,
                                  int64_t iy, int64_t qx, int64_t m0, int64_t c0, Body&& body) {
  const int64_t F = g.filters, cp = g.padded_channels(), wd = dy_width(g);
  const int64_t sh = g.stride_h, sw = g.stride_w, y = iy + g.pad_top;
  for (int64_t ky = y % sh; ky < g.kernel_h; ky += sh) {
    const int64_t oy = (y - ky) / sh;
    if (oy < 0 || oy >= g.out_h) continue;
    const float* row = dyt + (b * g.out_h + oy) * F * wd + dy_left(g) + m0;
    for (int64_t kx = qx, t = 0; kx < g.kernel_w; kx += sw, ++t) {
      const float* d = row - t;
      const float* w = wt + (ky * g.kernel_w + kx) * F * cp + c0;
#pragma GCC unroll 1
      for (int64_t f = 0; f < F; ++f, d += wd, w += cp) body(d, w);
    }
  }
}

template <int L, int CV, int R>
void input_gradient_tile(const Geometry& g, const float* dyt, const float* wt, int64_t b,
                         int64_t iy, int64_t qx, int64_t m0, int n, int64_t c0, float* dx) {
  const int64_t sw = g.stride_w;
  Vec<L> acc[R][CV] = {};
  for_each_reaching_tap(
      g, dyt, wt, b, iy, qx, m0,
      c0, [&](const float* d, const float* w) __attribute__((always_inline)) {
        add_outer_product<L, R, CV>(acc, d, w);
      });
  const int64_t valid = std::min<int64_t>(CV * L, g.in_c - c0);
  for (int r = 0; r < n; ++r) {
    const int64_t ix = qx + sw * (m0 + r) - g.pad_left;
    store_valid_lanes<L, CV>(dx + ((b * g.in_h + iy) * g.in_w + ix) * g.in_c + c0, acc[r], valid);
  }
}

// v[i][j] -> v[j][i] for 8 vectors of 8, in three rounds of two-source shuffles.
inline void transpose8(Vec8 (&v)[8]) {
  using Index = int __attribute__((vector_size(8 * sizeof(int))));
  Vec8 a[8], b[8];
  for (int i = 0; i < 8; i += 2) {  // pairs of rows interleaved
    a[i] = __builtin_shuffle(v[i], v[i + 1], Index{0, 8, 2, 10, 4, 12, 6, 14});
    a[i + 1] = __builtin_shuffle(v[i], v[i + 1], Index{1, 9, 3, 11, 5, 13, 7, 15});
  }
  for (int i : {0, 1, 4, 5}) {  // then pairs of pairs
    b[i] = __builtin_shuffle(a[i], a[i + 2], Index{0, 1, 8, 9, 4, 5, 12, 13});
    b[i + 2] = __builtin_shuffle(a[i], a[i + 2], Index{2, 3, 10, 11, 6, 7, 14, 15});
  }
  for (int i = 0; i < 4; ++i) {  // then halves
    v[i] = __builtin_shuffle(b[i], b[i + 4], Index{0, 1, 2, 3, 8, 9, 10, 11});
    v[i + 4] = __builtin_shuffle(b[i], b[i + 4], Index{4, 5, 6, 7, 12, 13, 14, 15});
  }
}

// One output row of dy [Wo, F] -> [F, dy_width] with the zero columns: blocks of 8 pixels x 8
// filters through registers, the rest one by one.
void transpose_dy_row(const Geometry& g, const float* src, float* dst) {
  const int64_t F = g.filters, wd = dy_width(g), left = dy_left(g), wo = g.out_w;
  for (int64_t f = 0; f < F; ++f) {
    std::fill_n(dst + f * wd, left, 0.0f);
    std::fill(dst + f * wd + left + wo, dst + (f + 1) * wd, 0.0f);
  }
  const int64_t f8 = F / 8 * 8, x8 = wo / 8 * 8;
  for (int64_t f0 = 0; f0 < f8; f0 += 8) {
    for (int64_t x0 = 0; x0 < x8; x0 += 8) {
      Vec8 v[8];
      for (int i = 0; i < 8; ++i) v[i] = load<8>(src + (x0 + i) * F + f0);
      transpose8(v);
      for (int j = 0; j < 8; ++j) store<8>(dst + (f0 + j) * wd + left + x0, v[j]);
    }
    for (int64_t f = f0; f < f0 + 8; ++f)
      for (int64_t ox = x8; ox < wo; ++ox) dst[f * wd + left + ox] = src[ox * F + f];
  }
  for (int64_t f = f8; f < F; ++f)
    for (int64_t ox = 0; ox < wo; ++ox) dst[f * wd + left + ox] = src[ox * F + f];
}

// The pixels of phase qx of an input row: X = qx + sw*m in [pad_left, pad_left + in_w) for m in
// [first, last] (none when first > last).
struct PhasePixels {
  int64_t first, last;
};
inline PhasePixels phase_pixels(const Geometry& g, int64_t qx) {
  const int64_t sw = g.stride_w;
  return {(g.pad_left - qx + sw - 1) / sw, (g.pad_left + g.in_w - 1 - qx) / sw};
}

// One input row of one image, one channel block: every phase, in tiles of nearly equal size.
template <int L, int CV>
void input_gradient_row(const Geometry& g, const float* dyt, const float* wt, int64_t b, int64_t iy,
                        int64_t c0, float* dx) {
  constexpr int kMaxRows = pixel_tile_rows<L, CV>();
  const int64_t sw = g.stride_w;
  for (int64_t qx = 0; qx < sw; ++qx) {
    const auto [m_lo, m_hi] = phase_pixels(g, qx);
    const int64_t count = m_hi - m_lo + 1;
    if (count <= 0) continue;
    const int64_t tiles = (count + kMaxRows - 1) / kMaxRows;
    const int64_t rows = (count + tiles - 1) / tiles;
    with_count<kMaxRows>(rows, [&]<int R>() {
      for (int64_t m0 = m_lo; m0 <= m_hi; m0 += R) {
        const int n = static_cast<int>(std::min<int64_t>(R, m_hi + 1 - m0));
        input_gradient_tile<L, CV, R>(g, dyt, wt, b, iy, qx, m0, n, c0, dx);
      }
    });
  }
}

// ------------------------------------------------ input gradient, few input channels
//
// With few input channels (conv's 12, conv_bn's 24) the tiles above load one dy value per CV = 1
// or 2 multiply-adds, and pad 12 or 24 channels to whole 16-lane vectors. There the vectors run
// across pixels instead: a tile is CB channels x NI images, each vector kPixelLanes consecutive
// pixels of one phase of input row iy; per (tap, filter) it loads NI vectors of dy and broadcasts
// CB weights for CB x NI multiply-adds. Each dx value is the same chain in the same (ky, kx, f)
// order as input_gradient_tile's, so the bits are the same too. AVX-512 only: AVX2's 12
// accumulators leave tiles no better than the ones above.
constexpr int kPixelLanes = 16;

// Channels per tile (0: use the tiles above). Only where the channel vectors waste more lanes
// than the runs of pixels do: conv's 12 channels at 14 pixels a phase (16 lanes hold 75% against
// 87.5%), not its 24 channels at 7 pixels; resnet's 16 channels measured the same either way.
int64_t narrow_channel_block(const Geometry& g) {
  if (kRegisterFloats != kPixelLanes) return 0;
  const int64_t block = g.in_c == 12 ? 12 : (g.in_c % 8 == 0 && g.in_c <= 24 ? 8 : 0);
  if (block == 0) return 0;
  const int64_t pixels = (g.in_w + g.stride_w - 1) / g.stride_w;  // of one phase, about
  const int64_t runs = (pixels + kPixelLanes - 1) / kPixelLanes;
  // pixels / (runs * lanes) > in_c / padded_channels, in integers
  return pixels * g.padded_channels() > g.in_c * runs * kPixelLanes ? block : 0;
}
template <int CB>
constexpr int narrow_tile_images() {
  return std::clamp(kAccumulatorRegisters / CB, 1, 3);
}

// Images b0 .. b0 + NI, pixels m0 .. m0 + n (n <= kPixelLanes) of phase qx of input row iy,
// channels [c0, c0 + CB).
template <int CB, int NI>
void narrow_input_gradient_tile(const Geometry& g, const float* dyt, const float* wt, int64_t b0,
                                int64_t iy, int64_t qx, int64_t m0, int n, int64_t c0, float* dx) {
  using V = Vec<kPixelLanes>;
  const int64_t sw = g.stride_w;
  const int64_t image_rows = g.out_h * g.filters * dy_width(g);  // floats of one image's dyt
  V acc[CB][NI] = {};
  // acc[c][i] += W[c] * dy vector of image i: channels are the scalars, images the vectors.
  const auto add = [&](const float* d, const float* w) __attribute__((always_inline)) {
    add_outer_product<kPixelLanes, CB, NI>(acc, w, d, image_rows);
  };
  for_each_reaching_tap(g, dyt, wt, b0, iy, qx, m0, c0, add);
  // Pixels to NHWC: the tile's columns go out channel by channel through a small buffer.
  alignas(64) float lanes[CB][kPixelLanes];
  for (int i = 0; i < NI; ++i) {
    for (int c = 0; c < CB; ++c) store<kPixelLanes>(lanes[c], acc[c][i]);
    float* out = dx + ((b0 + i) * g.in_h + iy) * g.in_w * g.in_c + c0;
    for (int r = 0; r < n; ++r) {
      const int64_t ix = qx + sw * (m0 + r) - g.pad_left;
#pragma GCC unroll 12
      for (int c = 0; c < CB; ++c) out[ix * g.in_c + c] = lanes[c][r];
    }
  }
}

// Input row iy of images b0 .. b0 + NI: every phase, in runs of kPixelLanes pixels.
template <int CB, int NI>
void narrow_input_gradient_row(const Geometry& g, const float* dyt, const float* wt, int64_t b0,
                               int64_t iy, float* dx) {
  const int64_t sw = g.stride_w;
  for (int64_t qx = 0; qx < sw; ++qx) {
    const auto [m_lo, m_hi] = phase_pixels(g, qx);
    for (int64_t m0 = m_lo; m0 <= m_hi; m0 += kPixelLanes) {
      const int n = static_cast<int>(std::min<int64_t>(kPixelLanes, m_hi + 1 - m0));
      for (int64_t c0 = 0; c0 < g.in_c; c0 += CB)
        narrow_input_gradient_tile<CB, NI>(g, dyt, wt, b0, iy, qx, m0, n, c0, dx);
    }
  }
}

// dx for inputs of narrow_channel_block(g) = CB channels a tile; the threads split (image
// group, input row) items.
template <int CB>
void narrow_input_gradient(const Geometry& g, const float* dyt, const float* wt, int64_t batch,
                           float* dx) {
  constexpr int NI = narrow_tile_images<CB>();
  const int64_t groups = (batch + NI - 1) / NI;
  const int64_t work =
      NI * g.in_w * g.kernel_h * g.kernel_w * g.filters * g.in_c / (g.stride_h * g.stride_w) + 1;
  parallel_for_work(groups * g.in_h, work, [&](int64_t first, int64_t last) {
    for (int64_t item = first; item < last; ++item) {
      const int64_t b0 = item / g.in_h * NI, iy = item % g.in_h;
      with_count<NI>(batch - b0, [&]<int Images>() {
        narrow_input_gradient_row<CB, Images>(g, dyt, wt, b0, iy, dx);
      });
    }
  });
}

}  // namespace

void input_gradient(const Geometry& g, const float* dy, int64_t batch,
                    const float* packed_transposed, float* dy_transposed, float* dx) {
  const int64_t F = g.filters, wd = dy_width(g);
  // dyt[b, oy, f, left + ox] = dy[b, oy, ox, f]; the columns around are zero.
  parallel_for(
      batch * g.out_h,
      [&](int64_t first, int64_t last) {
        for (int64_t row = first; row < last; ++row)
          transpose_dy_row(g, dy + row * g.out_w * F, dy_transposed + row * F * wd);
      },
      16);
  std::fill_n(dy_transposed + batch * g.out_h * F * wd, kSlack, 0.0f);
  switch (narrow_channel_block(g)) {
    case 12:
      narrow_input_gradient<12>(g, dy_transposed, packed_transposed, batch, dx);
      return;
    case 8:
      narrow_input_gradient<8>(g, dy_transposed, packed_transposed, batch, dx);
      return;
    default:
      break;
  }
  const int lanes = filter_lanes(g.in_c);
  const int64_t cp = g.padded_channels();
  // Input rows are independent: the threads split them.
  const int64_t work = g.in_w * g.kernel_h * g.kernel_w * F * cp / (g.stride_h * g.stride_w) + 1;
  parallel_for_work(batch * g.in_h, work, [&](int64_t first, int64_t last) {
    for (int64_t row = first; row < last; ++row) {
      const int64_t b = row / g.in_h, iy = row % g.in_h;
      for (int64_t c0 = 0; c0 < cp; c0 += kFilterBlock) {
        const int64_t width = std::min(kFilterBlock, cp - c0);
        with_count<8>(width / lanes, [&]<int CV>() {
          if (lanes == 16) {
            if constexpr (CV <= 4)
              input_gradient_row<16, CV>(g, dy_transposed, packed_transposed, b, iy, c0, dx);
          } else {
            input_gradient_row<8, CV>(g, dy_transposed, packed_transposed, b, iy, c0, dx);
          }
        });
      }
    }
  });
}

}  // namespace mnistnet::conv_kernels::MNISTNET_CONV_ISA
