#pragma once
// The one copy ZeroPadding2D and Cropping2D are made of: an NHWC image [h, w, C] placed inside
// a larger one [H, W, C] at (top, left). ZeroPadding2D's forward and Cropping2D's backward embed
// (the border zeroed); ZeroPadding2D's backward and Cropping2D's forward extract.
#include <algorithm>
#include <cstdint>

namespace mnistnet::spatial_window {

struct Frame {
  int64_t inner_h, inner_w;  // the small image
  int64_t outer_h, outer_w;  // the large one
  int64_t top, left;         // where the small one starts inside the large one
  int64_t channels;
  int64_t inner_size() const { return inner_h * inner_w * channels; }
  int64_t outer_size() const { return outer_h * outer_w * channels; }
};

// outer = inner in its window, zeros around it; `batch` images each.
inline void embed(const Frame& f, const float* inner, float* outer, int64_t batch) {
  const int64_t row = f.inner_w * f.channels;
  for (int64_t b = 0; b < batch; ++b) {
    float* o = outer + b * f.outer_size();
    std::fill(o, o + f.outer_size(), 0.0f);
    const float* in = inner + b * f.inner_size();
    for (int64_t h = 0; h < f.inner_h; ++h) {
      std::copy(in + h * row, in + (h + 1) * row,
                o + ((f.top + h) * f.outer_w + f.left) * f.channels);
    }
  }
}

// inner = the window of outer.
inline void extract(const Frame& f, const float* outer, float* inner, int64_t batch) {
  const int64_t row = f.inner_w * f.channels;
  for (int64_t b = 0; b < batch; ++b) {
    const float* o = outer + b * f.outer_size();
    float* in = inner + b * f.inner_size();
    for (int64_t h = 0; h < f.inner_h; ++h) {
      const float* src = o + ((f.top + h) * f.outer_w + f.left) * f.channels;
      std::copy(src, src + row, in + h * row);
    }
  }
}

}  // namespace mnistnet::spatial_window
