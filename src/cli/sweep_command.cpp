// mnistnet sweep: expand a sweep file into trials, run them as `mnistnet train` processes N at
// a time (or write a Slurm array script for them), and rank the results in leaderboard.csv.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli/commands.h"
#include "cli/latest_run.h"
#include "config/config_loader.h"
#include "core/atomic_file.h"
#include "core/errors.h"
#include "sweep/leaderboard.h"
#include "sweep/slurm_script.h"
#include "sweep/sweep_manifest.h"
#include "sweep/sweep_report.h"
#include "sweep/sweep_spec.h"
#include "sweep/trial_runner.h"

namespace mnistnet {
namespace fs = std::filesystem;

namespace {

std::string self_executable() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec)
    throw std::runtime_error("cannot find the running mnistnet binary (/proc/self/exe): " +
                             ec.message());
  return exe.string();
}

// --set a.b=value on the sweep: fixed for every trial, before the sweep file's own keys.
std::vector<Override> parse_sets(const std::vector<std::string>& sets) {
  std::vector<Override> out;
  for (const std::string& s : sets) {
    const size_t eq = s.find('=');
    if (eq == std::string::npos || eq == 0)
      throw UserError("--set " + s + ": expected key.path=value");
    const std::string text = s.substr(eq + 1);
    nlohmann::json value = nlohmann::json::parse(text, nullptr, false);
    if (value.is_discarded()) value = text;  // a bare word is a string, as for train --set
    out.push_back({s.substr(0, eq), value});
  }
  return out;
}

std::vector<Trial> plan_trials(const SweepOptions& options, SweepSpec& spec) {
  spec = load_sweep_spec(options.grid);
  std::vector<Override> sets = parse_sets(options.overrides);
  for (const Override& o : sets) {
    for (const auto& [path, pointer] : spec.pointers)
      if (path == o.path)
        throw UserError("--set " + o.path + ": the sweep file sets this key path too (" +
                        spec.source + ": " + pointer + ")");
    spec.pointers.emplace_back(o.path, "(--set " + o.path + ")");
  }
  spec.fixed.insert(spec.fixed.begin(), sets.begin(), sets.end());
  std::vector<Trial> trials = expand_trials(spec);
  check_trials_against_config(spec, trials, options.config);
  return trials;
}

std::vector<std::string> override_arguments(const Trial& t) {
  std::vector<std::string> out;
  for (const Override& o : t.overrides) out.push_back(override_argument(o));
  return out;
}

// A finished trial is reused only if it ran the config this trial would run now: the base
// config may have changed since (resuming would then mix two experiments in one leaderboard).
void check_finished_trial(const fs::path& out, const Trial& t, const std::string& base) {
  std::ifstream in(out / t.name / "config.json");
  const auto ran = nlohmann::json::parse(in, nullptr, false);
  if (ran.is_discarded()) return;  // a diverged run before config.json, or none: nothing to compare
  const nlohmann::json now = load_config(base, override_arguments(t)).resolved;
  if (ran == now) return;
  const nlohmann::json patch = nlohmann::json::diff(ran, now);
  const std::string where = patch.empty() ? "/" : patch[0].value("path", "/");
  throw UserError((out / t.name).string() + ": finished with another config than " + base +
                  " and its overrides give now (they differ at " + where +
                  "); remove the trial directory to run it again, or sweep into another --out");
}

std::vector<TrialResult> collect_results(const fs::path& out, const std::vector<Trial>& trials,
                                         const std::string& metric) {
  std::vector<TrialResult> results;
  for (const Trial& t : trials) results.push_back(read_trial_result(out, t));
  sort_leaderboard(results, metric);
  return results;
}

// leaderboard.csv, report.html, the table; exit 0 when every trial finished (ok or diverged).
int publish(const fs::path& out, const std::vector<TrialResult>& results, bool quiet) {
  write_file_atomically(out / "leaderboard.csv", leaderboard_csv(results));
  const size_t plotted = write_sweep_report(out, results);
  size_t unfinished = 0;
  for (const TrialResult& r : results)
    if (!trial_finished(r)) ++unfinished;
  // The trials each pointed OUT/latest at themselves as they finished; it names the best one.
  std::optional<fs::path> best_model;
  if (!results.empty() && results.front().status == "ok") {
    const fs::path best_dir = out / results.front().trial.name;
    best_model = find_run_model(best_dir);
    if (best_model) mark_latest_run(best_dir);
  }
  if (!quiet) {
    std::printf("\n%s", leaderboard_table(results).c_str());
    for (const TrialResult& r : results)
      if (!r.error.empty())
        std::printf("%s (%s): %s\n", r.trial.name.c_str(), r.status.c_str(), r.error.c_str());
    std::printf("Wrote %s and %s (%zu trials' curves)\n",
                (out / "leaderboard.csv").string().c_str(), (out / "report.html").string().c_str(),
                plotted);
    if (unfinished) std::printf("%zu of %zu trials did not finish\n", unfinished, results.size());
    if (best_model)
      std::printf("Best trial %s: %s (also %s)\n", results.front().trial.name.c_str(),
                  best_model->string().c_str(), (out / "latest").string().c_str());
  }
  std::fflush(stdout);
  return unfinished ? kSweepUnfinishedExit : 0;
}

