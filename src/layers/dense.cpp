#include "layers/dense.h"

#include "core/blas.h"
#include "layers/channel_affine.h"

namespace mnistnet {

Dense::Dense(int64_t units, bool use_bias, Initializer kernel_init, Initializer bias_init)
    : units_(units), use_bias_(use_bias), kernel_init_(kernel_init), bias_init_(bias_init) {}

Shape Dense::build(const Shape& input) {
  if (input.size() != 1) {
    throw ShapeError("Dense needs a flat input, got " + shape_string(input) +
                     "; add a Flatten layer before it");
  }
  in_ = input[0];
  kernel_.assign(static_cast<size_t>(in_ * units_), 0.0f);
  kernel_grad_.assign(kernel_.size(), 0.0f);
  if (use_bias_) {
    bias_.assign(static_cast<size_t>(units_), 0.0f);
    bias_grad_.assign(bias_.size(), 0.0f);
  }
  folded_mean_.assign(static_cast<size_t>(units_), 0.0f);
  return {units_};
}

void Dense::initialize(Rng& rng) {
  initialize_weights(kernel_init_, kernel_.data(), in_ * units_, in_, units_, rng);
  if (use_bias_) initialize_weights(bias_init_, bias_.data(), units_, in_, units_, rng);
}

std::vector<ParamRef> Dense::params() {
  std::vector<ParamRef> p{{"kernel", {in_, units_}, kernel_.data(), kernel_grad_.data(), true}};
  p[0].regularizer = kernel_regularizer_;
  if (use_bias_) p.push_back({"bias", {units_}, bias_.data(), bias_grad_.data(), true});
  if (use_bias_) p.back().regularizer = bias_regularizer_;
  return p;
}

void Dense::forward(const float* x, float* y, int64_t batch, bool /*training*/) {
  // y[batch, units] = x[batch, in] * W[in, units] (+ b broadcast over rows)
  if (use_bias_) {
    for (int64_t r = 0; r < batch; ++r) std::copy(bias_.begin(), bias_.end(), y + r * units_);
  }
  gemm(Trans::no, Trans::no, batch, units_, in_, 1.0f, x, in_, kernel_.data(), units_,
       use_bias_ ? 1.0f : 0.0f, y, units_);
}

void Dense::forward_folded(const float* x, float* y, int64_t batch, const ChannelAffine& affine) {
  // affine(x W + b) = (x W - (mean - b)) * scale + shift: the bias joins the map's mean, which
  // is subtracted before the scale as batch norm does (no cancellation of large terms), and the
  // map is batch norm's own loop, in place, in the one pass over y the bias would have taken.
  for (size_t u = 0; u < static_cast<size_t>(units_); ++u)
    folded_mean_[u] =
        static_cast<float>(double{affine.mean[u]} - (use_bias_ ? double{bias_[u]} : 0.0));
  gemm(Trans::no, Trans::no, batch, units_, in_, 1.0f, x, in_, kernel_.data(), units_, 0.0f, y,
       units_);
  apply_channel_affine(y, y, batch, units_,
                       {folded_mean_.data(), affine.scale, affine.shift, affine.relu});
}

void Dense::backward(const float* x, const float* /*y*/, const float* dy, float* dx,
                     int64_t batch) {
  // dW[in, units] = x^T[in, batch] * dy[batch, units]
  gemm(Trans::yes, Trans::no, in_, units_, batch, 1.0f, x, in_, dy, units_, 0.0f,
       kernel_grad_.data(), units_);
  if (use_bias_) {
    std::fill(bias_grad_.begin(), bias_grad_.end(), 0.0f);
    for (int64_t r = 0; r < batch; ++r) {
      const float* row = dy + r * units_;
      for (int64_t j = 0; j < units_; ++j) bias_grad_[static_cast<size_t>(j)] += row[j];
    }
  }
  // dx[batch, in] = dy[batch, units] * W^T[units, in]
  if (dx)
    gemm(Trans::no, Trans::yes, batch, in_, units_, 1.0f, dy, units_, kernel_.data(), units_, 0.0f,
         dx, in_);
}

}  // namespace mnistnet
