// Contrast, brightness and flips (see augment_color.h).
#include "data/augment_color.h"

#include <algorithm>
#include <utility>

namespace mnistnet {

void adjust_contrast(float* image, int64_t pixels, int channels, float factor, float lo, float hi) {
  if (pixels <= 0) return;
  for (int c = 0; c < channels; ++c) {
    double sum = 0;  // double: 784 or 3072 terms, and the mean must not depend on their order
    for (int64_t p = 0; p < pixels; ++p) sum += image[p * channels + c];
    const auto mean = static_cast<float>(sum / static_cast<double>(pixels));
    for (int64_t p = 0; p < pixels; ++p) {
      float& v = image[p * channels + c];
      v = std::clamp((v - mean) * factor + mean, lo, hi);
    }
  }
}

void adjust_brightness(float* image, int64_t values, float delta, float lo, float hi) {
  for (int64_t k = 0; k < values; ++k) image[k] = std::clamp(image[k] + delta, lo, hi);
}

void flip_image(float* image, int rows, int cols, int channels, bool horizontal, bool vertical) {
  const long row = static_cast<long>(cols) * channels;
  if (horizontal) {
    for (int y = 0; y < rows; ++y) {
      float* line = image + y * row;
      for (int a = 0, b = cols - 1; a < b; ++a, --b)
        for (int c = 0; c < channels; ++c)
          std::swap(line[a * channels + c], line[b * channels + c]);
    }
  }
  if (vertical) {
    for (int a = 0, b = rows - 1; a < b; ++a, --b)
      std::swap_ranges(image + a * row, image + (a + 1) * row, image + b * row);
  }
}

}  // namespace mnistnet
