// Keras's EarlyStopping and ModelCheckpoint(save_best_only) semantics, and the divergence
// guard's message.
#include <catch2/catch.hpp>

#include "cli_runner.h"
#include "core/rng.h"
#include "resume_fixture.h"
#include "text_file.h"
#include "train/early_stopping.h"

using namespace mnistnet;
using namespace mnistnet::testing;
using Catch::Contains;

namespace {

EpochResult with_val_loss(int epoch, double val_loss) {
  EpochResult r;
  r.epoch = epoch;
  r.val_loss = val_loss;
  r.val_accuracy = 1.0 - val_loss;
  return r;
}

Model small_model() { return Model::build(resume_config(1).model, 1); }

void fill_weights(Model& model, float v) {
  for (const ParamRef& p : model.params()) std::fill(p.value, p.value + p.size(), v);
}

const Dataset& train_set() {
  static const Dataset d = synthetic_dataset(160, 8, 8);
  return d;
}

}  // namespace

TEST_CASE("EarlyStopping stops when patience runs out and restores the best epoch's weights",
          "[early_stopping]") {
  EarlyStoppingSpec spec;
  spec.enabled = true;
  spec.patience = 2;
  spec.restore_best_weights = true;
  EarlyStopping early(spec);
  Model model = small_model();
  const std::vector<double> losses{1.0, 0.8, 0.85, 0.9, 0.7};
  int stopped = -1;
  for (int epoch = 0; epoch < 5; ++epoch) {
    fill_weights(model, static_cast<float>(epoch));
    if (early.on_epoch_end(epoch, with_val_loss(epoch, losses[static_cast<size_t>(epoch)]),
                           model)) {
      stopped = epoch;
      break;
    }
  }
  CHECK(stopped == 3);  // epochs 2 and 3 did not improve on 0.8
  CHECK(early.stopped_epoch() == 3);
  CHECK(early.best_epoch() == 1);
  CHECK(early.on_train_end(model));
  for (const ParamRef& p : model.params()) CHECK(p.value[0] == 1.0f);
}

TEST_CASE("EarlyStopping honours min_delta and mode and baseline and start_from_epoch",
          "[early_stopping]") {
  auto stop_epoch = [](EarlyStoppingSpec spec, const std::vector<double>& values) {
    spec.enabled = true;
    EarlyStopping early(spec);
    Model model = small_model();
    for (int e = 0; e < static_cast<int>(values.size()); ++e)
      if (early.on_epoch_end(e, with_val_loss(e, values[static_cast<size_t>(e)]), model)) return e;
    return -1;
  };
  EarlyStoppingSpec s;
  s.patience = 1;
  CHECK(stop_epoch(s, {1.0, 0.99, 0.98, 0.97}) == -1);
  s.min_delta = 0.05;  // improvements of 0.01 do not count
  CHECK(stop_epoch(s, {1.0, 0.99, 0.98, 0.97}) == 1);
  s.min_delta = -0.05;  // Keras uses |min_delta|
  CHECK(stop_epoch(s, {1.0, 0.99, 0.98, 0.97}) == 1);
  EarlyStoppingSpec acc;
  acc.monitor = "val_accuracy";  // auto: maximise; val_accuracy here is 1 - val_loss
  acc.patience = 1;
  CHECK(stop_epoch(acc, {0.5, 0.6, 0.7}) == 1);
  acc.mode = "min";
  CHECK(stop_epoch(acc, {0.5, 0.6, 0.7}) == -1);
  EarlyStoppingSpec base;
  base.patience = 2;
  base.has_baseline = true;
  base.baseline = 0.5;  // improvements that stay above the baseline do not reset the patience
  CHECK(stop_epoch(base, {1.0, 0.9, 0.95, 0.96}) == 2);
  base.has_baseline = false;
  CHECK(stop_epoch(base, {1.0, 0.9, 0.95, 0.96}) == 3);
  EarlyStoppingSpec late;
  late.patience = 0;
  late.start_from_epoch = 2;
  CHECK(stop_epoch(late, {1.0, 2.0, 3.0, 4.0}) == 3);
}

