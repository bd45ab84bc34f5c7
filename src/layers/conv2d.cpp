#include "layers/conv2d.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <utility>

#include "core/parallel_for.h"
#include "layers/activation_math.h"

namespace mnistnet {

Shape Conv2D::build(const Shape& input) {
  const auto [rows, cols] =
      image_window("Conv2D", input, o_.kernel_h, o_.kernel_w, o_.stride_h, o_.stride_w, o_.same);
  const int64_t in_h = input[0], in_w = input[1], in_c = input[2];
  g_ = conv_kernels::Geometry{};
  g_.in_h = in_h;
  g_.in_w = in_w;
  g_.in_c = in_c;
  g_.out_h = rows.out;
  g_.out_w = cols.out;
  g_.filters = o_.filters;
  g_.kernel_h = o_.kernel_h;
  g_.kernel_w = o_.kernel_w;
  g_.stride_h = o_.stride_h;
  g_.stride_w = o_.stride_w;
  g_.pad_top = rows.before;
  g_.pad_left = cols.before;
  // Tall enough for every receptive field and for the whole input ("valid" with a stride may
  // leave input rows no field reads).
  g_.padded_h = std::max((rows.out - 1) * o_.stride_h + o_.kernel_h, rows.before + in_h);
  g_.padded_w = std::max((cols.out - 1) * o_.stride_w + o_.kernel_w, cols.before + in_w);
  kernel_.assign(static_cast<size_t>(g_.patch() * o_.filters), 0.0f);
  kernel_grad_.assign(kernel_.size(), 0.0f);
  if (o_.use_bias) {
    bias_.assign(static_cast<size_t>(o_.filters), 0.0f);
    bias_grad_.assign(bias_.size(), 0.0f);
    padded_bias_.assign(static_cast<size_t>(g_.padded_filters()), 0.0f);
  }
  packed_kernel_.assign(static_cast<size_t>(g_.packed_kernel_size()), 0.0f);
  packed_grad_.assign(packed_kernel_.size(), 0.0f);
  packed_transposed_.assign(static_cast<size_t>(g_.packed_transposed_size()), 0.0f);
  folded_kernel_.assign(kernel_.size(), 0.0f);
  folded_bias_.assign(static_cast<size_t>(g_.padded_filters()), 0.0f);
  folded_packed_.assign(packed_kernel_.size(), 0.0f);
  packed_key_.assign(kernel_.size() + bias_.size(), 0.0f);
  folded_key_.assign(kernel_.size() + bias_.size() + 3 * static_cast<size_t>(o_.filters), 0.0f);
  packed_key_valid_ = folded_key_valid_ = false;
  capacity_ = 0;
  return {g_.out_h, g_.out_w, o_.filters};
}

void Conv2D::initialize(Rng& rng) {
  // Keras: fan_in = kh*kw*Cin, fan_out = kh*kw*Cout.
  const int64_t fan_in = g_.patch(), fan_out = o_.kernel_h * o_.kernel_w * o_.filters;
  initialize_weights(o_.kernel_init, kernel_.data(), fan_in * o_.filters, fan_in, fan_out, rng);
  if (o_.use_bias) initialize_weights(o_.bias_init, bias_.data(), o_.filters, fan_in, fan_out, rng);
}

std::vector<ParamRef> Conv2D::params() {
  std::vector<ParamRef> p{{o_.kernel_name,
                           {o_.kernel_h, o_.kernel_w, g_.in_c, o_.filters},
                           kernel_.data(),
                           kernel_grad_.data(),
                           true}};
  p[0].regularizer = o_.kernel_regularizer;
  if (o_.use_bias) p.push_back({"bias", {o_.filters}, bias_.data(), bias_grad_.data(), true});
  if (o_.use_bias) p.back().regularizer = o_.bias_regularizer;
  return p;
}

void Conv2D::reserve(int64_t max_batch) { ensure_capacity(max_batch); }

void Conv2D::ensure_capacity(int64_t images) {
  if (images <= capacity_) return;
  capacity_ = images;
  padded_x_.assign(static_cast<size_t>(images * g_.image_stride()), 0.0f);
  dy_transposed_.assign(static_cast<size_t>(g_.transposed_dy_size(images)), 0.0f);
  dy_scratch_.assign(static_cast<size_t>(g_.padded_dy_size(images)), 0.0f);
  relu_dy_.assign(relu_ ? static_cast<size_t>(images * g_.pixels() * o_.filters) : 0, 0.0f);
}

namespace {

// Inference keeps its packed kernels while what they were built from stays the same bit for
// bit: a memcmp of the weights costs a fraction of scaling and repacking them, which is most
// of a small batch's time (serve, batch-1 latency), and no code that changes weights (the
// optimizer, the EMA swap, loading) has to say so. Copies the parts into `key` one after the
// other and says whether any differed; `valid` false means the key holds nothing yet.
bool refresh_key(std::vector<float>& key, bool& valid,
                 std::initializer_list<std::pair<const float*, size_t>> parts) {
  bool changed = !valid;
  float* at = key.data();
  for (const auto& [data, n] : parts) {
    if (n > 0 && std::memcmp(at, data, n * sizeof(float)) != 0) {
      std::memcpy(at, data, n * sizeof(float));
      changed = true;
    }
    at += n;
  }
  valid = true;
  return changed;
}

}  // namespace

void Conv2D::forward(const float* x, float* y, int64_t batch, bool training) {
  const bool repack =
      training || refresh_key(packed_key_, packed_key_valid_,
                              {{kernel_.data(), kernel_.size()}, {bias_.data(), bias_.size()}});
  if (repack) {
    conv_kernels::pack_kernel(g_, kernel_.data(), packed_kernel_.data());
    if (o_.use_bias) std::copy(bias_.begin(), bias_.end(), padded_bias_.begin());
  }
  // The training step's optimizer changes the weights after this pack: inference repacks.
  if (training) packed_key_valid_ = false;
  run(x, y, batch, training, packed_kernel_.data(), o_.use_bias ? padded_bias_.data() : nullptr,
      relu_);
}

void Conv2D::forward_folded(const float* x, float* y, int64_t batch, const ChannelAffine& affine) {
  const auto filters = static_cast<size_t>(o_.filters);
  if (refresh_key(folded_key_, folded_key_valid_,
                  {{kernel_.data(), kernel_.size()},
                   {bias_.data(), bias_.size()},
                   {affine.mean, filters},
                   {affine.scale, filters},
                   {affine.shift, filters}}))
    fold(affine);
  run(x, y, batch, false, folded_packed_.data(), folded_bias_.data(), affine.relu);
}

void Conv2D::fold(const ChannelAffine& affine) {
  // affine(conv(x, W) + b) = conv(x, W * scale) + (b - mean) * scale + shift, per filter. The
  // mean goes into the bias, unlike batch norm's own map: why that is acceptable for inference
  // is in batch_norm.cpp (set_coefficients).
  const int64_t filters = o_.filters, patch = g_.patch();
  for (int64_t k = 0; k < patch; ++k) {
    const float* __restrict w = kernel_.data() + k * filters;
    const float* __restrict scale = affine.scale;
    float* __restrict out = folded_kernel_.data() + k * filters;
    for (int64_t f = 0; f < filters; ++f) out[f] = w[f] * scale[f];
  }
  for (size_t f = 0; f < static_cast<size_t>(filters); ++f) {
    const double b = o_.use_bias ? double{bias_[f]} : 0.0;
    folded_bias_[f] = static_cast<float>((b - affine.mean[f]) * affine.scale[f] + affine.shift[f]);
  }
  conv_kernels::pack_kernel(g_, folded_kernel_.data(), folded_packed_.data());
}

void Conv2D::run(const float* x, float* y, int64_t batch, bool training, const float* packed,
                 const float* bias, bool relu) {
  // Training keeps the whole batch's padded input for the kernel gradient; inference only
  // needs a chunk at a time, so a 10,000-image evaluation does not need a padded copy of all.
  const int64_t chunk = training ? batch : (capacity_ > 0 ? capacity_ : kInferenceChunk);
  ensure_capacity(std::min(chunk, batch));
  for (int64_t first = 0; first < batch; first += chunk) {
    const int64_t n = std::min(chunk, batch - first);
    conv_kernels::pad_input(g_, x + first * g_.in_h * g_.in_w * g_.in_c, n, padded_x_.data());
    conv_kernels::forward(g_, padded_x_.data(), n, packed, bias, relu,
                          y + first * g_.pixels() * o_.filters);
  }
}

void Conv2D::backward(const float* /*x*/, const float* y, const float* dy, float* dx,
                      int64_t batch) {
  if (relu_) {
    // dy of relu(conv) -> dy of conv: Activation's relu backward.
    ensure_capacity(batch);
    float* masked = relu_dy_.data();
    parallel_for(
        batch * g_.pixels() * o_.filters,
        [&](int64_t begin, int64_t end) {
          const float* __restrict yr = y + begin;
          const float* __restrict dyr = dy + begin;
          float* __restrict out = masked + begin;
          for (int64_t i = 0; i < end - begin; ++i)
            out[i] = activation_math::relu_gradient(dyr[i], yr[i]);
        },
        16384);
    dy = masked;
  }
  // dW[patch, filters] = sum over pixels of patch(x) outer dy; padded_x_ still holds this batch.
  conv_kernels::kernel_gradient(g_, padded_x_.data(), dy, batch, dy_scratch_.data(),
                                packed_grad_.data());
  conv_kernels::unpack_kernel(g_, packed_grad_.data(), kernel_grad_.data());
  if (o_.use_bias) {
    // Each filter's sum runs over the pixels in order; through a restrict pointer GCC keeps the
    // sums in vector registers instead of a load and store per pixel (1 ms per conv step).
    const int64_t rows = batch * g_.pixels(), filters = o_.filters;
    float* __restrict sums = bias_grad_.data();
    std::fill_n(sums, filters, 0.0f);
    for (int64_t r = 0; r < rows; ++r) {
      const float* __restrict row = dy + r * filters;
      for (int64_t f = 0; f < filters; ++f) sums[f] += row[f];
    }
  }
  if (!dx) return;
  conv_kernels::pack_transposed_kernel(g_, kernel_.data(), packed_transposed_.data());
  conv_kernels::input_gradient(g_, dy, batch, packed_transposed_.data(), dy_transposed_.data(), dx);
}

}  // namespace mnistnet
