#pragma once
// Keras's ReduceLROnPlateau callback, epoch for epoch: when the monitored value has not
// improved for `patience` epochs (min mode: current < best - min_delta improves; max mode:
// current > best + min_delta), the rate becomes max(rate * factor, min_lr), unless it is
// already at min_lr, and `cooldown` epochs follow in which no epoch counts as waiting.
// The rate is held as Keras holds it, a float32 variable. Its state goes into checkpoints.
#include <nlohmann/json.hpp>

#include "config/spec.h"
#include "train/early_stopping.h"
#include "train/trainer.h"

namespace mnistnet {

class ReduceLROnPlateau {
 public:
  // initial_rate: the optimizer's constant learning rate.
  ReduceLROnPlateau(const ReduceLROnPlateauSpec& spec, double initial_rate);
  bool enabled() const { return spec_.enabled; }

  // The rate of the next steps (Keras's optimizer.learning_rate).
  double learning_rate() const { return rate_; }
  // After an epoch with its metrics; true when it lowered the rate for the next epoch.
  bool on_epoch_end(const EpochResult& result);

  // Checkpoints; restore throws std::invalid_argument when the state is malformed.
  nlohmann::json state() const;
  void restore(const nlohmann::json& state);

 private:
  ReduceLROnPlateauSpec spec_;
  MetricMonitor monitor_;  // the metric and its direction
  double rate_;
  double best_;
  int wait_ = 0, cooldown_counter_ = 0;
};

}  // namespace mnistnet
