#pragma once
// Resizing for digit normalisation, as MNIST was made: anti-aliased, so a large photo shrinks to
// grey edges rather than jagged ones. Shrinking averages areas (a box filter: each output pixel
// is the mean of the source area it covers, fractional pixels weighted); enlarging interpolates
// bilinearly. Separable: rows first into [in_h, out_w], then columns.
#include <array>
#include <vector>

#include "image/image_decoder.h"

namespace mnistnet {

// One source sample of an output sample along one axis.
struct ResampleTap {
  int index;
  float weight;
};

// For each of out_size outputs along an axis of in_size samples, its taps; the weights of each
// output sum to 1. Equal sizes give the identity.
std::vector<std::vector<ResampleTap>> resample_taps(int in_size, int out_size);

// Region of an image, in pixels.
struct PixelBox {
  int x0 = 0, y0 = 0, width = 0, height = 0;
};

// The region `box` of `image`, each byte first mapped through `value` (e.g. inverted and
// contrast-stretched), resized to [out_h, out_w] floats, row-major. Reads the region once and
// never copies it, so a crop of a large photo costs no more than its [box.height, out_w] rows.
std::vector<float> resize_region(const GreyImage& image, const PixelBox& box,
                                 const std::array<float, 256>& value, int out_w, int out_h);

}  // namespace mnistnet
