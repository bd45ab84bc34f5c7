#pragma once
// Keras 3's photometric augmentations on one [rows * cols, channels] image, in place.
#include <cstdint>

namespace mnistnet {

// RandomContrast: each channel becomes (x - mean) * factor + mean, mean over the image's pixels
// of that channel, then clipped to [lo, hi] (value_range).
void adjust_contrast(float* image, int64_t pixels, int channels, float factor, float lo, float hi);

// RandomBrightness: every value gets + delta, then clipped to [lo, hi]. Keras draws
// delta = factor * (hi - lo).
void adjust_brightness(float* image, int64_t values, float delta, float lo, float hi);

// RandomFlip: mirror left-right and/or top-bottom, exactly (no resampling).
void flip_image(float* image, int rows, int cols, int channels, bool horizontal, bool vertical);

}  // namespace mnistnet
