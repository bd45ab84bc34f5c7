#include "optim/optimizer.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "core/cpu_dispatch.h"
#include "core/parallel_for.h"
#include "optim/chunked_sum.h"

namespace mnistnet {

namespace {
// Below this many values per share, waking the second core costs more than the update.
constexpr int64_t kMinParallelValues = 32768;

// body(begin, end) over [0, n) on the pool. Every pass below is element-wise, so splitting it
// over the cores changes no bit of the result. Scalars captured by value, restrict-qualified
// pointers and -fno-math-errno (for sqrt) let GCC vectorise the loops.
template <class Body>
void each_value(int64_t n, Body&& body) {
  parallel_for(n, std::forward<Body>(body), kMinParallelValues);
}

// Adam's step over n values (v_hat given: AMSGrad), compiled for SSE2, AVX2 and AVX-512 and
// picked by the CPU: the portable build's SSE2 loop took 7% of a dense2 step, twice the AVX-512
// one's. Contraction is off in this file, so every clone computes the SSE2 bits.
MNISTNET_ISA_CLONES void adam_values(float* __restrict w, float* __restrict m, float* __restrict v,
                                     float* __restrict v_hat, const float* __restrict g, int64_t n,
                                     float b1, float b2, float alpha, float epsilon) {
  if (!v_hat) {
    for (int64_t i = 0; i < n; ++i) {
      m[i] = b1 * m[i] + (1.0f - b1) * g[i];
      v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
      w[i] -= alpha * m[i] / (std::sqrt(v[i]) + epsilon);
    }
    return;
  }
  for (int64_t i = 0; i < n; ++i) {
    m[i] = b1 * m[i] + (1.0f - b1) * g[i];
    v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
    v_hat[i] = std::max(v_hat[i], v[i]);
    w[i] -= alpha * m[i] / (std::sqrt(v_hat[i]) + epsilon);
  }
}
}  // namespace

Optimizer::Optimizer(const OptimizerSpec& spec)
    : weight_decay_(static_cast<float>(spec.weight_decay)),
      clipnorm_(static_cast<float>(spec.clipnorm)),
      clipvalue_(static_cast<float>(spec.clipvalue)),
      global_clipnorm_(static_cast<float>(spec.global_clipnorm)),
      use_ema_(spec.use_ema),
      ema_momentum_(static_cast<float>(spec.ema_momentum)),
      ema_overwrite_frequency_(spec.ema_overwrite_frequency) {}

void Optimizer::attach(const std::vector<ParamRef>& params) {
  params_.clear();
  state_.clear();
  int64_t chunks = 1;
  for (const ParamRef& p : params) {
    if (!p.trainable) continue;
    params_.push_back(p);
    for (int s = 0; s < slots_per_param(); ++s)
      state_.emplace_back(static_cast<size_t>(p.size()), 0.0f);
    chunks = std::max(chunks, sum_chunks(p.size()));
  }
  partial_.assign(static_cast<size_t>(chunks), 0.0);
  iterations_ = 0;
}

void Optimizer::restore(int64_t iterations, const std::vector<std::vector<float>>& state) {
  if (iterations < 0)
    throw std::invalid_argument("optimizer: negative iteration count " +
                                std::to_string(iterations));
  if (state.size() != state_.size()) {
    throw std::invalid_argument(std::string(name()) +
                                " optimizer: " + std::to_string(state.size()) +
                                " state slots, expected " + std::to_string(state_.size()));
  }
  for (size_t i = 0; i < state.size(); ++i) {
    if (state[i].size() != state_[i].size()) {
      throw std::invalid_argument(std::string(name()) + " optimizer: state slot " +
                                  std::to_string(i) + " holds " + std::to_string(state[i].size()) +
                                  " values, expected " + std::to_string(state_[i].size()));
    }
  }
  for (size_t i = 0; i < state.size(); ++i)
    std::copy(state[i].begin(), state[i].end(), state_[i].begin());
  iterations_ = iterations;
}

// Keras's BaseOptimizer._clip_gradients, on the gradients in place.
void Optimizer::clip_gradients() {
  auto squares = [](float x) { return x * x; };
  if (clipnorm_ > 0.0f) {
    // Each tensor: g * clipnorm / max(||g||, clipnorm).
    const float clip = clipnorm_;
    for (const ParamRef& p : params_) {
      const auto sum = static_cast<float>(chunked_sum(p.grad, p.size(), partial_.data(), squares));
      const float denominator = std::max(sum > 0.0f ? std::sqrt(sum) : 0.0f, clip);
      float* g = p.grad;
      each_value(p.size(), [=](int64_t begin, int64_t end) {
        float* __restrict gr = g + begin;
        for (int64_t i = 0; i < end - begin; ++i) gr[i] = gr[i] * clip / denominator;
      });
    }
  } else if (global_clipnorm_ > 0.0f) {
    // All tensors: g * clip * min(1/||all||, 1/clip); a non-finite norm makes the scale NaN.
    double total = 0.0;
    for (const ParamRef& p : params_)
      total += chunked_sum(p.grad, p.size(), partial_.data(), squares);
    const float norm = std::sqrt(static_cast<float>(total));
    const float scale =
        global_clipnorm_ * std::min(1.0f / norm, 1.0f / global_clipnorm_) + (norm - norm);
    for (const ParamRef& p : params_) {
      float* g = p.grad;
      each_value(p.size(), [=](int64_t begin, int64_t end) {
        float* __restrict gr = g + begin;
        for (int64_t i = 0; i < end - begin; ++i) gr[i] = gr[i] * scale;
      });
    }
  } else if (clipvalue_ > 0.0f) {
    const float v = clipvalue_;
    for (const ParamRef& p : params_) {
      float* g = p.grad;
      each_value(p.size(), [=](int64_t begin, int64_t end) {
        float* __restrict gr = g + begin;
        for (int64_t i = 0; i < end - begin; ++i) gr[i] = std::min(std::max(gr[i], -v), v);
      });
    }
  }
}

void Optimizer::step(float lr) {
  clip_gradients();
  const int64_t t = iterations_ + 1;
  const int slots = state_slots();
  float* state[kMaxSlots] = {};
  // Keras: the average starts as the weights (momentum 0 on the first step).
  const float ema = iterations_ == 0 ? 0.0f : ema_momentum_;
  const bool overwrite =
      use_ema_ && ema_overwrite_frequency_ > 0 && t % ema_overwrite_frequency_ == 0;
  for (size_t i = 0; i < params_.size(); ++i) {
    float* w = params_[i].value;
    const int64_t n = params_[i].size();
    if (weight_decay_ > 0.0f) {
      const float decay = weight_decay_;
      each_value(n, [=](int64_t begin, int64_t end) {
        float* __restrict wr = w + begin;
        for (int64_t j = 0; j < end - begin; ++j) wr[j] = wr[j] - wr[j] * decay * lr;
      });
    }
    for (int s = 0; s < slots; ++s) state[s] = slot(i, s);
    update(w, params_[i].grad, state, n, lr, t);
    if (use_ema_) {
      float* average = slot(i, slots);
      each_value(n, [=](int64_t begin, int64_t end) {
        float* __restrict ar = average + begin;
        float* __restrict wr = w + begin;
        for (int64_t j = 0; j < end - begin; ++j) {
          ar[j] = ema * ar[j] + (1.0f - ema) * wr[j];
          if (overwrite) wr[j] = ar[j];
        }
      });
    }
  }
  iterations_ = t;
}

void Optimizer::swap_average() {
  if (!use_ema_) return;
  for (size_t i = 0; i < params_.size(); ++i)
    std::swap_ranges(params_[i].value, params_[i].value + params_[i].size(),
                     slot(i, state_slots()));
}

void Optimizer::finalize() {
  if (!use_ema_) return;
  for (size_t i = 0; i < params_.size(); ++i) {
    const float* average = slot(i, state_slots());
    std::copy(average, average + params_[i].size(), params_[i].value);
  }
}

void Sgd::update(float* w, const float* g, float* const* state, int64_t n, float lr,
                 int64_t /*t*/) {
  if (momentum_ == 0.0f) {
    for (int64_t i = 0; i < n; ++i) w[i] -= lr * g[i];
    return;
  }
  float* v = state[0];
  for (int64_t i = 0; i < n; ++i) {
    v[i] = momentum_ * v[i] - lr * g[i];
    w[i] += nesterov_ ? momentum_ * v[i] - lr * g[i] : v[i];
  }
}

void Adam::update(float* w, const float* g, float* const* state, int64_t n, float lr, int64_t t) {
  float* m = state[0];
  float* v = state[1];
  float* v_hat = state[2];
  const auto td = static_cast<double>(t);
  const float alpha = static_cast<float>(lr * std::sqrt(1.0 - std::pow(beta_2_, td)) /
                                         (1.0 - std::pow(beta_1_, td)));
  const auto b1 = static_cast<float>(beta_1_), b2 = static_cast<float>(beta_2_);
  const float epsilon = epsilon_;
  // The scalar loop was a fifth of a dense2 step before it was vectorised.
  float* hat = amsgrad_ ? v_hat : nullptr;
  each_value(n, [=](int64_t begin, int64_t end) {
    adam_values(w + begin, m + begin, v + begin, hat ? hat + begin : nullptr, g + begin,
                end - begin, b1, b2, alpha, epsilon);
  });
}

namespace {
// RMSprop's loop for one combination of centered and momentum.
template <bool kCentered, bool kMomentum>
void rmsprop_update(float* w, const float* g, float* velocity, float* momentum_slot, float* average,
                    int64_t n, float lr, float rho, float one_minus_rho, float momentum,
                    float epsilon) {
  each_value(n, [=](int64_t begin, int64_t end) {
    float* __restrict wr = w + begin;
    float* __restrict vr = velocity + begin;
    float* __restrict mr = kMomentum ? momentum_slot + begin : nullptr;
    float* __restrict ar = kCentered ? average + begin : nullptr;
    const float* __restrict gr = g + begin;
    for (int64_t i = 0; i < end - begin; ++i) {
      vr[i] = rho * vr[i] + one_minus_rho * (gr[i] * gr[i]);
      float denominator;
      if constexpr (kCentered) {
        ar[i] = rho * ar[i] + one_minus_rho * gr[i];
        denominator = vr[i] - ar[i] * ar[i] + epsilon;
      } else {
        denominator = vr[i] + epsilon;
      }
      const float increment = lr * gr[i] / std::sqrt(denominator);
      if constexpr (kMomentum) {
        mr[i] = momentum * mr[i] + increment;
        wr[i] -= mr[i];
      } else {
        wr[i] -= increment;
      }
    }
  });
}
}  // namespace

void RmsProp::update(float* w, const float* g, float* const* state, int64_t n, float lr,
                     int64_t /*t*/) {
  const bool with_momentum = momentum_ > 0.0f;
  float* velocity = state[0];
  float* momentum = with_momentum ? state[1] : nullptr;
  float* average = centered_ ? state[with_momentum ? 2 : 1] : nullptr;
  // Keras multiplies by rho and (1 - rho) taken as float32 from the Python floats.
  const auto rho = static_cast<float>(rho_), one_minus_rho = static_cast<float>(1.0 - rho_);
  if (centered_ && with_momentum)
    rmsprop_update<true, true>(w, g, velocity, momentum, average, n, lr, rho, one_minus_rho,
                               momentum_, epsilon_);
  else if (centered_)
    rmsprop_update<true, false>(w, g, velocity, momentum, average, n, lr, rho, one_minus_rho,
                                momentum_, epsilon_);
  else if (with_momentum)
    rmsprop_update<false, true>(w, g, velocity, momentum, average, n, lr, rho, one_minus_rho,
                                momentum_, epsilon_);
  else
    rmsprop_update<false, false>(w, g, velocity, momentum, average, n, lr, rho, one_minus_rho,
                                 momentum_, epsilon_);
}

std::unique_ptr<Optimizer> make_optimizer(const OptimizerSpec& spec) {
  if (spec.type == "sgd") return std::make_unique<Sgd>(spec);
  if (spec.type == "rmsprop") return std::make_unique<RmsProp>(spec);
  return std::make_unique<Adam>(spec);
}

}  // namespace mnistnet
