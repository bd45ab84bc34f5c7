#include "sweep/slurm_script.h"

#include "sweep/leaderboard.h"

namespace mnistnet {
namespace fs = std::filesystem;

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string slurm_array_script(const std::vector<Trial>& trials, const fs::path& out_dir,
                               const TrialLaunch& launch, const SlurmOptions& options) {
  const fs::path out = fs::absolute(out_dir).lexically_normal();
  std::string s = "#!/bin/bash\n";
  s += "# Written by `mnistnet sweep --emit slurm`: one array task per trial of " +
       std::to_string(trials.size()) + ".\n# Submit: sbatch " + (out / "sweep.sbatch").string() +
       "\n# Then:  mnistnet sweep --collect " + out.string() + "\n";
  s += "#SBATCH --job-name=" + options.job_name + "\n";
  s += "#SBATCH --array=0-" + std::to_string(trials.empty() ? 0 : trials.size() - 1) +
       (options.max_running > 0 ? "%" + std::to_string(options.max_running) : "") + "\n";
  s += "#SBATCH --cpus-per-task=" + std::to_string(options.cpus_per_task) + "\n";
  s += "#SBATCH --ntasks=1\n";
  s += "#SBATCH --output=" + (out / "slurm-%A_%a.out").string() + "\n";
  s += "set -u\n";
  s += "out=" + shell_quote(out.string()) + "\n";
  s += "case ${SLURM_ARRAY_TASK_ID:?run this script with sbatch} in\n";
  for (size_t i = 0; i < trials.size(); ++i) {
    s += "  " + std::to_string(i) + ") name=" + shell_quote(trials[i].name) + "; cmd=(";
    std::vector<std::string> command = trial_command(launch, trials[i], out);
    for (size_t k = 0; k < command.size(); ++k) {
      if (k) s += ' ';
      s += shell_quote(command[k]);
    }
    s += ") ;;\n";
  }
  s += "  *) echo \"no trial $SLURM_ARRAY_TASK_ID\" >&2; exit 2 ;;\n";
  s += "esac\n";
  s += "dir=$out/$name\n";
  s +=
      "# Finished already (a resubmitted array): ok, or diverged (the same seed diverges again).\n";
  s += "if [[ -e $dir/summary.json ]] || [[ $(cat \"$dir/" + std::string(kExitCodeFile) +
       "\" 2>/dev/null) == 3 ]]; then\n";
  s += "  echo \"$name: finished already\"; exit 0\n";
  s += "fi\n";
  s += "mkdir -p \"$dir\" && rm -f \"$dir/" + std::string(kExitCodeFile) +
       "\" \"$dir/summary.json\"\n";
  s += "threads=${SLURM_CPUS_PER_TASK:-" + std::to_string(options.cpus_per_task) + "}\n";
  s += "export OPENBLAS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads MNISTNET_THREADS=$threads\n";
  s += "\"${cmd[@]}\" >\"$dir/" + std::string(kTrainLogFile) + "\" 2>&1\n";
  s += "code=$?\n";
  s += "echo \"$code\" >\"$dir/" + std::string(kExitCodeFile) + ".tmp\" && mv \"$dir/" +
       kExitCodeFile + ".tmp\" \"$dir/" + kExitCodeFile + "\"\n";
  s += "echo \"$name: exit $code\"\n";
  s += "exit \"$code\"\n";
  return s;
}

}  // namespace mnistnet
