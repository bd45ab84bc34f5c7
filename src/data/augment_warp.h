#pragma once
// Resampling an image through an affine map, the one warping routine every geometric
// augmentation (translation, rotation, zoom) uses. It follows TensorFlow's
// ImageProjectiveTransformV3, which Keras's RandomTranslation/Rotation/Zoom call: pixel centres
// sit at integer coordinates, the output pixel (x, y) reads the input at
//   x_in = xx * x + xy * y + x0,   y_in = yx * x + yy * y + y0,
// the fill mode maps x_in / y_in into the image first (constant leaves them as they are), and
// bilinear interpolation blends the four neighbours, a neighbour outside the image counting as
// fill_value; nearest reads the rounded position.
#include "data/augment_spec.h"

namespace mnistnet {

struct AffineMap {  // output pixel -> input position
  double xx = 1, xy = 0, x0 = 0;
  double yx = 0, yy = 1, y0 = 0;
};

// The input coordinate a fill mode reads for `coord` on an axis of `size` pixels (constant:
// unchanged). Exposed for tests.
double map_coordinate(double coord, int size, FillMode mode);

// src and dst: [rows, cols, channels], distinct buffers. Allocates nothing.
void warp_affine(const float* src, float* dst, int rows, int cols, int channels,
                 const AffineMap& map, FillMode fill_mode, Interpolation interpolation,
                 float fill_value);

}  // namespace mnistnet
