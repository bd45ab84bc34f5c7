#pragma once
// Runs trials as separate `mnistnet train` processes, N at a time. A process per trial keeps
// trials apart (a crash, a divergence or an out-of-memory kills one trial, not the sweep) and
// is exactly what a script or a Slurm array task runs, so the results are the same.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "sweep/sweep_spec.h"

namespace mnistnet {

struct TrialLaunch {
  std::string executable;   // the mnistnet binary (the running one: /proc/self/exe)
  std::string base_config;  // absolute path
  std::string data_dir;     // passed as --data when not empty
  int threads = 1;          // per trial: OPENBLAS_NUM_THREADS, OMP_NUM_THREADS, MNISTNET_THREADS
};

// The command line of one trial, for messages, scripts and tests:
// EXE train --config BASE --set a=1 ... --run-dir OUT/NAME -q [--data DIR]
std::vector<std::string> trial_command(const TrialLaunch& launch, const Trial& trial,
                                       const std::filesystem::path& out_dir);

// CPUs this process may run on (its affinity mask), at least 1.
int available_cpus();

// Threads per trial so that jobs x threads <= cpus (at least 1).
int threads_per_trial(int jobs, int cpus);

struct TrialEnd {
  const Trial* trial;
  int exit_code;  // the process's exit status, 128 + signal when killed
  double wall_seconds;
};

// Runs each trial in OUT/<name>/ (created), its stdout and stderr to train.log, and writes its
// exit status to OUT/<name>/exit_code when it ends. At most `jobs` at a time; a trial's failure
// does not stop the others. If this process dies, the running trials are killed with it
// (they would otherwise race a re-run of the sweep for the same directory).
// on_start / on_end run on the calling thread (for progress lines).
void run_trials(const std::vector<const Trial*>& trials, const std::filesystem::path& out_dir,
                const TrialLaunch& launch, int jobs,
                const std::function<void(const Trial&)>& on_start,
                const std::function<void(const TrialEnd&)>& on_end);

}  // namespace mnistnet
