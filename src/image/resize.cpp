#include "image/resize.h"

#include <cmath>

#include "image/resample.h"

namespace mnistnet {

std::vector<uint8_t> resize_image(const uint8_t* src, int w, int h, int c, int out_w, int out_h) {
  const auto C = static_cast<size_t>(c);
  if (w == out_w && h == out_h)
    return std::vector<uint8_t>(src, src + static_cast<size_t>(w) * static_cast<size_t>(h) * C);
  const auto xs = resample_taps(w, out_w), ys = resample_taps(h, out_h);
  // Rows first: [h, out_w, c] floats, then columns.
  std::vector<float> rows(static_cast<size_t>(h) * static_cast<size_t>(out_w) * C, 0.0f);
  for (size_t y = 0; y < static_cast<size_t>(h); ++y)
    for (size_t x = 0; x < static_cast<size_t>(out_w); ++x)
      for (const ResampleTap& t : xs[x])
        for (size_t k = 0; k < C; ++k)
          rows[(y * static_cast<size_t>(out_w) + x) * C + k] +=
              t.weight * src[(y * static_cast<size_t>(w) + static_cast<size_t>(t.index)) * C + k];
  std::vector<uint8_t> out(static_cast<size_t>(out_h) * static_cast<size_t>(out_w) * C);
  for (size_t y = 0; y < static_cast<size_t>(out_h); ++y)
    for (size_t x = 0; x < static_cast<size_t>(out_w); ++x)
      for (size_t k = 0; k < C; ++k) {
        float v = 0.0f;
        for (const ResampleTap& t : ys[y])
          v += t.weight *
               rows[(static_cast<size_t>(t.index) * static_cast<size_t>(out_w) + x) * C + k];
        out[(y * static_cast<size_t>(out_w) + x) * C + k] =
            static_cast<uint8_t>(std::lround(std::fmin(std::fmax(v, 0.0f), 255.0f)));
      }
  return out;
}

}  // namespace mnistnet
