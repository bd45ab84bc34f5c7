// The conv kernels' source, compiled once per instruction set: conv_kernels_avx512.cpp,
// conv_kernels_avx2.cpp and conv_kernels_baseline.cpp each include it inside their own
// `#pragma GCC target` region, with MNISTNET_CONV_ISA naming the namespace and
// kAccumulatorRegisters / kRegisterFloats describing the vector registers. Not a header to
// include anywhere else. (GCC's C++ front end does not redefine __AVX512F__ and friends inside a
// target pragma, hence the explicit constants.)
//
// Everything here has internal linkage or lives in the ISA's namespace: a function compiled for
// AVX-512 must never be merged by the linker with a baseline copy of the same inline function.

namespace mnistnet::conv_kernels::MNISTNET_CONV_ISA {
namespace {

// GCC vector extensions: one source for AVX-512, AVX2 or SSE, whatever -march allows.
// (Spelled out per width: GCC drops vector_size on a dependent alias template.)
typedef float Vec8 __attribute__((vector_size(8 * sizeof(float))));
typedef float Vec16 __attribute__((vector_size(16 * sizeof(float))));
template <int L>
struct VectorOf;
template <>
struct VectorOf<8> {
  using type = Vec8;
};
template <>
struct VectorOf<16> {
  using type = Vec16;
};
template <int L>
using Vec = typename VectorOf<L>::type;
static_assert(sizeof(Vec<16>) == 16 * sizeof(float));

template <int L>
inline Vec<L> load(const float* p) {
  Vec<L> v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <int L>
inline void store(float* p, Vec<L> v) {
  std::memcpy(p, &v, sizeof v);
}

// The first `valid` floats of the N vectors `row`, stored at `out`: whole vectors, then the
// valid lanes of the next one (12 filters: 8 + 4) one by one. A memcpy call per pixel took
// longer than a 3x3x1 pixel's multiply-adds; the lanes go by a fixed count with a test,
// unrolled, because a variable count became a memcpy call again.
template <int L, int N>
inline void store_valid_lanes(float* out, const Vec<L> (&row)[N], int64_t valid) {
  if (valid == N * L) {
    for (int v = 0; v < N; ++v) store<L>(out + v * L, row[v]);
    return;
  }
  const int64_t full = valid / L;
  for (int v = 0; v < full; ++v) store<L>(out + v * L, row[v]);
  if (full < N) {
    const Vec<L> last = row[full];
    const auto rest = static_cast<int>(valid - full * L);
#pragma GCC unroll 16
    for (int l = 0; l < L; ++l)
      if (l < rest) out[full * L + l] = last[l];
  }
}

// Rows of a register tile that is `vectors` vectors of L floats wide, at most MaxRows.
template <int L, int Vectors, int MaxRows>
constexpr int tile_rows() {
  constexpr int registers_per_vector = (L + kRegisterFloats - 1) / kRegisterFloats;
  return std::clamp(kAccumulatorRegisters / (Vectors * registers_per_vector), 1, MaxRows);
}
// The forward's tiles keep an input pointer per row: 8 of them and the loop's own fit x86-64's
// 16 general registers; 12 spilled, and the 12-row tiles ran 30% slower (conv's 6x6 layers).
constexpr int kForwardMaxRows = 8;
// The kernel gradient's rows are taps of one pointer.
constexpr int kGradientMaxRows = 12;

// Offsets of the receptive fields (their top-left taps) of output pixels [p, p + n) in the
// padded batch. One division for the first pixel, then steps: two divisions per pixel cost more
// than the taps of a 3x3 single-channel convolution.
void pixel_offsets(const Geometry& g, int64_t p, int64_t n, int64_t* out) {
  const int64_t per_image = g.pixels();
  int64_t b = p / per_image, oy = (p % per_image) / g.out_w, ox = (p % per_image) % g.out_w;
  for (int64_t i = 0; i < n; ++i) {
    out[i] = b * g.image_stride() + (oy * g.stride_h * g.padded_w + ox * g.stride_w) * g.in_c;
    if (++ox == g.out_w) {
      ox = 0;
      if (++oy == g.out_h) {
        oy = 0;
        ++b;
      }
    }
  }
}

// Calls body.template operator()<N>() for a runtime n in [1, 8].
template <class Body>
void with_vector_count(int64_t n, Body&& body) {
  switch (n) {
    case 1:
      body.template operator()<1>();
      break;
    case 2:
      body.template operator()<2>();
      break;
    case 3:
      body.template operator()<3>();
      break;
    case 4:
      body.template operator()<4>();
      break;
    case 5:
      body.template operator()<5>();
      break;
    case 6:
      body.template operator()<6>();
      break;
    case 7:
      body.template operator()<7>();
      break;
    default:
      body.template operator()<8>();
      break;
  }
}

// Calls body.template operator()<N>() for N = min(n, Max), n >= 1.
template <int Max, class Body>
void with_count(int64_t n, Body&& body) {
  if constexpr (Max <= 1) {
    body.template operator()<1>();
  } else {
    if (n >= Max)
      body.template operator()<Max>();
    else
      with_count<Max - 1>(n, body);
  }
}

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
      store_valid_lanes<L, NV>(y + (p + r) * g.filters + f0, acc[r], valid);
  }
}

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
    Vec<L> dv[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) dv[v] = load<L>(d + v * L);
#pragma GCC unroll 12
    for (int r = 0; r < R; ++r) {
      const float xv = x[r];
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[r][v] += xv * dv[v];
    }
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
  with_vector_count(g.kernel_h, [&]<int KH>() {
    if constexpr (KH <= 3) {
      with_vector_count(g.run(), [&]<int RUN>() {
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
  with_vector_count(g.run(), [&]<int Taps>() {
    kernel_gradient_rows<L, NV, Taps>(g, padded, dy, ldy, f0, total_pixels, grad_block);
  });
}

// ------------------------------------- kernel gradient, filters not a multiple of the lanes
//
// 24 filters fill 16-lane vectors to 75%, and the padded copy of dy they need costs a pass of
// its own. Where a kernel row has at least a vector of taps (conv's 6 x 12 = 72) the vectors run
// across taps instead: a tile is kTapFilters filters x TV vectors of consecutive taps of kernel
// row ky; per pixel it loads TV vectors of the padded input and broadcasts kTapFilters values of
// dy where it lies, for kTapFilters x TV multiply-adds. Each gradient value is still one chain
// over the pixels in order, from zero, so the bits are those of kernel_gradient_rows. AVX-512
// only, where 16-lane vectors pad 24 filters.
constexpr int kTapFilters = 8;
constexpr int kMaxTapVectors = 3;

bool use_tap_vectors(const Geometry& g) {
  return kRegisterFloats == 16 && filter_lanes(g.filters) == 16 && g.filters % 16 != 0 &&
         g.filters % kTapFilters == 0 && g.run() >= 16;
}

// Taps [j0, j0 + TV*16) of kernel row ky (those below run() are stored) x filters
// [f0, f0 + kTapFilters), summed over every pixel of the batch.
template <int TV>
void tap_vector_gradient_tile(const Geometry& g, const float* padded, const float* dy,
                              int64_t total_pixels, int64_t ky, int64_t j0, int64_t f0,
                              float* packed_grad) {
  Vec<16> acc[kTapFilters][TV] = {};
  const int64_t column_step = g.stride_w * g.in_c, row_step = g.stride_h * g.row_stride();
  const float* image = padded + ky * g.row_stride() + j0;
  const float* row = image;
  const float* x = row;
  const float* d = dy + f0;
  for (int64_t p = 0, ox = 0, oy = 0; p < total_pixels; ++p, d += g.filters) {
    Vec<16> xv[TV];
#pragma GCC unroll 4
    for (int v = 0; v < TV; ++v) xv[v] = load<16>(x + v * 16);  // past run(): dropped below
#pragma GCC unroll 8
    for (int f = 0; f < kTapFilters; ++f) {
      const float df = d[f];
#pragma GCC unroll 4
      for (int v = 0; v < TV; ++v) acc[f][v] += df * xv[v];
    }
    x += column_step;
    if (++ox == g.out_w) {  // the next output row, or the next image
      ox = 0;
      if (++oy == g.out_h) {
        oy = 0;
        image += g.image_stride();
        row = image;
      } else {
        row += row_step;
      }
      x = row;
    }
  }
  // The packed layout (pack_kernel): blocks of kFilterBlock padded filters, [patch][width].
  const int64_t block_f0 = f0 / kFilterBlock * kFilterBlock;
  const int64_t width = std::min(kFilterBlock, g.padded_filters() - block_f0);
  float* block = packed_grad + g.patch() * block_f0;
  for (int v = 0; v < TV; ++v)
    for (int l = 0; l < 16; ++l) {
      const int64_t j = j0 + v * 16 + l;
      if (j >= g.run()) break;
      float* out = block + (ky * g.run() + j) * width + (f0 - block_f0);
      for (int f = 0; f < kTapFilters; ++f) out[f] = acc[f][v][l];
    }
}

void tap_vector_kernel_gradient(const Geometry& g, const float* padded, const float* dy,
                                int64_t total_pixels, float* packed_grad) {
  constexpr int64_t chunk = kMaxTapVectors * 16;
  const int64_t chunks = (g.run() + chunk - 1) / chunk, groups = g.filters / kTapFilters;
  // Threads own disjoint tiles: each gradient value is summed by one thread, in pixel order.
  parallel_for_work(g.kernel_h * chunks * groups, total_pixels * chunk * kTapFilters,
                    [&](int64_t first, int64_t last) {
                      for (int64_t t = first; t < last; ++t) {
                        const int64_t ky = t / (chunks * groups);
                        const int64_t j0 = (t / groups) % chunks * chunk;
                        const int64_t f0 = t % groups * kTapFilters;
                        with_count<kMaxTapVectors>((g.run() - j0 + 15) / 16, [&]<int TV>() {
                          tap_vector_gradient_tile<TV>(g, padded, dy, total_pixels, ky, j0, f0,
                                                       packed_grad);
                        });
                      }
                    });
}

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
template <int L, int CV, int R>
void input_gradient_tile(const Geometry& g, const float* dyt, const float* wt, int64_t b,
                         int64_t iy, int64_t qx, int64_t m0, int n, int64_t c0, float* dx) {
  const int64_t F = g.filters, cp = g.padded_channels(), wd = dy_width(g);
  const int64_t sh = g.stride_h, sw = g.stride_w, y = iy + g.pad_top;
  Vec<L> acc[R][CV] = {};
  for (int64_t ky = y % sh; ky < g.kernel_h; ky += sh) {
    const int64_t oy = (y - ky) / sh;
    if (oy < 0 || oy >= g.out_h) continue;
    const float* row = dyt + (b * g.out_h + oy) * F * wd + dy_left(g) + m0;
    for (int64_t kx = qx, t = 0; kx < g.kernel_w; kx += sw, ++t) {
      const float* d = row - t;
      const float* w = wt + (ky * g.kernel_w + kx) * F * cp + c0;
#pragma GCC unroll 1
      for (int64_t f = 0; f < F; ++f, d += wd, w += cp) {
        Vec<L> wv[CV];
#pragma GCC unroll 8
        for (int v = 0; v < CV; ++v) wv[v] = load<L>(w + v * L);
#pragma GCC unroll 16
        for (int r = 0; r < R; ++r) {
          const float dv = d[r];
#pragma GCC unroll 8
          for (int v = 0; v < CV; ++v) acc[r][v] += dv * wv[v];
        }
      }
    }
  }
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

// One input row of one image, one channel block: every phase, in tiles of nearly equal size.
template <int L, int CV>
void input_gradient_row(const Geometry& g, const float* dyt, const float* wt, int64_t b, int64_t iy,
                        int64_t c0, float* dx) {
  constexpr int kMaxRows = pixel_tile_rows<L, CV>();
  const int64_t sw = g.stride_w;
  for (int64_t qx = 0; qx < sw; ++qx) {
    // Pixels of this phase: X = qx + sw*m in [pad_left, pad_left + in_w).
    const int64_t m_lo = (g.pad_left - qx + sw - 1) / sw;
    const int64_t m_hi = (g.pad_left + g.in_w - 1 - qx) / sw;  // inclusive
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
// With few input channels (conv's 12 and 24, resnet's 16) the tiles above load one dy value per
// CV = 1 or 2 multiply-adds, and pad 12 channels to 16 lanes. There the vectors run across
// pixels instead: a tile is CB channels x NI images, each vector kPixelLanes consecutive pixels
// of one phase of input row iy; per (tap, filter) it loads NI vectors of dy and broadcasts CB
// weights for CB x NI multiply-adds. Each dx value is the same chain in the same (ky, kx, f)
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
                                int64_t iy, int64_t qx, int64_t m0, int n, int64_t c0,
                                float* dx) {
  using V = Vec<kPixelLanes>;
  const int64_t F = g.filters, cp = g.padded_channels(), wd = dy_width(g);
  const int64_t sh = g.stride_h, sw = g.stride_w, y = iy + g.pad_top;
  const int64_t image_rows = g.out_h * F * wd;  // floats of one image's dyt
  V acc[CB][NI] = {};
  for (int64_t ky = y % sh; ky < g.kernel_h; ky += sh) {
    const int64_t oy = (y - ky) / sh;
    if (oy < 0 || oy >= g.out_h) continue;
    const float* row = dyt + (b0 * g.out_h + oy) * F * wd + dy_left(g) + m0;
    for (int64_t kx = qx, t = 0; kx < g.kernel_w; kx += sw, ++t) {
      const float* d = row - t;
      const float* w = wt + (ky * g.kernel_w + kx) * F * cp + c0;
#pragma GCC unroll 1
      for (int64_t f = 0; f < F; ++f, d += wd, w += cp) {
        V dv[NI];
#pragma GCC unroll 4
        for (int i = 0; i < NI; ++i) dv[i] = load<kPixelLanes>(d + i * image_rows);
#pragma GCC unroll 12
        for (int c = 0; c < CB; ++c) {
          const float wc = w[c];
#pragma GCC unroll 4
          for (int i = 0; i < NI; ++i) acc[c][i] += wc * dv[i];
        }
      }
    }
  }
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
    const int64_t m_lo = (g.pad_left - qx + sw - 1) / sw;
    const int64_t m_hi = (g.pad_left + g.in_w - 1 - qx) / sw;  // inclusive
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
  const int64_t work = NI * g.in_w * g.kernel_h * g.kernel_w * g.filters * g.in_c /
                           (g.stride_h * g.stride_w) + 1;
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

void forward(const Geometry& g, const float* padded, int64_t batch, const float* packed_kernel,
             const float* bias, bool relu, float* y) {
  const int64_t total = batch * g.pixels();
  const int lanes = filter_lanes(g.filters);
  const auto output_pixels = [&](int64_t p_begin, int64_t p_end) {
    for_each_filter_block(g, [&](int64_t f0, int64_t width) {
      const float* b = bias ? bias + f0 : nullptr;
      const float* w = packed_kernel + g.patch() * f0;
      with_vector_count(width / lanes, [&]<int NV>() {
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

void kernel_gradient(const Geometry& g, const float* padded, const float* dy, int64_t batch,
                     float* dy_scratch, float* packed_grad) {
  const int64_t total = batch * g.pixels();
  const int lanes = filter_lanes(g.filters);
  const int64_t fp = g.padded_filters();
  if (use_tap_vectors(g)) {
    std::fill(packed_grad, packed_grad + g.packed_kernel_size(), 0.0f);
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
  std::fill(packed_grad, packed_grad + g.packed_kernel_size(), 0.0f);
  for_each_filter_block(g, [&](int64_t f0, int64_t width) {
    float* block = packed_grad + g.patch() * f0;
    with_vector_count(width / lanes, [&]<int NV>() {
      if (lanes == 16) {
        if constexpr (NV <= 4) kernel_gradient_block<16, NV>(g, padded, dy, ldy, f0, total, block);
      } else {
        kernel_gradient_block<8, NV>(g, padded, dy, ldy, f0, total, block);
      }
    });
  });
}

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
        with_vector_count(width / lanes, [&]<int CV>() {
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

extern const KernelTable kTable{forward, kernel_gradient, input_gradient};

}  // namespace mnistnet::conv_kernels::MNISTNET_CONV_ISA
