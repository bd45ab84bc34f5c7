#pragma once
// What became of each trial, read from its run directory alone (so a local sweep and
// `--collect` after a Slurm array give the same rows), and the leaderboard built from them.
//
// A trial directory OUT/<trial name>/ is a `mnistnet train --run-dir` directory plus
// `exit_code` (the train process's exit status, written by whoever ran it) and `train.log`
// (its stdout and stderr).
#include <filesystem>
#include <string>
#include <vector>

#include "sweep/sweep_spec.h"

namespace mnistnet {

struct TrialResult {
  Trial trial;
  // "ok" (summary.json written), "diverged" (exit 3), "failed" (another exit status),
  // "incomplete" (started, no exit status: running, or killed), "missing" (never started).
  std::string status = "missing";
  int exit_code = -1;  // -1: unknown
  int epochs = 0;      // epochs logged in metrics.csv
  double val_accuracy = 0.0, best_val_accuracy = 0.0, val_loss = 0.0, best_val_loss = 0.0;
  double seconds = 0.0;  // training time (summary.json's, else the sum over metrics.csv)
  bool has_metrics = false;
  std::string error;  // failed trials: the last line of train.log
};

inline constexpr const char* kExitCodeFile = "exit_code";
inline constexpr const char* kTrainLogFile = "train.log";

TrialResult read_trial_result(const std::filesystem::path& out_dir, const Trial& trial);

// Finished trials are not run again: ok ones (summary.json) and diverged ones (a divergence is
// a result: the same seed diverges again). Failed, incomplete and missing trials run.
bool trial_finished(const TrialResult& result);

// The metrics the leaderboard can be sorted by; the losses sort ascending, accuracies descending.
const std::vector<std::string>& leaderboard_metrics();
void check_metric(const std::string& metric);  // UserError listing the choices

// Finished trials by the metric (best first, ties by trial index), then diverged, failed,
// incomplete and missing ones by index.
void sort_leaderboard(std::vector<TrialResult>& results, const std::string& metric);

// rank,trial,<override paths...>,status,val_accuracy,best_val_accuracy,val_loss,best_val_loss,
// epochs,seconds,error
std::string leaderboard_csv(const std::vector<TrialResult>& results);

// The same rows as an aligned text table (without the error column), for the terminal.
std::string leaderboard_table(const std::vector<TrialResult>& results);

}  // namespace mnistnet
