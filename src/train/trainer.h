#pragma once
// The training loop (Keras's model.fit) and evaluation (model.evaluate).
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

#include "config/spec.h"
#include "data/dataset.h"
#include "data/pipeline.h"
#include "model/loss.h"
#include "model/model.h"
#include "optim/optimizer.h"

namespace mnistnet {

struct Evaluation {
  double loss = 0.0, accuracy = 0.0;
  int64_t count = 0;
};

// One row of the CSV log: Keras CSVLogger's columns plus the epoch's training seconds.
// lr is Keras's optimizer.learning_rate at the epoch's end: the epoch's rate for a constant or
// per-epoch rate (before ReduceLROnPlateau lowers it), the next step's rate for a per-step
// schedule. Loss values include the regularizers' penalty, as Keras's do.
struct EpochResult {
  int epoch = 0;  // 0-based, as Keras's CSVLogger writes it
  double accuracy = 0.0, loss = 0.0, lr = 0.0, val_accuracy = 0.0, val_loss = 0.0, seconds = 0.0;
};

// Reporters (console, CSV ...) watch training through this interface. on_batch_end runs in
// the per-batch loop, so implementations keep it cheap (a clock check, no I/O most times).
class TrainingObserver {
 public:
  virtual ~TrainingObserver() = default;
  virtual void on_epoch_begin(int epoch, int epochs, int64_t steps, double lr) {
    (void)epoch, (void)epochs, (void)steps, (void)lr;
  }
  // step is 1-based; loss and accuracy are the epoch's running means so far; lr is the
  // learning rate this step used (per-step schedules change it every step).
  virtual void on_batch_end(int64_t step, double loss, double accuracy, double lr) {
    (void)step, (void)loss, (void)accuracy, (void)lr;
  }
  virtual void on_epoch_end(const EpochResult& result) { (void)result; }
  // After on_epoch_end: the model as it is now and its arg-max class for every validation
  // example (the report's digit grid and confusion matrix).
  virtual void on_validation(Model& model, const std::vector<int32_t>& predicted) {
    (void)model, (void)predicted;
  }
  // Checkpoints. An observer that keeps state across epochs or batches adds it to `state` (a
  // JSON object all observers share: each uses its own key) ...
  virtual void save_state(nlohmann::json& state) const { (void)state; }
  // ... and a resumed run hands it back, with the finished epochs' rows, before training goes on.
  virtual void on_resume(const std::vector<EpochResult>& history, const nlohmann::json& state) {
    (void)history, (void)state;
  }
};

struct Checkpoint;

struct FitOptions {
  std::filesystem::path run_dir;       // checkpoints go to run_dir/checkpoints; empty: none
  std::string run_name;                // the config's name, recorded in checkpoints
  const Checkpoint* resume = nullptr;  // continue from this checkpoint (same config)
  // Polled once per step: nonzero (a signal number) asks fit to stop after the current step,
  // write a checkpoint and return.
  const std::atomic<int>* stop_request = nullptr;
};

struct FitResult {
  std::vector<EpochResult> history;       // every finished epoch, resumed ones included
  int interrupted_by = 0;                 // the stop_request value that ended training, or 0
  int epoch = 0;                          // where an interruption stopped: epoch (0-based) ...
  int64_t step = 0;                       // ... and steps done in it
  std::filesystem::path last_checkpoint;  // the newest checkpoint written (empty: none)
  int stopped_epoch = 0;                  // EarlyStopping stopped after this epoch (0: it did not)
  bool restored_best_weights = false;
  int best_epoch = 0;  // the epoch whose weights were restored
};

// The training input stream a config asks for: the codelab's
// cache().shuffle(buffer).repeat().batch(batch_size, drop_remainder=True).prefetch(n).
PipelineSpec training_pipeline_spec(const Config& config);

// One optimisation step on a batch: forward, fused softmax cross-entropy (label-smoothed when
// asked), backward, the regularizers' gradients, update. Returns the batch's loss sum (the
// regularizers' penalty counted once per example, so the running mean is Keras's loss) and
// correct count (what the progress line averages).
LossSums train_step(Model& model, Optimizer& optimizer, const Batch& batch, float lr,
                    float label_smoothing = 0.0f);

// Evaluates in inference mode on the whole data set, in order, in batches of batch_size.
// When `predicted` is given, it receives each example's arg-max class. The loss includes the
// model's regularizer penalty (as Keras's evaluate does) and the label smoothing asked for.
Evaluation evaluate(Model& model, const Dataset& data, int64_t batch_size, float pixel_scale,
                    std::vector<int32_t>* predicted = nullptr, float label_smoothing = 0.0f);

// Trains for spec.training.epochs epochs of steps_per_epoch batches drawn from the repeated,
// shuffled training set, evaluating on `validation` after each epoch; with a run_dir, writes
// checkpoints (at the start, after every epoch, every save_freq steps, on a stop request).
// Early stopping follows config.training.early_stopping (the best-model file is an observer,
// BestModelSaver).
// Throws DivergenceError naming the step, learning rate and layer when the loss stops being
// finite (no checkpoint is written after that), CheckpointError when `resume` does not fit.
FitResult fit(Model& model, const Dataset& train, const Dataset& validation, const Config& config,
              const std::vector<TrainingObserver*>& observers, const FitOptions& options = {});

// Checks that the data fits the model (image size, label range); throws UserError otherwise.
void check_data_fits_model(const Model& model, const Dataset& data, const std::string& what);

}  // namespace mnistnet
