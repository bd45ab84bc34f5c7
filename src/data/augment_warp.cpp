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
      const double xf = std::floor(xin), yf = std::floor(yin);
      const auto x_lo = static_cast<long>(xf), y_lo = static_cast<long>(yf);
      const auto wx = static_cast<float>(xin - xf), wy = static_cast<float>(yin - yf);
      for (int c = 0; c < channels; ++c) {
        const float top = (1 - wx) * read(src, rows, cols, channels, y_lo, x_lo, c, fill_value) +
                          wx * read(src, rows, cols, channels, y_lo, x_lo + 1, c, fill_value);
        const float bottom =
            (1 - wx) * read(src, rows, cols, channels, y_lo + 1, x_lo, c, fill_value) +
            wx * read(src, rows, cols, channels, y_lo + 1, x_lo + 1, c, fill_value);
        out[c] = (1 - wy) * top + wy * bottom;
      }
    }
  }
}

}  // namespace mnistnet
