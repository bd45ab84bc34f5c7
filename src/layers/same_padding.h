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

}  // namespace mnistnet
