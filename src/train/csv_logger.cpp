#include "train/csv_logger.h"

#include <charconv>
#include <cstdio>

#include "core/atomic_file.h"

namespace mnistnet {

CsvLogger::CsvLogger(std::filesystem::path path) : path_(std::move(path)) {
  text_ = std::string(header()) + "\n";
  write_file_atomically(path_, text_);
}

std::string shortest_number(double value) {
  // The shortest text that reads back as the same double (0.8265, not %.17g's
  // 0.82650000000000001), as Python's repr writes floats in Keras's CSVLogger: exact, so two
  // runs compare byte for byte, and the same digits as summary.json.
  char text[32];
  const auto [end, ec] = std::to_chars(text, text + sizeof text, value);
  return ec == std::errc() ? std::string(text, end) : std::string("nan");
}

std::string CsvLogger::row(const EpochResult& r) {
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.3f", r.seconds);
  return std::to_string(r.epoch) + "," + shortest_number(r.accuracy) + "," +
         shortest_number(r.loss) + "," + shortest_number(r.lr) + "," +
         shortest_number(r.val_accuracy) + "," + shortest_number(r.val_loss) + "," + seconds;
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
