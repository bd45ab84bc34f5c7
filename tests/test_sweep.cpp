// Sweep files -> trials (grid order, seeded random draws, names), their errors with JSON
// pointers, the leaderboard's order and CSV, and the Slurm script's text.
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "core/errors.h"
#include "sweep/leaderboard.h"
#include "sweep/slurm_script.h"
#include "sweep/sweep_manifest.h"
#include "sweep/sweep_spec.h"
#include "synthetic_idx.h"
#include "text_file.h"

using namespace mnistnet;
using namespace mnistnet::testing;
using Catch::Contains;
using ordered = nlohmann::ordered_json;

namespace {

SweepSpec spec_of(const std::string& text) {
  return parse_sweep_spec(ordered::parse(text), "s.json");
}

std::string error_of(const std::string& text) {
  try {
    (void)spec_of(text);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

const char* kBase = R"({
  "seed": 1,
  "model": {"input_shape": [784], "layers": [
    {"type": "Dense", "units": 8, "activation": "relu"},
    {"type": "Dropout", "rate": 0.2},
    {"type": "Dense", "units": 10, "activation": "softmax"}]},
  "training": {"epochs": 2, "batch_size": 32, "optimizer": {"type": "adam", "learning_rate": 0.003}}
})";

std::string value_of(const Trial& t, const std::string& path) {
  for (const Override& o : t.overrides)
    if (o.path == path) return o.value.dump();
  return "";
}

}  // namespace

TEST_CASE("A grid expands to every combination, the first key varying slowest", "[sweep]") {
  const SweepSpec spec = spec_of(R"({"fixed": {"training.epochs": 3},
    "grid": {"training.batch_size": [64, 128], "training.lr_schedule.decay_rate": [0.6, 0.666, 0.75],
             "model.layers.14.rate": [0.3, 0.5]}})");
  const std::vector<Trial> trials = expand_trials(spec);
  REQUIRE(trials.size() == 12);
  CHECK(value_of(trials[0], "training.batch_size") == "64");
  CHECK(value_of(trials[0], "model.layers.14.rate") == "0.3");
  CHECK(value_of(trials[1], "model.layers.14.rate") == "0.5");
  CHECK(value_of(trials[2], "training.lr_schedule.decay_rate") == "0.666");
  CHECK(value_of(trials[11], "training.batch_size") == "128");
  CHECK(value_of(trials[11], "training.lr_schedule.decay_rate") == "0.75");
  // fixed keys first, then the grid's in the file's order
  CHECK(override_argument(trials[5].overrides[0]) == "training.epochs=3");
  CHECK(trials[5].overrides[1].path == "training.batch_size");
  CHECK(trials[5].overrides[3].path == "model.layers.14.rate");
  std::set<std::string> names;
  for (const Trial& t : trials) {
    CHECK(t.name.rfind(
              "trial-" + std::string(t.index < 10 ? "00" : "0") + std::to_string(t.index) + "-",
              0) == 0);
    CHECK(t.name.size() == std::string("trial-000-12345678").size());
    names.insert(t.name);
  }
  CHECK(names.size() == 12);
  CHECK(expand_trials(spec)[7].name == trials[7].name);  // deterministic
  CHECK(trial_name(7, trials[6].overrides) != trials[7].name);
}

