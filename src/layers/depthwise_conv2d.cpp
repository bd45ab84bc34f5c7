#include "layers/depthwise_conv2d.h"

#include <algorithm>
#include <string>

#include "layers/same_padding.h"

namespace mnistnet {

Shape DepthwiseConv2D::build(const Shape& input) {
  const auto [rows, cols] = image_window("DepthwiseConv2D", input, o_.kernel_h, o_.kernel_w,
                                         o_.stride_h, o_.stride_w, o_.same);
  const int64_t in_h = input[0], in_w = input[1];
  g_ = depthwise_kernels::Geometry{};
  g_.in_h = in_h;
  g_.in_w = in_w;
  g_.channels = input[2];
  g_.multiplier = o_.depth_multiplier;
  g_.out_h = rows.out;
  g_.out_w = cols.out;
  g_.kernel_h = o_.kernel_h;
  g_.kernel_w = o_.kernel_w;
  g_.stride_h = o_.stride_h;
  g_.stride_w = o_.stride_w;
  g_.pad_top = rows.before;
  g_.pad_left = cols.before;
  // Every receptive field and the whole input fit ("valid" with a stride may leave rows unread).
  g_.padded_h = std::max((rows.out - 1) * o_.stride_h + o_.kernel_h, rows.before + in_h);
  g_.padded_w = std::max((cols.out - 1) * o_.stride_w + o_.kernel_w, cols.before + in_w);
  const auto width = static_cast<size_t>(g_.out_channels());
  const auto lanes = static_cast<size_t>(g_.lanes());
  const auto taps = static_cast<size_t>(g_.taps());
  kernel_.assign(taps * width, 0.0f);
  kernel_grad_.assign(kernel_.size(), 0.0f);
  bias_.assign(o_.use_bias ? width : 0, 0.0f);
  bias_grad_.assign(bias_.size(), 0.0f);
  packed_kernel_.assign(taps * lanes, 0.0f);
  packed_bias_.assign(lanes, 0.0f);
  partial_.assign(static_cast<size_t>(depthwise_kernels::kBlocks) * (taps + 1) * lanes, 0.0f);
  capacity_ = 0;
  return {g_.out_h, g_.out_w, g_.out_channels()};
}

void DepthwiseConv2D::initialize(Rng& rng) {
  // Keras's fans for a [kh, kw, C, M] kernel: fan_in = kh*kw*C, fan_out = kh*kw*M.
  const int64_t fan_in = g_.taps() * g_.channels, fan_out = g_.taps() * g_.multiplier;
  initialize_weights(o_.depthwise_init, kernel_.data(), static_cast<int64_t>(kernel_.size()),
                     fan_in, fan_out, rng);
  if (o_.use_bias) {
    initialize_weights(o_.bias_init, bias_.data(), static_cast<int64_t>(bias_.size()), fan_in,
                       fan_out, rng);
  }
}

std::vector<ParamRef> DepthwiseConv2D::params() {
  std::vector<ParamRef> p{{"depthwise_kernel",
                           {o_.kernel_h, o_.kernel_w, g_.channels, g_.multiplier},
                           kernel_.data(),
                           kernel_grad_.data(),
                           true}};
  if (o_.use_bias)
    p.push_back({"bias", {g_.out_channels()}, bias_.data(), bias_grad_.data(), true});
  return p;
}

void DepthwiseConv2D::reserve(int64_t max_batch) { ensure_capacity(max_batch); }

void DepthwiseConv2D::ensure_capacity(int64_t images) {
  if (images <= capacity_) return;
  capacity_ = images;
  padded_x_.assign(static_cast<size_t>(images * g_.image_stride()), 0.0f);
  padded_dx_.assign(padded_x_.size(), 0.0f);
}

void DepthwiseConv2D::forward(const float* x, float* y, int64_t batch, bool training) {
  const int64_t chunk = training ? batch : (capacity_ > 0 ? capacity_ : kInferenceChunk);
  ensure_capacity(std::min(chunk, batch));
  depthwise_kernels::pack(g_, kernel_.data(), g_.taps(), packed_kernel_.data());
  if (o_.use_bias) depthwise_kernels::pack(g_, bias_.data(), 1, packed_bias_.data());
  const int64_t in_size = g_.in_h * g_.in_w * g_.channels;
  const int64_t out_size = g_.pixels() * g_.out_channels();
  for (int64_t first = 0; first < batch; first += chunk) {
    const int64_t n = std::min(chunk, batch - first);
    depthwise_kernels::pad_input(g_, x + first * in_size, n, padded_x_.data());
    depthwise_kernels::forward(g_, padded_x_.data(), n, packed_kernel_.data(),
                               o_.use_bias ? packed_bias_.data() : nullptr, y + first * out_size);
  }
}

void DepthwiseConv2D::backward(const float* /*x*/, const float* /*y*/, const float* dy, float* dx,
                               int64_t batch) {
  // padded_x_ still holds this batch (training forwards take it whole).
  depthwise_kernels::parameter_gradients(g_, padded_x_.data(), dy, batch, partial_.data(),
                                         kernel_grad_.data(),
                                         o_.use_bias ? bias_grad_.data() : nullptr);
  if (!dx) return;
  depthwise_kernels::pack(g_, kernel_.data(), g_.taps(), packed_kernel_.data());
  depthwise_kernels::input_gradient(g_, dy, batch, packed_kernel_.data(), padded_dx_.data(), dx);
}

}  // namespace mnistnet
