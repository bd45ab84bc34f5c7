// The kernel (weight) gradient, per instruction set.
// Part of the conv kernels' per-ISA source (conv_kernels_impl.h includes it, once per
// instruction set): not a header to include anywhere else.
#pragma once

#include "layers/conv_vectors_impl.h"
namespace mnistnet::conv_kernels::MNISTNET_CONV_ISA {
namespace {
// ---------------------------------------------------------------------- kernel gradient

// Pixels per block in the kernel gradient: their dy rows stay in L1 while every tap tile of
// the thread's share passes over them.
constexpr int64_t kGradientPixelBlock = 128;

// One tap tile (taps j0..j0+R of kernel row ky) x one filter block, accumulated over the
// pixels whose offsets are given:  G[ky*run + j0 + r, f] += sum_p padded[off_p + ky*rs + j0 + r] *
// dy[p, f0 + f]
template <int L, int NV, int R>
void kernel_gradient_tile(const Geometry& g, const float* padded, const float* dy, int64_t ldy,
                          int64_t f0, const int64_t* offsets, int64_t p0, int64_t count, int64_t ky,
                          int64_t j0, float* grad_block) {
  const int n = static_cast<int>(std::min<int64_t>(R, g.run() - j0));
  float* g_rows = grad_block + (ky * g.run() + j0) * (NV * L);
  Vec<L> acc[R][NV];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < NV; ++v) acc[r][v] = r < n ? load<L>(g_rows + (r * NV + v) * L) : Vec<L>{};
  const int64_t tap = ky * g.row_stride() + j0;
  for (int64_t i = 0; i < count; ++i) {
    const float* d = dy + (p0 + i) * ldy + f0;
    const float* x = padded + offsets[i] + tap;  // taps past the run read slack: discarded
    add_outer_product<L, R, NV>(acc, x, d);
  }
  for (int r = 0; r < n; ++r)
    for (int v = 0; v < NV; ++v) store<L>(g_rows + (r * NV + v) * L, acc[r][v]);
}

// R taps per tile; a kernel row of fewer taps (3 for a 3x3 single-channel convolution) gets
// tiles of just its taps rather than mostly idle accumulators.
template <int L, int NV, int R>
void kernel_gradient_rows(const Geometry& g, const float* padded, const float* dy, int64_t ldy,
                          int64_t f0, int64_t total_pixels, float* grad_block) {
  const int64_t tiles_per_row = (g.run() + R - 1) / R;
  // Threads own disjoint tap tiles, so each gradient value is summed by one thread, over the
  // pixels in a fixed order: the result does not depend on timing.
  parallel_for_work(
      g.kernel_h * tiles_per_row, total_pixels * R * NV * L, [&](int64_t t_begin, int64_t t_end) {
        int64_t offsets[kGradientPixelBlock];
        for (int64_t p0 = 0; p0 < total_pixels; p0 += kGradientPixelBlock) {
          const int64_t count = std::min(kGradientPixelBlock, total_pixels - p0);
          pixel_offsets(g, p0, count, offsets);
          for (int64_t t = t_begin; t < t_end; ++t) {
            kernel_gradient_tile<L, NV, R>(g, padded, dy, ldy, f0, offsets, p0, count,
                                           t / tiles_per_row, (t % tiles_per_row) * R, grad_block);
          }
        }
      });
}

// A kernel of few taps (a first layer's 3x3x1): its whole gradient for one filter block fits in
// the accumulators, so each pixel's dy is read once instead of once per tap tile, and the
// threads split the pixels instead of 3 tap rows. The pixels are cut into kSmallPatchBlocks
// fixed blocks, each summed into its own partial gradient, then the partials are added in
// block order: the result does not depend on the thread count.
constexpr int64_t kSmallPatchBlocks = 8;

template <int L, int NV>
constexpr bool small_patch_fits(int taps) {
  constexpr int registers_per_vector = (L + kRegisterFloats - 1) / kRegisterFloats;
  return taps * NV * registers_per_vector <= kAccumulatorRegisters;
}

template <int L, int NV, int KH, int RUN>
void small_patch_gradient(const Geometry& g, const float* padded, const float* dy, int64_t ldy,
                          int64_t f0, int64_t total_pixels, float* grad_block) {
  constexpr int K = KH * RUN;
  alignas(64) float partial[kSmallPatchBlocks][K * NV * L];
  const int64_t row_stride = g.row_stride();
  parallel_for_work(kSmallPatchBlocks, total_pixels / kSmallPatchBlocks * K * NV * L,
                    [&](int64_t first, int64_t last) {
                      int64_t offsets[kGradientPixelBlock];
                      for (int64_t blk = first; blk < last; ++blk) {
                        const int64_t begin = total_pixels * blk / kSmallPatchBlocks;
                        const int64_t end = total_pixels * (blk + 1) / kSmallPatchBlocks;
                        Vec<L> acc[K][NV] = {};
                        for (int64_t p0 = begin; p0 < end; p0 += kGradientPixelBlock) {
                          const int64_t count = std::min(kGradientPixelBlock, end - p0);
                          pixel_offsets(g, p0, count, offsets);
                          for (int64_t i = 0; i < count; ++i) {
                            const float* d = dy + (p0 + i) * ldy + f0;
                            const float* x = padded + offsets[i];
                            Vec<L> dv[NV];
#pragma GCC unroll 8
                            for (int v = 0; v < NV; ++v) dv[v] = load<L>(d + v * L);
#pragma GCC unroll 4
                            for (int ky = 0; ky < KH; ++ky) {
#pragma GCC unroll 12
                              for (int j = 0; j < RUN; ++j) {
                                const float xv = x[ky * row_stride + j];
#pragma GCC unroll 8
                                for (int v = 0; v < NV; ++v) acc[ky * RUN + j][v] += xv * dv[v];
                              }
                            }
                          }
                        }
                        for (int k = 0; k < K; ++k)
                          for (int v = 0; v < NV; ++v)
                            store<L>(partial[blk] + (k * NV + v) * L, acc[k][v]);
                      }
                    });
  // grad_block is [K][NV * L] like the partials (the packed layout of one filter block).
  for (int64_t blk = 0; blk < kSmallPatchBlocks; ++blk)
    for (int i = 0; i < K * NV * L; ++i) grad_block[i] += partial[blk][i];
}

// Calls small_patch_gradient for kernel rows of up to 3 rows of up to 4 taps that fit; false if
// the geometry is not one of those.
template <int L, int NV>
bool small_patch_kernel_gradient(const Geometry& g, const float* padded, const float* dy,
                                 int64_t ldy, int64_t f0, int64_t total_pixels, float* grad_block) {
  if (g.kernel_h > 3 || g.run() > 4 || !small_patch_fits<L, NV>(static_cast<int>(g.patch())))
    return false;
  bool done = false;
  with_count<8>(g.kernel_h, [&]<int KH>() {
    if constexpr (KH <= 3) {
      with_count<8>(g.run(), [&]<int RUN>() {
        if constexpr (RUN <= 4 && small_patch_fits<L, NV>(KH * RUN)) {
          small_patch_gradient<L, NV, KH, RUN>(g, padded, dy, ldy, f0, total_pixels, grad_block);
          done = true;
        }
      });
    }
  });
  return done;
}

template <int L, int NV>
void kernel_gradient_block(const Geometry& g, const float* padded, const float* dy, int64_t ldy,
                           int64_t f0, int64_t total_pixels, float* grad_block) {
  if (small_patch_kernel_gradient<L, NV>(g, padded, dy, ldy, f0, total_pixels, grad_block)) return;
  constexpr int R = tile_rows<L, NV, kGradientMaxRows>();
  if (g.run() >= std::min(R, 8)) {
    kernel_gradient_rows<L, NV, R>(g, padded, dy, ldy, f0, total_pixels, grad_block);
    return;
  }
  with_count<8>(g.run(), [&]<int Taps>() {
    kernel_gradient_rows<L, NV, Taps>(g, padded, dy, ldy, f0, total_pixels, grad_block);
  });
}

// ------------------------------------- kernel gradient, vectors across a kernel row's taps
//
// 16 filters fill one vector, so the filter-vector tiles above load a dy vector and broadcast a
// tap for every multiply-add; 24 filters fill 16-lane vectors to 75%, and the padded copy of dy
// they need costs a pass of its own. Where a kernel row has at least a vector of taps (resnet's
// 3 x 16 = 48, conv's 6 x 12 = 72) the vectors run across taps instead: a tile is kTapFilters
// filters x TV vectors of consecutive taps of kernel row ky; per pixel it loads TV vectors of
// the padded input and broadcasts kTapFilters values of dy where it lies, for kTapFilters x TV
// multiply-adds. Each gradient value is still one chain over the pixels in order, from zero, so
// the bits are those of kernel_gradient_rows. AVX-512 only, where those tiles are narrow.
constexpr int kTapFilters = 8;
constexpr int kMaxTapVectors = 3;
// Tiles a thread carries through each block of pixels, their sums kept between blocks.
constexpr int64_t kTapTilesPerPass = 8;

bool use_tap_vectors(const Geometry& g) {
  return kRegisterFloats == 16 && filter_lanes(g.filters) == 16 &&
         (g.filters % 16 != 0 || g.filters == 16) && g.filters % kTapFilters == 0 && g.run() >= 16;
}

// The sums of one tile: kTapFilters filters x kMaxTapVectors vectors of taps.
struct TapTileSums {
  alignas(64) float lanes[kTapFilters][kMaxTapVectors * 16];
};

// Taps [j0, j0 + TV*16) of kernel row ky x filters [f0, f0 + kTapFilters), summed over the
// `count` pixels from p0 (receptive fields at `offsets`) into `sums`.
template <int TV>
void tap_vector_gradient_tile(const Geometry& g, const float* padded, const float* dy,
                              const int64_t* offsets, int64_t p0, int64_t count, int64_t ky,
                              int64_t j0, int64_t f0, TapTileSums& sums) {
  Vec<16> acc[kTapFilters][TV];
  for (int f = 0; f < kTapFilters; ++f)
    for (int v = 0; v < TV; ++v) acc[f][v] = load<16>(sums.lanes[f] + v * 16);
  const int64_t tap = ky * g.row_stride() + j0;
  const float* d = dy + p0 * g.filters + f0;
  // Lanes past run() add into sums that are never stored: they read the next taps or the slack.
  for (int64_t i = 0; i < count; ++i, d += g.filters)
    add_outer_product<16, kTapFilters, TV>(acc, d, padded + offsets[i] + tap);
  for (int f = 0; f < kTapFilters; ++f)
    for (int v = 0; v < TV; ++v) store<16>(sums.lanes[f] + v * 16, acc[f][v]);
}

void tap_vector_kernel_gradient(const Geometry& g, const float* padded, const float* dy,
                                int64_t total_pixels, float* packed_grad) {
  constexpr int64_t chunk = kMaxTapVectors * 16;
  const int64_t chunks = (g.run() + chunk - 1) / chunk, groups = g.filters / kTapFilters;
  const auto tile_origin = [&](int64_t t, int64_t& ky, int64_t& j0, int64_t& f0) {
    ky = t / (chunks * groups);
    j0 = (t / groups) % chunks * chunk;
    f0 = t % groups * kTapFilters;
  };
  // Threads own disjoint tiles: each gradient value is summed by one thread, in pixel order.
  // A thread takes its tiles kTapTilesPerPass at a time through the pixels, block by block, so
  // the input is read from memory once per pass rather than once per tile.
  parallel_for_work(g.kernel_h * chunks * groups, total_pixels * chunk * kTapFilters,
                    [&](int64_t first, int64_t last) {
                      int64_t offsets[kGradientPixelBlock];
                      TapTileSums sums[kTapTilesPerPass];
                      for (int64_t pass = first; pass < last; pass += kTapTilesPerPass) {
                        const int64_t tiles = std::min(kTapTilesPerPass, last - pass);
                        for (int64_t t = 0; t < tiles; ++t) sums[t] = {};
                        for (int64_t p0 = 0; p0 < total_pixels; p0 += kGradientPixelBlock) {
                          const int64_t count = std::min(kGradientPixelBlock, total_pixels - p0);
                          pixel_offsets(g, p0, count, offsets);
                          for (int64_t t = 0; t < tiles; ++t) {
                            int64_t ky, j0, f0;
                            tile_origin(pass + t, ky, j0, f0);
                            with_count<kMaxTapVectors>((g.run() - j0 + 15) / 16, [&]<int TV>() {
                              tap_vector_gradient_tile<TV>(g, padded, dy, offsets, p0, count, ky,
                                                           j0, f0, sums[t]);
                            });
                          }
                        }
                        // Into the packed layout (pack_kernel): blocks of kFilterBlock padded
                        // filters, [patch][width].
                        for (int64_t t = 0; t < tiles; ++t) {
                          int64_t ky, j0, f0;
                          tile_origin(pass + t, ky, j0, f0);
                          const int64_t block_f0 = f0 / kFilterBlock * kFilterBlock;
                          const int64_t width =
                              std::min(kFilterBlock, g.padded_filters() - block_f0);
                          float* block = packed_grad + g.patch() * block_f0;
                          const int64_t taps = std::min(chunk, g.run() - j0);
                          for (int64_t j = 0; j < taps; ++j) {
                            float* out = block + (ky * g.run() + j0 + j) * width + (f0 - block_f0);
                            for (int f = 0; f < kTapFilters; ++f) out[f] = sums[t].lanes[f][j];
                          }
                        }
                      }
                    });
}

}  // namespace

