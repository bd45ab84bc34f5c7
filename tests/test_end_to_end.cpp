// The real executable on a small learnable data set that the test writes: training reaches a
// stated accuracy, writes its run directory, is deterministic, and eval reproduces it.
// Also the exit codes and one-line messages of user errors.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_runner.h"
#include "core/rng.h"
#include "synthetic_idx.h"
#include "text_file.h"

using namespace mnistnet;
using namespace mnistnet::testing;
using Catch::Contains;

namespace {

const char* kConfig = R"({
  "seed": 3,
  "data": {"shuffle_buffer": 300, "validation_batch_size": 128, "prefetch": 2},
  "model": {"input_shape": [28, 28, 1], "layers": [
    {"type": "Flatten"},
    {"type": "Dense", "units": 32, "activation": "relu"},
    {"type": "Dense", "units": 10, "activation": "softmax"}]},
  "training": {"epochs": 3, "batch_size": 32, "optimizer": {"type": "adam", "learning_rate": 0.003}},
  "output": {"progress": "epoch"}
})";

std::string without_seconds(const std::string& csv) {
  std::istringstream in(csv);
  std::string line, out;
  while (std::getline(in, line)) out += line.substr(0, line.rfind(',')) + "\n";
  return out;
}

struct Fixture {
  TempDir dir;
  std::filesystem::path data = dir.path / "data";
  std::string config;
  Fixture() {
    std::filesystem::create_directories(data);
    write_band_split(data, "train", 1200, 1);
    write_band_split(data, "t10k", 300, 2);
    config = write_text(dir.path, "band.json", kConfig);
  }
  CliResult run(const std::string& args) { return run_cli(args, dir.path); }
};

}  // namespace

TEST_CASE("train learns, writes the run directory, and eval reproduces it", "[e2e]") {
  Fixture f;
  const auto run_dir = f.dir.path / "run";
  CliResult r = f.run("train --config '" + f.config + "' --data '" + f.data.string() +
                      "' --run-dir '" + run_dir.string() + "'");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("Epoch 3/3") && Contains("val_accuracy"));

  const auto summary = nlohmann::json::parse(slurp(run_dir / "summary.json"));
  CHECK(summary["val_accuracy"].get<double>() >= 0.95);
  CHECK(summary["epochs"] == 3);
  CHECK(std::filesystem::exists(summary["model"].get<std::string>()));
  const std::string csv = slurp(run_dir / "metrics.csv");
  CHECK(csv.rfind("epoch,accuracy,loss,lr,val_accuracy,val_loss,seconds\n0,", 0) == 0);
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 4);
  CHECK(nlohmann::json::parse(slurp(run_dir / "config.json"))["seed"] == 3);
  const std::string batches = slurp(run_dir / "batches.csv");
  CHECK(batches.rfind("epoch,step,loss,accuracy,lr\n0,1,", 0) == 0);
  CHECK(std::count(batches.begin(), batches.end(), '\n') == 1 + 3 * (1200 / 32));
  CHECK(std::filesystem::read_symlink(f.dir.path / "latest") == "run");

  // eval reproduces the final validation accuracy exactly
  CliResult e = f.run("eval --json --model '" + (run_dir / "model.mnn").string() + "' --data '" +
                      f.data.string() + "'");
  REQUIRE(e.exit_code == 0);
  const auto ev = nlohmann::json::parse(e.out);
  CHECK(ev["accuracy"].get<double>() == summary["val_accuracy"].get<double>());
  CHECK(ev["loss"].get<double>() == Approx(summary["val_loss"].get<double>()).epsilon(1e-6));

  // the same seed gives the same rows; another seed does not
  const auto run2 = f.dir.path / "run2";
  REQUIRE(f.run("train -q --config '" + f.config + "' --data '" + f.data.string() +
                "' --run-dir '" + run2.string() + "'")
              .exit_code == 0);
  CHECK(without_seconds(slurp(run2 / "metrics.csv")) == without_seconds(csv));
  const auto run3 = f.dir.path / "run3";
  REQUIRE(f.run("train -q --set seed=4 --config '" + f.config + "' --data '" + f.data.string() +
                "' --run-dir '" + run3.string() + "'")
              .exit_code == 0);
  CHECK(without_seconds(slurp(run3 / "metrics.csv")) != without_seconds(csv));
}

TEST_CASE("User errors exit with 2 and one line naming the cause", "[e2e][errors]") {
  Fixture f;
  auto one_line = [](const std::string& s) { return std::count(s.begin(), s.end(), '\n') == 1; };

  CliResult bad_set = f.run("train --config '" + f.config + "' --set model.layers.1.units=-3");
  CHECK(bad_set.exit_code == 2);
  CHECK_THAT(bad_set.err,
             Contains("band.json: /model/layers/1/units: expected a positive integer, got -3"));
  CHECK(one_line(bad_set.err));

  const std::string broken = write_text(f.dir.path, "broken.json", "{\"seed\": 1,,}");
  CliResult bad_json = f.run("train --config '" + broken + "'");
  CHECK(bad_json.exit_code == 2);
  CHECK_THAT(bad_json.err, Contains("broken.json: line 1, column") && Contains("invalid JSON"));

  CliResult no_data =
      f.run("train --config '" + f.config + "' --data '" + (f.dir.path / "nowhere").string() + "'");
  CHECK(no_data.exit_code == 2);
  CHECK_THAT(no_data.err, Contains("nowhere"));
  CHECK(one_line(no_data.err));

  const std::string junk_model = write_text(f.dir.path, "junk.mnn", "not a model at all");
  CliResult bad_model = f.run("eval --model '" + junk_model + "' --data '" + f.data.string() + "'");
  CHECK(bad_model.exit_code == 2);
  CHECK_THAT(bad_model.err, Contains("junk.mnn: byte 0: not an mnistnet model file"));

  CHECK(f.run("train --no-such-flag").exit_code == 2);
  CHECK(f.run("").exit_code == 2);
  CHECK(f.run("frobnicate").exit_code == 2);
  CliResult version = f.run("--version");
  CHECK(version.exit_code == 0);
  CHECK_THAT(version.out, Contains("mnistnet"));
  CHECK(f.run("train --help").exit_code == 0);
}

TEST_CASE("summary prints the Keras table", "[e2e][summary]") {
  Fixture f;
  CliResult r = f.run("summary --config '" + f.config + "'");
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("Model: \"band\"") && Contains("flatten (Flatten)") &&
                        Contains("(None, 784)") && Contains("Total params: 25,450"));
}
