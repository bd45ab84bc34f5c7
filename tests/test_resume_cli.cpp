// The real executable, killed for real: SIGKILL at a random step (the process has no chance to
// react) or SIGINT/SIGTERM (it finishes the step, checkpoints, exits 130/143), then
// `train --resume` must end with the same metrics.csv rows (but the seconds) and a
// bit-identical model.mnn as a run that was never interrupted. Also the resume errors.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <sstream>
#include <thread>

#include "cli_runner.h"
#include "core/rng.h"
#include "resume_fixture.h"
#include "text_file.h"

using namespace mnistnet;
using namespace mnistnet::testing;
using Catch::Contains;

namespace {

std::string without_seconds(const std::string& csv) {
  std::istringstream in(csv);
  std::string line, out;
  while (std::getline(in, line)) out += line.substr(0, line.rfind(',')) + "\n";
  return out;
}

int64_t newest_step(const std::filesystem::path& run_dir) {
  const auto all = list_checkpoints(run_dir);
  return all.empty() ? -1 : std::stoll(all.back().filename().string().substr(5, 10));
}

// Starts the binary with `args` (no shell), output into scratch/<tag>.{out,err}.
pid_t spawn(const std::vector<std::string>& args, const std::filesystem::path& scratch,
            const std::string& tag) {
  const std::string out = (scratch / (tag + ".out")).string(),
                    err = (scratch / (tag + ".err")).string();
  std::vector<std::string> argv_strings{MNISTNET_BINARY};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(o, 1);
    ::dup2(e, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

int wait_for(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

struct Fixture {
  TempDir dir;
  std::filesystem::path data = dir.path / "data";
  std::string config;
  explicit Fixture(const std::vector<std::string>& overrides = {}) {
    write_synthetic_dataset(data, 400, 100, true, 8, 8);
    nlohmann::json doc = resume_config_json(11);
    doc["training"]["checkpoint"] = {{"save_freq", 1}, {"keep", 3}};
    for (const auto& o : overrides) apply_override(doc, o, "test");
    config = write_text(dir.path, "resume.json", doc.dump(2));
  }
  std::vector<std::string> train_args(const std::filesystem::path& run) const {
    return {"train",       "--config",  config,       "--data",
            data.string(), "--run-dir", run.string(), "--quiet"};
  }
  CliResult cli(const std::string& args) { return run_cli(args, dir.path); }
  CliResult resume(const std::filesystem::path& run, const std::string& extra = "") {
    return cli("train --resume '" + run.string() + "' --data '" + data.string() + "' --quiet " +
               extra);
  }
};

// Starts a training run, waits until its checkpoints reach `step`, then sends `signal` a
// random few hundred microseconds later (mid-step, mid-checkpoint write or between).
int interrupt_at(Fixture& f, const std::filesystem::path& run, int64_t step, int signal, Rng& rng,
                 int signals = 1) {
  const pid_t pid = spawn(f.train_args(run), f.dir.path, "interrupted");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (newest_step(run) < step && std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid)
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  std::this_thread::sleep_for(std::chrono::microseconds(rng.below(800)));
  for (int i = 0; i < signals; ++i) ::kill(pid, signal);
  return wait_for(pid);
}

struct Reference {
  std::string csv, model;
};

Reference reference_run(Fixture& f) {
  const auto run = f.dir.path / "reference";
  const int code = wait_for(spawn(f.train_args(run), f.dir.path, "reference"));
  REQUIRE(code == 0);
  return {without_seconds(slurp(run / "metrics.csv")), slurp(run / "model.mnn")};
}

void check_resume_matches(Fixture& f, const std::filesystem::path& run,
                          const Reference& reference) {
  const CliResult r = f.resume(run);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(without_seconds(slurp(run / "metrics.csv")) == reference.csv);
  CHECK(slurp(run / "model.mnn") == reference.model);
}

constexpr int64_t kSteps = 3 * (400 / 16);

}  // namespace

TEST_CASE(
    "SIGKILL at a random step then --resume gives a bit-identical model and the same CSV rows",
    "[resume][cli]") {
  Fixture f;
  const Reference reference = reference_run(f);
  for (const uint64_t seed : {1u, 2u, 3u, 4u}) {
    Rng rng(seed);
    const auto step = static_cast<int64_t>(rng.below(kSteps - 2));
    INFO("seed " << seed << ": killed after checkpoint " << step);
    const auto run = f.dir.path / ("killed" + std::to_string(seed));
    const int code = interrupt_at(f, run, step, SIGKILL, rng);
    CHECK(code == 128 + SIGKILL);  // killed mid-run, not after it finished
    // Every complete checkpoint left behind loads.
    for (const auto& file : list_checkpoints(run)) CHECK_NOTHROW(read_checkpoint(file));
    check_resume_matches(f, run, reference);
  }
}

TEST_CASE("SIGINT finishes the step and checkpoints and exits 130 and the resume is exact",
          "[resume][cli]") {
  Fixture f;
  const Reference reference = reference_run(f);
  for (const uint64_t seed : {5u, 6u, 7u}) {
    Rng rng(seed);
    const auto step = static_cast<int64_t>(rng.below(kSteps - 5));
    INFO("seed " << seed << ": interrupted after checkpoint " << step);
    const auto run = f.dir.path / ("interrupted" + std::to_string(seed));
    REQUIRE(interrupt_at(f, run, step, SIGINT, rng) == 130);
    const std::string err = slurp(f.dir.path / "interrupted.err");
    CHECK_THAT(err, Contains("interrupted by SIGINT") &&
                        Contains("Resume with: mnistnet train --resume " + run.string()));
    check_resume_matches(f, run, reference);
  }
}

TEST_CASE("SIGTERM exits 143 and a second signal exits at once leaving loadable checkpoints",
          "[resume][cli]") {
  Fixture f;
  const Reference reference = reference_run(f);
  Rng rng(9);
  const auto term = f.dir.path / "terminated";
  REQUIRE(interrupt_at(f, term, 20, SIGTERM, rng) == 143);
  check_resume_matches(f, term, reference);

  const auto twice = f.dir.path / "twice";
  const int code = interrupt_at(f, twice, 30, SIGINT, rng, 2);
  CHECK((code == 130));
  for (const auto& file : list_checkpoints(twice)) CHECK_NOTHROW(read_checkpoint(file));
  check_resume_matches(f, twice, reference);
}

TEST_CASE("Resume errors for a damaged checkpoint or a different config and what --force accepts",
          "[resume][cli]") {
  Fixture f({"training.epochs=1"});
  const auto run = f.dir.path / "run";
  REQUIRE(wait_for(spawn(f.train_args(run), f.dir.path, "first")) == 0);
  const auto newest = list_checkpoints(run).back();

  SECTION("a corrupt checkpoint names the file and the bytes") {
    std::string bytes = slurp(newest);
    bytes[bytes.size() - 10] ^= 0x40;
    write_text(newest.parent_path(), newest.filename().string(), bytes);
    const CliResult r = f.resume(run);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains(newest.string() + ": bytes ") && Contains("checksum mismatch"));
    CHECK_THAT(r.err, Contains("delete it to resume from the previous checkpoint"));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
  SECTION("a truncated checkpoint names the file and the byte where it ends") {
    const std::string bytes = slurp(newest);
    write_text(newest.parent_path(), newest.filename().string(), bytes.substr(0, bytes.size() / 2));
    const CliResult r = f.resume(run);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains(newest.string() + ": byte " + std::to_string(bytes.size() / 2) +
                               ": the file ends inside"));
  }
  SECTION("a different config is refused, --force accepts it and continues") {
    const std::string longer = write_text(f.dir.path, "longer.json", [&] {
      nlohmann::json doc = nlohmann::json::parse(slurp(f.config));
      doc["training"]["epochs"] = 2;
      return doc.dump();
    }());
    CliResult r = f.resume(run, "--config '" + longer + "'");
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err,
               Contains("/training/epochs: the run was trained with 1, the given config has 2") &&
                   Contains("--force"));
    r = f.resume(run, "--set training.epochs=2");
    CHECK(r.exit_code == 2);
    r = f.resume(run, "--set training.epochs=2 --force");
    INFO(r.err);
    CHECK(r.exit_code == 0);
    const std::string csv = slurp(run / "metrics.csv");
    CHECK(std::count(csv.begin(), csv.end(), '\n') == 3);  // the header and two epochs
    // Resuming a finished run changes nothing.
    const std::string model = slurp(run / "model.mnn");
    r = f.resume(run, "--set training.epochs=2 --force");
    CHECK(r.exit_code == 0);
    CHECK(slurp(run / "model.mnn") == model);
  }
  SECTION("a directory without checkpoints") {
    std::filesystem::create_directories(f.dir.path / "empty");
    const CliResult r = f.resume(f.dir.path / "empty");
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains("no checkpoint to resume from"));
  }
  SECTION("--weights starts a new run from trained weights; with --resume it is an error") {
    const auto second = f.dir.path / "second";
    CliResult r =
        f.cli("train --config '" + f.config + "' --data '" + f.data.string() + "' --run-dir '" +
              second.string() + "' --quiet --weights '" + (run / "model.mnn").string() + "'");
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(slurp(second / "model.mnn") != slurp(run / "model.mnn"));  // trained one more epoch
    r = f.resume(run, "--weights '" + (run / "model.mnn").string() + "'");
    CHECK(r.exit_code == 2);
  }
}
