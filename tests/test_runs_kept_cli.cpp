// Runs are never lost or hidden, and every place counts epochs alike: the real binary trains
// the sweep fixture's tiny config and we look at what a user sees and what is on disk.
#include <catch2/catch.hpp>
#include <charconv>
#include <nlohmann/json.hpp>

#include "sweep_fixture.h"
#include "train/csv_logger.h"

using namespace mnistnet::testing;
using Catch::Contains;
using Catch::StartsWith;
namespace fs = std::filesystem;

namespace {

std::vector<std::vector<std::string>> csv_rows(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> fields;
    std::stringstream parts(line);
    std::string field;
    while (std::getline(parts, field, ',')) fields.push_back(field);
    rows.push_back(fields);
  }
  return rows;
}

}  // namespace

TEST_CASE("train refuses a directory holding a finished run unless --force", "[runs][e2e]") {
  SweepFixture f;
  const std::string train = "train -q --config '" + f.config +
                            "' --set training.epochs=1 --data '" + f.data.string() + "'";
  REQUIRE(f.run(train + " --run-dir runs/a").exit_code == 0);
  const std::string model_before = slurp(f.work / "runs/a/model.mnn");

  const CliResult again = f.run(train + " --run-dir runs/a --set seed=9");
  CHECK(again.exit_code == 2);
  CHECK_THAT(again.err,
             StartsWith("mnistnet: error: runs/a: holds a finished run (summary.json, "
                        "val_accuracy ") &&
                 Contains("); train into another --run-dir, or add --force to replace it"));
  CHECK(slurp(f.work / "runs/a/model.mnn") == model_before);  // untouched

  const CliResult forced = f.run(train + " --run-dir runs/a --set seed=9 --force");
  INFO(forced.err);
  CHECK(forced.exit_code == 0);
  CHECK(slurp(f.work / "runs/a/model.mnn") != model_before);
}

TEST_CASE("eval and predict say which model they use, the lookup says where it looked",
          "[runs][e2e]") {
  SweepFixture f;
  const CliResult none = f.run("eval --data '" + f.data.string() + "'");
  CHECK(none.exit_code == 2);
  CHECK_THAT(none.err, StartsWith("mnistnet: error: no --model given, and " +
                                  (f.work / "runs" / "latest").string() + " does not exist"));
  CHECK_THAT(none.err, Contains("pass --model FILE"));

  REQUIRE(f.run("train -q --config '" + f.config + "' --set training.epochs=1 --data '" +
                f.data.string() + "' --run-dir runs/a")
              .exit_code == 0);
  const CliResult eval = f.run("eval --data '" + f.data.string() + "'");
  INFO(eval.err);
  CHECK(eval.exit_code == 0);
  CHECK_THAT(eval.out, StartsWith("Model runs/a/model.mnn, test data "));

  fs::remove_all(f.work / "runs" / "a");
  const CliResult gone = f.run("eval --data '" + f.data.string() + "'");
  CHECK_THAT(gone.err,
             Contains((f.work / "runs" / "latest").string() + " -> runs/a, which does not exist"));
}

TEST_CASE("One epoch numbering: console, summary.json and the report count from 1",
          "[runs][e2e][epochs]") {
  SweepFixture f;
  const CliResult r = f.run("train --config '" + f.config + "' --set training.epochs=3 --data '" +
                            f.data.string() + "' --run-dir runs/a");
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("Epoch 1/3") && Contains("Epoch 3/3") && !Contains("Epoch 0/"));
  const auto rows = csv_rows(slurp(f.work / "runs/a/metrics.csv"));
  REQUIRE(rows.size() == 4);
  CHECK(rows[1][0] == "0");  // Keras's CSVLogger: 0-based
  size_t best_row = 1;
  for (size_t i = 1; i < rows.size(); ++i)
    if (std::stod(rows[i][4]) > std::stod(rows[best_row][4])) best_row = i;
  const auto summary = nlohmann::json::parse(slurp(f.work / "runs/a/summary.json"));
  CHECK(summary["best_epoch"] == std::stoi(rows[best_row][0]) + 1);

  // metrics.csv: the shortest text that round-trips, the same digits as summary.json's
  for (size_t i = 1; i < rows.size(); ++i)
    for (size_t c = 1; c <= 5; ++c)
      CHECK(mnistnet::shortest_number(std::stod(rows[i][c])) == rows[i][c]);
  CHECK(rows.back()[4] == summary["val_accuracy"].dump());
}

TEST_CASE("shortest_number is exact and short", "[runs][numbers]") {
  CHECK(mnistnet::shortest_number(0.8265) == "0.8265");
  CHECK(mnistnet::shortest_number(0.1 + 0.2) == "0.30000000000000004");
  CHECK(mnistnet::shortest_number(1e-7) == "1e-07");
  CHECK(mnistnet::shortest_number(2.0) == "2");
  CHECK(mnistnet::shortest_number(std::numeric_limits<double>::infinity()) == "inf");
  const std::string csv_header = mnistnet::CsvLogger::header();
  CHECK(csv_header.rfind("epoch,", 0) == 0);
}

TEST_CASE("report A B without --out writes beside the runs", "[runs][e2e][report]") {
  SweepFixture f;
  for (const char* name : {"a", "b"})
    REQUIRE(f.run("train -q --config '" + f.config + "' --set training.epochs=1 --data '" +
                  f.data.string() + "' --run-dir runs/" + name)
                .exit_code == 0);
  const CliResult r = f.run("report runs/a runs/b");
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "Wrote runs/comparison.html (2 runs)\n");
  CHECK(fs::exists(f.work / "runs" / "comparison.html"));
  CHECK_FALSE(fs::exists(f.work / "report.html"));
  CHECK_FALSE(fs::exists(f.work / "comparison.html"));
}

TEST_CASE("A sweep names its best trial's model, points latest at it, plots its batches",
          "[runs][e2e][sweep]") {
  SweepFixture f;
  const std::string grid = f.sweep_file("g.json", R"({"fixed": {"training.epochs": 1},
        "grid": {"training.optimizer.learning_rate": [0.3, 0.00001, 0.01]}})");
  const fs::path out = f.dir.path / "sweep";
  const CliResult r = f.run("sweep " + f.sweep_args(grid, out) + " --jobs 1");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  const auto board = csv_rows(slurp(out / "leaderboard.csv"));
  REQUIRE(board.size() == 4);
  const std::string best = board[1][1];  // rank 1's trial name
  CHECK_THAT(r.out, Contains("Best trial " + best + ": " + (out / best / "model.mnn").string()));
  CHECK(fs::read_symlink(out / "latest") == best);

  const std::string html = slurp(out / "report.html");
  CHECK_THAT(html, Contains("train-batch") && !Contains("Runs without batches.csv"));
}
