#include "layers/layer_norm.h"

#include <algorithm>
#include <cmath>

#include "core/parallel_for.h"

namespace mnistnet {
namespace {

// Rows are split into a fixed number of blocks whose parameter-gradient sums are added in block
// order, so the result does not depend on the thread count (as batch norm does).
constexpr int64_t kBlocks = 4;

struct RowStats {
  float mean, inv_std;
};

// Two passes (mean, then squared deviations) in double: accurate when the mean dwarfs the spread.
inline RowStats row_stats(const float* __restrict x, int64_t n, double epsilon) {
  double sum = 0.0;
  for (int64_t c = 0; c < n; ++c) sum += x[c];
  const double mean = sum / static_cast<double>(n);
  double sum2 = 0.0;
  for (int64_t c = 0; c < n; ++c) {
    const double d = x[c] - mean;
    sum2 += d * d;
  }
  const double var = sum2 / static_cast<double>(n);
  return {static_cast<float>(mean), static_cast<float>(1.0 / std::sqrt(var + epsilon))};
}

}  // namespace

Shape LayerNormalization::build(const Shape& input) {
  if (input.empty() || element_count(input) == 0) {
    throw ShapeError("LayerNormalization needs an input with a last axis, got " +
                     shape_string(input));
  }
  channels_ = input.back();
  rows_per_example_ = element_count(input) / channels_;
  const auto c = static_cast<size_t>(channels_);
  gamma_.assign(c, 1.0f);
  beta_.assign(c, 0.0f);
  gamma_grad_.assign(c, 0.0f);
  beta_grad_.assign(c, 0.0f);
  ones_.assign(c, 1.0f);
  zeros_.assign(c, 0.0f);
  partial_.assign(static_cast<size_t>(kBlocks) * 2 * c, 0.0);
  return input;
}

void LayerNormalization::initialize(Rng& rng) {
  if (o_.scale)
    initialize_weights(o_.gamma_initializer, gamma_.data(), channels_, channels_, channels_, rng);
  if (o_.center)
    initialize_weights(o_.beta_initializer, beta_.data(), channels_, channels_, channels_, rng);
}

std::vector<ParamRef> LayerNormalization::params() {
  std::vector<ParamRef> p;
  if (o_.scale) p.push_back({"gamma", {channels_}, gamma_.data(), gamma_grad_.data(), true});
  if (o_.center) p.push_back({"beta", {channels_}, beta_.data(), beta_grad_.data(), true});
  return p;
}

void LayerNormalization::forward(const float* x, float* y, int64_t batch, bool /*training*/) {
  const int64_t cols = channels_;
  const float* gamma = o_.scale ? gamma_.data() : ones_.data();
  const float* beta = o_.center ? beta_.data() : zeros_.data();
  parallel_for(
      batch * rows_per_example_,
      [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r) {
          const float* __restrict xr = x + r * cols;
          float* __restrict yr = y + r * cols;
          const RowStats s = row_stats(xr, cols, o_.epsilon);
          for (int64_t c = 0; c < cols; ++c)
            yr[c] = (xr[c] - s.mean) * s.inv_std * gamma[c] + beta[c];
        }
      },
      64);
}

void LayerNormalization::backward(const float* x, const float* /*y*/, const float* dy, float* dx,
                                  int64_t batch) {
  const int64_t rows = batch * rows_per_example_, cols = channels_;
  const float* gamma = o_.scale ? gamma_.data() : ones_.data();
  // Per row, with g = dy * gamma and x_hat = (x - mean) * inv_std:
  //   dx = inv_std * (g - mean(g) - x_hat * mean(g * x_hat));
  // dgamma = sum over rows of dy * x_hat, dbeta = sum of dy.
  parallel_for(kBlocks, [&](int64_t first, int64_t last) {
    for (int64_t b = first; b < last; ++b) {
      double* __restrict dgamma = partial_.data() + b * 2 * cols;
      double* __restrict dbeta = dgamma + cols;
      std::fill(dgamma, dgamma + 2 * cols, 0.0);
      for (int64_t r = rows * b / kBlocks; r < rows * (b + 1) / kBlocks; ++r) {
        const float* __restrict xr = x + r * cols;
        const float* __restrict dyr = dy + r * cols;
        const RowStats s = row_stats(xr, cols, o_.epsilon);
        float mean_g = 0.0f, mean_gx = 0.0f;
        for (int64_t c = 0; c < cols; ++c) {
          const float x_hat = (xr[c] - s.mean) * s.inv_std;
          const float g = dyr[c] * gamma[c];
          mean_g += g;
          mean_gx += g * x_hat;
          dgamma[c] += static_cast<double>(dyr[c]) * x_hat;
          dbeta[c] += dyr[c];
        }
        if (!dx) continue;
        mean_g /= static_cast<float>(cols);
        mean_gx /= static_cast<float>(cols);
        float* __restrict dxr = dx + r * cols;
        for (int64_t c = 0; c < cols; ++c) {
          const float x_hat = (xr[c] - s.mean) * s.inv_std;
          dxr[c] = s.inv_std * (dyr[c] * gamma[c] - mean_g - x_hat * mean_gx);
        }
      }
    }
  });
  for (int64_t c = 0; c < cols; ++c) {
    double sg = 0.0, sb = 0.0;
    for (int64_t b = 0; b < kBlocks; ++b) {
      sg += partial_[static_cast<size_t>(b * 2 * cols + c)];
      sb += partial_[static_cast<size_t>(b * 2 * cols + cols + c)];
    }
    gamma_grad_[static_cast<size_t>(c)] = static_cast<float>(sg);
    beta_grad_[static_cast<size_t>(c)] = static_cast<float>(sb);
  }
}

}  // namespace mnistnet
