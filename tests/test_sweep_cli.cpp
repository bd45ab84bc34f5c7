// The real binary: what scripts rely on (train --set / --run-dir / -q, summary.json, exit codes,
// files written), and `mnistnet sweep` end to end: trials as processes, failures recorded,
// resume after a kill, the leaderboard, the report, and --emit slurm + --collect giving the
// same leaderboard as the local sweep.
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "sweep_fixture.h"

using namespace mnistnet::testing;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

int count_lines(const std::string& s) {
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

std::vector<std::string> trial_dirs(const fs::path& out) {
  std::vector<std::string> names;
  if (!fs::is_directory(out)) return names;  // the sweep has not made it yet
  for (const std::string& n : entries(out))
    if (n.rfind("trial-", 0) == 0) names.push_back(n);
  return names;
}

int finished_trials(const fs::path& out) {
  int n = 0;
  for (const std::string& t : trial_dirs(out)) n += fs::exists(out / t / "summary.json") ? 1 : 0;
  return n;
}

}  // namespace

TEST_CASE("Scripting contract: --set, --run-dir, -q, summary.json, exit codes, files",
          "[sweep][e2e][scripting]") {
  SweepFixture f;
  const std::string data = " --data '" + f.data.string() + "'";

  // -q prints nothing; the run lands in --run-dir; --set reaches the config the run records
  const fs::path runs = f.dir.path / "runs";
  CliResult r = f.run("train -q --config '" + f.config +
                      "' --set training.epochs=1 --set model.layers.1.units=12" + data +
                      " --run-dir '" + (runs / "a").string() + "'");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.empty());
  CHECK(r.err.empty());
  const auto config = nlohmann::json::parse(slurp(runs / "a" / "config.json"));
  CHECK(config["training"]["epochs"] == 1);
  CHECK(config["model"]["layers"][1]["units"] == 12);
  const auto summary = nlohmann::json::parse(slurp(runs / "a" / "summary.json"));
  for (const char* key : {"accuracy", "loss", "val_accuracy", "val_loss", "best_val_accuracy",
                          "best_epoch", "epochs", "seconds", "seed", "model"})
    CHECK(summary.contains(key));
  CHECK(summary["epochs"] == 1);
  // Nothing outside the run directory but the `latest` link beside it; nothing in the cwd.
  CHECK(entries(runs) == std::set<std::string>{"a", "latest"});
  CHECK(entries(f.work).empty());

  // exit 3: diverged (one line on stderr; the run directory keeps the logs, no summary)
  CliResult d =
      f.run("train -q --config '" + f.config +
            "' --set training.optimizer.type=sgd --set training.optimizer.learning_rate=1e30" +
            data + " --run-dir '" + (runs / "d").string() + "'");
  CHECK(d.exit_code == 3);
  CHECK_THAT(d.err, Contains("mnistnet: training diverged: "));
  CHECK(count_lines(d.err) == 1);
  CHECK_FALSE(fs::exists(runs / "d" / "summary.json"));

  // exit 2: a user error (bad key path, bad value, missing data)
  CHECK(f.run("train -q --config '" + f.config + "' --set training.epoch=1" + data).exit_code == 2);
  CHECK(f.run("train -q --config '" + f.config + "' --set training.epochs=0" + data).exit_code ==
        2);
  CHECK(
      f.run("train -q --config '" + f.config + "' --data '" + (f.dir.path / "none").string() + "'")
          .exit_code == 2);
  CHECK(entries(f.work).empty());
}

