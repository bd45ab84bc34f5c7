#pragma once
// What a run directory says about how training went: metrics.csv (one row per epoch) and,
// when the run recorded it, batches.csv (one row per training batch).
#include <filesystem>
#include <string>
#include <vector>

#include "train/batch_logger.h"
#include "train/trainer.h"

namespace mnistnet {

struct RunHistory {
  std::string name;                 // shown in titles and legends: the run directory's name
  std::vector<EpochResult> epochs;  // metrics.csv, in file order
  std::vector<BatchRow> batches;    // batches.csv; empty for runs that predate it
};

// Reads a Keras CSVLogger-style file. Columns are found by name in the header, so a file
// without lr or seconds still reads (they stay 0); epoch, accuracy, loss, val_accuracy and
// val_loss are required. A DataError "PATH: line N: ..." when it is missing or malformed.
std::vector<EpochResult> read_metrics_csv(const std::filesystem::path& path);

// metrics.csv (required) and batches.csv (optional: runs from before it have none) of a run.
RunHistory read_run_history(const std::filesystem::path& run_dir);

// The name a run directory goes by: its last component ("runs/x/" and "runs/x" give "x").
std::string run_name(const std::filesystem::path& run_dir);

}  // namespace mnistnet
