#pragma once
// Keras CSVLogger's file: epoch,accuracy,loss,lr,val_accuracy,val_loss (+ seconds).
// Rewritten whole and atomically after every epoch, so a reader never sees half a row.
#include <filesystem>
#include <string>

#include "train/trainer.h"

namespace mnistnet {

// The shortest decimal text that reads back as exactly `value` ("0.8265", "inf", "nan").
std::string shortest_number(double value);

class CsvLogger final : public TrainingObserver {
 public:
  explicit CsvLogger(std::filesystem::path path);
  void on_epoch_end(const EpochResult& result) override;
  // A resumed run: the file holds exactly the checkpoint's finished epochs again (a crash may
  // have left a later row that the resumed run will write anew).
  void on_resume(const std::vector<EpochResult>& history, const nlohmann::json& state) override;

  static const char* header() { return "epoch,accuracy,loss,lr,val_accuracy,val_loss,seconds"; }
  static std::string row(const EpochResult& r);

 private:
  std::filesystem::path path_;
  std::string text_;
};

}  // namespace mnistnet
