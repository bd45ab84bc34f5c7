#include "optim/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace mnistnet {
namespace {

// Keras's CosineDecay._decay_function: from * ((1 - alpha) * 0.5 * (1 + cos(pi * s / steps)) +
// alpha).
double cosine_decay(double s, double steps, double from, double alpha) {
  const double cosine = 0.5 * (1.0 + std::cos(std::numbers::pi * (s / steps)));
  return from * ((1.0 - alpha) * cosine + alpha);
}

double cosine_decay_restarts(const ScheduleSpec& s, int64_t step) {
  double fraction = static_cast<double>(step) / static_cast<double>(s.first_decay_steps);
  double restart = 0.0;
  if (s.t_mul == 1.0) {
    restart = std::floor(fraction);
    fraction -= restart;
  } else {
    // Period i lasts t_mul^i first periods; the first i of them sum to (t_mul^i - 1)/(t_mul - 1).
    auto periods_before = [&](double i) { return (std::pow(s.t_mul, i) - 1.0) / (s.t_mul - 1.0); };
    restart = std::floor(std::log(1.0 - fraction * (1.0 - s.t_mul)) / std::log(s.t_mul));
    // The logarithm can land a hair below a whole number exactly at a restart (Keras, in
    // float32, then gives the end of the previous period): step to the period that holds it.
    while (periods_before(restart + 1.0) <= fraction) restart += 1.0;
    while (restart > 0.0 && periods_before(restart) > fraction) restart -= 1.0;
    fraction = (fraction - periods_before(restart)) / std::pow(s.t_mul, restart);
  }
  const double cosine =
      0.5 * std::pow(s.m_mul, restart) * (1.0 + std::cos(std::numbers::pi * fraction));
  return s.initial_learning_rate * ((1.0 - s.alpha) * cosine + s.alpha);
}

}  // namespace

bool schedule_is_per_step(const ScheduleSpec& schedule) {
  return schedule.type != "constant" && schedule.type != "exponential";
}

double learning_rate_at_step(const ScheduleSpec& s, int64_t step) {
  const auto t = static_cast<double>(step);
  if (s.type == "ExponentialDecay") {
    double p = t / static_cast<double>(s.decay_steps);
    if (s.staircase) p = std::floor(p);
    return s.initial_learning_rate * std::pow(s.decay_rate, p);
  }
  if (s.type == "PiecewiseConstantDecay") {
    // values[i] for the first boundary i with step <= boundaries[i]; values.back() past them all.
    const auto first = std::lower_bound(s.boundaries.begin(), s.boundaries.end(), step);
    return s.values[static_cast<size_t>(first - s.boundaries.begin())];
  }
  if (s.type == "CosineDecay") {
    const auto decay_steps = static_cast<double>(s.decay_steps);
    if (!s.has_warmup_target)
      return cosine_decay(std::min(t, decay_steps), decay_steps, s.initial_learning_rate, s.alpha);
    const auto warmup = static_cast<double>(s.warmup_steps);
    const double at = std::min(t, decay_steps + warmup);
    if (at < warmup)
      return (s.warmup_target - s.initial_learning_rate) * (at / warmup) + s.initial_learning_rate;
    return cosine_decay(at - warmup, decay_steps, s.warmup_target, s.alpha);
  }
  if (s.type == "CosineDecayRestarts") return cosine_decay_restarts(s, step);
  return s.initial_learning_rate;
}

double learning_rate_for_epoch(const OptimizerSpec& optimizer, const ScheduleSpec& schedule,
                               int epoch) {
  if (schedule.type == "exponential")
    return optimizer.learning_rate * std::pow(schedule.decay_rate, epoch) + schedule.minimum;
  return optimizer.learning_rate;
}

}  // namespace mnistnet
