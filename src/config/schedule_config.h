#pragma once
// Reads training.lr_schedule (see ScheduleSpec): "constant", the codelab's per-epoch
// "exponential", or one of Keras's per-step LearningRateSchedules with its argument names.
#include <nlohmann/json.hpp>

#include "config/json_fields.h"
#include "config/spec.h"

namespace mnistnet {

// optimizer_rate: the optimizer's learning_rate, which the per-step schedules start from unless
// they give initial_learning_rate; optimizer_json: the optimizer's object as written, to tell
// whether its learning_rate was given too (an error: one rate, one place).
ScheduleSpec parse_schedule(JsonFields f, double optimizer_rate,
                            const nlohmann::json& optimizer_json);

}  // namespace mnistnet
