#pragma once
// The vector helpers every part of the conv kernels' per-ISA source shares: GCC vector types,
// loads and stores, register-tile sizes, receptive-field offsets, and the compile-time
// dispatch on a runtime count. Included by the parts, in a translation unit that compiles one
// instruction set (conv_kernels_<isa>.cpp); not a header to include anywhere else.
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

// acc[r][v] += s[r] * the vector at w + v * stride: a register tile's multiply-adds for R
// scalars that lie one after the other (taps of a padded input, pixels of a transposed dy,
// channels of a weight row) and V vectors (whole ones by default).
template <int L, int R, int V>
inline void add_outer_product(Vec<L> (&acc)[R][V], const float* s, const float* w,
                              int64_t stride = L) {
  Vec<L> wv[V];
#pragma GCC unroll 8
  for (int v = 0; v < V; ++v) wv[v] = load<L>(w + v * stride);
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
    const float sr = s[r];
#pragma GCC unroll 8
    for (int v = 0; v < V; ++v) acc[r][v] += sr * wv[v];
  }
}

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

}  // namespace
}  // namespace mnistnet::conv_kernels::MNISTNET_CONV_ISA
