// The new optimizer state (RMSprop's slots, AdamW's v_hat, the EMA weights), the per-step
// schedule's position and ReduceLROnPlateau's counters are in checkpoints: a run stopped at any
// step and resumed ends bit-identical to an uninterrupted one. Also: what fit does with use_ema
// and the per-step rate it reports.
#include <catch2/catch.hpp>

#include "allocation_counter.h"
#include "optim/lr_schedule.h"
#include "resume_fixture.h"
#include "train/batch_logger.h"

using namespace mnistnet;
using namespace mnistnet::testing;

namespace {

const Dataset& train_set() {
  static const Dataset d = synthetic_dataset(160, 8, 8);
  return d;
}
const Dataset& validation_set() {
  static const Dataset d = synthetic_dataset(40, 8, 8);
  return d;
}

struct Outcome {
  std::vector<std::vector<float>> weights;
  std::vector<EpochResult> history;
};

Outcome run(const Config& c, const std::filesystem::path& dir,
            const std::vector<TrainingObserver*>& observers = {}) {
  Model model = Model::build(c.model, Rng::derive(c.seed, 1));
  const FitResult r =
      fit(model, train_set(), validation_set(), c, observers, {.run_dir = dir, .run_name = "t"});
  return {weights_of(model), r.history};
}

Outcome stopped_and_resumed(const Config& c, const std::filesystem::path& dir, int64_t stop_at) {
  {
    Model model = Model::build(c.model, Rng::derive(c.seed, 1));
    StopAtStep stop(stop_at);
    const FitResult r = fit(model, train_set(), validation_set(), c, {&stop},
                            {.run_dir = dir, .run_name = "t", .stop_request = &stop.flag});
    REQUIRE(r.interrupted_by == 2);
  }
  const Checkpoint checkpoint = read_checkpoint(list_checkpoints(dir).back());
  Model model = Model::build(c.model, Rng::derive(c.seed + 1000, 1));
  fit(model, train_set(), validation_set(), c, {},
      {.run_dir = dir, .run_name = "t", .resume = &checkpoint});
  const Checkpoint last = read_checkpoint(list_checkpoints(dir).back());
  return {weights_of(model), last.progress.history};
}

// Every recipe of the issue in a few combinations, on the resume fixture's model.
const std::vector<std::vector<std::string>> kRecipes = {
    {R"(training.optimizer={"type": "rmsprop", "learning_rate": 0.005, "centered": true,
        "momentum": 0.5, "weight_decay": 0.001, "clipnorm": 1.0, "use_ema": true,
        "ema_momentum": 0.9, "ema_overwrite_frequency": 7})",
     R"(training.lr_schedule={"type": "CosineDecay", "decay_steps": 25, "warmup_target": 0.01,
        "warmup_steps": 5})",
     R"(model.layers.4.kernel_regularizer={"l2": 0.001})",
     R"(training.loss={"label_smoothing": 0.1})"},
    {R"(training.optimizer={"type": "adamw", "amsgrad": true, "global_clipnorm": 0.5,
        "use_ema": true})",
     R"(training.lr_schedule={"type": "PiecewiseConstantDecay", "boundaries": [8, 17],
        "values": [0.01, 0.005, 0.001]})",
     R"(model.layers.0.kernel_regularizer={"l1": 0.001, "l2": 0.0001})"},
    {R"(training.optimizer={"type": "sgd", "learning_rate": 0.05, "momentum": 0.9,
        "nesterov": true, "weight_decay": 0.0001, "clipvalue": 0.5})",
     R"(training.lr_schedule={"type": "constant"})",
     R"(training.reduce_lr_on_plateau={"monitor": "loss", "min_delta": 10, "patience": 1,
        "factor": 0.5})"},
    {R"(training.optimizer={"type": "adam", "learning_rate": 0.01, "use_ema": true,
        "ema_momentum": 0.95})",
     R"(training.lr_schedule={"type": "CosineDecayRestarts", "first_decay_steps": 6,
        "m_mul": 0.7, "alpha": 0.1})"},
    {R"(training.lr_schedule={"type": "ExponentialDecay", "decay_steps": 7, "decay_rate": 0.6,
        "staircase": true})"},
};

}  // namespace

TEST_CASE("Resumed runs with every optimizer, schedule and regularizer are bit-identical",
          "[resume][optim]") {
  for (size_t recipe = 0; recipe < kRecipes.size(); ++recipe) {
    std::vector<std::string> overrides = kRecipes[recipe];
    overrides.push_back("training.checkpoint.save_freq=3");
    const Config c = resume_config(11 + recipe, overrides);
    TempDir reference_dir;
    const Outcome reference = run(c, reference_dir.path);
    for (const int64_t stop_at : {int64_t{4}, int64_t{10}, int64_t{17}, int64_t{29}}) {
      INFO("recipe " << recipe << ", stopped after step " << stop_at);
      TempDir dir;
      const Outcome resumed = stopped_and_resumed(c, dir.path, stop_at);
      CHECK(resumed.weights == reference.weights);
      CHECK(rows_without_seconds(resumed.history) == rows_without_seconds(reference.history));
    }
  }
}

