#pragma once
// The affine maps of Keras 3's geometric augmentation layers, as output pixel -> input position
// (augment_warp.h), for an image of rows x cols pixels.
#include "data/augment_warp.h"

namespace mnistnet {

// RandomTranslation: the content moves down by dy and right by dx pixels (Keras draws
// dy = height_factor * rows, dx = width_factor * cols).
AffineMap translation_map(double dy, double dx);

// RandomRotation: counter-clockwise (as seen on screen) by `radians` about the image centre
// ((cols - 1) / 2, (rows - 1) / 2). Keras draws radians = factor * 2 pi.
AffineMap rotation_map(double radians, int rows, int cols);

// RandomZoom: the output samples a (zoom_h * rows) x (zoom_w * cols) window about the centre,
// so zoom > 1 zooms out and zoom < 1 zooms in. Keras draws zoom = 1 + factor.
AffineMap zoom_map(double zoom_h, double zoom_w, int rows, int cols);

}  // namespace mnistnet