TEST_CASE(
    "fit stops early at the right epoch with the best weights and the state survives a resume",
    "[early_stopping]") {
  // A min_delta nothing can beat: epoch 0 is the best, epoch 1 exhausts patience 0.
  const std::vector<std::string> stopping{"training.epochs=5", "training.early_stopping.patience=0",
                                          "training.early_stopping.min_delta=100",
                                          "training.early_stopping.restore_best_weights=true"};
  const Config c = resume_config(3, stopping);
  TempDir dir;
  Model model = Model::build(c.model, Rng::derive(c.seed, 1));
  const FitResult r = fit(model, train_set(), synthetic_dataset(40, 8, 8), c, {},
                          {.run_dir = dir.path, .run_name = "t"});
  CHECK(r.stopped_epoch == 1);
  CHECK(r.history.size() == 2);
  CHECK(r.restored_best_weights);

  const Config one = resume_config(3, {"training.epochs=1"});
  Model after_one = Model::build(one.model, Rng::derive(one.seed, 1));
  fit(after_one, train_set(), synthetic_dataset(40, 8, 8), one, {});
  CHECK(weights_of(model) == weights_of(after_one));

  // Stopped after epoch 1's first step, resumed: the same stop and the same restored weights.
  TempDir dir2;
  {
    Model m = Model::build(c.model, Rng::derive(c.seed, 1));
    StopAtStep stop(11);
    REQUIRE(fit(m, train_set(), synthetic_dataset(40, 8, 8), c, {&stop},
                {.run_dir = dir2.path, .run_name = "t", .stop_request = &stop.flag})
                .interrupted_by != 0);
  }
  const Checkpoint ck = read_checkpoint(list_checkpoints(dir2.path).back());
  CHECK(ck.best_weights.size() == model.params().size());
  Model resumed = Model::build(c.model, 77);
  const FitResult r2 = fit(resumed, train_set(), synthetic_dataset(40, 8, 8), c, {},
                           {.run_dir = dir2.path, .run_name = "t", .resume = &ck});
  CHECK(r2.stopped_epoch == 1);
  CHECK(weights_of(resumed) == weights_of(model));
}

TEST_CASE(
    "A non-finite loss names the step and learning rate and layer and keeps the last good "
    "checkpoint",
    "[early_stopping][divergence]") {
  const Config c = parse_config(nlohmann::json::parse(R"({
    "seed": 1, "data": {"shuffle_buffer": 0, "prefetch": 0},
    "model": {"input_shape": [8, 8, 1], "layers": [
      {"type": "Flatten"}, {"type": "Dense", "units": 16, "activation": "relu"},
      {"type": "Dense", "units": 10, "activation": "softmax"}]},
    "training": {"epochs": 2, "batch_size": 16, "optimizer": {"type": "sgd", "learning_rate": 0.5}}})"),
                                "div.json");
  TempDir dir;
  Model model = Model::build(c.model, 1);
  // Huge but finite weights: the first Dense layer's output overflows to infinity.
  for (const ParamRef& p : model.params())
    if (p.name == "dense/kernel") std::fill(p.value, p.value + p.size(), 1e38f);
  std::string message;
  try {
    fit(model, train_set(), synthetic_dataset(40, 8, 8), c, {},
        {.run_dir = dir.path, .run_name = "div"});
  } catch (const DivergenceError& e) {
    message = e.what();
  }
  CHECK_THAT(message, Contains("at epoch 1, step 1 (learning rate 0.5)"));
  CHECK_THAT(message, Contains("layer 2 \"dense\" (Dense): its output is not finite"));
  CHECK_THAT(message, Contains("the last good checkpoint is " +
                               (dir.path / "checkpoints" / "ckpt-0000000000.ckpt").string()));
  CHECK(list_checkpoints(dir.path).size() == 1);
  CHECK_NOTHROW(read_checkpoint(list_checkpoints(dir.path).back()));

  // A parameter that is already non-finite is named as such.
  Model broken = Model::build(c.model, 1);
  for (const ParamRef& p : broken.params())
    if (p.name == "dense_1/bias") p.value[3] = std::nanf("");
  TempDir dir2;
  try {
    fit(broken, train_set(), synthetic_dataset(40, 8, 8), c, {},
        {.run_dir = dir2.path, .run_name = "div"});
    FAIL("no divergence");
  } catch (const DivergenceError& e) {
    CHECK_THAT(std::string(e.what()),
               Contains("layer 3 \"dense_1\" (Dense): its bias holds non-finite values"));
  }
}

TEST_CASE(
    "The CLI exits 3 on divergence and best_model.mnn holds the epoch early stopping restores",
    "[early_stopping][cli]") {
  TempDir dir;
  const auto data = dir.path / "data";
  write_synthetic_dataset(data, 400, 100, true, 8, 8);
  nlohmann::json doc = resume_config_json(4);
  doc["training"]["epochs"] = 6;
  doc["training"]["early_stopping"] = {
      {"monitor", "val_loss"}, {"patience", 1}, {"restore_best_weights", true}};
  doc["training"]["best_model"] = {{"monitor", "val_loss"}};
  const std::string config = write_text(dir.path, "es.json", doc.dump());
  const auto run = dir.path / "run";
  CliResult r = run_cli("train --config '" + config + "' --data '" + data.string() +
                            "' --run-dir '" + run.string() + "'",
                        dir.path);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(slurp(run / "best_model.mnn") == slurp(run / "model.mnn"));

  doc["training"]["optimizer"] = {{"type", "sgd"}, {"learning_rate", 1e30}};
  const std::string wild = write_text(dir.path, "wild.json", doc.dump());
  r = run_cli("train --config '" + wild + "' --data '" + data.string() + "' --run-dir '" +
                  (dir.path / "wild").string() + "' --quiet",
              dir.path);
  CHECK(r.exit_code == 3);
  CHECK_THAT(r.err, Contains("training diverged: ") && Contains("learning rate 1e+30") &&
                        Contains("layer "));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}
