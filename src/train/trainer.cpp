#include "train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "core/errors.h"
#include "optim/lr_schedule.h"
#include "optim/regularizer.h"
#include "train/checkpoint.h"
#include "train/divergence.h"
#include "train/early_stopping.h"
#include "train/reduce_lr_on_plateau.h"

namespace mnistnet {

void check_data_fits_model(const Model& model, const Dataset& data, const std::string& what) {
  const std::string image =
      std::to_string(data.rows) + "x" + std::to_string(data.cols) +
      (data.channels != 1 ? std::string("x") + std::to_string(data.channels) : std::string());
  const Shape& input = model.input_shape();
  // input_shape is the image's shape or its flat size ([784] for 28x28x1).
  const bool fits = data.image_size() == model.input_size() &&
                    (input.size() != 3 || input == Shape{data.rows, data.cols, data.channels});
  if (!fits) {
    throw UserError(what + ": images are " + image + " (" + std::to_string(data.image_size()) +
                    " values) but the model's input_shape " + shape_string(input) + " takes " +
                    (input.size() == 3 ? shape_string(input) : std::to_string(model.input_size())));
  }
  if (data.num_classes() > 0 && data.num_classes() != model.num_outputs()) {
    throw UserError(what + ": the data has " + std::to_string(data.num_classes()) +
                    " classes but the model's last layer has " +
                    std::to_string(model.num_outputs()) + " outputs (units of the last Dense)");
  }
  const uint8_t top =
      data.labels.empty() ? 0 : *std::max_element(data.labels.begin(), data.labels.end());
  if (top >= model.num_outputs()) {
    throw UserError(what + ": labels go up to " + std::to_string(top) + " but the model has " +
                    std::to_string(model.num_outputs()) + " outputs");
  }
}

PipelineSpec training_pipeline_spec(const Config& config) {
  const DataSpec& d = config.data;
  PipelineSpec spec;
  spec.cache = d.cache;
  spec.shuffle_buffer = d.shuffle_buffer;
  spec.reshuffle_each_iteration = d.reshuffle_each_iteration;
  spec.repeat = true;
  spec.batch_size = config.training.batch_size;
  spec.drop_remainder = true;
  spec.prefetch = d.prefetch;
  spec.seed = Rng::derive(config.seed, 0x5eed);
  spec.pixel_scale = static_cast<float>(1.0 / d.pixel_divisor);
  spec.augmentation = d.augmentation;
  spec.augment_seed = Rng::derive(config.seed, 0xa06e);
  return spec;
}

LossSums train_step(Model& model, Optimizer& optimizer, const Batch& batch, float lr,
                    float label_smoothing) {
  const float* logits = model.forward_logits(batch.images, batch.size, /*training=*/true);
  LossSums s = softmax_cross_entropy(logits, batch.labels, batch.size, model.num_outputs(),
                                     model.logits_grad(), label_smoothing);
  // A non-finite loss would poison every weight through the update: stop before it.
  if (std::isfinite(s.loss)) {
    model.backward(batch.size);
    // The penalty is part of Keras's loss, so its gradient joins the parameters' gradients.
    s.loss +=
        static_cast<double>(batch.size) *
        apply_regularizers(optimizer.params(), /*add_gradient=*/true, optimizer.sum_scratch());
    optimizer.step(lr);
  }
  return s;
}

Evaluation evaluate(Model& model, const Dataset& data, int64_t batch_size, float pixel_scale,
                    std::vector<int32_t>* predicted, float label_smoothing) {
  if (predicted) predicted->assign(static_cast<size_t>(data.count), 0);
  PipelineSpec spec;
  spec.cache = false;  // one pass: converting pixels while batching beats a float copy of the set
  spec.batch_size =
      static_cast<int>(std::min<int64_t>(batch_size, std::max<int64_t>(data.count, 1)));
  spec.shuffle_buffer = 0;
  spec.repeat = false;
  spec.drop_remainder = false;
  spec.prefetch = 1;
  spec.pixel_scale = pixel_scale;
  Pipeline pipeline(data, spec);
  LossSums total;
  while (auto batch = pipeline.next()) {
    const float* logits = model.forward_logits(batch->images, batch->size, /*training=*/false);
    const LossSums s = softmax_cross_entropy(logits, batch->labels, batch->size,
                                             model.num_outputs(), nullptr, label_smoothing);
    total.loss += s.loss;
    total.correct += s.correct;
    if (predicted) {
      const int64_t classes = model.num_outputs();
      for (int i = 0; i < batch->size; ++i) {
        const float* row = logits + int64_t{i} * classes;
        (*predicted)[batch->indices[i]] =
            static_cast<int32_t>(std::max_element(row, row + classes) - row);
      }
    }
  }
  Evaluation e;
  e.count = data.count;
  if (data.count > 0) {
    e.loss = total.loss / static_cast<double>(data.count) + regularization_penalty(model.params());
    e.accuracy = static_cast<double>(total.correct) / static_cast<double>(data.count);
  }
  return e;
}

namespace {

// "0.5", "1e+20": the learning rate as a person would write it.
std::string shortest(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", v);
  return text;
}

// Everything fit() carries from step to step, gathered for a checkpoint.
struct Loop {
  Model& model;
  Optimizer& optimizer;
  Pipeline& pipeline;
  const Dataset& train;
  const Config& config;
  const FitOptions& options;
  const std::vector<TrainingObserver*>& observers;
  EarlyStopping& early;
  ReduceLROnPlateau& plateau;
  TrainingProgress progress;
  std::filesystem::path last_checkpoint;
};

Checkpoint capture(Loop& loop) {
  Checkpoint c;
  c.config_name = loop.options.run_name;
  c.config = loop.config.resolved;
  c.progress = loop.progress;
  c.early_stopping = loop.early.state();
  c.reduce_lr_on_plateau = loop.plateau.state();
  c.best_weights = loop.early.best_weights();
  c.observers = nlohmann::json::object();
  for (const auto* o : loop.observers) o->save_state(c.observers);
  c.params = get_weights(loop.model);
  c.optimizer = loop.optimizer.name();
  c.optimizer_iterations = loop.optimizer.iterations();
  c.optimizer_state = loop.optimizer.state();
  for (const Rng* rng : loop.model.training_rngs()) c.layer_rngs.push_back(rng->state());
  c.train_examples = loop.train.count;
  c.data_stream = loop.pipeline.stream_state();
  return c;
}

// Puts a checkpoint's state into a freshly built model and attached optimizer.
void restore(const Checkpoint& c, Model& model, Optimizer& optimizer, EarlyStopping& early,
             ReduceLROnPlateau& plateau, const Dataset& train) {
  auto fail = [&](const std::string& what) { throw CheckpointError(c.source + ": " + what); };
  set_weights(model, c.params, c.source);
  if (c.optimizer != optimizer.name())
    fail("holds the state of a " + c.optimizer + " optimizer, the config trains with " +
         optimizer.name());
  std::vector<Rng*> rngs = model.training_rngs();
  if (c.layer_rngs.size() != rngs.size())
    fail("holds " + std::to_string(c.layer_rngs.size()) + " layer generators, the model has " +
         std::to_string(rngs.size()));
  if (c.train_examples != train.count) {
    fail("was written for " + std::to_string(c.train_examples) +
         " training examples, the data set has " + std::to_string(train.count));
  }
  try {
    optimizer.restore(c.optimizer_iterations, c.optimizer_state);
    for (size_t i = 0; i < rngs.size(); ++i) rngs[i]->set_state(c.layer_rngs[i]);
    early.restore(c.early_stopping, c.best_weights);
    plateau.restore(c.reduce_lr_on_plateau);
  } catch (const std::exception& e) {
    fail(e.what());
  }
}

// Writes a checkpoint of the loop's current state, unless the weights are already broken:
// then training has diverged, and the last good checkpoint must stay the newest.
void checkpoint(Loop& loop) {
  if (loop.options.run_dir.empty()) return;
  if (const std::string broken = non_finite_parameter(loop.model); !broken.empty()) {
    throw DivergenceError("the weights are not finite after epoch " +
                          std::to_string(loop.progress.epoch + 1) + ", step " +
                          std::to_string(loop.progress.step) + " (learning rate " +
                          shortest(loop.progress.lr) + "): " + broken +
                          (loop.last_checkpoint.empty()
                               ? ""
                               : "; the last good checkpoint is " + loop.last_checkpoint.string()));
  }
  std::filesystem::create_directories(checkpoint_dir(loop.options.run_dir));
  const auto path = checkpoint_path(loop.options.run_dir, loop.progress.global_step);
  write_checkpoint(path, capture(loop));
  prune_checkpoints(loop.options.run_dir, loop.config.training.checkpoint.keep);
  loop.last_checkpoint = path;
}

}  // namespace

FitResult fit(Model& model, const Dataset& train, const Dataset& validation, const Config& config,
              const std::vector<TrainingObserver*>& observers, const FitOptions& options) {
  const TrainingSpec& t = config.training;
  const DataSpec& d = config.data;
  const float pixel_scale = static_cast<float>(1.0 / d.pixel_divisor);
  const int64_t steps = t.steps_per_epoch > 0 ? t.steps_per_epoch : train.count / t.batch_size;
  if (steps < 1) {
    throw UserError(config.source + ": /training/batch_size: " + std::to_string(t.batch_size) +
                    " is larger than the " + std::to_string(train.count) + " training examples");
  }

  std::unique_ptr<Optimizer> optimizer = make_optimizer(t.optimizer);
  optimizer->attach(model.params());
  model.reserve(t.batch_size);
  EarlyStopping early(t.early_stopping);
  ReduceLROnPlateau plateau(t.reduce_lr_on_plateau, t.optimizer.learning_rate);
  const Checkpoint* resume = options.resume;
  if (resume) restore(*resume, model, *optimizer, early, plateau, train);

  // The prefetch thread starts here, from the checkpoint's data position when resuming.
  std::unique_ptr<Pipeline> pipeline = [&] {
    try {
      return std::make_unique<Pipeline>(train, training_pipeline_spec(config),
                                        resume ? &resume->data_stream : nullptr);
    } catch (const std::invalid_argument& e) {
      throw CheckpointError(resume->source +
                            ": the data position does not fit the data set: " + e.what());
    }
  }();

  Loop loop{model,     *optimizer, *pipeline, train, config, options,
            observers, early,      plateau,   {},    {}};
  if (resume) {
    loop.progress = resume->progress;
    for (auto* o : observers) o->on_resume(resume->progress.history, resume->observers);
  } else if (!options.run_dir.empty()) {
    // A new run in an old run's directory: the old checkpoints are not this run's.
    for (const auto& old : list_checkpoints(options.run_dir)) std::filesystem::remove(old);
    checkpoint(loop);  // so that a run killed before its first epoch ends can be resumed too
  }
  TrainingProgress& p = loop.progress;
  const int64_t save_freq = t.checkpoint.save_freq;
  std::vector<int32_t> predicted;
  FitResult out;
  const auto label_smoothing = static_cast<float>(t.loss.label_smoothing);
  // The rate of the next step: a per-step schedule's at the optimizer's iteration count, else
  // the epoch's (ReduceLROnPlateau's, the codelab's per-epoch decay, or the constant).
  const bool per_step = schedule_is_per_step(t.lr_schedule);
  auto next_rate = [&] {
    if (per_step) return learning_rate_at_step(t.lr_schedule, p.global_step);
    if (plateau.enabled()) return plateau.learning_rate();
    return learning_rate_for_epoch(t.optimizer, t.lr_schedule, p.epoch);
  };

  while (p.epoch < t.epochs && !p.stopped) {
    p.lr = next_rate();
    auto lr = static_cast<float>(p.lr);
    for (auto* o : observers) o->on_epoch_begin(p.epoch, t.epochs, steps, p.lr);
    const auto start = std::chrono::steady_clock::now();
    const double seconds_before = p.seconds;  // training time of this epoch before a resume
    auto seconds_now = [&] {
      return seconds_before +
             std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    while (p.step < steps) {
      const std::optional<Batch> batch = pipeline->next();
      if (per_step) lr = static_cast<float>(p.lr = next_rate());
      const LossSums s = train_step(model, *optimizer, *batch, lr, label_smoothing);
      if (!std::isfinite(s.loss)) {
        throw DivergenceError(
            "the loss is " + std::string(std::isnan(s.loss) ? "nan" : "infinite") + " at epoch " +
            std::to_string(p.epoch + 1) + ", step " + std::to_string(p.step + 1) +
            " (learning rate " + shortest(p.lr) + "): " + locate_non_finite(model, *batch) +
            (loop.last_checkpoint.empty() && !resume
                 ? ""
                 : "; the last good checkpoint is " + (loop.last_checkpoint.empty()
                                                           ? resume->source
                                                           : loop.last_checkpoint.string())));
      }
      ++p.step;
      ++p.global_step;
      p.loss_sum += s.loss;
      p.correct += s.correct;
      p.seen += batch->size;
      for (auto* o : observers)
        o->on_batch_end(p.step, p.loss_sum / static_cast<double>(p.seen),
                        static_cast<double>(p.correct) / static_cast<double>(p.seen), p.lr);
      const int stop =
          options.stop_request ? options.stop_request->load(std::memory_order_relaxed) : 0;
      if (stop != 0 || (save_freq > 0 && p.global_step % save_freq == 0 && p.step < steps)) {
        p.seconds = seconds_now();
        checkpoint(loop);
        if (stop != 0) {
          out.interrupted_by = stop;
          out.epoch = p.epoch;
          out.step = p.step;
          out.history = p.history;
          out.last_checkpoint = loop.last_checkpoint;
          return out;
        }
      }
    }
    EpochResult r;
    r.epoch = p.epoch;
    r.seconds = seconds_now();
    r.loss = p.loss_sum / static_cast<double>(p.seen);
    r.accuracy = static_cast<double>(p.correct) / static_cast<double>(p.seen);
    r.lr = per_step ? next_rate() : p.lr;
    // With use_ema, validation, the best model and early stopping's best weights are the
    // moving average's (Keras's SwapEMAWeights(swap_on_epoch=True)): the weights that are saved.
    optimizer->swap_average();
    const Evaluation v = evaluate(model, validation, d.validation_batch_size, pixel_scale,
                                  &predicted, label_smoothing);
    r.val_loss = v.loss;
    r.val_accuracy = v.accuracy;
    p.history.push_back(r);
    for (auto* o : observers) o->on_epoch_end(r);
    for (auto* o : observers) o->on_validation(model, predicted);
    p.stopped = early.on_epoch_end(p.epoch, r, model);
    plateau.on_epoch_end(r);
    optimizer->swap_average();  // training goes on from the weights themselves
    ++p.epoch;
    p.step = p.seen = p.correct = 0;
    p.loss_sum = p.seconds = 0.0;
    // Training is over after the last epoch or an early stop: the end-of-training weights
    // (the best ones, with restore_best_weights) go into the final checkpoint.
    // With use_ema they become the average first (Keras's finalize_variable_values).
    if (p.epoch >= t.epochs || p.stopped) {
      optimizer->finalize();
      out.restored_best_weights = early.on_train_end(model);
    }
    checkpoint(loop);
    const int stop =
        options.stop_request ? options.stop_request->load(std::memory_order_relaxed) : 0;
    if (stop != 0 && p.epoch < t.epochs && !p.stopped) {
      out.interrupted_by = stop;
      out.epoch = p.epoch;
      out.step = 0;
      out.history = p.history;
      out.last_checkpoint = loop.last_checkpoint;
      return out;
    }
  }
  out.history = p.history;
  out.stopped_epoch = early.stopped_epoch();
  out.best_epoch = early.best_epoch();
  out.last_checkpoint = loop.last_checkpoint;
  return out;
}

}  // namespace mnistnet
