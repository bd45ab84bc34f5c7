#include "layers/batch_norm.h"

#include <algorithm>
#include <cmath>

#include "core/cpu_dispatch.h"
#include "core/parallel_for.h"
#include "layers/activation_math.h"
#include "layers/channel_affine.h"

namespace mnistnet {

namespace {

// Rows are reduced in a fixed number of blocks, each into its own partial sums, then added in
// block order: two cores share the work and the result does not depend on the thread count.
constexpr int64_t kBlocks = 4;
// A float read and reduced costs about as much time as this many multiply-adds (for
// parallel_for_work's threshold).
constexpr int64_t kMemoryWork = 8;

template <class Body>
void for_row_blocks(int64_t rows, int64_t cols, Body&& body) {
  parallel_for_work(kBlocks, kMemoryWork * rows * cols / kBlocks, [&](int64_t first, int64_t last) {
    for (int64_t b = first; b < last; ++b) body(b, rows * b / kBlocks, rows * (b + 1) / kBlocks);
  });
}

// The passes over the rows, as free functions of restrict-qualified pointers so that each is
// compiled per instruction set (MNISTNET_ISA_CLONES; a lambda would not inherit the target): the
// portable build's SSE2 loops took twice as long. Columns are independent, so the vector width
// reorders no column's sum, and with contraction off (in this file, CMakeLists.txt) every clone
// computes the SSE2 loop's bits.
//
// The fused relu's mask is recomputed from x with the forward's own expression
// (channel_affine_value) rather than read from y: the same bits, one tensor fewer read in each
// backward pass.

// x_hat, the normalised value of x in a column with this mean and 1 / sqrt(var + epsilon): both
// backward passes recompute it with this one expression.
inline float normalized(float x, double mean, float inv_std) {
  return static_cast<float>(x - mean) * inv_std;
}

// acc[c] += x[r][c] over the rows.
MNISTNET_ISA_CLONES void add_column_sums(const float* __restrict x, int64_t rows, int64_t cols,
                                         double* __restrict acc) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) acc[c] += x[r * cols + c];
}

// acc[c] += (x[r][c] - mean[c])^2 over the rows, in double.
MNISTNET_ISA_CLONES void add_squared_deviations(const float* __restrict x, int64_t rows,
                                                int64_t cols, const double* __restrict mean,
                                                double* __restrict acc) {
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      const double d = x[r * cols + c] - mean[c];
      acc[c] += d * d;
    }
  }
}

// The columns' statistics, and the forward's map for the fused relu's mask (relu.mean null: no
// relu, the gradient is dy as it is).
struct BackwardColumns {
  const double* mean;
  const float* inv_std;
  ChannelAffine relu;
};

// acc_dy[c] += g, acc_dyx[c] += g * x_hat over the rows, g the gradient at the batch norm's
// output (dbeta and dgamma's partial sums).
MNISTNET_ISA_CLONES void add_gradient_sums(const float* __restrict x, const float* __restrict dy,
                                           int64_t rows, int64_t cols,
                                           const BackwardColumns& columns,
                                           double* __restrict acc_dy, double* __restrict acc_dyx) {
  const double* __restrict mean = columns.mean;
  const float* __restrict inv_std = columns.inv_std;
  const float* __restrict relu_mean = columns.relu.mean;
  const float* __restrict relu_scale = columns.relu.scale;
  const float* __restrict relu_shift = columns.relu.shift;
  for (int64_t r = 0; r < rows; ++r) {
    const float* __restrict xr = x + r * cols;
    const float* __restrict dyr = dy + r * cols;
    if (relu_mean) {
      for (int64_t c = 0; c < cols; ++c) {
        const float g = activation_math::relu_gradient(
            dyr[c], channel_affine_value(xr[c], relu_mean[c], relu_scale[c], relu_shift[c]));
        acc_dy[c] += g;
        acc_dyx[c] += static_cast<double>(g) * normalized(xr[c], mean[c], inv_std[c]);
      }
    } else {
      for (int64_t c = 0; c < cols; ++c) {
        const float g = dyr[c];
        acc_dy[c] += g;
        acc_dyx[c] += static_cast<double>(g) * normalized(xr[c], mean[c], inv_std[c]);
      }
    }
  }
}