TEST_CASE("Random search draws from its seed, within the bounds, and rounds to 6 digits",
          "[sweep]") {
  const std::string text = R"({"random": {"trials": 40, "seed": 7, "params": {
      "training.lr_schedule.decay_rate": {"uniform": [0.6, 0.8]},
      "training.optimizer.learning_rate": {"loguniform": [0.0001, 0.1]},
      "model.layers.1.filters": {"choice": [6, 12, 24]}}}})";
  const std::vector<Trial> a = expand_trials(spec_of(text)), b = expand_trials(spec_of(text));
  REQUIRE(a.size() == 40);
  std::set<std::string> filters;
  double lowest_lr = 1.0, highest_lr = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].name == b[i].name);
    const double decay = a[i].overrides[0].value.get<double>();
    CHECK(decay >= 0.6);
    CHECK(decay < 0.8);
    char rounded[32];
    std::snprintf(rounded, sizeof rounded, "%.6g", decay);
    CHECK(std::stod(rounded) == decay);
    const double lr = a[i].overrides[1].value.get<double>();
    CHECK(lr >= 0.0001);
    CHECK(lr <= 0.1);
    lowest_lr = std::min(lowest_lr, lr);
    highest_lr = std::max(highest_lr, lr);
    filters.insert(a[i].overrides[2].value.dump());
  }
  CHECK(filters == std::set<std::string>{"6", "12", "24"});
  CHECK(lowest_lr < 0.001);  // log-uniform: a decade below 0.001 gets its share
  CHECK(highest_lr > 0.01);
  const auto other_seed = expand_trials(spec_of(R"({"random": {"trials": 3, "seed": 8, "params": {
      "training.lr_schedule.decay_rate": {"uniform": [0.6, 0.8]}}}})"));
  CHECK(other_seed[0].overrides[0].value != a[0].overrides[0].value);
}

TEST_CASE("A file with a grid and a random search runs the grid's trials, then the random ones",
          "[sweep]") {
  const auto trials = expand_trials(spec_of(R"({"grid": {"training.batch_size": [64, 128]},
      "random": {"trials": 3, "seed": 1, "params": {"model.layers.1.filters": {"choice": [6, 12]}}}})"));
  REQUIRE(trials.size() == 5);
  CHECK(trials[1].overrides[0].path == "training.batch_size");
  CHECK(trials[2].overrides[0].path == "model.layers.1.filters");
  CHECK(trials[4].index == 4);
}

TEST_CASE("Sweep file errors name the file and the JSON pointer", "[sweep][errors]") {
  CHECK_THAT(
      error_of(R"({"grid": {"training.batch_size": []}})"),
      Contains(
          "s.json: /grid/training.batch_size: expected at least one value, got an empty list"));
  CHECK_THAT(error_of(R"({"grid": {"training.batch_size": 64}})"),
             Contains("s.json: /grid/training.batch_size: expected a list of values, got 64"));
  CHECK_THAT(
      error_of(R"({"random": {"trials": 2, "params": {"seed": {"normal": [0, 1]}}}})"),
      Contains(
          "s.json: /random/params/seed/normal: unknown distribution \"normal\"; expected uniform, "
          "loguniform or choice"));
  CHECK_THAT(error_of(R"({"random": {"trials": 2, "params": {"seed": {"uniform": [2, 1]}}}})"),
             Contains("/random/params/seed/uniform: expected low < high"));
  CHECK_THAT(error_of(R"({"random": {"trials": 2, "params": {"x.y": {"loguniform": [0, 1]}}}})"),
             Contains("/random/params/x.y/loguniform/0: expected a positive low bound"));
  CHECK_THAT(error_of(R"({"random": {"trials": 2, "params": {"x.y": {"choice": []}}}})"),
             Contains("/random/params/x.y/choice: expected at least one value"));
  CHECK_THAT(error_of(R"({"random": {"trials": 0, "params": {"x.y": {"choice": [1]}}}})"),
             Contains("/random/trials: expected an integer >= 1, got 0"));
  CHECK_THAT(error_of(R"({"random": {"params": {"x.y": {"choice": [1]}}}})"),
             Contains("/random/trials: missing"));
  CHECK_THAT(
      error_of(R"({"random": {"trials": 1, "params": {"x": {"uniform": [0, 1], "choice": [1]}}}})"),
      Contains("/random/params/x: expected one distribution"));
  CHECK_THAT(error_of(R"({"grid": {"a..b": [1]}})"),
             Contains("/grid/a..b: expected a config key path"));
  CHECK_THAT(error_of(R"({"fixed": {"seed": 1}, "grid": {"seed": [1, 2]}})"),
             Contains("/grid/seed: key path seed is already set at /fixed/seed"));
  CHECK(
      error_of(
          R"({"grid": {"seed": [1]}, "random": {"trials": 1, "params": {"seed": {"choice": [2]}}}})") ==
      "(no error)");
  CHECK_THAT(error_of(R"({"grids": {"seed": [1]}})"), Contains("s.json: /grids: unknown key"));
  CHECK_THAT(error_of(R"({"fixed": {"seed": 1}})"), Contains("s.json: /: expected \"grid\""));
  CHECK_THAT(error_of(R"([1, 2])"), Contains("s.json: /: expected an object"));
  TempDir dir;
  CHECK_THROWS_WITH(load_sweep_spec(dir.path / "none.json"),
                    Contains("none.json: cannot open the sweep file"));
  const std::string broken = write_text(dir.path, "broken.json", "{\"grid\": ");
  CHECK_THROWS_WITH(load_sweep_spec(broken),
                    Contains("broken.json: byte") && Contains("invalid JSON"));
}

