#include "sweep/trial_runner.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <thread>

#include "core/atomic_file.h"
#include "core/errors.h"
#include "sweep/leaderboard.h"

extern char** environ;

namespace mnistnet {
namespace fs = std::filesystem;

namespace {

// argv / envp as the exec call wants them, built before fork (the child only calls
// async-signal-safe functions).
struct CStrings {
  std::vector<std::string> strings;
  std::vector<char*> pointers;
  explicit CStrings(std::vector<std::string> s) : strings(std::move(s)) {
    for (std::string& x : strings) pointers.push_back(x.data());
    pointers.push_back(nullptr);
  }
};

std::vector<std::string> trial_environment(int threads) {
  static const char* kThreadVars[] = {"OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                      "MNISTNET_THREADS"};
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    bool ours = false;
    for (const char* v : kThreadVars) ours |= entry.rfind(std::string(v) + "=", 0) == 0;
    if (!ours) env.push_back(entry);
  }
  for (const char* v : kThreadVars) env.push_back(std::string(v) + "=" + std::to_string(threads));
  return env;
}

pid_t spawn(const CStrings& argv, const CStrings& envp, const fs::path& log, pid_t parent) {
  const std::string log_path = log.string();
  const pid_t pid = ::fork();
  if (pid != 0) return pid;  // parent (or -1)
  // Child: die with the sweep; output to the log; then become `mnistnet train`.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(125);
  const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) ::_exit(126);
  ::dup2(fd, STDOUT_FILENO);
  ::dup2(fd, STDERR_FILENO);
  const int null = ::open("/dev/null", O_RDONLY);
  if (null >= 0) ::dup2(null, STDIN_FILENO);
  ::execve(argv.pointers[0], argv.pointers.data(), envp.pointers.data());
  static const char kMessage[] =
      "mnistnet sweep: cannot execute the mnistnet binary for this trial\n";
  (void)!::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
  ::_exit(127);
}

}  // namespace

std::vector<std::string> trial_command(const TrialLaunch& launch, const Trial& trial,
                                       const fs::path& out_dir) {
  std::vector<std::string> args = {launch.executable, "train", "--config", launch.base_config};
  for (const Override& o : trial.overrides) {
    args.emplace_back("--set");
    args.push_back(override_argument(o));
  }
  args.emplace_back("--run-dir");
  args.push_back((out_dir / trial.name).string());
  args.emplace_back("-q");
  if (!launch.data_dir.empty()) {
    args.emplace_back("--data");
    args.push_back(launch.data_dir);
  }
  return args;
}

int available_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

int threads_per_trial(int jobs, int cpus) { return std::max(1, cpus / std::max(1, jobs)); }

void run_trials(const std::vector<const Trial*>& trials, const fs::path& out_dir,
                const TrialLaunch& launch, int jobs,
                const std::function<void(const Trial&)>& on_start,
                const std::function<void(const TrialEnd&)>& on_end) {
  using clock = std::chrono::steady_clock;
  const CStrings envp(trial_environment(launch.threads));
  const pid_t self = ::getpid();
  struct Running {
    const Trial* trial;
    clock::time_point start;
  };
  std::map<pid_t, Running> running;
  size_t next = 0;
  jobs = std::max(1, jobs);

  auto finish = [&](pid_t pid, int status) {
    const auto it = running.find(pid);
    if (it == running.end()) return;  // not one of ours
    const int code = WIFEXITED(status) ? WEXITSTATUS(status)
                                       : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    const fs::path dir = out_dir / it->second.trial->name;
    write_file_atomically(dir / kExitCodeFile, std::to_string(code) + "\n");
    const double wall = std::chrono::duration<double>(clock::now() - it->second.start).count();
    const Trial* trial = it->second.trial;
    running.erase(it);
    on_end({trial, code, wall});
  };

  while (next < trials.size() || !running.empty()) {
    while (next < trials.size() && static_cast<int>(running.size()) < jobs) {
      const Trial& t = *trials[next++];
      const fs::path dir = out_dir / t.name;
      std::error_code ec;
      fs::create_directories(dir, ec);
      if (ec)
        throw UserError(dir.string() + ": cannot create the trial directory: " + ec.message());
      fs::remove(dir / kExitCodeFile, ec);
      fs::remove(dir / "summary.json", ec);  // a stale one must not pass for this run's result
      const CStrings argv(trial_command(launch, t, out_dir));
      on_start(t);
      const pid_t pid = spawn(argv, envp, dir / kTrainLogFile, self);
      if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
      running[pid] = {&t, clock::now()};
    }
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("waitpid: ") + std::strerror(errno));
    }
    finish(pid, status);
  }
}

}  // namespace mnistnet
