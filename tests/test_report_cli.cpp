// `mnistnet report` end to end: a run trained by the real executable gets report.html and
// predictions.png; several runs get one overlay page; mistakes are one-line errors (exit 2).
#include <catch2/catch.hpp>

#include "cli_runner.h"
#include "report_checks.h"
#include "synthetic_idx.h"
#include "text_file.h"

using namespace mnistnet::testing;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

const char* kTinyConfig = R"({
  "seed": 5,
  "data": {"shuffle_buffer": 60, "validation_batch_size": 7},
  "model": {"input_shape": [28, 28, 1], "layers": [
    {"type": "Flatten"}, {"type": "Dense", "units": 10, "activation": "softmax"}]},
  "training": {"epochs": 2, "batch_size": 10, "optimizer": {"type": "sgd", "learning_rate": 0.01}},
  "output": {"progress": "none"}
})";

struct TrainedRuns {
  TempDir dir;
  fs::path data = dir.path / "data";
  TrainedRuns() {
    write_synthetic_dataset(data, 60, 20);
    write_text(dir.path, "tiny.json", kTinyConfig);
  }
  CliResult run(const std::string& args) { return run_cli(args, dir.path); }
  fs::path train(const std::string& name, const std::string& extra = "") {
    const fs::path run_dir = dir.path / name;
    const CliResult r =
        run("train -q --config '" + (dir.path / "tiny.json").string() + "' --data '" +
            data.string() + "' --run-dir '" + run_dir.string() + "' " + extra);
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    return run_dir;
  }
};

}  // namespace

TEST_CASE("report RUN writes report.html and predictions.png from the run's files",
          "[report][e2e]") {
  TrainedRuns t;
  const fs::path run = t.train("run");
  const CliResult r = t.run("report '" + run.string() + "' --data '" + t.data.string() + "'");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  const std::string html = slurp(run / "report.html");
  CHECK(tag_balance_problem(html).empty());
  CHECK(html.find("http://") == std::string::npos);
  CHECK(html.find("https://") == std::string::npos);
  const std::string loss = element(html, "<svg class=\"chart\" id=\"loss\"", "</svg>");
  REQUIRE(polyline_points(loss, "train-batch run-0").size() == 1);
  CHECK(polyline_points(loss, "train-batch run-0")[0].size() ==
        2 * 6);  // 60 examples / batch 10, 2 epochs
  CHECK(polyline_points(loss, "val-epoch run-0")[0].size() == 2);
  CHECK(classes_of(html, "<figure class=\"").size() == 20);  // all 20 validation digits
  CHECK(fs::file_size(run / "predictions.png") > 100);

  SECTION("a run from before batches.csv still gets a report") {
    fs::remove(run / "batches.csv");
    fs::remove(run / "report.html");
    const CliResult again = t.run("report '" + run.string() + "' --data '" + t.data.string() + "'");
    INFO(again.err);
    REQUIRE(again.exit_code == 0);
    const std::string old =
        element(slurp(run / "report.html"), "<svg class=\"chart\" id=\"loss\"", "</svg>");
    CHECK(polyline_points(old, "train-epoch run-0")[0].size() == 2);
  }
  SECTION("--out is for comparisons") {
    const CliResult e = t.run("report '" + run.string() + "' --out x.html");
    CHECK(e.exit_code == 2);
    CHECK_THAT(e.err, Contains("--out is for comparing several runs"));
  }
  SECTION("a run without a model says so") {
    fs::remove(run / "model.mnn");
    const CliResult e = t.run("report '" + run.string() + "' --data '" + t.data.string() + "'");
    CHECK(e.exit_code == 2);
    CHECK_THAT(e.err, Contains("no model file (model.mnn)") && Contains("has the run finished?"));
  }
}

TEST_CASE("report RUN_A RUN_B overlays their curves in one page", "[report][e2e]") {
  TrainedRuns t;
  const fs::path a = t.train("lr_a");
  const fs::path b = t.train("lr_b", "--set training.optimizer.learning_rate=0.05");
  fs::remove(b / "model.mnn");  // comparisons need only the logs
  const fs::path out = t.dir.path / "sweep.html";
  const CliResult r =
      t.run("report '" + a.string() + "' '" + b.string() + "' --out '" + out.string() + "'");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  const std::string html = slurp(out);
  CHECK(tag_balance_problem(html).empty());
  const std::string loss = element(html, "<svg class=\"chart\" id=\"loss\"", "</svg>");
  CHECK(polyline_points(loss, "val-epoch run-0").size() == 1);
  CHECK(polyline_points(loss, "val-epoch run-1").size() == 1);
  CHECK(count_of(loss, "class=\"val-epoch") == 2);
  CHECK_THAT(html, Contains(">lr_a</th>") && Contains(">lr_b</th>"));
}

TEST_CASE("report on a directory that is not a run names the missing file", "[report][e2e]") {
  TempDir dir;
  fs::create_directories(dir.path / "empty");
  const CliResult one = run_cli("report '" + (dir.path / "empty").string() + "'", dir.path);
  CHECK(one.exit_code == 2);
  CHECK_THAT(one.err, Contains((dir.path / "empty" / "metrics.csv").string()));
  write_text(dir.path / "empty", "metrics.csv",
             "epoch,accuracy,loss,lr,val_accuracy,val_loss,seconds\n0,1,2\n");
  const CliResult two = run_cli(
      "report '" + (dir.path / "empty").string() + "' '" + (dir.path / "empty").string() + "'",
      dir.path);
  CHECK(two.exit_code == 2);
  CHECK_THAT(two.err, Contains("metrics.csv: line 2: expected 7 comma-separated fields, got 3"));
}
