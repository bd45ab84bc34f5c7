#pragma once
// `mnistnet sweep --emit slurm`: a Slurm job-array script, one array task per trial. Each task
// runs the same `mnistnet train` command a local sweep would, into the shared sweep directory,
// and records its exit status beside the run, so `mnistnet sweep --collect` reads the same
// files as after a local sweep.
#include <filesystem>
#include <string>
#include <vector>

#include "sweep/sweep_spec.h"
#include "sweep/trial_runner.h"

namespace mnistnet {

struct SlurmOptions {
  int cpus_per_task = 1;  // --cpus-per-task; also the trial's thread count
  int max_running = 0;    // the array's "%N" throttle; 0 = no limit
  std::string job_name = "mnistnet-sweep";
};

// The script's text. Paths inside are absolute (the job may start in another directory).
// Finished trials (summary.json) are skipped, so resubmitting the script resumes the sweep.
std::string slurm_array_script(const std::vector<Trial>& trials,
                               const std::filesystem::path& out_dir, const TrialLaunch& launch,
                               const SlurmOptions& options);

// A shell word that the shell reads back as `text` exactly ('...' with ' escaped).
std::string shell_quote(const std::string& text);

}  // namespace mnistnet