TEST_CASE("sweep runs every trial as a process, records failures, ranks the rest, and resumes",
          "[sweep][e2e]") {
  SweepFixture f;
  // data.path in the grid: a trial that passes validation and fails at run time (exit 2).
  const std::string good = f.data.string(), bad = (f.dir.path / "no-such-data").string();
  std::string base = kSweepBaseConfig;
  base.replace(base.find("\"data\": {"), 9, "\"data\": {\"path\": \"" + good + "\", ");
  f.config = write_text(f.dir.path, "base_with_data.json", base);
  const std::string sweep = f.sweep_file("s.json", R"({
    "fixed": {"training.epochs": 1},
    "grid": {"data.path": [")" + good + R"(", ")" + bad +
                                                       R"("],
             "training.optimizer.learning_rate": [0.01, 0.003]},
    "random": {"trials": 2, "seed": 3, "params": {"model.layers.1.units": {"choice": [4, 16]},
               "training.optimizer.learning_rate": {"loguniform": [0.001, 0.01]}}}})");
  const fs::path out = f.dir.path / "sweep";
  const std::string command = "sweep --config '" + f.config + "' --grid '" + sweep +
                              "' --jobs 2 --out '" + out.string() + "'";
  CliResult r = f.run(command);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 4);  // two trials failed; the others still ran
  CHECK_THAT(r.out,
             Contains("6 trials, 0 finished already; running 6, 2 at a time, 1 thread each"));
  CHECK_THAT(r.out, Contains("[6/6]"));
  CHECK_THAT(r.out, Contains("Wrote " + (out / "leaderboard.csv").string()));
  CHECK_THAT(r.out, Contains("2 of 6 trials did not finish"));
  CHECK(entries(f.work).empty());

  const std::string csv = slurp(out / "leaderboard.csv");
  CHECK(count_lines(csv) == 7);
  CHECK(csv.rfind(
            "rank,trial,training.epochs,data.path,training.optimizer.learning_rate,model.layers.1."
            "units,status,"
            "val_accuracy,best_val_accuracy,val_loss,best_val_loss,epochs,seconds,error\n1,trial-",
            0) == 0);
  std::istringstream lines(csv);
  std::string line;
  std::getline(lines, line);
  double previous = 2.0;
  for (int rank = 1; rank <= 6; ++rank) {
    REQUIRE(std::getline(lines, line));
    if (rank <= 4) {
      CHECK_THAT(line, Contains(",ok,"));
      const double acc = std::stod(line.substr(line.find(",ok,") + 4));
      CHECK(acc <= previous);  // sorted by val_accuracy, best first
      previous = acc;
    } else {
      CHECK_THAT(line, Contains(",failed,") && Contains("no-such-data"));
    }
  }
  CHECK_THAT(r.out, Contains("rank  trial"));  // the table
  CHECK(trial_dirs(out).size() == 6);
  const std::string first_ok = trial_dirs(out)[0];
  CHECK(slurp(out / first_ok / "exit_code") == "0\n");
  CHECK(slurp(out / first_ok / "train.log").empty());  // -q: a clean run says nothing

  const std::string page = slurp(out / "report.html");
  CHECK_THAT(page, Contains("Comparison of 4 runs") && Contains(first_ok));
  fs::remove(out / "report.html");
  CliResult rep = f.run("report '" + out.string() + "'");
  CHECK(rep.exit_code == 0);
  CHECK_THAT(slurp(out / "report.html"), Contains("Comparison of 4 runs"));

  // The same command again: the finished trials are skipped, the failed ones tried again.
  const auto stamp = fs::last_write_time(out / first_ok / "summary.json");
  CliResult again = f.run(command);
  CHECK(again.exit_code == 4);
  CHECK_THAT(again.out, Contains("6 trials, 4 finished already; running 2"));
  CHECK(fs::last_write_time(out / first_ok / "summary.json") == stamp);
  CHECK(without_seconds_column(slurp(out / "leaderboard.csv")) == without_seconds_column(csv));

  // --collect rebuilds the same leaderboard from the files
  fs::remove(out / "leaderboard.csv");
  CliResult collected = f.run("sweep -q --collect '" + out.string() + "'");
  CHECK(collected.exit_code == 4);
  CHECK(collected.out.empty());
  CHECK(slurp(out / "leaderboard.csv") == csv);
}