void kernel_gradient(const Geometry& g, const float* padded, const float* dy, int64_t batch,
                     float* dy_scratch, float* packed_grad) {
  const int64_t total = batch * g.pixels();
  const int lanes = filter_lanes(g.filters);
  const int64_t fp = g.padded_filters();
  std::fill(packed_grad, packed_grad + g.packed_kernel_size(), 0.0f);
  if (use_tap_vectors(g)) {
    tap_vector_kernel_gradient(g, padded, dy, total, packed_grad);
    return;
  }
  int64_t ldy = g.filters;
  if (fp != g.filters) {  // vectors read whole lanes: give dy zero columns up to fp
    // Whole vectors of 8, then the rest lane by lane with a fixed count: per-row std::copy and
    // std::fill were two library calls per pixel (12 filters: 100,000 pixels a conv step).
    const int64_t full = g.filters / 8 * 8, filters = g.filters;
    parallel_for(
        total,
        [&](int64_t first, int64_t last) {
          for (int64_t p = first; p < last; ++p) {
            const float* src = dy + p * filters;
            float* dst = dy_scratch + p * fp;
            for (int64_t f = 0; f < full; f += 8) store<8>(dst + f, load<8>(src + f));
#pragma GCC unroll 16
            for (int64_t l = 0; l < 16; ++l) {
              if (full + l < fp) dst[full + l] = full + l < filters ? src[full + l] : 0.0f;
            }
          }
        },
        4096);
    dy = dy_scratch;
    ldy = fp;
  }
  for_each_filter_block(g, [&](int64_t f0, int64_t width) {
    float* block = packed_grad + g.patch() * f0;
    with_count<8>(width / lanes, [&]<int NV>() {
      if (lanes == 16) {
        if constexpr (NV <= 4) kernel_gradient_block<16, NV>(g, padded, dy, ldy, f0, total, block);
      } else {
        kernel_gradient_block<8, NV>(g, padded, dy, ldy, f0, total, block);
      }
    });
  });
}

}  // namespace mnistnet::conv_kernels::MNISTNET_CONV_ISA
