#include "layers/pooling.h"

#include <algorithm>
#include <limits>
#include <string>

#include "layers/same_padding.h"

namespace mnistnet {

Pooling2D::Pooling2D(std::array<int64_t, 2> pool_size, std::array<int64_t, 2> strides,
                     PoolPadding padding)
    : pool_(pool_size), strides_(strides), padding_(padding) {}

Shape Pooling2D::build(const Shape& input) {
  if (input.size() != 3) {
    throw ShapeError(std::string(type()) + " needs an image input [height, width, channels], got " +
                     shape_string(input) + "; add a Reshape");
  }
  in_h_ = input[0];
  in_w_ = input[1];
  channels_ = input[2];
  if (padding_ == PoolPadding::valid && (in_h_ < pool_[0] || in_w_ < pool_[1])) {
    throw ShapeError("pool_size " + shape_string({pool_[0], pool_[1]}) +
                     " does not fit the input " + shape_string(input) +
                     " with padding \"valid\"; use padding \"same\" or a "
                     "smaller pool_size");
  }
  auto pad = padding_ == PoolPadding::same ? same_padding : valid_padding;
  const Padding1D rows = pad(in_h_, pool_[0], strides_[0]);
  const Padding1D cols = pad(in_w_, pool_[1], strides_[1]);
  out_h_ = rows.out;
  out_w_ = cols.out;
  pad_top_ = rows.before;
  pad_left_ = cols.before;
  return {out_h_, out_w_, channels_};
}

Pooling2D::Window Pooling2D::window(int64_t oh, int64_t ow) const {
  const int64_t h = oh * strides_[0] - pad_top_;
  const int64_t w = ow * strides_[1] - pad_left_;
  return {std::max<int64_t>(h, 0), std::min(h + pool_[0], in_h_), std::max<int64_t>(w, 0),
          std::min(w + pool_[1], in_w_)};
}

// ---- MaxPooling2D ----

Shape MaxPooling2D::build(const Shape& input) {
  Shape out = Pooling2D::build(input);
  // The arg-max is stored as an int32 offset within one example.
  if (in_size() > std::numeric_limits<int32_t>::max()) {
    throw ShapeError("MaxPooling2D input " + shape_string(input) + " is too large");
  }
  return out;
}

void MaxPooling2D::reserve(int64_t max_batch) {
  argmax_.resize(static_cast<size_t>(max_batch * out_size()));
}

void MaxPooling2D::forward(const float* x, float* y, int64_t batch, bool training) {
  if (training) {
    pool<true>(x, y, batch);
  } else {
    pool<false>(x, y, batch);
  }
}

template <bool kRecordArgmax>
void MaxPooling2D::pool(const float* x, float* y, int64_t batch) {
  const int64_t c_n = channels_;
  for (int64_t b = 0; b < batch; ++b) {
    const float* xb = x + b * in_size();
    for (int64_t oh = 0; oh < out_h_; ++oh) {
      for (int64_t ow = 0; ow < out_w_; ++ow) {
        const int64_t o = b * out_size() + (oh * out_w_ + ow) * c_n;
        float* yo = y + o;
        int32_t* ao = kRecordArgmax ? argmax_.data() + o : nullptr;
        const Window win = window(oh, ow);
        // Seed with the first real element, then keep strictly greater values: ties go to the
        // first maximum in row-major order.
        const int64_t first = (win.h0 * in_w_ + win.w0) * c_n;
        for (int64_t c = 0; c < c_n; ++c) {
          yo[c] = xb[first + c];
          if constexpr (kRecordArgmax) ao[c] = static_cast<int32_t>(first + c);
        }
        for (int64_t h = win.h0; h < win.h1; ++h) {
          for (int64_t w = win.w0; w < win.w1; ++w) {
            const int64_t at = (h * in_w_ + w) * c_n;
            const float* xp = xb + at;
            for (int64_t c = 0; c < c_n; ++c) {
              if (xp[c] > yo[c]) {
                yo[c] = xp[c];
                if constexpr (kRecordArgmax) ao[c] = static_cast<int32_t>(at + c);
              }
            }
          }
        }
      }
    }
  }
}

void MaxPooling2D::backward(const float* /*x*/, const float* /*y*/, const float* dy, float* dx,
                            int64_t batch) {
  if (!dx) return;
  std::fill(dx, dx + batch * in_size(), 0.0f);
  // Overlapping windows (stride < pool) may pick the same element: accumulate.
  for (int64_t b = 0; b < batch; ++b) {
    float* dxb = dx + b * in_size();
    const float* dyb = dy + b * out_size();
    const int32_t* ab = argmax_.data() + b * out_size();
    for (int64_t i = 0; i < out_size(); ++i) dxb[ab[i]] += dyb[i];
  }
}

// ---- AveragePooling2D ----

void AveragePooling2D::forward(const float* x, float* y, int64_t batch, bool /*training*/) {
  const int64_t c_n = channels_;
  for (int64_t b = 0; b < batch; ++b) {
    const float* xb = x + b * in_size();
    for (int64_t oh = 0; oh < out_h_; ++oh) {
      for (int64_t ow = 0; ow < out_w_; ++ow) {
        float* yo = y + b * out_size() + (oh * out_w_ + ow) * c_n;
        const Window win = window(oh, ow);
        std::fill(yo, yo + c_n, 0.0f);
        for (int64_t h = win.h0; h < win.h1; ++h) {
          for (int64_t w = win.w0; w < win.w1; ++w) {
            const float* xp = xb + (h * in_w_ + w) * c_n;
            for (int64_t c = 0; c < c_n; ++c) yo[c] += xp[c];
          }
        }
        // Only real elements count (TF's "same" average excludes the padding).
        const float inv = 1.0f / static_cast<float>((win.h1 - win.h0) * (win.w1 - win.w0));
        for (int64_t c = 0; c < c_n; ++c) yo[c] *= inv;
      }
    }
  }
}

void AveragePooling2D::backward(const float* /*x*/, const float* /*y*/, const float* dy, float* dx,
                                int64_t batch) {
  if (!dx) return;
  const int64_t c_n = channels_;
  std::fill(dx, dx + batch * in_size(), 0.0f);
  for (int64_t b = 0; b < batch; ++b) {
    float* dxb = dx + b * in_size();
    for (int64_t oh = 0; oh < out_h_; ++oh) {
      for (int64_t ow = 0; ow < out_w_; ++ow) {
        const float* dyo = dy + b * out_size() + (oh * out_w_ + ow) * c_n;
        const Window win = window(oh, ow);
        const float inv = 1.0f / static_cast<float>((win.h1 - win.h0) * (win.w1 - win.w0));
        for (int64_t h = win.h0; h < win.h1; ++h) {
          for (int64_t w = win.w0; w < win.w1; ++w) {
            float* dxp = dxb + (h * in_w_ + w) * c_n;
            for (int64_t c = 0; c < c_n; ++c) dxp[c] += dyo[c] * inv;
          }
        }
      }
    }
  }
}

}  // namespace mnistnet
