#pragma once
// The sweep's page: every trial's curves overlaid (validation accuracy and loss per epoch, one
// colour per trial, in leaderboard order) with the table of final numbers, as OUT/report.html.
// Written at the end of `mnistnet sweep` and `--collect`, and by `mnistnet report OUT`.
#include <filesystem>
#include <vector>

#include "sweep/leaderboard.h"

namespace mnistnet {

// Trials without metrics yet are left out. Returns the number of trials shown.
size_t write_sweep_report(const std::filesystem::path& out_dir,
                          const std::vector<TrialResult>& ranked);

// Reads OUT/sweep.json and the trials' directories, ranks them by the manifest's metric and
// writes OUT/report.html. A UserError when OUT is not a sweep directory.
size_t write_sweep_report(const std::filesystem::path& out_dir);

}  // namespace mnistnet
