#include "train/csv_logger.h"

#include <cstdio>

#include "core/atomic_file.h"

namespace mnistnet {

CsvLogger::CsvLogger(std::filesystem::path path) : path_(std::move(path)) {
  text_ = std::string(header()) + "\n";
  write_file_atomically(path_, text_);
}

std::string CsvLogger::row(const EpochResult& r) {
  // %.17g round-trips a double exactly, so two runs compare byte for byte.
  char line[256];
  std::snprintf(line, sizeof line, "%d,%.17g,%.17g,%.17g,%.17g,%.17g,%.3f", r.epoch, r.accuracy,
                r.loss, r.lr, r.val_accuracy, r.val_loss, r.seconds);
  return line;
}

void CsvLogger::on_resume(const std::vector<EpochResult>& history,
                          const nlohmann::json& /*state*/) {
  text_ = std::string(header()) + "\n";
  for (const EpochResult& r : history) text_ += row(r) + "\n";
  write_file_atomically(path_, text_);
}

void CsvLogger::on_epoch_end(const EpochResult& r) {
  text_ += row(r) + "\n";
  write_file_atomically(path_, text_);
}

}  // namespace mnistnet
