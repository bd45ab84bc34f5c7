// training.lr_schedule: the codelab's per-epoch decay and Keras's per-step schedules.
#include "config/schedule_config.h"

#include "core/errors.h"

namespace mnistnet {
namespace {

// A list of integers >= 0 in strictly increasing order (PiecewiseConstantDecay's boundaries).
std::vector<int64_t> increasing_steps(JsonFields& f, const std::string& key) {
  const nlohmann::json& list = f.array(key);
  std::vector<int64_t> steps;
  for (const auto& v : list) {
    if (!v.is_number_integer() || v.get<int64_t>() < 0 ||
        (!steps.empty() && v.get<int64_t>() <= steps.back()))
      f.fail(key,
             "expected a non-empty list of step numbers >= 0 in strictly increasing order, got " +
                 describe_json(list));
    steps.push_back(v.get<int64_t>());
  }
  if (steps.empty())
    f.fail(key,
           "expected a non-empty list of step numbers >= 0 in strictly increasing order, got " +
               describe_json(list));
  return steps;
}

// optimizer_rate: the optimizer's learning_rate, the per-step schedules' initial rate; raw:
// the optimizer's JSON, to tell whether its learning_rate was given.
}  // namespace

ScheduleSpec parse_schedule(JsonFields f, double optimizer_rate,
                            const nlohmann::json& optimizer_json) {
  ScheduleSpec s;
  s.type = f.choice("type", s.type,
                    {"constant", "exponential", "ExponentialDecay", "PiecewiseConstantDecay",
                     "CosineDecay", "CosineDecayRestarts"});
  if (s.type == "exponential") {
    s.decay_rate = f.number("decay_rate", std::nullopt, 0.0, 1.0);
    s.minimum = f.number("minimum", s.minimum, 0.0);
  }
  if (s.type == "constant" || s.type == "exponential") {
    f.finish();
    return s;
  }
  f.string("name", "");  // Keras's name scope
  const bool rate_given = optimizer_json.is_object() && optimizer_json.contains("learning_rate");
  const std::string optimizer_rate_pointer =
      f.pointer().substr(0, f.pointer().rfind('/')) + "/optimizer/learning_rate";
  if (s.type == "PiecewiseConstantDecay") {
    if (rate_given)
      throw ConfigError(f.source() + ": " + optimizer_rate_pointer +
                        ": PiecewiseConstantDecay's values set the learning rate; remove this key");
    s.boundaries = increasing_steps(f, "boundaries");
    const nlohmann::json& values = f.array("values");
    for (const auto& v : values) {
      if (!v.is_number() || !(v.get<double>() >= 0.0) || values.size() != s.boundaries.size() + 1)
        f.fail("values", "expected " + std::to_string(s.boundaries.size() + 1) +
                             " learning rates >= 0 (one more than boundaries), got " +
                             describe_json(values));
      s.values.push_back(v.get<double>());
    }
    if (s.values.size() != s.boundaries.size() + 1)
      f.fail("values", "expected " + std::to_string(s.boundaries.size() + 1) +
                           " learning rates >= 0 (one more than boundaries), got " +
                           describe_json(values));
    f.finish();
    return s;
  }
  if (rate_given && f.has("initial_learning_rate"))
    f.fail("initial_learning_rate",
           "the rate is also set by " + optimizer_rate_pointer + "; give only one of them");
  s.initial_learning_rate = f.number("initial_learning_rate", optimizer_rate, 0.0);
  if (s.type == "ExponentialDecay") {
    s.decay_steps = f.integer("decay_steps", std::nullopt, 1);
    s.decay_rate = f.number("decay_rate", std::nullopt, 0.0);
    s.staircase = f.boolean("staircase", s.staircase);
  } else if (s.type == "CosineDecay") {
    s.decay_steps = f.integer("decay_steps", std::nullopt, 1);
    s.alpha = f.number("alpha", s.alpha, 0.0, 1.0);
    s.has_warmup_target = f.has("warmup_target");
    s.warmup_target = f.number("warmup_target", 0.0, 0.0);
    s.warmup_steps = f.integer("warmup_steps", s.warmup_steps, 0);
  } else {  // CosineDecayRestarts
    s.first_decay_steps = f.integer("first_decay_steps", std::nullopt, 1);
    s.t_mul = f.number("t_mul", s.t_mul, 1.0);
    s.m_mul = f.number("m_mul", s.m_mul, 0.0);
    s.alpha = f.number("alpha", s.alpha, 0.0, 1.0);
  }
  f.finish();
  return s;
}

}  // namespace mnistnet
