#include "train/batch_logger.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/atomic_file.h"
#include "core/errors.h"

namespace mnistnet {

BatchLogger::BatchLogger(std::filesystem::path path) : path_(std::move(path)) {
  text_ = std::string(header()) + "\n";
  write_file_atomically(path_, text_);
}

void BatchLogger::on_epoch_begin(int epoch, int /*epochs*/, int64_t steps, double /*lr*/) {
  epoch_ = epoch;
  rows_.clear();
  rows_.reserve(static_cast<size_t>(steps));  // the batch loop below only fills it
}

void BatchLogger::on_batch_end(int64_t step, double loss, double accuracy) {
  if (rows_.size() < rows_.capacity()) rows_.push_back({epoch_, step, loss, accuracy});
}

void BatchLogger::on_epoch_end(const EpochResult& /*result*/) {
  char line[128];
  for (const BatchRow& r : rows_) {
    std::snprintf(line, sizeof line, "%d,%lld,%.6g,%.6g\n", r.epoch, static_cast<long long>(r.step), r.loss, r.accuracy);
    text_ += line;
  }
  write_file_atomically(path_, text_);
}

std::vector<BatchRow> read_batch_log(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw DataError(path.string() + ": cannot open the batch log");
  std::string line;
  std::getline(in, line);
  if (line != BatchLogger::header())
    throw DataError(path.string() + ": line 1: expected the header \"" + BatchLogger::header() + "\"");
  std::vector<BatchRow> rows;
  for (int number = 2; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    BatchRow r;
    long long step = 0;
    if (std::sscanf(line.c_str(), "%d,%lld,%lf,%lf", &r.epoch, &step, &r.loss, &r.accuracy) != 4)
      throw DataError(path.string() + ": line " + std::to_string(number) + ": expected epoch,step,loss,accuracy");
    r.step = step;
    rows.push_back(r);
  }
  return rows;
}

}  // namespace mnistnet
