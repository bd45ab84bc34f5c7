#include "train/reduce_lr_on_plateau.h"

#include <algorithm>
#include <bit>
#include <stdexcept>
#include <string>

namespace mnistnet {
namespace {

// Keras keeps the rate in a float32 variable: what it reads back is the rounded value.
double as_float32(double v) { return static_cast<double>(static_cast<float>(v)); }

// Doubles as their bits: JSON has no infinity, and the best value starts at +-inf.
std::string double_bits(double v) { return std::to_string(std::bit_cast<uint64_t>(v)); }
double from_bits(const nlohmann::json& j) {
  return std::bit_cast<double>(std::stoull(j.get<std::string>()));
}

}  // namespace

ReduceLROnPlateau::ReduceLROnPlateau(const ReduceLROnPlateauSpec& spec, double initial_rate)
    : spec_(spec),
      monitor_(spec.monitor, spec.mode),
      rate_(initial_rate),
      best_(monitor_.worst()) {}

bool ReduceLROnPlateau::on_epoch_end(const EpochResult& result) {
  if (!spec_.enabled) return false;
  const double current = monitor_.value(result);
  if (cooldown_counter_ > 0) {
    --cooldown_counter_;
    wait_ = 0;
  }
  const bool improved =
      monitor_.maximise() ? current > best_ + spec_.min_delta : current < best_ - spec_.min_delta;
  if (improved) {
    best_ = current;
    wait_ = 0;
    return false;
  }
  if (cooldown_counter_ > 0 || ++wait_ < spec_.patience) return false;
  const double old_rate = as_float32(rate_);
  if (!(old_rate > as_float32(spec_.min_lr))) return false;
  rate_ = as_float32(std::max(old_rate * spec_.factor, spec_.min_lr));
  cooldown_counter_ = spec_.cooldown;
  wait_ = 0;
  return true;
}

nlohmann::json ReduceLROnPlateau::state() const {
  if (!spec_.enabled) return nullptr;
  return {{"learning_rate", double_bits(rate_)},
          {"best", double_bits(best_)},
          {"wait", wait_},
          {"cooldown_counter", cooldown_counter_}};
}

void ReduceLROnPlateau::restore(const nlohmann::json& state) {
  if (!spec_.enabled || state.is_null()) return;  // not used now, or not when it was written
  try {
    rate_ = from_bits(state.at("learning_rate"));
    best_ = from_bits(state.at("best"));
    wait_ = state.at("wait").get<int>();
    cooldown_counter_ = state.at("cooldown_counter").get<int>();
  } catch (const std::exception& e) {
    throw std::invalid_argument(std::string("malformed ReduceLROnPlateau state: ") + e.what());
  }
  if (wait_ < 0 || cooldown_counter_ < 0)
    throw std::invalid_argument("malformed ReduceLROnPlateau state: negative counters");
}

}  // namespace mnistnet