// dx = scale * (g - mean_dy - x_hat * mean_dyx) over the rows (scale = gamma * inv_std).
MNISTNET_ISA_CLONES void input_gradient_rows(const float* __restrict x, const float* __restrict dy,
                                             float* __restrict dx, int64_t rows, int64_t cols,
                                             const BackwardColumns& columns,
                                             const float* __restrict scale,
                                             const float* __restrict mean_dy,
                                             const float* __restrict mean_dyx) {
  const double* __restrict mean = columns.mean;
  const float* __restrict inv_std = columns.inv_std;
  const float* __restrict relu_mean = columns.relu.mean;
  const float* __restrict relu_scale = columns.relu.scale;
  const float* __restrict relu_shift = columns.relu.shift;
  for (int64_t r = 0; r < rows; ++r) {
    const float* __restrict xr = x + r * cols;
    const float* __restrict dyr = dy + r * cols;
    float* __restrict dxr = dx + r * cols;
    if (relu_mean) {
      for (int64_t c = 0; c < cols; ++c) {
        const float g = activation_math::relu_gradient(
            dyr[c], channel_affine_value(xr[c], relu_mean[c], relu_scale[c], relu_shift[c]));
        const float x_hat = normalized(xr[c], mean[c], inv_std[c]);
        dxr[c] = scale[c] * (g - mean_dy[c] - x_hat * mean_dyx[c]);
      }
    } else {
      for (int64_t c = 0; c < cols; ++c) {
        const float x_hat = normalized(xr[c], mean[c], inv_std[c]);
        dxr[c] = scale[c] * (dyr[c] - mean_dy[c] - x_hat * mean_dyx[c]);
      }
    }
  }
}

}  // namespace

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
  partial_.assign(c * static_cast<size_t>(kBlocks), 0.0);
  partial_dyx_.assign(partial_.size(), 0.0);
  scale_.assign(c, 0.0f);
  shift_.assign(c, 0.0f);
  mean_f_.assign(c, 0.0f);
  mean_dy_.assign(c, 0.0f);
  mean_dyx_.assign(c, 0.0f);
  inference_mean_.assign(c, 0.0f);
  inference_scale_.assign(c, 0.0f);
  inference_shift_.assign(c, 0.0f);
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

void BatchNormalization::sum_columns_into(std::vector<double>& out) const {
  const auto cols = static_cast<size_t>(channels_);
  std::fill(out.begin(), out.end(), 0.0);
  for (size_t b = 0; b < static_cast<size_t>(kBlocks); ++b)
    for (size_t c = 0; c < cols; ++c) out[c] += partial_[b * cols + c];
}

float BatchNormalization::moving_inv_std(size_t c) const {
  return static_cast<float>(1.0 / std::sqrt(double{moving_variance_[c]} + o_.epsilon));
}

float BatchNormalization::column_scale(size_t c, float inv_std) const {
  return (o_.scale ? gamma_[c] : 1.0f) * inv_std;
}

float BatchNormalization::column_shift(size_t c) const { return o_.center ? beta_[c] : 0.0f; }

void BatchNormalization::use_moving_statistics() {
  for (size_t c = 0; c < static_cast<size_t>(channels_); ++c) {
    mean_[c] = moving_mean_[c];
    inv_std_[c] = moving_inv_std(c);
  }
}

// y = gamma * x_hat + beta = (x - mean) * k + beta, k = gamma * inv_std, per column. The mean
// is subtracted before the scale, as in x_hat: folded into the shift, beta - mean * k, it would
// cancel against x * k when the mean dwarfs the spread. Dense's fold keeps it apart too;
// Conv2D's fold (conv2d.cpp) does put it into the bias, (b - mean) * k + beta, as its kernels
// add one bias per filter and make no other pass over the output. That is acceptable there: the
// fold is inference only, and tests/test_batch_norm_folding.cpp holds the folded probabilities
// to the unfolded ones within 1e-5.
void BatchNormalization::set_coefficients() {
  for (size_t c = 0; c < static_cast<size_t>(channels_); ++c) {
    scale_[c] = column_scale(c, inv_std_[c]);
    mean_f_[c] = static_cast<float>(mean_[c]);
    shift_[c] = column_shift(c);
  }
}