TEST_CASE("sweep errors: exit 2 naming the sweep file and pointer, before any trial runs",
          "[sweep][e2e][errors]") {
  SweepFixture f;
  const fs::path out = f.dir.path / "sweep";
  auto sweep = [&](const std::string& text, const std::string& more = "") {
    return f.run("sweep --config '" + f.config + "' --grid '" + f.sweep_file("bad.json", text) +
                 "' --out '" + out.string() + "'" + more);
  };
  CliResult unknown = sweep(R"({"random": {"trials": 2, "params": {"seed": {"gauss": [1, 2]}}}})");
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.err,
             Contains("bad.json: /random/params/seed/gauss: unknown distribution \"gauss\""));
  CliResult empty = sweep(R"({"grid": {"seed": []}})");
  CHECK(empty.exit_code == 2);
  CHECK_THAT(empty.err, Contains("bad.json: /grid/seed: expected at least one value"));
  CliResult no_key = sweep(R"({"grid": {"training.batchsize": [8]}})");
  CHECK(no_key.exit_code == 2);
  CHECK_THAT(no_key.err,
             Contains("bad.json: /grid/training.batchsize: trial-000-") && Contains("unknown key"));
  CliResult bad_layer = sweep(R"({"grid": {"model.layers.2.rate": [0.5, 1.5]}})");
  CHECK(bad_layer.exit_code == 2);
  CHECK_THAT(bad_layer.err, Contains("bad.json: /grid/model.layers.2.rate/1: trial-001-"));
  CHECK(sweep(R"({"grid": {"seed": [1]}})", " --metric accuracy").exit_code == 2);
  CliResult clash = sweep(R"({"grid": {"seed": [1]}})", " --set seed=3");
  CHECK(clash.exit_code == 2);
  CHECK_THAT(clash.err, Contains("--set seed: the sweep file sets this key path too (") &&
                            Contains("/grid/seed"));
  CHECK(f.run("sweep --grid '" + f.sweep_file("g.json", R"({"grid": {"seed": [1]}})") + "'")
            .exit_code == 2);
  CliResult not_sweep = f.run("sweep --collect '" + f.dir.path.string() + "'");
  CHECK(not_sweep.exit_code == 2);
  CHECK_THAT(not_sweep.err, Contains("sweep.json: cannot open"));
  CHECK_FALSE(fs::exists(out));
}

TEST_CASE("A finished trial is not reused when the base config changed under it", "[sweep][e2e]") {
  SweepFixture f;
  const std::string sweep =
      f.sweep_file("s.json", R"({"fixed": {"training.epochs": 1}, "grid": {"seed": [1]}})");
  const fs::path out = f.dir.path / "sweep";
  const std::string command = "sweep -q " + f.sweep_args(sweep, out);
  REQUIRE(f.run(command).exit_code == 0);
  std::string changed = kSweepBaseConfig;
  changed.replace(changed.find("\"batch_size\": 20"), 16, "\"batch_size\": 10");
  write_text(f.dir.path, "base.json", changed);
  CliResult r = f.run(command);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("finished with another config") && Contains("/training/batch_size"));
}