TEST_CASE("ReduceLROnPlateau lowers the rate of the epochs after a plateau", "[optim][plateau]") {
  const Config c = resume_config(3, kRecipes[2]);
  TempDir dir;
  const Outcome o = run(c, dir.path);
  REQUIRE(o.history.size() == 3);
  // Epoch 0 improves on +inf; epoch 1 cannot beat it by min_delta 10, so after it the rate halves.
  CHECK(o.history[0].lr == 0.05);
  CHECK(o.history[1].lr == 0.05);
  CHECK(o.history[2].lr == static_cast<float>(static_cast<float>(0.05) * 0.5));
}

namespace {

// Records the rate of every step, and the weights the validation of every epoch saw.
struct Recorder final : TrainingObserver {
  std::vector<double> rates;
  std::vector<std::vector<std::vector<float>>> validated;
  void on_batch_end(int64_t, double, double, double lr) override { rates.push_back(lr); }
  void on_validation(Model& model, const std::vector<int32_t>&) override {
    validated.push_back(weights_of(model));
  }
};

}  // namespace

TEST_CASE("A per-step schedule sets every step's rate, the lr column is the rate after the epoch",
          "[optim][schedule]") {
  const Config c = resume_config(
      5, {R"(training.lr_schedule={"type": "CosineDecay", "decay_steps": 25, "alpha": 0.1})"});
  TempDir dir;
  Recorder recorder;
  BatchLogger batches(dir.path / "batches.csv");
  const Outcome o = run(c, dir.path, {&recorder, &batches});
  REQUIRE(recorder.rates.size() == 30);
  const std::vector<BatchRow> rows = read_batch_log(dir.path / "batches.csv");
  REQUIRE(rows.size() == 30);
  for (size_t k = 0; k < rows.size(); ++k)
    CHECK(rows[k].lr == Approx(recorder.rates[k]).epsilon(1e-5));
  for (size_t k = 0; k < recorder.rates.size(); ++k)
    CHECK(recorder.rates[k] ==
          learning_rate_at_step(c.training.lr_schedule, static_cast<int64_t>(k)));
  CHECK(recorder.rates[0] == Approx(0.01));  // the optimizer's learning_rate
  CHECK(recorder.rates[25] == Approx(0.001));
  CHECK(o.history[0].lr == learning_rate_at_step(c.training.lr_schedule, 10));
  CHECK(o.history[2].lr == learning_rate_at_step(c.training.lr_schedule, 30));
}

TEST_CASE("With use_ema, validation and the final model are the moving average", "[optim][ema]") {
  const Config c = resume_config(
      9, {R"(training.optimizer={"type": "adam", "learning_rate": 0.01, "use_ema": true,
            "ema_momentum": 0.8})"});
  TempDir dir;
  Recorder recorder;
  const Outcome o = run(c, dir.path, {&recorder});
  REQUIRE(recorder.validated.size() == 3);
  // The model saved at the end is the one the last validation judged.
  CHECK(o.weights == recorder.validated.back());
  // Mid-run checkpoints hold the weights themselves and the average in the optimizer state:
  // the average is what epoch 1's validation saw, and the weights differ from it.
  const Checkpoint after_epoch_2 = read_checkpoint(checkpoint_path(dir.path, 20));
  const std::vector<std::vector<float>>& validated = recorder.validated[1];
  std::vector<std::vector<float>> trainable_validated, checkpoint_trainable;
  Model model = Model::build(c.model, 1);
  const std::vector<ParamRef> params = model.params();
  for (size_t i = 0; i < params.size(); ++i)
    if (params[i].trainable) {
      trainable_validated.push_back(validated[i]);
      checkpoint_trainable.push_back(after_epoch_2.params[i].values);
    }
  // Adam's state per trainable parameter: m, v, then the average.
  std::vector<std::vector<float>> averages;
  for (size_t i = 0; i < trainable_validated.size(); ++i)
    averages.push_back(after_epoch_2.optimizer_state[i * 3 + 2]);
  CHECK(averages == trainable_validated);
  CHECK(checkpoint_trainable != trainable_validated);
  // And the epoch's validation numbers are those of the averaged model.
  Model averaged = Model::build(c.model, 1);
  std::vector<ParamRef> ap = averaged.params();
  for (size_t i = 0; i < ap.size(); ++i)
    std::copy(validated[i].begin(), validated[i].end(), ap[i].value);
  const Evaluation e = evaluate(averaged, validation_set(), 64, 1.0f / 256);
  CHECK(e.accuracy == o.history[1].val_accuracy);
  CHECK(e.loss == o.history[1].val_loss);
}

TEST_CASE("The new optimizers, clipping, EMA and regularizers allocate nothing per step",
          "[optim][steady_state]") {
  for (const auto& recipe : kRecipes) {
    const Config c = resume_config(2, recipe);
    Model model = Model::build(c.model, 1);
    PipelineSpec spec = training_pipeline_spec(c);
    Pipeline pipeline(train_set(), spec);
    auto optimizer = make_optimizer(c.training.optimizer);
    optimizer->attach(model.params());
    model.reserve(c.training.batch_size);
    const auto smoothing = static_cast<float>(c.training.loss.label_smoothing);
    for (int i = 0; i < 3; ++i) train_step(model, *optimizer, *pipeline.next(), 0.01f, smoothing);
    const uint64_t before = allocation_count();
    for (int i = 0; i < 5; ++i) train_step(model, *optimizer, *pipeline.next(), 0.01f, smoothing);
    CHECK(allocation_count() == before);
  }
}
