// The Slurm path against a real single-node Slurm (scripts/slurm_local.sh starts slurmctld,
// slurmd and munged on localhost): the emitted array runs real jobs, and the leaderboard
// collected from them equals the local sweep's. Skipped, with the reason, where Slurm cannot
// start (not installed, not root, a daemon refuses).
#include <catch2/catch.hpp>
#include <cstdio>

#include "sweep_fixture.h"

using namespace mnistnet::testing;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

struct Shell {
  int code;
  std::string output;
};

Shell shell(const std::string& command) {
  Shell r{-1, ""};
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, p)) > 0) r.output.append(buffer, n);
  const int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  return r;
}

const std::string kScript = std::string(MNISTNET_SOURCE_DIR) + "/scripts/slurm_local.sh";

// Stops the local Slurm at the end if this test started it.
struct SlurmGuard {
  bool started_here = false;
  ~SlurmGuard() {
    if (started_here) (void)shell("'" + kScript + "' stop");
  }
};

}  // namespace

TEST_CASE("Slurm: the emitted array runs on a local Slurm and --collect equals the local sweep",
          "[sweep][slurm][slurm_real]") {
  const Shell env = shell("'" + kScript + "' env");
  REQUIRE(env.code == 0);
  const std::string conf_prefix =
      env.output.substr(0, env.output.find('\n')) + " && ";  // export SLURM_CONF=...
  SlurmGuard guard;
  const bool was_running = shell(conf_prefix + "timeout 10 sinfo -h").code == 0;
  if (!was_running) {
    const Shell start = shell("timeout 120 '" + kScript + "' start");
    if (start.code != 0) {
      WARN("skipped: Slurm cannot start here (scripts/slurm_local.sh start exit "
           << start.code << "): " << start.output);
      return;
    }
    guard.started_here = true;
  }

  SweepFixture f;
  const std::string sweep = f.sweep_file("s.json", R"({"fixed": {"training.epochs": 1},
      "grid": {"training.batch_size": [10, 20], "training.optimizer.learning_rate": [0.01, 0.003]}})");
  const fs::path local = f.dir.path / "local", array = f.dir.path / "array";
  REQUIRE(f.run("sweep -q --jobs 2 " + f.sweep_args(sweep, local)).exit_code == 0);
  REQUIRE(f.run("sweep --emit slurm --jobs 2 " + f.sweep_args(sweep, array)).exit_code == 0);

  const Shell submitted =
      shell(conf_prefix + "cd '" + f.work.string() + "' && timeout 300 sbatch --wait '" +
            (array / "sweep.sbatch").string() + "'");
  INFO(submitted.output);
  REQUIRE(submitted.code == 0);
  CHECK_THAT(submitted.output, Contains("Submitted batch job"));

  CliResult collected = f.run("sweep --collect '" + array.string() + "'");
  INFO(collected.out << collected.err);
  CHECK(collected.exit_code == 0);
  int outputs = 0;  // one slurm-%A_%a.out per array task: they were real Slurm jobs
  for (const std::string& name : entries(array)) outputs += name.rfind("slurm-", 0) == 0 ? 1 : 0;
  CHECK(outputs == 4);
  CHECK(without_seconds_column(slurp(array / "leaderboard.csv")) ==
        without_seconds_column(slurp(local / "leaderboard.csv")));
  CHECK_THAT(slurp(array / "leaderboard.csv"), !Contains("missing") && !Contains("failed"));
}
