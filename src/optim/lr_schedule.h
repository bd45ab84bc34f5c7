#pragma once
// Learning rates: the optimizer's constant rate, the codelab's per-epoch decay, or one of
// Keras 3's per-step LearningRateSchedules (keras.optimizers.schedules), each a pure function
// of the optimizer's iteration count, so a checkpoint's global step is the schedule's position.
#include <cstdint>

#include "config/spec.h"

namespace mnistnet {

// True for the Keras schedules, whose rate changes every step.
bool schedule_is_per_step(const ScheduleSpec& schedule);

// The rate of the 0-based optimizer step `step` (Keras calls the schedule with the iterations
// done before the update):
//   ExponentialDecay:       initial * decay_rate^(step / decay_steps) (staircase: floor of it)
//   PiecewiseConstantDecay: values[0] while step <= boundaries[0], values[i] while
//                           boundaries[i-1] < step <= boundaries[i], values.back() after
//   CosineDecay:            a linear warmup from initial to warmup_target over warmup_steps
//                           (when warmup_target is given), then from the warmup target (or
//                           initial) target * ((1 - alpha) * 0.5 * (1 + cos(pi * s / decay_steps))
//                           + alpha), s = min(step - warmup_steps, decay_steps)
//   CosineDecayRestarts:    periods of first_decay_steps * t_mul^i steps, each a cosine from
//                           m_mul^i down to alpha, times initial
double learning_rate_at_step(const ScheduleSpec& schedule, int64_t step);

// The rate of a 0-based epoch for the constant and per-epoch forms:
// learning_rate * decay_rate^epoch + minimum ("exponential"), or learning_rate.
double learning_rate_for_epoch(const OptimizerSpec& optimizer, const ScheduleSpec& schedule,
                               int epoch);

}  // namespace mnistnet
