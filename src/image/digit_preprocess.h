#pragma once
// A picture of one handwritten digit -> the 28x28 input an MNIST model expects, made the way
// MNIST itself was made: ink bright on black, the digit scaled (anti-aliased, aspect ratio kept)
// to fit a 20x20 box, then placed in the 28x28 field so its centre of mass is at the centre.
//
//   1. Background: the median of the image's outer ring of pixels. A light one (> 127, dark pen
//      on paper: the common photo) means the image is inverted, so ink is always bright.
//   2. Ink = brightness above the background level. Whatever is at most 20% of the brightest ink
//      is background (paper texture, JPEG noise, shadows) and becomes 0; the rest is stretched
//      so the brightest ink is 255.
//   3. Crop to the ink's bounding box; scale its longer side to 20 (area average when shrinking,
//      bilinear when enlarging); stretch again so the brightest pixel is 255, as in MNIST, where
//      nearly every digit reaches 255 even when a thin pen shrank to grey.
//   4. Shift (by whole pixels, staying inside the field) so the centre of mass, in pixel-index
//      coordinates, is at (14, 14); MNIST's test set averages (14.00, 13.99) measured that way.
#include <array>
#include <cstdint>
#include <string>

#include "image/image_decoder.h"
#include "image/resample.h"

namespace mnistnet {

constexpr int kDigitSide = 28;  // MNIST's field
constexpr int kDigitBox = 20;   // the longer side of the scaled digit
constexpr int kDigitPixels = kDigitSide * kDigitSide;

struct DigitImage {
  std::array<uint8_t, kDigitPixels>
      pixels{};           // [28, 28] row-major, 0 = background, as MNIST's bytes
  bool inverted = false;  // the source had a light background
  PixelBox ink_box;       // where the ink was found in the source
};

// Throws ImageError "NAME: no digit found ..." for a blank or contrast-free image; `name` is only
// used in that message.
DigitImage preprocess_digit(const GreyImage& image, const std::string& name);

}  // namespace mnistnet