TEST_CASE("Trials are checked against the base config before anything runs", "[sweep][errors]") {
  TempDir dir;
  const std::string base = write_text(dir.path, "base.json", kBase);
  auto check = [&](const std::string& text) -> std::string {
    const SweepSpec spec = spec_of(text);
    try {
      check_trials_against_config(spec, expand_trials(spec), base);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "(no error)";
  };
  CHECK(
      check(R"({"grid": {"training.batch_size": [16, 64], "model.layers.1.rate": [0.1, 0.5]}})") ==
      "(no error)");
  // a key path the config does not have
  CHECK_THAT(check(R"({"grid": {"training.batchsize": [16]}})"),
             Contains("s.json: /grid/training.batchsize: trial-000-") &&
                 Contains("/training/batchsize: unknown key"));
  CHECK_THAT(check(R"({"grid": {"model.layers.5.rate": [0.1]}})"),
             Contains("s.json: /grid/model.layers.5.rate: ") && Contains("index out of range"));
  // a value the config rejects: the pointer names the value in the grid
  CHECK_THAT(check(R"({"grid": {"seed": [1], "training.batch_size": [16, 0]}})"),
             Contains("s.json: /grid/training.batch_size/1: trial-001-") &&
                 Contains("/training/batch_size: expected a positive integer, got 0"));
  CHECK_THAT(
      check(
          R"({"random": {"trials": 4, "params": {"model.layers.1.rate": {"uniform": [1.5, 2]}}}})"),
      Contains("s.json: /random/params/model.layers.1.rate: trial-000-"));
}

TEST_CASE("Trial results come from the run directory alone", "[sweep][leaderboard]") {
  TempDir dir;
  const auto trials = expand_trials(spec_of(R"({"grid": {"seed": [1, 2, 3, 4, 5]}})"));
  auto make = [&](int i) {
    std::filesystem::create_directories(dir.path / trials[static_cast<size_t>(i)].name);
    return dir.path / trials[static_cast<size_t>(i)].name;
  };
  const std::string csv =
      "epoch,accuracy,loss,lr,val_accuracy,val_loss,seconds\n"
      "0,0.5,1.0,0.01,0.80,0.60,1.5\n1,0.6,0.9,0.01,0.85,0.70,1.5\n";
  // 0: ok; 1: diverged; 2: failed; 3: killed while training; 4: never started
  write_text(make(0), "metrics.csv", csv);
  write_text(make(0), "summary.json",
             R"({"val_accuracy": 0.85, "val_loss": 0.7, "best_val_accuracy": 0.85,
                                          "epochs": 2, "seconds": 3.0})");
  write_text(make(0), "exit_code", "0\n");
  write_text(make(1), "metrics.csv",
             "epoch,accuracy,loss,lr,val_accuracy,val_loss,seconds\n0,0.1,nan,1,0.1,nan,1\n");
  write_text(make(1), "exit_code", "3\n");
  write_text(make(1), "train.log", "mnistnet: training diverged: the loss is not finite\n");
  write_text(make(2), "exit_code", "2\n");
  write_text(make(2), "train.log", "mnistnet: error: x.json: /training/epochs: expected ...\n");
  write_text(make(3), "metrics.csv", csv.substr(0, csv.rfind("1,0.6")));
  std::vector<TrialResult> r;
  for (const Trial& t : trials) r.push_back(read_trial_result(dir.path, t));
  CHECK(r[0].status == "ok");
  CHECK(r[0].best_val_loss == 0.6);  // from metrics.csv: summary.json has no best loss
  CHECK(r[0].epochs == 2);
  CHECK(r[1].status == "diverged");
  CHECK(r[1].error == "mnistnet: training diverged: the loss is not finite");
  CHECK(std::isnan(r[1].val_loss));
  CHECK(r[2].status == "failed");
  CHECK(r[2].exit_code == 2);
  CHECK_THAT(r[2].error, Contains("/training/epochs"));
  CHECK(r[3].status == "incomplete");
  CHECK(r[3].epochs == 1);
  CHECK(r[4].status == "missing");
  CHECK(trial_finished(r[0]));
  CHECK(trial_finished(r[1]));
  CHECK_FALSE(trial_finished(r[2]));
  CHECK_FALSE(trial_finished(r[3]));
  CHECK_FALSE(trial_finished(r[4]));
}

