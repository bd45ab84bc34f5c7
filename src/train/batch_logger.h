#pragma once
// batches.csv: the running loss and accuracy after every training batch (what Keras passes to
// on_batch_end) and the learning rate the batch's step used, for the report's thin per-batch
// curves and its learning-rate plot. Kept in memory during the epoch and
// written atomically at its end, so the batch loop does no I/O.
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "train/trainer.h"

namespace mnistnet {

struct BatchRow {
  int epoch = 0;     // 0-based
  int64_t step = 0;  // 1-based within the epoch
  double loss = 0.0, accuracy = 0.0;
  double lr = std::nan("");  // NaN in logs written before the column existed
};

class BatchLogger final : public TrainingObserver {
 public:
  explicit BatchLogger(std::filesystem::path path);
  void on_epoch_begin(int epoch, int epochs, int64_t steps, double lr) override;
  void on_batch_end(int64_t step, double loss, double accuracy, double lr) override;
  void on_epoch_end(const EpochResult& result) override;
  // Checkpoints hold the rows of the epoch in progress; the finished epochs' rows are read
  // back from the file on resume.
  void save_state(nlohmann::json& state) const override;
  void on_resume(const std::vector<EpochResult>& history, const nlohmann::json& state) override;

  static const char* header() { return "epoch,step,loss,accuracy,lr"; }

 private:
  std::filesystem::path path_;
  int epoch_ = 0;
  int resumed_epoch_ = -1;  // on_epoch_begin of this epoch keeps the restored rows
  std::vector<BatchRow> rows_;
  std::string text_;
};

// Reads a batches.csv (also one without the lr column); a DataError naming the file and line
// when it is malformed.
std::vector<BatchRow> read_batch_log(const std::filesystem::path& path);

}  // namespace mnistnet