int collect(const SweepOptions& options) {
  if (!options.config.empty() || !options.grid.empty() || !options.emit.empty())
    throw UserError(
        "--collect DIR reads DIR/sweep.json; give it without --config, --grid or --emit");
  const fs::path out = options.collect;
  SweepManifest manifest = read_manifest(out);
  const std::string metric = options.metric.empty() ? manifest.metric : options.metric;
  check_metric(metric);
  return publish(out, collect_results(out, manifest.trials, metric), options.quiet);
}

void prepare_out_dir(const fs::path& out) {
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec || !fs::is_directory(out))
    throw UserError(out.string() + ": cannot create the sweep directory: " +
                    (ec ? ec.message() : "not a directory"));
}

// Held while trials run: a second `mnistnet sweep` into the same directory would run the same
// trials into the same run directories. The kernel drops the lock when the process dies.
class SweepLock {
 public:
  explicit SweepLock(const fs::path& out) {
    const fs::path path = out / ".sweep.lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw UserError(path.string() + ": cannot open the sweep's lock file");
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd_);
      throw UserError(out.string() + ": another mnistnet sweep is running in this directory");
    }
  }
  ~SweepLock() { ::close(fd_); }
  SweepLock(const SweepLock&) = delete;
  SweepLock& operator=(const SweepLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace

int run_sweep(const SweepOptions& options) {
  if (!options.collect.empty()) return collect(options);
  if (options.config.empty() || options.grid.empty())
    throw UserError("sweep: give --config BASE and --grid SWEEP.json (or --collect DIR)");
  if (!options.emit.empty() && options.emit != "slurm")
    throw UserError("--emit " + options.emit + ": expected slurm");
  const std::string metric = options.metric.empty() ? "val_accuracy" : options.metric;
  check_metric(metric);

  SweepSpec spec;
  const std::vector<Trial> trials = plan_trials(options, spec);
  const fs::path out = options.out.empty() ? fs::path("runs") / fs::path(options.grid).stem()
                                           : fs::path(options.out);
  prepare_out_dir(out);
  const SweepLock lock(out);  // before sweep.json: a running sweep's manifest stays its own

  TrialLaunch launch;
  launch.executable = self_executable();
  launch.base_config = fs::absolute(options.config).lexically_normal().string();
  launch.data_dir =
      options.data_dir.empty() ? "" : fs::absolute(options.data_dir).lexically_normal().string();
  write_manifest(out, {launch.base_config, fs::absolute(options.grid).lexically_normal().string(),
                       metric, trials});

  if (options.emit == "slurm") {
    SlurmOptions slurm;
    slurm.cpus_per_task = options.threads > 0 ? options.threads : 1;
    slurm.max_running = options.jobs_given ? options.jobs : 0;
    launch.threads = slurm.cpus_per_task;
    const fs::path script = out / "sweep.sbatch";
    write_file_atomically(script, slurm_array_script(trials, out, launch, slurm));
    fs::permissions(script, fs::perms::owner_exec | fs::perms::group_exec, fs::perm_options::add);
    std::printf(
        "Wrote %s (%zu array tasks) and %s\nSubmit: sbatch %s\nThen:   %s sweep --collect %s\n",
        script.string().c_str(), trials.size(), (out / kManifestFile).string().c_str(),
        script.string().c_str(), launch.executable.c_str(), out.string().c_str());
    return 0;
  }

  std::vector<const Trial*> todo;
  for (const Trial& t : trials) {
    if (trial_finished(read_trial_result(out, t)))
      check_finished_trial(out, t, launch.base_config);
    else
      todo.push_back(&t);
  }
  const int jobs = std::max(1, options.jobs);
  const int cpus = available_cpus();
  launch.threads = options.threads > 0 ? options.threads : threads_per_trial(jobs, cpus);
  if (!options.quiet) {
    std::printf(
        "Sweep %s over %s: %zu trials, %zu finished already; running %zu, %d at a time, %d "
        "thread%s each "
        "(%d CPUs) -> %s\n",
        options.grid.c_str(), options.config.c_str(), trials.size(), trials.size() - todo.size(),
        todo.size(), jobs, launch.threads, launch.threads == 1 ? "" : "s", cpus,
        out.string().c_str());
    std::fflush(stdout);
  }
  size_t done = 0;
  run_trials(
      todo, out, launch, jobs,
      [&](const Trial& t) {
        if (options.quiet) return;
        std::string args;
        for (const std::string& a : override_arguments(t)) args += " " + a;
        std::printf("start %s:%s\n", t.name.c_str(), args.c_str());
        std::fflush(stdout);
      },
      [&](const TrialEnd& end) {
        ++done;
        if (options.quiet) return;
        const TrialResult r = read_trial_result(out, *end.trial);
        std::printf("[%zu/%zu] %s %s", done, todo.size(), end.trial->name.c_str(),
                    r.status.c_str());
        if (r.status == "ok")
          std::printf(" val_accuracy %.4f", r.val_accuracy);
        else
          std::printf(" (exit %d)", end.exit_code);
        std::printf(" in %.1f s\n", end.wall_seconds);
        std::fflush(stdout);
      });
  return publish(out, collect_results(out, trials, metric), options.quiet);
}

}  // namespace mnistnet