TEST_CASE("Killing a sweep halfway and running it again finishes only the missing trials",
          "[sweep][e2e][resume]") {
  SweepFixture f(1500, 60);  // trials long enough to stop the sweep between them
  const std::string sweep = f.sweep_file("s.json", R"({"fixed": {"training.epochs": 2},
      "grid": {"seed": [1, 2, 3, 4, 5, 6]}})");
  const fs::path out = f.dir.path / "sweep";
  const std::string args = "sweep --jobs 1 " + f.sweep_args(sweep, out);
  const std::string pid_file = (f.dir.path / "pid").string();
  const std::string background =
      "cd '" + f.work.string() + "' && { '" + std::string(MNISTNET_BINARY) + "' " + args + " >'" +
      (f.dir.path / "first.txt").string() + "' 2>&1 & echo $! >'" + pid_file + "'; }";
  REQUIRE(std::system(background.c_str()) == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const pid_t pid = static_cast<pid_t>(std::stol(slurp(pid_file)));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (finished_trials(out) < 2 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE(::kill(pid, SIGTERM) == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the running trial dies with it
  const int finished = finished_trials(out);
  INFO(slurp(f.dir.path / "first.txt"));
  REQUIRE(finished >= 2);
  REQUIRE(finished < 6);
  const std::string first_trial = trial_dirs(out)[0];
  const std::string kept = slurp(out / first_trial / "summary.json");

  CliResult second = f.run(args);
  INFO(second.out << second.err);
  CHECK(second.exit_code == 0);
  CHECK_THAT(second.out, Contains("6 trials, " + std::to_string(finished) +
                                  " finished already; running " + std::to_string(6 - finished)));
  CHECK(count_lines(second.out) > 0);
  int started = 0;
  for (size_t at = second.out.find("start trial-"); at != std::string::npos;
       at = second.out.find("start trial-", at + 1))
    ++started;
  CHECK(started == 6 - finished);
  CHECK(finished_trials(out) == 6);
  CHECK(slurp(out / first_trial / "summary.json") == kept);
  CHECK(count_lines(slurp(out / "leaderboard.csv")) == 7);
  CHECK_THAT(slurp(out / "leaderboard.csv"), !Contains("incomplete") && !Contains("missing"));
}

TEST_CASE(
    "sweep --emit slurm writes an array script whose tasks --collect ranks like the local sweep",
    "[sweep][e2e][slurm]") {
  SweepFixture f;
  const std::string sweep = f.sweep_file("s.json", R"({"fixed": {"training.epochs": 1},
      "grid": {"training.batch_size": [10, 20], "model.layers.2.rate": [0.1, 0.4]}})");
  const fs::path local = f.dir.path / "local", array = f.dir.path / "array";
  REQUIRE(f.run("sweep -q --jobs 2 " + f.sweep_args(sweep, local)).exit_code == 0);

  CliResult emitted = f.run("sweep --emit slurm --jobs 2 " + f.sweep_args(sweep, array));
  INFO(emitted.out << emitted.err);
  REQUIRE(emitted.exit_code == 0);
  CHECK_THAT(emitted.out, Contains("sbatch " + (array / "sweep.sbatch").string()));
  const std::string script = slurp(array / "sweep.sbatch");
  CHECK_THAT(script, Contains("#SBATCH --array=0-3%2"));
  CHECK(trial_dirs(array).empty());  // nothing ran

  // Run the array's tasks the way Slurm would, one environment variable apart.
  for (int task = 0; task < 4; ++task) {
    const std::string cmd =
        "cd '" + f.work.string() + "' && SLURM_ARRAY_TASK_ID=" + std::to_string(task) +
        " SLURM_CPUS_PER_TASK=1 bash '" + (array / "sweep.sbatch").string() + "' >/dev/null 2>&1";
    CHECK(std::system(cmd.c_str()) == 0);
  }
  CliResult collected = f.run("sweep --collect '" + array.string() + "'");
  CHECK(collected.exit_code == 0);
  CHECK(trial_dirs(array) == trial_dirs(local));
  CHECK(without_seconds_column(slurp(array / "leaderboard.csv")) ==
        without_seconds_column(slurp(local / "leaderboard.csv")));
  CHECK(entries(f.work).empty());
  // a resubmitted task skips its finished trial
  const std::string again =
      "SLURM_ARRAY_TASK_ID=0 bash '" + (array / "sweep.sbatch").string() + "' 2>&1";
  FILE* p = ::popen(again.c_str(), "r");
  REQUIRE(p != nullptr);
  char buffer[256] = {};
  const size_t n = std::fread(buffer, 1, sizeof buffer - 1, p);
  ::pclose(p);
  CHECK_THAT(std::string(buffer, n), Contains("finished already"));
}

TEST_CASE("Two sweeps into one directory: the second is refused while the first runs",
          "[sweep][e2e]") {
  SweepFixture f;
  const std::string sweep =
      f.sweep_file("s.json", R"({"fixed": {"training.epochs": 1}, "grid": {"seed": [1]}})");
  const fs::path out = f.dir.path / "sweep";
  fs::create_directories(out);
  const int fd = ::open((out / ".sweep.lock").c_str(), O_RDWR | O_CREAT, 0644);
  REQUIRE(fd >= 0);
  REQUIRE(::flock(fd, LOCK_EX) == 0);  // as a running sweep holds it
  const std::string command = "sweep -q " + f.sweep_args(sweep, out);
  CliResult refused = f.run(command);
  CHECK(refused.exit_code == 2);
  CHECK_THAT(refused.err, Contains("another mnistnet sweep is running in this directory"));
  ::close(fd);
  CHECK(f.run(command).exit_code == 0);
}
