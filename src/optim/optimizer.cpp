#include "optim/optimizer.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "core/parallel_for.h"

namespace mnistnet {

void Optimizer::attach(const std::vector<ParamRef>& params) {
  params_.clear();
  state_.clear();
  for (const ParamRef& p : params) {
    if (!p.trainable) continue;
    params_.push_back(p);
    for (int s = 0; s < state_slots(); ++s)
      state_.emplace_back(static_cast<size_t>(p.size()), 0.0f);
  }
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

void Optimizer::step(float lr) {
  ++iterations_;
  const int slots = state_slots();
  float* state[2] = {nullptr, nullptr};
  for (size_t i = 0; i < params_.size(); ++i) {
    for (int s = 0; s < slots; ++s)
      state[s] = state_[i * static_cast<size_t>(slots) + static_cast<size_t>(s)].data();
    update(params_[i].value, params_[i].grad, state, params_[i].size(), lr, iterations_);
  }
}

namespace {
// Below this many values per share, waking the second core costs more than the update.
constexpr int64_t kMinParallelValues = 32768;
}  // namespace

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
  const auto td = static_cast<double>(t);
  const float alpha = static_cast<float>(lr * std::sqrt(1.0 - std::pow(beta_2_, td)) /
                                         (1.0 - std::pow(beta_1_, td)));
  const auto b1 = static_cast<float>(beta_1_), b2 = static_cast<float>(beta_2_);
  const float epsilon = epsilon_;
  // Element-wise, so splitting it over the cores changes no bit of the result. Scalars captured
  // by value, restrict-qualified pointers and -fno-math-errno (for sqrt) let GCC vectorise it:
  // the scalar loop was a fifth of a dense2 step.
  parallel_for(
      n,
      [=](int64_t begin, int64_t end) {
        float* __restrict wr = w + begin;
        float* __restrict mr = m + begin;
        float* __restrict vr = v + begin;
        const float* __restrict gr = g + begin;
        for (int64_t i = 0; i < end - begin; ++i) {
          mr[i] = b1 * mr[i] + (1.0f - b1) * gr[i];
          vr[i] = b2 * vr[i] + (1.0f - b2) * gr[i] * gr[i];
          wr[i] -= alpha * mr[i] / (std::sqrt(vr[i]) + epsilon);
        }
      },
      kMinParallelValues);
}

std::unique_ptr<Optimizer> make_optimizer(const OptimizerSpec& spec) {
  if (spec.type == "sgd") return std::make_unique<Sgd>(spec.momentum, spec.nesterov);
  return std::make_unique<Adam>(spec.beta_1, spec.beta_2, spec.epsilon);
}

double learning_rate_for_epoch(const OptimizerSpec& optimizer, const ScheduleSpec& schedule,
                               int epoch) {
  if (schedule.type == "exponential")
    return optimizer.learning_rate * std::pow(schedule.decay_rate, epoch) + schedule.minimum;
  return optimizer.learning_rate;
}

}  // namespace mnistnet
