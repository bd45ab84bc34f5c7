#pragma once
// Keras's monitoring callbacks: EarlyStopping (stop when a metric stops improving, optionally
// going back to the best weights) and ModelCheckpoint(save_best_only=True) as BestModelSaver
// (the best epoch's model in <run>/best_model.mnn). Both keep their state in checkpoints.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/spec.h"
#include "model/model.h"
#include "model/model_file.h"
#include "train/trainer.h"

namespace mnistnet {

// A monitored metric and its direction. mode "auto": "max" for accuracies, "min" otherwise.
class MetricMonitor {
 public:
  MetricMonitor(std::string monitor, const std::string& mode, double min_delta = 0.0);
  double value(const EpochResult& r) const;
  // Keras: current - min_delta beats reference (min mode: current + |min_delta| < reference).
  bool improves(double current, double reference) const;
  double worst() const;  // the starting "best": +inf for min, -inf for max
  bool maximise() const { return maximise_; }
  const std::string& name() const { return monitor_; }

 private:
  std::string monitor_;
  bool maximise_;
  double min_delta_;  // >= 0
};

// Keras 3's EarlyStopping, epoch for epoch: from start_from_epoch on, `wait` counts the epochs
// since the monitored value last improved by more than min_delta (and beat the baseline, if
// any); when it reaches patience (and epoch > 0) training stops. With restore_best_weights
// the model gets the best epoch's weights (all of them, batch-norm statistics included) when
// training ends, early or not; the first monitored epoch counts as best until one improves.
class EarlyStopping {
 public:
  explicit EarlyStopping(const EarlyStoppingSpec& spec);
  bool enabled() const { return spec_.enabled; }

  // After epoch `epoch` (0-based) with its metrics; true when training should stop.
  bool on_epoch_end(int epoch, const EpochResult& result, Model& model);
  // At the end of training: restores the best weights if asked to. True if it did.
  bool on_train_end(Model& model);

  int stopped_epoch() const { return stopped_epoch_; }  // 0 when it did not stop training
  int best_epoch() const { return best_epoch_; }
  double best() const { return best_; }

  // Checkpoints: the counters as JSON, the best weights apart (they are big).
  nlohmann::json state() const;
  const std::vector<std::vector<float>>& best_weights() const { return best_weights_; }
  // A CheckpointError-free contract: std::invalid_argument when the state is malformed.
  void restore(const nlohmann::json& state, std::vector<std::vector<float>> best_weights);

 private:
  EarlyStoppingSpec spec_;
  MetricMonitor monitor_;
  int wait_ = 0, best_epoch_ = 0, stopped_epoch_ = 0;
  double best_;
  bool has_best_weights_ = false;
  std::vector<std::vector<float>> best_weights_;  // [param] as Model::params()
};

// Keras's ModelCheckpoint(filepath, monitor, mode, save_best_only=True): writes the model
// (atomically) whenever the monitored value beats the best so far.
class BestModelSaver final : public TrainingObserver {
 public:
  BestModelSaver(const BestModelSpec& spec, std::filesystem::path path, ModelMeta meta);
  void on_epoch_end(const EpochResult& result) override;
  void on_validation(Model& model, const std::vector<int32_t>& predicted) override;
  void save_state(nlohmann::json& state) const override;
  void on_resume(const std::vector<EpochResult>& history, const nlohmann::json& state) override;

  double best() const { return best_; }
  int best_epoch() const { return best_epoch_; }

 private:
  MetricMonitor monitor_;
  std::filesystem::path path_;
  ModelMeta meta_;
  double best_;
  int best_epoch_ = -1;
  bool save_now_ = false;
};

// Copies of every parameter of the model (Keras's get_weights) and back.
std::vector<std::vector<float>> copy_model_weights(Model& model);
void set_model_weights(Model& model, const std::vector<std::vector<float>>& weights);

}  // namespace mnistnet