// The map an inference forward applies (use_moving_statistics, then set_coefficients), the
// same bits, computed into its own buffers.
ChannelAffine BatchNormalization::channel_affine() const {
  for (size_t c = 0; c < static_cast<size_t>(channels_); ++c) {
    inference_mean_[c] = moving_mean_[c];
    inference_scale_[c] = column_scale(c, moving_inv_std(c));
    inference_shift_[c] = column_shift(c);
  }
  return {inference_mean_.data(), inference_scale_.data(), inference_shift_.data(), relu_};
}

void BatchNormalization::forward(const float* x, float* y, int64_t batch, bool training) {
  const int64_t rows = batch * rows_per_example_, cols = channels_;
  const auto col = [](int64_t c) { return static_cast<size_t>(c); };
  if (training) {
    // Two passes in double (mean, then squared deviations) keep the variance accurate when the
    // mean is large compared with the spread.
    for_row_blocks(rows, cols, [&](int64_t b, int64_t begin, int64_t end) {
      double* acc = partial_.data() + b * cols;
      std::fill(acc, acc + cols, 0.0);
      add_column_sums(x + begin * cols, end - begin, cols, acc);
    });
    sum_columns_into(mean_);
    for (double& m : mean_) m /= static_cast<double>(rows);
    for_row_blocks(rows, cols, [&](int64_t b, int64_t begin, int64_t end) {
      double* acc = partial_.data() + b * cols;
      std::fill(acc, acc + cols, 0.0);
      add_squared_deviations(x + begin * cols, end - begin, cols, mean_.data(), acc);
    });
    sum_columns_into(sum2_);
    const double m = o_.momentum;
    for (size_t c = 0; c < col(cols); ++c) {
      const double var = sum2_[c] / static_cast<double>(rows);  // biased, as tf.nn.moments
      inv_std_[c] = static_cast<float>(1.0 / std::sqrt(var + o_.epsilon));
      moving_mean_[c] = static_cast<float>(m * moving_mean_[c] + (1.0 - m) * mean_[c]);
      moving_variance_[c] = static_cast<float>(m * moving_variance_[c] + (1.0 - m) * var);
    }
  } else {
    use_moving_statistics();
  }
  set_coefficients();
  apply_channel_affine(x, y, rows, cols, {mean_f_.data(), scale_.data(), shift_.data(), relu_});
  last_training_ = training;
}

void BatchNormalization::backward(const float* x, const float*, const float* dy, float* dx,
                                  int64_t batch) {
  const int64_t rows = batch * rows_per_example_, cols = channels_;
  const auto col = [](int64_t c) { return static_cast<size_t>(c); };
  // scale_ and shift_ are still the forward's (set_coefficients): the relu mask's map.
  const BackwardColumns columns{mean_.data(),
                                inv_std_.data(),
                                {relu_ ? mean_f_.data() : nullptr, scale_.data(), shift_.data()}};
  // sum_ <- dbeta = sum(g), sum2_ <- dgamma = sum(g * x_hat), per column, from kBlocks partial
  // sums (partial_ and partial_dyx_) added in block order.
  for_row_blocks(rows, cols, [&](int64_t b, int64_t begin, int64_t end) {
    double* acc_dy = partial_.data() + b * cols;
    double* acc_dyx = partial_dyx_.data() + b * cols;
    std::fill(acc_dy, acc_dy + cols, 0.0);
    std::fill(acc_dyx, acc_dyx + cols, 0.0);
    add_gradient_sums(x + begin * cols, dy + begin * cols, end - begin, cols, columns, acc_dy,
                      acc_dyx);
  });
  sum_columns_into(sum_);
  std::swap(partial_, partial_dyx_);
  sum_columns_into(sum2_);
  std::swap(partial_, partial_dyx_);
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
    mean_dy_[c] = static_cast<float>(sum_[c] * inv_rows);
    mean_dyx_[c] = static_cast<float>(sum2_[c] * inv_rows);
  }
  parallel_for(
      rows,
      [&](int64_t begin, int64_t end) {
        input_gradient_rows(x + begin * cols, dy + begin * cols, dx + begin * cols, end - begin,
                            cols, columns, scale_.data(), mean_dy_.data(), mean_dyx_.data());
      },
      256);
}

}  // namespace mnistnet