TEST_CASE("The leaderboard ranks finished trials by the metric, then the others by index",
          "[sweep][leaderboard]") {
  const auto trials = expand_trials(
      spec_of(R"({"grid": {"training.optimizer.type": ["adam", "sgd"], "seed": [1, 2]}})"));
  std::vector<TrialResult> r(4);
  const double acc[] = {0.90, 0.95, 0.95, 0.0}, loss[] = {0.30, 0.20, 0.25, 0.0};
  for (size_t i = 0; i < 4; ++i) {
    r[i].trial = trials[i];
    r[i].status = i == 3 ? "failed" : "ok";
    r[i].has_metrics = i != 3;
    r[i].val_accuracy = r[i].best_val_accuracy = acc[i];
    r[i].val_loss = r[i].best_val_loss = loss[i];
    r[i].epochs = 2;
    r[i].seconds = 1.25;
  }
  r[3].error = "mnistnet: error: a, \"quoted\" thing";
  std::vector<TrialResult> by_acc = {r[3], r[2], r[0], r[1]};
  sort_leaderboard(by_acc, "val_accuracy");
  CHECK(by_acc[0].trial.index == 1);  // ties go to the earlier trial
  CHECK(by_acc[1].trial.index == 2);
  CHECK(by_acc[2].trial.index == 0);
  CHECK(by_acc[3].trial.index == 3);
  std::vector<TrialResult> by_loss = r;
  sort_leaderboard(by_loss, "val_loss");
  CHECK(by_loss[0].trial.index == 1);
  CHECK(by_loss[1].trial.index == 2);
  CHECK_THROWS_WITH(sort_leaderboard(by_loss, "accuracy"),
                    Contains("--metric accuracy: expected val_accuracy"));

  const std::string csv = leaderboard_csv(by_acc);
  CHECK(
      csv.rfind(
          "rank,trial,training.optimizer.type,seed,status,val_accuracy,best_val_accuracy,val_loss,"
          "best_val_loss,epochs,seconds,error\n"
          "1," +
              trials[1].name + ",adam,2,ok,0.950000,0.950000,0.200000,0.200000,2,1.25,\n",
          0) == 0);
  CHECK_THAT(csv, Contains("4," + trials[3].name +
                           ",sgd,2,failed,,,,,,,\"mnistnet: error: a, \"\"quoted\"\" thing\"\n"));
  const std::string table = leaderboard_table(by_acc);
  CHECK_THAT(table, Contains("rank  trial  ") && Contains("status  val_accuracy"));
  CHECK_THAT(table, Contains("1     " + trials[1].name + "  adam"));
}

