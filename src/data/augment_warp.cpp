// Affine resampling with TensorFlow's fill modes (see augment_warp.h).
#include "data/augment_warp.h"

#include <cmath>

namespace mnistnet {

double map_coordinate(double coord, int size, FillMode mode) {
  const double len = size;
  switch (mode) {
    case FillMode::constant:
      return coord;
    case FillMode::nearest:
      return std::fmin(std::fmax(coord, 0.0), len - 1);
    case FillMode::reflect:
      // Half-sample symmetric: -1 reads 0, -2 reads 1, size reads size - 1.
      if (size <= 1) return 0.0;
      if (coord < 0) {
        const double period = 2 * len;
        if (coord < -period) coord += period * std::floor(-coord / period);
        coord = coord < -len ? coord + period : -coord - 1;
      } else if (coord > len - 1) {
        const double period = 2 * len;
        coord -= period * std::floor(coord / period);
        if (coord >= len) coord = period - coord - 1;
      }
      return std::fmin(std::fmax(coord, 0.0), len - 1);
    case FillMode::wrap:
      if (size <= 1) return 0.0;
      if (coord < 0) {
        coord += len * std::ceil(-coord / len);
      } else if (coord > len - 1) {
        coord -= len * std::floor(coord / len);
      }
      return std::fmin(std::fmax(coord, 0.0), len - 1);
  }
  return coord;
}

namespace {

// One channel value at integer (y, x), fill_value outside the image.
inline float read(const float* src, int rows, int cols, int channels, long y, long x, int c,
                  float fill_value) {
  if (y < 0 || y >= rows || x < 0 || x >= cols) return fill_value;
  return src[(y * cols + x) * channels + c];
}

// std::floor of a coordinate, as a long. The portable build has no rounding instruction (SSE2),
// so std::floor was a library call, two per output pixel; truncating and stepping down gives the
// same value wherever a long holds it exactly.
inline long floor_to_long(double v) {
  if (!(std::fabs(v) < 0x1.0p52)) return static_cast<long>(std::floor(v));
  const auto t = static_cast<long>(v);  // toward zero
  return t - (static_cast<double>(t) > v ? 1 : 0);
}

// The bilinear blend at (yin, xin) for every channel, in the one expression both paths use.
// Inside, all four neighbours are read without bounds checks (most pixels of a small warp).
inline void bilinear(const float* src, float* out, int rows, int cols, int channels, double yin,
                     double xin, float fill_value) {
  const long x_lo = floor_to_long(xin), y_lo = floor_to_long(yin);
  const auto wx = static_cast<float>(xin - static_cast<double>(x_lo));
  const auto wy = static_cast<float>(yin - static_cast<double>(y_lo));
  const auto blend = [&](float top_left, float top_right, float bottom_left, float bottom_right) {
    const float top = (1 - wx) * top_left + wx * top_right;
    const float bottom = (1 - wx) * bottom_left + wx * bottom_right;
    return (1 - wy) * top + wy * bottom;
  };
  if (x_lo >= 0 && y_lo >= 0 && x_lo + 1 < cols && y_lo + 1 < rows) {
    const float* a = src + (y_lo * cols + x_lo) * channels;
    const float* b = a + static_cast<long>(cols) * channels;
    for (int c = 0; c < channels; ++c) out[c] = blend(a[c], a[channels + c], b[c], b[channels + c]);
    return;
  }
  for (int c = 0; c < channels; ++c)
    out[c] = blend(read(src, rows, cols, channels, y_lo, x_lo, c, fill_value),
                   read(src, rows, cols, channels, y_lo, x_lo + 1, c, fill_value),
                   read(src, rows, cols, channels, y_lo + 1, x_lo, c, fill_value),
                   read(src, rows, cols, channels, y_lo + 1, x_lo + 1, c, fill_value));
}

}  // namespace

void warp_affine(const float* src, float* dst, int rows, int cols, int channels, const AffineMap& m,
                 FillMode fill_mode, Interpolation interpolation, float fill_value) {
  for (int y = 0; y < rows; ++y) {
    for (int x = 0; x < cols; ++x) {
      const double xin = map_coordinate(m.xx * x + m.xy * y + m.x0, cols, fill_mode);
      const double yin = map_coordinate(m.yx * x + m.yy * y + m.y0, rows, fill_mode);
      float* out = dst + (static_cast<long>(y) * cols + x) * channels;
      if (interpolation == Interpolation::nearest) {
        const auto xi = static_cast<long>(std::round(xin)), yi = static_cast<long>(std::round(yin));
        for (int c = 0; c < channels; ++c)
          out[c] = read(src, rows, cols, channels, yi, xi, c, fill_value);
        continue;
      }
      bilinear(src, out, rows, cols, channels, yin, xin, fill_value);
    }
  }
}

}  // namespace mnistnet
