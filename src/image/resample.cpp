#include "image/resample.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace mnistnet {

std::vector<std::vector<ResampleTap>> resample_taps(int in_size, int out_size) {
  assert(in_size > 0 && out_size > 0);
  std::vector<std::vector<ResampleTap>> taps(static_cast<size_t>(out_size));
  const double scale = static_cast<double>(in_size) / out_size;  // source samples per output
  for (int i = 0; i < out_size; ++i) {
    auto& out = taps[static_cast<size_t>(i)];
    if (out_size <= in_size) {
      // Output i covers the source interval [i * scale, (i + 1) * scale).
      const double begin = i * scale, end = std::min<double>((i + 1) * scale, in_size);
      const int last = std::min(in_size - 1, static_cast<int>(std::ceil(end)) - 1);
      for (int j = static_cast<int>(std::floor(begin)); j <= last; ++j) {
        const double overlap = std::min<double>(j + 1, end) - std::max<double>(j, begin);
        if (overlap > 1e-9) out.push_back({j, static_cast<float>(overlap / scale)});
      }
    } else {
      // The output pixel's centre in source coordinates, where sample j sits at j.
      const double centre = std::clamp((i + 0.5) * scale - 0.5, 0.0, in_size - 1.0);
      const int j = static_cast<int>(std::floor(centre));
      const auto frac = static_cast<float>(centre - j);
      out.push_back({j, 1.0f - frac});
      if (j + 1 < in_size && frac > 0.0f) out.push_back({j + 1, frac});
    }
  }
  return taps;
}

std::vector<float> resize_region(const GreyImage& image, const PixelBox& box,
                                 const std::array<float, 256>& value, int out_w, int out_h) {
  assert(box.x0 >= 0 && box.y0 >= 0 && box.x0 + box.width <= image.width &&
         box.y0 + box.height <= image.height);
  const auto cols = resample_taps(box.width, out_w);
  const auto rows = resample_taps(box.height, out_h);
  const auto ow = static_cast<size_t>(out_w);
  // Rows first: [box.height, out_w].
  std::vector<float> tmp(static_cast<size_t>(box.height) * ow, 0.0f);
  for (int y = 0; y < box.height; ++y) {
    const uint8_t* src =
        &image.pixels[static_cast<size_t>(box.y0 + y) * static_cast<size_t>(image.width) +
                      static_cast<size_t>(box.x0)];
    float* dst = &tmp[static_cast<size_t>(y) * ow];
    for (size_t x = 0; x < ow; ++x) {
      float sum = 0.0f;
      for (const ResampleTap& t : cols[x]) sum += value[src[t.index]] * t.weight;
      dst[x] = sum;
    }
  }
  // Then columns: [out_h, out_w].
  std::vector<float> out(static_cast<size_t>(out_h) * ow, 0.0f);
  for (size_t y = 0; y < static_cast<size_t>(out_h); ++y) {
    float* dst = &out[y * ow];
    for (const ResampleTap& t : rows[y]) {
      const float* src = &tmp[static_cast<size_t>(t.index) * ow];
      for (size_t x = 0; x < ow; ++x) dst[x] += src[x] * t.weight;
    }
  }
  return out;
}

}  // namespace mnistnet