TEST_CASE("The manifest round-trips the trials and their overrides", "[sweep]") {
  TempDir dir;
  const auto trials = expand_trials(
      spec_of(R"({"grid": {"data.dataset": ["mnist"], "training.batch_size": [16, 32]}})"));
  write_manifest(dir.path, {"/abs/base.json", "/abs/s.json", "val_loss", trials});
  CHECK(is_sweep_dir(dir.path));
  const SweepManifest m = read_manifest(dir.path);
  CHECK(m.config == "/abs/base.json");
  CHECK(m.metric == "val_loss");
  REQUIRE(m.trials.size() == 2);
  CHECK(m.trials[1].name == trials[1].name);
  CHECK(override_argument(m.trials[1].overrides[0]) == "data.dataset=\"mnist\"");
  CHECK(trial_name(1, m.trials[1].overrides) == trials[1].name);
  CHECK_FALSE(is_sweep_dir(dir.path / "nothing"));
  CHECK_THROWS_WITH(read_manifest(dir.path / "nothing"), Contains("sweep.json: cannot open"));
}

TEST_CASE("The Slurm script runs one trial per array task, like the local sweep",
          "[sweep][slurm]") {
  const auto trials =
      expand_trials(spec_of(R"({"grid": {"training.optimizer.type": ["adam", "it's"]}})"));
  TrialLaunch launch{"/opt/mnistnet", "/cfg/base.json", "/data/mnist", 2};
  const std::string s =
      slurm_array_script(trials, "/shared/sweep", launch, {2, 3, "mnistnet-sweep"});
  CHECK(s.rfind("#!/bin/bash\n", 0) == 0);
  CHECK_THAT(s, Contains("#SBATCH --array=0-1%3\n") && Contains("#SBATCH --cpus-per-task=2\n"));
  CHECK_THAT(s, Contains("  0) name='" + trials[0].name +
                         "'; cmd=('/opt/mnistnet' 'train' '--config' "
                         "'/cfg/base.json' '--set' 'training.optimizer.type=\"adam\"' '--run-dir' "
                         "'/shared/sweep/" +
                         trials[0].name + "' '-q' '--data' '/data/mnist') ;;"));
  CHECK_THAT(s, Contains("'training.optimizer.type=\"it'\\''s\"'"));
  CHECK_THAT(s, Contains("MNISTNET_THREADS=$threads") && Contains("exit_code"));
  CHECK(shell_quote("a'b") == "'a'\\''b'");
}

TEST_CASE("The shipped sweep files expand and load with configs/conv_bn.json", "[sweep][configs]") {
  const std::filesystem::path root = MNISTNET_SOURCE_DIR;
  const std::string base = (root / "configs" / "conv_bn.json").string();
  for (const auto& [file, count] : {std::pair<const char*, size_t>{"conv_bn_tuning.json", 65},
                                    std::pair<const char*, size_t>{"conv_bn_grid12.json", 12}}) {
    INFO(file);
    const SweepSpec spec = load_sweep_spec(root / "configs" / "sweeps" / file);
    const std::vector<Trial> trials = expand_trials(spec);
    CHECK(trials.size() == count);
    CHECK_NOTHROW(check_trials_against_config(spec, trials, base));
  }
  // the key paths are the ones conv_bn.json has: the dense layer's dropout, the convolutions
  const auto conv_bn = nlohmann::json::parse(std::ifstream(root / "configs" / "conv_bn.json"));
  CHECK(conv_bn["model"]["layers"][14]["type"] == "Dropout");
  CHECK(conv_bn["model"]["layers"][14]["rate"] == 0.3);
  for (int i : {1, 4, 7})
    CHECK(conv_bn["model"]["layers"][static_cast<size_t>(i)]["type"] == "Conv2D");
  CHECK(conv_bn["training"]["lr_schedule"]["decay_rate"] == 0.666);
  CHECK(conv_bn["training"]["batch_size"] == 64);
}
