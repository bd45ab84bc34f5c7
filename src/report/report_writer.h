#pragma once
// Writing a run's report.html and predictions.png, once (mnistnet report) or after every
// epoch while training (ReportWriter), so a browser tab can be reloaded to watch a run.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "model/model.h"
#include "train/trainer.h"

namespace mnistnet {

// Reads run_dir's metrics.csv (required), batches.csv and config.json (optional) and writes
// run_dir/report.html and run_dir/predictions.png, each atomically. `predicted` holds the
// model's arg-max class for every example of `validation`. epochs_planned > the epochs logged
// marks a run still training (see ReportInputs).
// Throws DataError for a missing or malformed log ("PATH: line N: ..."), UserError when a
// file cannot be written.
void write_run_report(const std::filesystem::path& run_dir, Model& model,
                      const std::string& model_name, const Dataset& validation,
                      const std::vector<int32_t>& predicted, int epochs_planned = 0);

// Rewrites the report after every epoch's validation. It reads the files the CsvLogger and
// BatchLogger write in on_epoch_end, which fit() calls for every observer before any
// on_validation, so it works in any position among fit()'s observers. Failing to write is an
// error, as it is for the CSV logs. Costs well under 0.2 s per epoch for 10,000 validation digits.
class ReportWriter final : public TrainingObserver {
 public:
  // validation must outlive the writer.
  ReportWriter(std::filesystem::path run_dir, std::string model_name, const Dataset& validation);
  void on_epoch_begin(int epoch, int epochs, int64_t steps, double lr) override;
  void on_validation(Model& model, const std::vector<int32_t>& predicted) override;

 private:
  std::filesystem::path run_dir_;
  std::string model_name_;
  const Dataset& validation_;
  int epochs_ = 0;
};

}  // namespace mnistnet
