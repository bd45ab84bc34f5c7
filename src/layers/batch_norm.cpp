#include "layers/batch_norm.h"

#include <algorithm>
#include <cmath>

namespace mnistnet {

BatchNormalization::BatchNormalization(BatchNormOptions options) : o_(options) {}

Shape BatchNormalization::build(const Shape& input) {
  if (input.empty() || element_count(input) == 0) {
    throw ShapeError("BatchNormalization needs an input with a channels (last) axis, got " +
                     shape_string(input));
  }
  channels_ = input.back();
  rows_per_example_ = element_count(input) / channels_;
  const auto c = static_cast<size_t>(channels_);
  gamma_.assign(c, 1.0f);
  beta_.assign(c, 0.0f);
  moving_mean_.assign(c, 0.0f);
  moving_variance_.assign(c, 1.0f);
  gamma_grad_.assign(c, 0.0f);
  beta_grad_.assign(c, 0.0f);
  mean_.assign(c, 0.0);
  inv_std_.assign(c, 0.0f);
  sum_.assign(c, 0.0);
  sum2_.assign(c, 0.0);
  return input;
}

void BatchNormalization::initialize(Rng& rng) {
  // Keras's initialisers see a [C] vector: fan-in and fan-out are both C.
  auto init = [&](Initializer kind, std::vector<float>& v) {
    initialize_weights(kind, v.data(), channels_, channels_, channels_, rng);
  };
  if (o_.scale) init(o_.gamma_initializer, gamma_);
  if (o_.center) init(o_.beta_initializer, beta_);
  init(o_.moving_mean_initializer, moving_mean_);
  init(o_.moving_variance_initializer, moving_variance_);
}

std::vector<ParamRef> BatchNormalization::params() {
  std::vector<ParamRef> p;
  if (o_.scale) p.push_back({"gamma", {channels_}, gamma_.data(), gamma_grad_.data(), true});
  if (o_.center) p.push_back({"beta", {channels_}, beta_.data(), beta_grad_.data(), true});
  p.push_back({"moving_mean", {channels_}, moving_mean_.data(), nullptr, false});
  p.push_back({"moving_variance", {channels_}, moving_variance_.data(), nullptr, false});
  return p;
}

void BatchNormalization::forward(const float* x, float* y, int64_t batch, bool training) {
  const int64_t rows = batch * rows_per_example_, cols = channels_;
  const auto col = [](int64_t c) { return static_cast<size_t>(c); };
  if (training) {
    // Two passes in double (mean, then squared deviations) keep the variance accurate when the
    // mean is large compared with the spread.
    std::fill(mean_.begin(), mean_.end(), 0.0);
    std::fill(sum2_.begin(), sum2_.end(), 0.0);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) mean_[col(c)] += x[r * cols + c];
    for (double& m : mean_) m /= static_cast<double>(rows);
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < cols; ++c) {
        const double d = x[r * cols + c] - mean_[col(c)];
        sum2_[col(c)] += d * d;
      }
    }
    const double m = o_.momentum;
    for (size_t c = 0; c < col(cols); ++c) {
      const double var = sum2_[c] / static_cast<double>(rows);  // biased, as tf.nn.moments
      inv_std_[c] = static_cast<float>(1.0 / std::sqrt(var + o_.epsilon));
      moving_mean_[c] = static_cast<float>(m * moving_mean_[c] + (1.0 - m) * mean_[c]);
      moving_variance_[c] = static_cast<float>(m * moving_variance_[c] + (1.0 - m) * var);
    }
  } else {
    for (size_t c = 0; c < col(cols); ++c) {
      mean_[c] = moving_mean_[c];
      inv_std_[c] = static_cast<float>(1.0 / std::sqrt(double{moving_variance_[c]} + o_.epsilon));
    }
  }
  // y = gamma * x_hat + beta
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      const int64_t i = r * cols + c;
      float v = x_hat(x[i], c);
      if (o_.scale) v *= gamma_[col(c)];
      if (o_.center) v += beta_[col(c)];
      y[i] = v;
    }
  }
  last_training_ = training;
}

void BatchNormalization::backward(const float* x, const float* /*y*/, const float* dy, float* dx,
                                  int64_t batch) {
  const int64_t rows = batch * rows_per_example_, cols = channels_;
  const auto col = [](int64_t c) { return static_cast<size_t>(c); };
  // sum_ <- dbeta = sum(dy), sum2_ <- dgamma = sum(dy * x_hat), per column.
  std::fill(sum_.begin(), sum_.end(), 0.0);
  std::fill(sum2_.begin(), sum2_.end(), 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      const int64_t i = r * cols + c;
      sum_[col(c)] += dy[i];
      sum2_[col(c)] += static_cast<double>(dy[i]) * x_hat(x[i], c);
    }
  }
  for (size_t c = 0; c < col(cols); ++c) {
    if (o_.scale) gamma_grad_[c] = static_cast<float>(sum2_[c]);
    if (o_.center) beta_grad_[c] = static_cast<float>(sum_[c]);
  }
  if (!dx) return;
  // With batch statistics, mean and variance depend on every x of the column:
  //   dx = gamma * inv_std * (dy - mean(dy) - x_hat * mean(dy * x_hat)).
  // With moving statistics they are constants: dx = gamma * inv_std * dy.
  const double inv_rows = last_training_ ? 1.0 / static_cast<double>(rows) : 0.0;
  for (size_t c = 0; c < col(cols); ++c) {
    sum_[c] *= inv_rows;
    sum2_[c] *= inv_rows;
  }
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      const int64_t i = r * cols + c;
      const float k = (o_.scale ? gamma_[col(c)] : 1.0f) * inv_std_[col(c)];
      dx[i] = k * static_cast<float>(dy[i] - sum_[col(c)] - x_hat(x[i], c) * sum2_[col(c)]);
    }
  }
}

}  // namespace mnistnet
