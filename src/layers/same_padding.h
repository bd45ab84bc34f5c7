#pragma once
// TensorFlow's padding rule for one spatial dimension, shared by the pooling layers and Conv2D,
// so both agree with Keras on every output size and on where the odd padding element goes.
//
//   "same":  out = ceil(in / stride), total = max((out - 1) * stride + kernel - in, 0),
//            before = total / 2, after = total - before (the odd extra goes bottom/right).
//   "valid": out = (in - kernel) / stride + 1, no padding; the window must fit (in >= kernel).
//
// Example: in 28, kernel 6, stride 2 -> "same" gives out 14, total 4, before 2, after 2.
#include <cstdint>
#include <string>

#include "layers/layer.h"

namespace mnistnet {

struct Padding1D {
  int64_t out, before, after;
};

// Requires in, kernel, stride >= 1 (the registry checks the arguments).
inline Padding1D same_padding(int64_t in, int64_t kernel, int64_t stride) {
  const int64_t out = (in + stride - 1) / stride;
  const int64_t needed = (out - 1) * stride + kernel - in;
  const int64_t total = needed > 0 ? needed : 0;
  return {out, total / 2, total - total / 2};
}

// Throws ShapeError when the window does not fit, as Keras refuses a negative output size.
inline Padding1D valid_padding(int64_t in, int64_t kernel, int64_t stride) {
  if (in < kernel) {
    throw ShapeError("a window of " + std::to_string(kernel) + " does not fit in an input of " +
                     std::to_string(in) +
                     " with padding \"valid\"; use padding \"same\" or a "
                     "smaller window");
  }
  return {(in - kernel) / stride + 1, 0, 0};
}

// Both axes of a convolution's window over an image input [height, width, channels], with the
// checks Conv2D and DepthwiseConv2D share: the input is an image, and a "valid" kernel fits.
struct ImageWindow {
  Padding1D rows, cols;
};

inline ImageWindow image_window(const char* layer, const Shape& input, int64_t kernel_h,
                                int64_t kernel_w, int64_t stride_h, int64_t stride_w, bool same) {
  if (input.size() != 3) {
    throw ShapeError(std::string(layer) + " needs an image input [height, width, channels], got " +
                     shape_string(input) + "; add a Reshape layer before it");
  }
  if (!same && (input[0] < kernel_h || input[1] < kernel_w)) {
    throw ShapeError("a " + std::to_string(kernel_h) + "x" + std::to_string(kernel_w) +
                     " kernel with padding \"valid\" does not fit an input of " +
                     shape_string(input));
  }
  const auto axis = [same](int64_t in, int64_t kernel, int64_t stride) {
    return same ? same_padding(in, kernel, stride) : valid_padding(in, kernel, stride);
  };
  return {axis(input[0], kernel_h, stride_h), axis(input[1], kernel_w, stride_w)};
}

}  // namespace mnistnet
