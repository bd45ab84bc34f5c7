#include "train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/errors.h"

namespace mnistnet {

void check_data_fits_model(const Model& model, const Dataset& data, const std::string& what) {
  if (data.image_size() != model.input_size()) {
    throw UserError(what + ": images are " + std::to_string(data.rows) + "x" +
                    std::to_string(data.cols) + " (" + std::to_string(data.image_size()) +
                    " values) but the model's input_shape " + shape_string(model.input_shape()) +
                    " takes " + std::to_string(model.input_size()));
  }
  const uint8_t top = data.labels.empty() ? 0 : *std::max_element(data.labels.begin(), data.labels.end());
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
  return spec;
}

LossSums train_step(Model& model, Optimizer& optimizer, const Batch& batch, float lr) {
  const float* logits = model.forward_logits(batch.images, batch.size, /*training=*/true);
  const LossSums s = softmax_cross_entropy(logits, batch.labels, batch.size, model.num_outputs(), model.logits_grad());
  // A non-finite loss would poison every weight through the update: stop before it.
  if (std::isfinite(s.loss)) {
    model.backward(batch.size);
    optimizer.step(lr);
  }
  return s;
}

Evaluation evaluate(Model& model, const Dataset& data, int64_t batch_size, float pixel_scale,
                    std::vector<int32_t>* predicted) {
  if (predicted) predicted->assign(static_cast<size_t>(data.count), 0);
  PipelineSpec spec;
  spec.cache = false;  // one pass: converting pixels while batching beats a float copy of the set
  spec.batch_size = static_cast<int>(std::min<int64_t>(batch_size, std::max<int64_t>(data.count, 1)));
  spec.shuffle_buffer = 0;
  spec.repeat = false;
  spec.drop_remainder = false;
  spec.prefetch = 1;
  spec.pixel_scale = pixel_scale;
  Pipeline pipeline(data, spec);
  LossSums total;
  while (auto batch = pipeline.next()) {
    const float* logits = model.forward_logits(batch->images, batch->size, /*training=*/false);
    const LossSums s = softmax_cross_entropy(logits, batch->labels, batch->size, model.num_outputs(), nullptr);
    total.loss += s.loss;
    total.correct += s.correct;
    if (predicted) {
      const int64_t classes = model.num_outputs();
      for (int i = 0; i < batch->size; ++i) {
        const float* row = logits + int64_t{i} * classes;
        (*predicted)[batch->indices[i]] = static_cast<int32_t>(std::max_element(row, row + classes) - row);
      }
    }
  }
  Evaluation e;
  e.count = data.count;
  if (data.count > 0) {
    e.loss = total.loss / static_cast<double>(data.count);
    e.accuracy = static_cast<double>(total.correct) / static_cast<double>(data.count);
  }
  return e;
}

std::vector<EpochResult> fit(Model& model, const Dataset& train, const Dataset& validation,
                             const Config& config, const std::vector<TrainingObserver*>& observers) {
  const TrainingSpec& t = config.training;
  const DataSpec& d = config.data;
  const float pixel_scale = static_cast<float>(1.0 / d.pixel_divisor);
  const int64_t steps = t.steps_per_epoch > 0 ? t.steps_per_epoch : train.count / t.batch_size;
  if (steps < 1) {
    throw UserError(config.source + ": /training/batch_size: " + std::to_string(t.batch_size) +
                    " is larger than the " + std::to_string(train.count) + " training examples");
  }

  const PipelineSpec spec = training_pipeline_spec(config);
  Pipeline pipeline(train, spec);

  std::unique_ptr<Optimizer> optimizer = make_optimizer(t.optimizer);
  optimizer->attach(model.params());
  model.reserve(t.batch_size);

  std::vector<EpochResult> results;
  std::vector<int32_t> predicted;
  for (int epoch = 0; epoch < t.epochs; ++epoch) {
    const double lr = learning_rate_for_epoch(t.optimizer, t.lr_schedule, epoch);
    for (auto* o : observers) o->on_epoch_begin(epoch, t.epochs, steps, lr);
    const auto start = std::chrono::steady_clock::now();
    double loss_sum = 0.0;
    int64_t correct = 0, seen = 0;
    for (int64_t step = 1; step <= steps; ++step) {
      const std::optional<Batch> batch = pipeline.next();
      const LossSums s = train_step(model, *optimizer, *batch, static_cast<float>(lr));
      if (!std::isfinite(s.loss)) {
        throw DivergenceError("the loss is not finite at epoch " + std::to_string(epoch + 1) +
                              ", step " + std::to_string(step) + " (learning rate " + std::to_string(lr) + ")");
      }
      loss_sum += s.loss;
      correct += s.correct;
      seen += batch->size;
      for (auto* o : observers)
        o->on_batch_end(step, loss_sum / static_cast<double>(seen), static_cast<double>(correct) / static_cast<double>(seen));
    }
    EpochResult r;
    r.epoch = epoch;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    r.loss = loss_sum / static_cast<double>(seen);
    r.accuracy = static_cast<double>(correct) / static_cast<double>(seen);
    r.lr = lr;
    const Evaluation v = evaluate(model, validation, d.validation_batch_size, pixel_scale, &predicted);
    r.val_loss = v.loss;
    r.val_accuracy = v.accuracy;
    results.push_back(r);
    for (auto* o : observers) o->on_epoch_end(r);
    for (auto* o : observers) o->on_validation(model, predicted);
  }
  return results;
}

}  // namespace mnistnet
