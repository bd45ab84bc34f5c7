// Keras 3's transformation matrices (keras/src/layers/preprocessing/image_preprocessing/).
#include "data/augment_geometry.h"

#include <cmath>

namespace mnistnet {

AffineMap translation_map(double dy, double dx) {
  return AffineMap{.xx = 1, .xy = 0, .x0 = -dx, .yx = 0, .yy = 1, .y0 = -dy};
}

AffineMap rotation_map(double radians, int rows, int cols) {
  const double c = std::cos(radians), s = std::sin(radians);
  const double w = cols - 1.0, h = rows - 1.0;
  return AffineMap{.xx = c,
                   .xy = -s,
                   .x0 = (w - (c * w - s * h)) / 2,
                   .yx = s,
                   .yy = c,
                   .y0 = (h - (s * w + c * h)) / 2};
}

AffineMap zoom_map(double zoom_h, double zoom_w, int rows, int cols) {
  return AffineMap{.xx = zoom_w,
                   .xy = 0,
                   .x0 = (cols - 1.0) / 2 * (1 - zoom_w),
                   .yx = 0,
                   .yy = zoom_h,
                   .y0 = (rows - 1.0) / 2 * (1 - zoom_h)};
}

}  // namespace mnistnet
